"""Which addresses a feed URL may lead to: a user-supplied URL must not reach the bot's own network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

# Gives the addresses a host name resolves to. A parameter so that tests can stand in for DNS, which they
# cannot use; raises OSError with a plain reason when the name does not resolve.
Resolver = Callable[[str, int], Awaitable[list[str]]]


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


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host`, from the system's resolver."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"could not resolve host {host} ({exc.strerror})") from None
    except UnicodeError:  # from IDNA encoding: a label that is empty or over 63 characters
        raise OSError(f"could not resolve host {host} (not a valid host name)") from None
    return [info[4][0] for info in infos]


async def check_host(host: str, port: int, resolve: Resolver = system_resolver) -> None:
    """Resolve `host` and raise BlockedAddressError if any of its addresses is not public.

    All addresses are checked, not just the first, because the connection may use any of them.
    """
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        addresses = await resolve(host, port)
    for address in addresses:
        if not is_public_address(address):
            raise refusal(host, address)
