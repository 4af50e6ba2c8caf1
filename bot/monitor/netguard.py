"""Which addresses a feed URL may lead to: a user-supplied URL must not reach the bot's own network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket


class BlockedAddressError(Exception):
    """The URL resolves to an address we refuse to fetch. The message is the plain reason."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def refusal(host: str, address: str) -> BlockedAddressError:
    shown = host if host == address else f"{host} ({address})"
    return BlockedAddressError(
        f"refused to fetch {shown}: it is a private, loopback, link-local or multicast address "
        "(set feeds.allow_private_addresses = true to allow)"
    )


async def check_host(host: str, port: int) -> None:
    """Resolve `host` and raise BlockedAddressError if any of its addresses is not public.

    All addresses are checked, not just the first, because the connection may use any of them.
    """
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"could not resolve host {host} ({exc.strerror})") from None
        addresses = [info[4][0] for info in infos]
    for address in addresses:
        if not is_public_address(address):
            raise refusal(host, address)
