"""Reports: stored once each, however many feeds carry them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.model import Item, StoredItem
from storage.db import execute_many, to_text

# Items looked up and inserted per statement: well under SQLite's oldest limit of 999 bound parameters.
_CHUNK = 500


def _known_ids(db: Database, column: str, values: Sequence[str]) -> dict[str, int]:
    """`column` value -> item id, for the values some stored item has (`column` is dedup_key or link)."""
    if not values:
        return {}
    marks = ", ".join("?" for _ in values)
    return dict(db.execute(f"SELECT {column}, id FROM items WHERE {column} IN ({marks})", list(values)).fetchall())


def store_items(
    db: Database, items: Iterable[Item], *, now: datetime, feed_id: int | None = None,
    known_ids: list[int] | None = None,
) -> list[StoredItem]:
    """Store the items not seen before, in one transaction; return the new ones in the order given.

    An item is already known when its deduplication key or its canonical link is (an item given earlier in the
    same call included); then only the fact that this feed carries it too is recorded, and the id of the
    stored item it matched is appended to `known_ids` if given (so that the caller can tell a duplicate
    within its input from an item stored before).

    Written a chunk at a time: one lookup of the chunk's keys, one of its links and one insert per table, rather
    than four statements per item. The new rows get their ids explicitly, the ones SQLite would have chosen
    (one past the largest, in order): the transaction holds the write lock, so nobody else can take them.
    """
    new: list[StoredItem] = []
    seen_at = to_text(now)
    ordered = list(items)
    with db.atomic():
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            by_key = _known_ids(db, "dedup_key", list(dict.fromkeys(item.key for item in chunk)))
            by_link = _known_ids(db, "link", list(dict.fromkeys(item.link for item in chunk if item.link)))
            next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0]
            rows: list[tuple[object, ...]] = []
            carried: list[tuple[int, int, str]] = []
            for item in chunk:
                item_id = by_key.get(item.key)
                if item_id is None and item.link:
                    item_id = by_link.get(item.link)
                if item_id is None:
                    item_id, next_id = next_id, next_id + 1
                    rows.append((item_id, item.key, feed_id, item.guid, item.link, item.title, item.summary,
                                 item.source, to_text(item.published), seen_at))
                    by_key[item.key] = item_id
                    if item.link:
                        by_link[item.link] = item_id
                    new.append(StoredItem(item_id, item.title, item.link, item.summary, item.source, item.published,
                                          item.guid))
                elif known_ids is not None:
                    known_ids.append(item_id)
                if feed_id is not None:
                    carried.append((item_id, feed_id, seen_at))
            if rows:
                execute_many(
                    db,
                    """INSERT INTO items (id, dedup_key, feed_id, guid, link, title, summary, source, published,
                                          first_seen)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    rows,
                )
            if carried:
                execute_many(
                    db, "INSERT OR IGNORE INTO item_feeds (item_id, feed_id, seen_at) VALUES (?, ?, ?)", carried
                )
    return new


def count_items(db: Database) -> int:
    return db.execute("SELECT count(*) FROM items").fetchone()[0]
