"""Reports: stored once each, however many feeds carry them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.model import Item, StoredItem
from storage.db import to_text


def _existing_id(db: Database, item: Item) -> int | None:
    row = db.execute("SELECT id FROM items WHERE dedup_key = ?", [item.key]).fetchone()
    if row is None and item.link:
        row = db.execute("SELECT id FROM items WHERE link = ?", [item.link]).fetchone()
    return row[0] if row else None


def store_items(
    db: Database, items: Iterable[Item], *, now: datetime, feed_id: int | None = None
) -> list[StoredItem]:
    """Store the items not seen before, in one transaction; return the new ones in the order given.

    An item is already known when its deduplication key or its canonical link is; then only the fact
    that this feed carries it too is recorded.
    """
    new: list[StoredItem] = []
    seen_at = to_text(now)
    with db.atomic():
        for item in items:
            item_id = _existing_id(db, item)
            if item_id is None:
                cursor = db.execute(
                    """INSERT INTO items (dedup_key, feed_id, guid, link, title, summary, source, published,
                                          first_seen)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [item.key, feed_id, item.guid, item.link, item.title, item.summary, item.source,
                     to_text(item.published), seen_at],
                )
                item_id = cursor.lastrowid
                new.append(
                    StoredItem(item_id, item.title, item.link, item.summary, item.source, item.published)
                )
            if feed_id is not None:
                db.execute(
                    "INSERT OR IGNORE INTO item_feeds (item_id, feed_id, seen_at) VALUES (?, ?, ?)",
                    [item_id, feed_id, seen_at],
                )
    return new


def count_items(db: Database) -> int:
    return db.execute("SELECT count(*) FROM items").fetchone()[0]

