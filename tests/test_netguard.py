"""Where a feed URL may lead (SSRF): what test_fetch.py does not already cover. DNS cannot be used here, so a
resolver stands in for it; where a request could really go out, it would reach the loopback feed server, whose
log then shows whether a refusal came in time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher, FetchError
from bot.monitor.netguard import BlockedAddressError, Resolver, check_host, system_resolver
from tests.feedserver import FeedServer, feed_file

PUBLIC = "93.184.216.34"


def resolver(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        try:
            return table[host]
        except KeyError:
            raise OSError(f"could not resolve host {host} (Name or service not known)") from None

    return resolve


class PublicInternet(httpx.AsyncBaseTransport):
    """Plays the public internet for the host names in `sites`, answered in-process; every other request goes
    out for real, so that one that should have been refused would reach the loopback feed server."""

    def __init__(self, sites: dict[str, Callable[[httpx.Request], httpx.Response]]) -> None:
        self.sites = sites
        self.real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        site = self.sites.get(request.url.host)
        if site is None:
            return await self.real.handle_async_request(request)
        return site(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def redirect(location: str, status: int = 302) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, headers={"Location": location})


async def _streamed(body: bytes) -> AsyncIterator[bytes]:
    yield body


def feed(request: httpx.Request) -> httpx.Response:
    # Streamed, as from the network: a body given as bytes counts as read already, and the fetcher reads it raw.
    return httpx.Response(200, content=_streamed(feed_file("rss20.xml")),
                          headers={"Content-Type": "application/rss+xml"})


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["::1"], ["fd12::7"], ["::ffff:192.168.0.1"],
     # Every address counts: the connection may use any of them.
     [PUBLIC, "192.168.1.10"]],
)
async def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused(
    polling: PollingSettings, addresses: list[str]
) -> None:
    private = addresses[-1]
    with pytest.raises(BlockedAddressError, match=rf"^refused to fetch feeds\.example\.net \({private}\)"):
        await check_host("feeds.example.net", 443, resolver({"feeds.example.net": addresses}))

    # Through the fetcher, nothing is sent anywhere.
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or feed(request))
    async with Fetcher(polling, resolver=resolver({"feeds.example.net": addresses}), transport=transport) as client:
        with pytest.raises(FetchError, match=rf"^refused to fetch feeds\.example\.net \({private}\)"):
            await client.fetch("https://feeds.example.net/rss")
    assert sent == []


async def test_a_public_name_is_fetched(polling: PollingSettings) -> None:
    transport = httpx.MockTransport(feed)
    async with Fetcher(polling, resolver=resolver({"feeds.example.net": [PUBLIC]}), transport=transport) as client:
        result = await client.fetch("https://feeds.example.net/rss")
    assert result.status == 200 and result.content == feed_file("rss20.xml")


async def test_a_name_that_does_not_resolve_is_a_plain_error(polling: PollingSettings) -> None:
    async with Fetcher(polling, resolver=resolver({}), transport=httpx.MockTransport(feed)) as client:
        with pytest.raises(FetchError, match=r"^could not resolve host nowhere\.example \(Name or service not kn"):
            await client.fetch("https://nowhere.example/rss")


async def test_other_spellings_of_this_machine_are_refused(feed_server: FeedServer, polling: PollingSettings) -> None:
    feed_server.route("/rss", feed_file("rss20.xml"))
    # Numeric spellings the system resolver turns into loopback without asking DNS, and the "any" addresses.
    hosts = ["2130706433", "0x7f.0.0.1", "017700000001", "0x7f000001", "[::ffff:127.0.0.1]", "0.0.0.0", "[::]"]
    async with Fetcher(polling) as guarded:
        for host in hosts:
            with pytest.raises(FetchError, match=r"^refused to fetch"):
                await guarded.fetch(f"http://{host}:{feed_server.port}/rss")
    assert feed_server.requests == []


async def test_dns_rebinding_is_refused_before_the_request_is_sent(
    feed_server: FeedServer, polling: PollingSettings
) -> None:
    # Our look-up says the name is public; the connection, made with a look-up of its own, reaches loopback.
    url = feed_server.route("/rss", feed_file("rss20.xml")).replace("127.0.0.1", "localhost")
    async with Fetcher(polling, resolver=resolver({"localhost": [PUBLIC]})) as guarded:
        with pytest.raises(FetchError, match=r"^refused to fetch localhost \(127\.0\.0\.1\)"):
            await guarded.fetch(url)
    assert feed_server.requests == []


@pytest.mark.parametrize(
    ("status", "target", "reason"),
    [
        (302, "{feed_server}/rss", r"^refused to fetch 127\.0\.0\.1"),
        (301, "http://intranet.example/rss", r"^refused to fetch intranet\.example \(10\.1\.2\.3\)"),
        (307, "http://metadata.example/meta-data/", r"^refused to fetch metadata\.example \(169\.254\.169\.254\)"),
        (308, "http://[::1]:{port}/rss", r"^refused to fetch ::1"),
        (302, "file:///etc/passwd", r"^not an http\(s\) URL: file:///etc/passwd$"),
    ],
)
async def test_a_redirect_from_a_public_server_to_a_private_address_is_refused(
    feed_server: FeedServer, polling: PollingSettings, target: str, reason: str, status: int
) -> None:
    feed_server.route("/rss", feed_file("rss20.xml"))
    location = target.format(feed_server=feed_server.url("").rstrip("/"), port=feed_server.port)
    names = {"news.example": [PUBLIC], "intranet.example": ["10.1.2.3"], "metadata.example": ["169.254.169.254"]}
    transport = PublicInternet({"news.example": redirect(location, status)})
    async with Fetcher(polling, resolver=resolver(names), transport=transport) as guarded:
        with pytest.raises(FetchError, match=reason):
            await guarded.fetch("https://news.example/feed")
    assert feed_server.requests == []


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..b.example"])
async def test_a_name_that_cannot_be_a_host_name_is_a_plain_error(host: str) -> None:
    # IDNA refuses it before any look-up: it used to escape as UnicodeError.
    with pytest.raises(OSError, match=rf"^could not resolve host {re.escape(host)} \(not a valid host name\)$"):
        await system_resolver(host, 80)


async def test_a_redirect_between_public_servers_is_followed(polling: PollingSettings) -> None:
    names = {"news.example": [PUBLIC], "cdn.example": ["1.1.1.1"]}
    transport = PublicInternet({"news.example": redirect("https://cdn.example/rss.xml", 301), "cdn.example": feed})
    async with Fetcher(polling, resolver=resolver(names), transport=transport) as guarded:
        result = await guarded.fetch("https://news.example/feed")
    assert (result.status, result.url, result.moved_to) == (200, "https://cdn.example/rss.xml",
                                                            "https://cdn.example/rss.xml")


async def test_private_addresses_are_fetched_when_allowed(feed_server: FeedServer, polling: PollingSettings) -> None:
    target = feed_server.route("/rss", feed_file("rss20.xml")).replace("127.0.0.1", "localhost")
    url = feed_server.route("/old", status=302, headers={"Location": target})
    async with Fetcher(polling, allow_private_addresses=True, resolver=resolver({})) as trusting:
        result = await trusting.fetch(url)
    assert (result.status, result.url) == (200, target)
    assert [request.path for request in feed_server.requests] == ["/old", "/rss"]
