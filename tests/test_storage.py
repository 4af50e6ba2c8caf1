from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.monitor.model import Item
from storage import feeds as feed_store
from storage import items as item_store
from storage import stories as story_store
from storage.db import AsyncDatabase, InstanceLock, from_text, migrations, open_database, to_text

NOW = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)


def item(key: str, link: str | None = None, title: str = "T", hour: int = 9) -> Item:
    return Item(key=key, title=title, link=link, summary="", source="S", published=NOW.replace(hour=hour))


def test_schema_is_created_with_wal_and_foreign_keys(db_path: Path) -> None:
    db = open_database(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    expected = {"feeds", "items", "item_feeds", "stories", "story_items", "contradictions", "events", "chats",
                "subscriptions", "outbox", "digests"}
    assert expected <= set(db.table_names())
    db.close()


def test_opening_again_applies_nothing_twice(db_path: Path) -> None:
    open_database(db_path).close()
    db = open_database(db_path)
    assert migrations.pending(db) == []
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(migrations.applied(db))
    db.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello " * 1000)
    with pytest.raises(sqlite3.DatabaseError):
        open_database(path)


def test_timestamps_round_trip() -> None:
    assert from_text(to_text(NOW)) == NOW
    assert to_text(NOW) == "2024-12-06T12:00:00.000000Z"


def test_items_are_stored_once_by_key_or_link(db_path: Path) -> None:
    db = open_database(db_path)
    feed = feed_store.add_feed(db, "https://a.example/rss", NOW)
    other = feed_store.add_feed(db, "https://b.example/rss", NOW)
    first = item_store.store_items(db, [item("k1", "https://a.example/1"), item("k2")], now=NOW, feed_id=feed.id)
    assert [i.id for i in first] == [1, 2]
    again = item_store.store_items(
        db, [item("k1"), item("k3", "https://a.example/1"), item("k4", "https://a.example/2")], now=NOW,
        feed_id=other.id,
    )
    assert [i.link for i in again] == ["https://a.example/2"]
    assert item_store.count_items(db) == 3
    # k1 and k3 are one article (same key, same link): the second feed carries two distinct items.
    carried = db.execute("SELECT item_id FROM item_feeds WHERE feed_id = ? ORDER BY item_id", [other.id]).fetchall()
    assert [row[0] for row in carried] == [1, 3]
    db.close()


def test_removing_a_feed_keeps_its_items(db_path: Path) -> None:
    db = open_database(db_path)
    feed = feed_store.add_feed(db, "https://a.example/rss", NOW)
    item_store.store_items(db, [item("k1")], now=NOW, feed_id=feed.id)
    feed_store.remove_feed(db, feed.id)
    assert item_store.count_items(db) == 1
    assert db.execute("SELECT feed_id FROM items").fetchone()[0] is None
    db.close()


def test_adding_a_feed_twice_is_refused(db_path: Path) -> None:
    db = open_database(db_path)
    feed_store.add_feed(db, "https://a.example/rss", NOW)
    with pytest.raises(feed_store.FeedExistsError):
        feed_store.add_feed(db, "https://a.example/rss", NOW)
    added, present = feed_store.add_missing_feeds(db, [("https://a.example/rss", None), ("https://b/x", "B")], NOW)
    assert [f.url for f in added] == ["https://b/x"] and present == ["https://a.example/rss"]
    db.close()


async def test_async_database_runs_off_the_event_loop_thread(db_path: Path) -> None:
    adb = AsyncDatabase.open(db_path)
    loop_thread = threading.get_ident()

    def where(db: object) -> int:
        return threading.get_ident()

    threads = await asyncio.gather(*(adb.run(where) for _ in range(20)))
    assert loop_thread not in threads
    assert len(set(threads)) == 1  # one thread owns the connection

    urls = [f"https://feed{n}.example/rss" for n in range(50)]
    await asyncio.gather(*(adb.run(feed_store.add_feed, url, NOW) for url in urls))
    assert len(await adb.run(feed_store.list_feeds)) == 50
    adb.close()


def test_a_second_process_sees_committed_data_while_the_first_is_open(db_path: Path) -> None:
    writer = open_database(db_path)
    feed_store.add_feed(writer, "https://a.example/rss", NOW)
    reader = open_database(db_path)
    assert [f.url for f in feed_store.list_feeds(reader)] == ["https://a.example/rss"]
    writer.close()
    reader.close()


def test_feeds_polled_before_the_last_read_columns_existed_stay_ok(db_path: Path) -> None:
    from sqlite_utils import Database

    old = Database(sqlite3.connect(db_path))
    migrations.apply(old, stop_before="m003_feed_last_read")
    old.execute(
        """INSERT INTO feeds (url, added_at, next_poll_at, last_polled_at, last_success_at, items_seen)
           VALUES ('https://a.example/rss', ?, ?, ?, ?, 7)""", [to_text(NOW)] * 4)
    old.conn.commit()
    old.close()
    db = open_database(db_path)
    [feed] = feed_store.list_feeds(db)
    assert (feed.status, feed.last_items, feed.last_skipped) == ("ok", None, {})
    feed_store.record_success(db, feed.id, now=NOW, next_poll_at=NOW, etag=None, last_modified=None, items=0,
                              skipped={"no title": 4})
    assert feed_store.get_feed(db, feed.id).status == "all skipped"
    db.close()


def test_contradictions_found_before_claims_existed_keep_a_claim_each_and_count_as_alerted(db_path: Path) -> None:
    db = Database(sqlite3.connect(db_path))
    migrations.apply(db, stop_before="m005_contradiction_claims")
    # Written as that schema has them: today's storage code writes columns later migrations add.
    for n, hour in ((1, 8), (2, 9), (3, 10)):
        db.execute("""INSERT INTO items (id, dedup_key, title, source, published, first_seen)
                      VALUES (?, ?, 'T', 'S', ?, ?)""", [n, f"k{n}", to_text(NOW.replace(hour=hour)), to_text(NOW)])
    story_store.create_story(db, 1, "T", NOW)
    for later in (2, 3):
        story_store.add_contradiction(db, 1, 1, later, kind="denial", evidence="e", score=0.6, now=NOW)
    migrations.apply(db)
    found = sorted(story_store.list_contradictions(db), key=lambda c: c.id)
    assert [(c.claim_id, c.confident) for c in found] == [(found[0].id, True), (found[1].id, True)]
    db.close()


def _stored_file(db_path: Path) -> None:
    database = open_database(db_path)
    item_store.store_items(database, [item("k1")], now=NOW)
    database.close()


def test_only_a_clean_stop_on_an_untouched_file_lets_the_next_start_skip_the_integrity_check(db_path: Path) -> None:
    _stored_file(db_path)
    first = InstanceLock(db_path)
    assert not first.stopped_cleanly  # never stopped here before
    first.release(clean=True)
    second = InstanceLock(db_path)
    assert second.stopped_cleanly
    # A crash, a kill: the lock goes without a word, so the marker the start emptied stays empty.
    second.release()
    assert not InstanceLock(db_path).stopped_cleanly


def test_a_write_or_a_copy_after_a_clean_stop_brings_the_integrity_check_back(db_path: Path, tmp_path: Path) -> None:
    _stored_file(db_path)
    InstanceLock(db_path).release(clean=True)
    database = open_database(db_path)  # another writer while the bot is stopped (`storywatch ingest`, say)
    item_store.store_items(database, [item("k2", hour=10)], now=NOW)
    database.close()
    lock = InstanceLock(db_path)
    assert not lock.stopped_cleanly
    lock.release(clean=True)
    # The same bytes copied over it (a restored backup): another file, so it is checked.
    copy = tmp_path / "copy.db"
    copy.write_bytes(db_path.read_bytes())
    copy.replace(db_path)
    assert not InstanceLock(db_path).stopped_cleanly
