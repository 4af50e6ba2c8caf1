"""What makes two reports one: GUIDs, links, fragments and parameters, through the real poll cycle (loopback HTTP
server, fetcher, parser, pipeline, SQLite file), through ingest, and across the upgrade of a database stored under
the earlier rules."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from bot.monitor.files import read_items
from bot.monitor.normalize import canonical_url, dedup_key, stable_hash
from bot.monitor.parse import NO_TITLE_OR_TEXT
from bot.monitor.pipeline import Pipeline
from bot.monitor.poll import FeedPoll, poll_cycle
from storage import feeds as feed_store
from storage import items as item_store
from storage.db import AsyncDatabase, _Database, migrations, open_database, to_text
from tests.conftest import Clock
from tests.feedserver import FEEDS, FeedServer

IDENTITY = FEEDS / "identity"


def identity_feed(name: str) -> bytes:
    return (IDENTITY / name).read_bytes()


async def poll(
    feed_server: FeedServer, adb: AsyncDatabase, fetcher: Fetcher, clock: Clock, polling: PollingSettings,
    **routes: bytes | str,
) -> dict[str, FeedPoll]:
    """One poll cycle over the named feeds (a file name, or a document), every feed forced."""
    urls = {
        name: feed_server.route(f"/{name}", identity_feed(body) if isinstance(body, str) else body)
        for name, body in routes.items()
    }
    await adb.run(feed_store.add_missing_feeds, [(url, None) for url in urls.values()], clock())
    results = {result.url: result for result in await poll_cycle(adb, fetcher, Pipeline(), polling, force=True,
                                                                  clock=clock)}
    return {name: results[url] for name, url in urls.items()}


def stored(adb: AsyncDatabase, column: str = "title") -> list[str]:
    return [row[0] for row in adb.db.execute(f"SELECT {column} FROM items ORDER BY published, id").fetchall()]


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("atom-xml-base-one-link.xml", 16),  # distinct Atom ids, one xml:base link
        ("rss-guids-one-link.xml", 3),  # distinct GUIDs, one <link>
        ("live-blog.xml", 3),  # posts of one page, told apart by GUIDs and fragments
        ("live-blog-no-guids.xml", 3),  # told apart by their fragments alone
        ("content-parameters.xml", 7),  # articles selected by cid, ref, rss parameters
    ],
)
async def test_distinct_reports_that_share_a_page_are_all_stored(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
    name: str, entries: int,
) -> None:
    result = (await poll(feed_server, adb, fetcher, clock, polling, feed=name))["feed"]
    assert (result.status, len(result.new_items)) == ("new", entries)
    assert item_store.count_items(adb.db) == entries
    # Polled again, each is known: nothing new, nothing lost.
    again = (await poll(feed_server, adb, fetcher, clock, polling, feed=name))["feed"]
    assert (again.status, again.new_items) == ("unchanged", [])
    assert item_store.count_items(adb.db) == entries


async def test_links_keep_content_parameters_and_entry_fragments_but_not_tracking(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    await poll(feed_server, adb, fetcher, clock, polling, portal="content-parameters.xml", live="live-blog.xml")
    assert stored(adb, "link") == [
        "https://live.example/live/quake#post-1",
        "https://live.example/live/quake#post-2",
        "https://live.example/live/quake#post-3",
        "https://portal.example/article.php?cid=101",
        "https://portal.example/article.php?cid=102",
        "https://portal.example/article.php?cid=103",
        "https://portal.example/show?ref=2024-77",
        "https://portal.example/show?ref=2024-78",
        "https://portal.example/feed-item?rss=5512&spm=a1",
        "https://portal.example/feed-item?rss=5513&spm=a1",
    ]


async def test_a_live_blog_update_is_not_lost(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    full = identity_feed("live-blog.xml")
    first_two = full[: full.index(b"    <item>\n      <title>Death toll")] + b"  </channel>\n</rss>\n"
    await poll(feed_server, adb, fetcher, clock, polling, live=first_two)
    clock.advance(minutes=10)
    update = (await poll(feed_server, adb, fetcher, clock, polling, live=full))["live"]
    assert [item.title for item in update.new_items] == ["Death toll rises to 40, rescuers say"]


async def test_one_article_carried_by_two_feeds_is_stored_once(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    # Each feed's GUIDs (numbers, or permalinks with a parameter of the feed's own) say nothing about another
    # feed's items: the link (tracking parameters and a comments anchor aside) says they are one article.
    results = await poll(feed_server, adb, fetcher, clock, polling, world="section-world.xml", top="section-top.xml",
                         local="section-local.xml")
    assert sum(len(result.new_items) for result in results.values()) == 2
    assert stored(adb, "link") == [
        "https://paper.example/2024/12/06/harbour-reopens",
        "https://paper.example/2024/12/06/minister-resigns",
    ]
    carriers = adb.db.execute("SELECT item_id, count(*) FROM item_feeds GROUP BY item_id").fetchall()
    assert [count for _, count in carriers] == [3, 2]


def test_ingested_files_tell_items_apart_the_same_way(tmp_path: Path) -> None:
    db = open_database(tmp_path / "ingest.db")
    now = datetime(2024, 12, 7, tzinfo=UTC)
    for name, entries in [("atom-xml-base-one-link.xml", 16), ("rss-guids-one-link.xml", 3), ("live-blog.xml", 3)]:
        report = Pipeline().process(db, read_items(IDENTITY / name, now), now=now)
        assert (report.received, len(report.new_items)) == (entries, entries), name
    db.close()


async def test_posts_without_a_title_are_named_by_their_text(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    result = (await poll(feed_server, adb, fetcher, clock, polling, mastodon="mastodon.xml"))["mastodon"]
    assert [item.title for item in result.new_items] == [
        "Live from the council meeting where members are still debating the tram line budget and the vote has "
        "been pushed back…",
        "The harbour has reopened after the storm.",
    ]
    harbour = result.new_items[1]
    assert harbour.summary.startswith("The harbour has reopened after the storm. Ferries are running again")
    # The photo alone says nothing to report: skipped, and said so.
    assert result.skipped_reasons == {NO_TITLE_OR_TEXT: 1}


@pytest.mark.parametrize(
    ("name", "titles"),
    [
        ("utf16le-bom.xml", ["Cafe owners in Zurich protest rent rises", "Tokyo hosts regional summit"]),
        ("utf32be-bom.xml", ["Cafe owners in Zurich protest rent rises", "Tokyo hosts regional summit"]),
        ("utf16be-bom-accents.xml", ["Café owners in Zürich protest rent rises", "東京 hosts regional summit"]),
    ],
)
async def test_a_wide_unicode_document_is_read_by_its_byte_order_mark(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock,
    name: str, titles: list[str],
) -> None:
    # Served as text/xml, which by RFC 3023 says US-ASCII: the byte order mark says better.
    url = feed_server.route("/wide", identity_feed(name), content_type="text/xml")
    await adb.run(feed_store.add_feed, url, clock())
    [result] = await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)
    assert (result.status, result.error) == ("new", None)
    assert [item.title for item in result.new_items] == titles
    [feed] = await adb.run(feed_store.list_feeds)
    assert feed.title == "Wide Wire"


def _old_database(path: Path) -> None:
    """A database as the rules before migration m004 left it: links without fragments or `cid`, one live blog
    post stored of three, one of three `cid` articles."""
    db = _Database(sqlite3.connect(str(path)))
    migrations.apply(db, stop_before="m004_items_told_apart_by_guid")
    old_time = to_text(datetime(2024, 12, 6, 7, 0, tzinfo=UTC))
    db.execute("INSERT INTO feeds (id, url, added_at, next_poll_at) VALUES (1, 'http://x/live', ?, ?)",
               [old_time, old_time])
    db.execute("INSERT INTO feeds (id, url, added_at, next_poll_at) VALUES (2, 'http://x/portal', ?, ?)",
               [old_time, old_time])
    rows = [
        # A live blog post with a scoped GUID, its link stripped of the fragment.
        (1, "guid:" + stable_hash("feed:1", "post-1"), 1, "post-1", "https://live.example/live/quake",
         "Earthquake of magnitude 6.8 strikes off the coast", "Quake Live", "2024-12-06T03:10:00.000000Z"),
        # An article without a GUID whose cid parameter was dropped.
        (2, "link:" + stable_hash("https://portal.example/article.php"), 2, None,
         "https://portal.example/article.php", "Council approves new tram line", "Portal News",
         "2024-12-06T08:00:00.000000Z"),
        # A URL GUID with a fragment, keyed without it.
        (3, "link:" + stable_hash("https://live.example/live/fire"), 1, "https://live.example/live/fire#p1",
         "https://live.example/live/fire", "Wildfire reaches the valley", "Quake Live",
         "2024-12-06T05:00:00.000000Z"),
    ]
    for row in rows:
        db.execute("""INSERT INTO items (id, dedup_key, feed_id, guid, link, title, source, published, first_seen)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", [*row, old_time])
    db.conn.commit()
    db.close()


