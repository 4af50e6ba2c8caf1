"""Parsing in worker processes, as the bot polls by default: the same stories and contradictions as parsing on
a thread, and a worker that dies fails only the document it was parsing."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from bot.monitor.parse import ParsePool
from bot.monitor.pipeline import Pipeline, PreparedFeed, parse_and_prepare
from bot.monitor.poll import parse_pool, poll_cycle
from storage import feeds as feed_store
from storage.db import AsyncDatabase
from tests.conftest import PINNED_NOW, Clock
from tests.feedserver import FeedServer, feed_file

CRASH_MARKER = b"<!-- parser crash -->"


def parse_or_die(content: bytes, **kwargs: object) -> PreparedFeed:
    """What a worker does with a document that kills it (out of memory, a crash in a C extension)."""
    if CRASH_MARKER in content:
        os._exit(3)
    return parse_and_prepare(content, **kwargs)


def stored(adb: AsyncDatabase) -> dict[str, list[tuple]]:
    query = {
        "memberships": "SELECT item_id, story_id, score, shared_terms FROM story_items ORDER BY 1",
        "contradictions": "SELECT kind, later_item_id, earlier_item_id, evidence, score FROM contradictions "
                          "ORDER BY 2, 3",
        "stories": "SELECT id, title FROM stories ORDER BY id",
    }
    return {name: [tuple(row) for row in adb.db.execute(sql).fetchall()] for name, sql in query.items()}


async def test_workers_store_what_a_thread_stores(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
    tmp_path: Path,
) -> None:
    # One feed per cycle, so that both runs see the reports in the same order.
    urls = [feed_server.route(f"/{name}", feed_file(name)) for name in ("rss20.xml", "rss10.rdf", "atom10.xml")]
    on_thread = AsyncDatabase.open(tmp_path / "thread.db")
    pool = parse_pool(PollingSettings(parse_workers=1))
    assert pool is not None
    try:
        in_workers, on_threads = Pipeline(), Pipeline()
        for url in urls:
            for db in (adb, on_thread):
                await db.run(feed_store.add_missing_feeds, [(url, None)], clock())
            [a] = await poll_cycle(adb, fetcher, in_workers, polling, clock=clock, pool=pool)
            [b] = await poll_cycle(on_thread, fetcher, on_threads, polling, clock=clock)
            assert (a.status, [i.title for i in a.new_items]) == (b.status, [i.title for i in b.new_items])
        assert stored(adb) == stored(on_thread)
        assert stored(adb)["contradictions"], "the fixture feeds carry a denial of the evacuation"
    finally:
        pool.close()
        on_thread.close()


def test_no_workers_means_parsing_on_a_thread() -> None:
    assert parse_pool(PollingSettings(parse_workers=0)) is None


async def test_a_worker_that_dies_fails_its_feed_and_the_next_poll_works(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadly = feed_server.route("/deadly", feed_file("rss20.xml").replace(b"<channel>", b"<channel>" + CRASH_MARKER))
    fine = feed_server.route("/fine", feed_file("atom10.xml"))
    pipeline = Pipeline()
    with ParsePool(1, parse_or_die) as pool:
        await adb.run(feed_store.add_missing_feeds, [(deadly, None)], clock())
        with caplog.at_level(logging.ERROR, logger="bot.monitor.parse"):
            [crashed] = await poll_cycle(adb, fetcher, pipeline, polling, clock=clock, pool=pool)
        assert crashed.status == "failed"
        assert crashed.error == "the parser process stopped while reading this document"
        assert "parser process stopped unexpectedly" in caplog.text

        await adb.run(feed_store.add_missing_feeds, [(fine, None)], clock())
        clock.advance(seconds=polling.backoff_max_seconds)
        results = {p.url: p for p in await poll_cycle(adb, fetcher, pipeline, polling, clock=clock, pool=pool)}
    assert results[fine].status == "new" and len(results[fine].new_items) == 2
    assert results[deadly].status == "failed"  # it kills its worker again, and waits out a longer backoff
    feed = {f.url: f for f in await adb.run(feed_store.list_feeds)}[deadly]
    assert feed.consecutive_failures == 2
    assert adb.db.execute("SELECT count(*) FROM items").fetchone()[0] == 2


HANG_MARKER = b"<!-- parser hangs -->"


def parse_or_hang(content: bytes, **kwargs: object) -> PreparedFeed:
    """What a worker does with a document whose parse never ends (a backtracking expression, a parser's loop)."""
    if HANG_MARKER in content:
        while True:
            pass
    return parse_and_prepare(content, **kwargs)


async def test_a_parse_past_the_time_limit_fails_its_feed_and_the_others_go_on(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
) -> None:
    endless = feed_server.route("/endless", feed_file("rss20.xml").replace(b"<channel>", b"<channel>" + HANG_MARKER))
    fine = feed_server.route("/fine", feed_file("atom10.xml"))
    pipeline = Pipeline()
    with ParsePool(1, parse_or_hang, timeout_seconds=1.0) as pool:
        await adb.run(feed_store.add_missing_feeds, [(endless, None), (fine, None)], clock())
        # A deadline for the test only: without a time limit the cycle would never end.
        cycle = await asyncio.wait_for(poll_cycle(adb, fetcher, pipeline, polling, clock=clock, pool=pool), 60)
        results = {p.url: p for p in cycle}
        assert results[endless].status == "failed"
        assert results[endless].error == "parsing took longer than 1 s"
        assert results[fine].status == "new" and len(results[fine].new_items) == 2
        feeds = {f.url: f for f in await adb.run(feed_store.list_feeds)}
        assert feeds[endless].consecutive_failures == 1 and feeds[endless].last_error == "parsing took longer than 1 s"

        # The stuck worker was killed: a single worker still looping would time out the next document too.
        feed_server.route("/fine", feed_file("rss20.xml"))
        clock.advance(seconds=polling.interval_seconds)
        [next_poll] = await poll_cycle(adb, fetcher, pipeline, polling, clock=clock, pool=pool)
        assert next_poll.url == fine and next_poll.status == "new", next_poll
        assert len(multiprocessing.active_children()) == 1


BUG_MARKER = b"<!-- parser bug -->"


def parse_with_a_bug(content: bytes, **kwargs: object) -> PreparedFeed:
    """A bug of ours that one document sets off: an exception that is not the document's NotAFeedError."""
    if BUG_MARKER in content:
        raise RuntimeError("a bug")
    return parse_and_prepare(content, **kwargs)


async def test_a_bug_while_polling_one_feed_is_recorded_as_its_failure_with_a_backoff(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
) -> None:
    buggy = feed_server.route("/buggy", feed_file("rss20.xml").replace(b"<channel>", b"<channel>" + BUG_MARKER))
    fine = feed_server.route("/fine", feed_file("atom10.xml"))
    with ParsePool(1, parse_with_a_bug) as pool:
        await adb.run(feed_store.add_missing_feeds, [(buggy, None), (fine, None)], clock())
        results = {p.url: p for p in await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock, pool=pool)}
    assert (results[buggy].status, results[buggy].error) == ("failed", "internal error: RuntimeError")
    assert results[fine].status == "new"
    feed = {f.url: f for f in await adb.run(feed_store.list_feeds)}[buggy]
    assert (feed.consecutive_failures, feed.last_error) == (1, "internal error: RuntimeError")
    # It waits out a backoff like any failing feed, instead of being fetched again every cycle.
    assert feed.next_poll_at > clock() + timedelta(seconds=polling.interval_seconds)
    assert [p.url for p in await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)] == []


def test_a_closed_pool_has_ended_its_workers_even_one_stuck_parsing() -> None:
    where = {"url": "http://127.0.0.1/feed", "scope": "feed:1", "now": PINNED_NOW}
    with ParsePool(2, parse_or_hang) as pool:
        pool.submit(feed_file("rss20.xml"), **where).result(timeout=60)  # a worker has started and parsed
        pool.submit(feed_file("rss20.xml").replace(b"<channel>", b"<channel>" + HANG_MARKER), **where)
        workers = multiprocessing.active_children()
        assert workers
        pool.close(grace_seconds=0.5)
    # Ended, and waited for (their exit codes are known): a worker that went on after `close` went on costing a
    # core, and its CPU time never reached the parent's accounts (`RUSAGE_CHILDREN`).
    assert all(process.exitcode is not None for process in workers)
