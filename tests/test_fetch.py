"""The fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import zlib

import pytest

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher, FetchError
from bot.monitor.netguard import is_public_address
from tests.feedserver import FeedServer, feed_file


async def test_200_returns_body_and_validators(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"), etag='"v1"', last_modified="Fri, 06 Dec 2024 12:00:00 GMT")
    result = await fetcher.fetch(url)
    assert result.status == 200
    assert result.content == feed_file("rss20.xml")
    assert result.etag == '"v1"'
    assert result.last_modified == "Fri, 06 Dec 2024 12:00:00 GMT"
    sent = feed_server.requests_to("/rss")[0].headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    assert sent["user-agent"].startswith("storywatch/")


async def test_conditional_request_gets_304(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"), etag='"v1"', last_modified="Fri, 06 Dec 2024 12:00:00 GMT")
    result = await fetcher.fetch(url, etag='"v1"', last_modified="Fri, 06 Dec 2024 12:00:00 GMT")
    assert result.status == 304
    assert result.content == b""
    assert result.etag == '"v1"'
    sent = feed_server.requests_to("/rss")[0].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Fri, 06 Dec 2024 12:00:00 GMT"


async def test_stale_etag_gets_full_body(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"), etag='"v2"')
    result = await fetcher.fetch(url, etag='"v1"')
    assert result.status == 200
    assert result.etag == '"v2"'


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reports_new_address(feed_server: FeedServer, fetcher: Fetcher, status: int) -> None:
    new = feed_server.route("/new", feed_file("atom10.xml"))
    old = feed_server.route("/old", status=status, headers={"Location": "/new"})
    result = await fetcher.fetch(old)
    assert result.status == 200
    assert result.url == new
    assert result.moved_to == new


async def test_temporary_redirect_keeps_address(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/today", feed_file("atom10.xml"))
    url = feed_server.route("/feed", status=302, headers={"Location": "/today"})
    result = await fetcher.fetch(url)
    assert result.status == 200
    assert result.moved_to is None


async def test_permanent_then_temporary_redirect_moves_to_the_permanent_target(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/cdn", feed_file("atom10.xml"))
    moved = feed_server.route("/moved", status=302, headers={"Location": "/cdn"})
    url = feed_server.route("/old", status=301, headers={"Location": "/moved"})
    result = await fetcher.fetch(url)
    assert result.moved_to == moved


async def test_redirect_loop_is_reported(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/a", status=302, headers={"Location": "/b"})
    feed_server.route("/b", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(url)


async def test_too_many_redirects(feed_server: FeedServer, fetcher: Fetcher) -> None:
    for hop in range(6):
        feed_server.route(f"/r{hop}", status=302, headers={"Location": f"/r{hop + 1}"})
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)"):
        await fetcher.fetch(feed_server.url("/r0"))


@pytest.mark.parametrize("status", [404, 410, 500, 503])
async def test_http_errors_are_named_by_status(feed_server: FeedServer, fetcher: Fetcher, status: int) -> None:
    url = feed_server.route("/broken", b"oops", status=status, content_type="text/plain")
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value) == f"HTTP {status}"


async def test_retry_after_is_read(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/busy", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert caught.value.retry_after == 120


async def test_slow_server_times_out(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/slow", hang=True)
    with pytest.raises(FetchError, match=r"^timed out after 1 s$"):
        await fetcher.fetch(url)


async def test_body_over_the_cap_is_refused(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/huge", b"<rss>" + b"x" * 1_000_000 + b"</rss>")
    with pytest.raises(FetchError, match=r"response too large: over 200,000 bytes"):
        await fetcher.fetch(url)


async def test_endless_body_is_cut_at_the_cap(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/endless", endless=True)
    with pytest.raises(FetchError, match="response too large"):
        await fetcher.fetch(url)


async def test_gzip_is_decoded(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/gz", feed_file("rss20.xml"), gzip=True)
    result = await fetcher.fetch(url)
    assert result.headers["content-encoding"] == "gzip"
    assert result.content == feed_file("rss20.xml")


async def test_gzip_bomb_stops_at_the_cap(feed_server: FeedServer, fetcher: Fetcher) -> None:
    # 50 MB of zeros compress to about 50 KB: small on the wire, far over the cap once decoded.
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 200_000
    url = feed_server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="response too large"):
        await fetcher.fetch(url)


async def test_raw_deflate_is_accepted(feed_server: FeedServer, fetcher: Fetcher) -> None:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    body = compressor.compress(feed_file("rss20.xml")) + compressor.flush()
    url = feed_server.route("/deflate", body, headers={"Content-Encoding": "deflate"})
    result = await fetcher.fetch(url)
    assert result.content == feed_file("rss20.xml")


async def test_connection_refused_is_a_plain_error(fetcher: Fetcher, feed_server: FeedServer) -> None:
    port = feed_server.port
    feed_server.stop()
    with pytest.raises(FetchError, match=r"could not connect to 127\.0\.0\.1"):
        await fetcher.fetch(f"http://127.0.0.1:{port}/gone")


async def test_private_addresses_are_refused_by_default(feed_server: FeedServer) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"))
    async with Fetcher(PollingSettings()) as guarded:
        with pytest.raises(FetchError, match=r"refused to fetch 127\.0\.0\.1"):
            await guarded.fetch(url)
        with pytest.raises(FetchError, match=r"refused to fetch localhost \((127\.0\.0\.1|::1)\)"):
            await guarded.fetch(url.replace("127.0.0.1", "localhost"))
    assert feed_server.requests == []


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.169.254", "224.0.0.1", "0.0.0.0",
     "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "ff02::1"],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


async def test_every_loopback_spelling_is_refused(feed_server: FeedServer) -> None:
    async with Fetcher(PollingSettings()) as guarded:
        for host in ("127.0.0.2", "[::1]", "127.1"):
            with pytest.raises(FetchError, match="refused"):
                await guarded.fetch(f"http://{host}:{feed_server.port}/rss")
    assert feed_server.requests == []


async def test_non_http_url_is_refused(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not an http"):
        await fetcher.fetch("file:///etc/passwd")


async def test_per_host_limit_serialises_requests(feed_server: FeedServer, polling: PollingSettings) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"))
    settings = dataclasses.replace(polling, per_host_concurrency=1)
    async with Fetcher(settings, allow_private_addresses=True) as client:
        slot = client._host_slot(url)
        async with slot:
            pending = asyncio.ensure_future(client.fetch(url))
            done, _ = await asyncio.wait([pending], timeout=0.3)
            assert not done, "a second request to the host started while the only slot was taken"
        await asyncio.wait_for(pending, timeout=5)
    assert len(feed_server.requests_to("/rss")) == 1