async def test_an_old_database_is_upgraded_without_losing_or_repeating_reports(
    feed_server: FeedServer, fetcher: Fetcher, db_path: Path, polling: PollingSettings, clock: Clock
) -> None:
    _old_database(db_path)
    adb = AsyncDatabase.open(db_path)
    try:
        db = adb.db
        scopes = dict(db.execute("SELECT id, guid_scope FROM items").fetchall())
        assert scopes == {1: stable_hash("feed:1"), 2: None, 3: stable_hash("feed:1")}
        key = db.execute("SELECT dedup_key FROM items WHERE id = 3").fetchone()[0]
        assert key == dedup_key(guid="https://live.example/live/fire#p1", link=None, title="", scope="")
        # Polled again after the upgrade (as feeds 1 and 2, as before): the live blog's two other posts are new,
        # its first is known; the cid article seen before is known under its old link, and the ones dated after
        # the last poll before the upgrade are new.
        live = feed_server.route("/live", identity_feed("live-blog.xml"))
        portal = feed_server.route("/portal", identity_feed("content-parameters.xml"))
        db.execute("UPDATE feeds SET url = ? WHERE id = 1", [live])
        db.execute("UPDATE feeds SET url = ? WHERE id = 2", [portal])
        db.conn.commit()
        results = {r.url: r for r in await poll_cycle(adb, fetcher, Pipeline(), polling, force=True, clock=clock)}
        assert [item.title for item in results[live].new_items] == [
            "Twelve dead as buildings collapse in the port city", "Death toll rises to 40, rescuers say",
        ]
        assert [item.title for item in results[portal].new_items] == [
            "Hospital opens new wing", "Library extends opening hours", "Stadium roof repaired",
            "Ferry timetable changes", "Night bus returns", "Night market moves",
        ]
        assert item_store.count_items(db) == 3 + 2 + 6
        # Two items may now share a link (the index is no longer unique).
        db.execute("""INSERT INTO items (dedup_key, link, title, source, published, first_seen)
                      VALUES ('guid:x', 'https://live.example/live/fire', 't', 's', '2024', '2024')""")
    finally:
        adb.close()


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("https://a.example/live/quake#post-2", "https://a.example/live/quake#post-2"),
        ("https://a.example/p/1#comment-123", "https://a.example/p/1#comment-123"),
        # Sections of the article itself, and script state: never another report.
        ("https://a.example/p/1#comments", "https://a.example/p/1"),
        ("https://a.example/p/1#more-17", "https://a.example/p/1"),
        ("https://a.example/p/1#respond", "https://a.example/p/1"),
        ("https://a.example/p/1#disqus_thread", "https://a.example/p/1"),
        ("https://a.example/p/1.html#xtor=RSS-3208", "https://a.example/p/1.html"),
        ("https://a.example/p/1#", "https://a.example/p/1"),
        ("https://a.example/article.php?cid=101&utm_source=x&gclid=1&mc_cid=2&mc_eid=3",
         "https://a.example/article.php?cid=101"),
        ("https://a.example/a?ref=rss&spm=a1&rss=1&fbclid=z", "https://a.example/a?ref=rss&rss=1&spm=a1"),
    ],
)
def test_item_links_keep_what_tells_articles_apart(link: str, canonical: str) -> None:
    assert canonical_url(link, keep_fragment=True) == canonical


def test_a_feed_address_never_keeps_a_fragment() -> None:
    assert canonical_url("https://a.example/feed#post-2") == "https://a.example/feed"
