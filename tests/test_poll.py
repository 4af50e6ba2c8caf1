"""Poll cycles end to end: loopback HTTP server, real fetcher and parser, real SQLite file."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from bot.monitor.pipeline import Pipeline
from bot.monitor.poll import backoff_delay, poll_cycle
from storage import feeds as feed_store
from storage.db import AsyncDatabase
from tests.conftest import Clock
from tests.feedserver import FeedServer, feed_file

LAST_MODIFIED = "Fri, 06 Dec 2024 12:00:00 GMT"


async def add(adb: AsyncDatabase, clock: Clock, *urls: str) -> None:
    await adb.run(feed_store.add_missing_feeds, [(url, None) for url in urls], clock())


def item_count(adb: AsyncDatabase) -> int:
    return adb.db.execute("SELECT count(*) FROM items").fetchone()[0]


async def test_first_poll_stores_items_and_second_poll_is_conditional(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"), etag='"abc"', last_modified=LAST_MODIFIED)
    await add(adb, clock, url)

    [first] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert first.status == "new"
    assert first.new_items[0].title.startswith("Iran begins evacuating")
    assert item_count(adb) == 3
    feed = (await adb.run(feed_store.list_feeds))[0]
    assert (feed.etag, feed.last_modified, feed.title) == ('"abc"', LAST_MODIFIED, "Levant Wire")
    assert feed.next_poll_at == clock() + timedelta(seconds=polling.interval_seconds)

    # Not due yet: nothing is fetched.
    assert await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock) == []
    assert len(feed_server.requests_to("/rss")) == 1

    clock.advance(seconds=polling.interval_seconds)
    [second] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert second.status == "not-modified"
    sent = feed_server.requests_to("/rss")[1].headers
    assert sent["if-none-match"] == '"abc"'
    assert sent["if-modified-since"] == LAST_MODIFIED
    assert item_count(adb) == 3


async def test_unchanged_body_without_validators_stores_nothing_new(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    url = feed_server.route("/rss", feed_file("atom10.xml"))
    await add(adb, clock, url)
    await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    [again] = await poll_cycle(adb, fetcher, Pipeline(), polling, force=True, clock=clock)
    assert again.status == "unchanged"
    assert again.new_items == []
    assert item_count(adb) == 2


async def test_backoff_grows_while_failing_and_resets_on_success(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    url = feed_server.route("/flaky", b"down", status=500, content_type="text/plain")
    await add(adb, clock, url)
    delays = []
    for attempt in range(1, 5):
        [result] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
        assert result.status == "failed" and result.error == "HTTP 500"
        feed = (await adb.run(feed_store.list_feeds))[0]
        assert feed.consecutive_failures == attempt
        assert feed.last_error == "HTTP 500"
        delays.append(feed.next_poll_at - clock())
        clock.now = feed.next_poll_at
    assert delays == [backoff_delay(n, polling) for n in range(1, 5)]
    assert delays[0] < delays[1] < delays[2] < delays[3]

    feed_server.route("/flaky", feed_file("rss20.xml"))
    [result] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert result.status == "new"
    feed = (await adb.run(feed_store.list_feeds))[0]
    assert (feed.consecutive_failures, feed.last_error) == (0, None)
    assert feed.next_poll_at - clock() == timedelta(seconds=polling.interval_seconds)


def test_backoff_is_capped_and_honours_retry_after() -> None:
    settings = dataclasses.replace(PollingSettings(), interval_seconds=600, backoff_max_seconds=3600)
    assert backoff_delay(1, settings) == timedelta(seconds=1200)
    assert backoff_delay(50, settings) == timedelta(seconds=3600)
    assert backoff_delay(1, settings, retry_after=3000) == timedelta(seconds=3000)
    assert backoff_delay(1, settings, retry_after=10**9) == timedelta(seconds=3600)


async def test_a_failing_feed_leaves_the_others_alone(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    good = feed_server.route("/good", feed_file("rss20.xml"))
    html = feed_server.route("/page", feed_file("plain-page.html"), content_type="text/html")
    slow = feed_server.route("/slow", hang=True)
    missing = feed_server.url("/missing")
    atom = feed_server.route("/atom", feed_file("atom10.xml"), content_type="application/atom+xml")
    await add(adb, clock, good, html, slow, missing, atom)

    results = {r.url: r for r in await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)}
    assert results[good].status == "new" and len(results[good].new_items) == 3
    assert results[atom].status == "new" and len(results[atom].new_items) == 2
    assert results[html].error == "not a feed: got an HTML page"
    assert results[slow].error == "timed out after 1 s"
    assert results[missing].error == "HTTP 404"
    stored = {feed.url: feed for feed in await adb.run(feed_store.list_feeds)}
    assert stored[html].last_error == "not a feed: got an HTML page"
    assert stored[missing].consecutive_failures == 1
    assert stored[good].healthy


async def test_permanent_redirect_updates_the_stored_address(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    new = feed_server.route("/new", feed_file("rss20.xml"))
    old = feed_server.route("/old", status=301, headers={"Location": "/new"})
    await add(adb, clock, old)
    [result] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert result.moved_to == new
    assert [feed.url for feed in await adb.run(feed_store.list_feeds)] == [new]


async def test_temporary_redirect_keeps_the_stored_address(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    feed_server.route("/today", feed_file("rss20.xml"))
    url = feed_server.route("/feed", status=307, headers={"Location": "/today"})
    await add(adb, clock, url)
    await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert [feed.url for feed in await adb.run(feed_store.list_feeds)] == [url]


async def test_one_article_in_two_feeds_is_stored_once(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    # The same feed under two addresses: GUIDs are scoped per feed, but the links are the same articles.
    one = feed_server.route("/one", feed_file("rss20.xml"))
    two = feed_server.route("/two", feed_file("rss20.xml"))
    await add(adb, clock, one, two)
    results = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert sum(len(r.new_items) for r in results) == 3
    assert item_count(adb) == 3
    carried = adb.db.execute("SELECT count(*) FROM item_feeds").fetchone()[0]
    assert carried == 6


async def test_private_addresses_are_refused_by_default(
    feed_server: FeedServer, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    url = feed_server.route("/rss", feed_file("rss20.xml"))
    await add(adb, clock, url)
    async with Fetcher(polling) as guarded:
        [result] = await poll_cycle(adb, guarded, Pipeline(), polling, clock=clock)
    assert result.status == "failed"
    assert result.error.startswith("refused to fetch 127.0.0.1")
    assert feed_server.requests == []


async def test_force_polls_feeds_in_backoff(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    url = feed_server.route("/down", status=503)
    await add(adb, clock, url)
    await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock) == []
    assert len(await poll_cycle(adb, fetcher, Pipeline(), polling, force=True, clock=clock)) == 1


async def test_every_feed_format_and_damaged_documents_over_http(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    urls = {
        "rss10": feed_server.route("/rss10", feed_file("rss10.rdf"), content_type="application/rdf+xml"),
        "atom": feed_server.route("/atom", feed_file("atom10.xml"), content_type="application/atom+xml"),
        "truncated": feed_server.route("/cut", feed_file("truncated.xml"), gzip=True),
        "encoding": feed_server.route("/enc", feed_file("wrong-encoding.xml"), content_type="text/xml"),
    }
    await add(adb, clock, *urls.values())
    results = {r.url: r for r in await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)}
    assert len(results[urls["rss10"]].new_items) == 2
    assert len(results[urls["atom"]].new_items) == 2
    truncated = results[urls["truncated"]]
    assert truncated.status == "new" and truncated.new_items[0].title.startswith("Iran begins evacuating")
    assert any(w.startswith("XML error at line") for w in truncated.warnings)
    assert results[urls["encoding"]].new_items[0].title == "Président français en visite à Beyrouth"
    assert all(feed.healthy for feed in await adb.run(feed_store.list_feeds))
