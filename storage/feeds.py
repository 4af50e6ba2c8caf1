"""The shared feed pool: what to poll, when, and how each feed has been doing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlite_utils import Database

from storage.db import from_text, to_text


class FeedExistsError(ValueError):
    pass


class FeedNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str | None
    site_url: str | None
    etag: str | None
    last_modified: str | None
    added_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime
    last_error: str | None
    items_seen: int
    # What the last document read gave: its items (None: not known) and its entries skipped, reason -> count.
    last_items: int | None = None
    last_skipped: dict[str, int] = field(default_factory=dict)
    added_by: int | None = None  # the chat that added it, when not an admin

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures == 0

    @property
    def status(self) -> str:
        """"new" (never polled), "failing ×N", or for a feed that answers: "ok" when its last document gave
        items, "all skipped" when it had entries and none gave an item, "empty" when it had no entries."""
        if not self.healthy:
            return f"failing ×{self.consecutive_failures}"
        if self.last_polled_at is None:
            return "new"
        if self.last_items == 0:
            return "all skipped" if any(self.last_skipped.values()) else "empty"
        return "ok"

    @property
    def name(self) -> str:
        """What to call this outlet: its own title, else its host name."""
        if self.title:
            return self.title
        return urlsplit(self.url).hostname or self.url


def _feed(row: dict) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        site_url=row["site_url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        added_at=from_text(row["added_at"]),
        last_polled_at=from_text(row["last_polled_at"]),
        last_success_at=from_text(row["last_success_at"]),
        consecutive_failures=row["consecutive_failures"],
        next_poll_at=from_text(row["next_poll_at"]),
        last_error=row["last_error"],
        items_seen=row["items_seen"],
        last_items=row["last_items"],
        last_skipped=json.loads(row["last_skipped"]),
        added_by=row.get("added_by"),
    )


def add_feed(db: Database, url: str, now: datetime, title: str | None = None) -> Feed:
    """Add a feed, due for polling at once. Raises FeedExistsError if the URL is already in the pool."""
    if get_feed_by_url(db, url) is not None:
        raise FeedExistsError(f"the feed {url} is already in the pool")
    cursor = db.execute(
        "INSERT INTO feeds (url, title, added_at, next_poll_at) VALUES (?, ?, ?, ?)",
        [url, title, to_text(now), to_text(now)],
    )
    return get_feed(db, cursor.lastrowid)


def add_missing_feeds(
    db: Database, entries: Iterable[tuple[str, str | None]], now: datetime
) -> tuple[list[Feed], list[str]]:
    """Add each (url, title) not in the pool yet, in one transaction. Returns the added feeds and the URLs
    that were already there."""
    added, present = [], []
    with db.atomic():
        for url, title in entries:
            if get_feed_by_url(db, url) is None:
                added.append(add_feed(db, url, now, title))
            else:
                present.append(url)
    return added, present


def get_feed(db: Database, feed_id: int) -> Feed:
    rows = list(db.query("SELECT * FROM feeds WHERE id = ?", [feed_id]))
    if not rows:
        raise FeedNotFoundError(f"there is no feed {feed_id}")
    return _feed(rows[0])


def get_feed_by_url(db: Database, url: str) -> Feed | None:
    rows = list(db.query("SELECT * FROM feeds WHERE url = ?", [url]))
    return _feed(rows[0]) if rows else None


def list_feeds(db: Database) -> list[Feed]:
    return [_feed(row) for row in db.query("SELECT * FROM feeds ORDER BY id")]


def due_feeds(db: Database, now: datetime) -> list[Feed]:
    return [
        _feed(row)
        for row in db.query(
            "SELECT * FROM feeds WHERE next_poll_at <= ? ORDER BY next_poll_at, id", [to_text(now)]
        )
    ]


def next_due_time(db: Database) -> datetime | None:
    """When the next feed is due for polling (None: the pool is empty)."""
    return from_text(db.execute("SELECT min(next_poll_at) FROM feeds").fetchone()[0])


def remove_feed(db: Database, feed_id: int) -> Feed:
    """Remove a feed from the pool. Its items stay: stories and alerts refer to them."""
    feed = get_feed(db, feed_id)
    db.execute("DELETE FROM feeds WHERE id = ?", [feed_id])
    return feed


def record_success(
    db: Database,
    feed_id: int,
    *,
    now: datetime,
    next_poll_at: datetime,
    etag: str | None,
    last_modified: str | None,
    title: str | None = None,
    site_url: str | None = None,
    new_items: int = 0,
    items: int | None = None,
    skipped: Mapping[str, int] | None = None,
) -> int:
    """A poll that reached the feed (200 or 304): clear the failure count and schedule the next poll.
    `items` and `skipped`: what the document read gave (None for a 304, which leaves the last ones). Returns
    how many polls in a row had failed before this one (read in the caller's transaction, if any)."""
    row = db.execute("SELECT consecutive_failures FROM feeds WHERE id = ?", [feed_id]).fetchone()
    db.execute(
        """UPDATE feeds SET etag = ?, last_modified = ?, title = coalesce(?, title),
               site_url = coalesce(?, site_url), last_polled_at = ?, last_success_at = ?,
               consecutive_failures = 0, last_error = NULL, next_poll_at = ?,
               items_seen = items_seen + ?, last_items = coalesce(?, last_items),
               last_skipped = coalesce(?, last_skipped)
           WHERE id = ?""",
        [etag, last_modified, title, site_url, to_text(now), to_text(now), to_text(next_poll_at),
         new_items, items, None if skipped is None else json.dumps(dict(skipped)), feed_id],
    )
    return row[0] if row else 0


def record_failure(db: Database, feed_id: int, *, now: datetime, error: str, next_poll_at: datetime) -> int:
    """A failed poll: count it, keep the reason, back off. Returns the new count of consecutive failures."""
    db.execute(
        """UPDATE feeds SET last_polled_at = ?, consecutive_failures = consecutive_failures + 1,
               last_error = ?, next_poll_at = ? WHERE id = ?""",
        [to_text(now), error, to_text(next_poll_at), feed_id],
    )
    return get_feed(db, feed_id).consecutive_failures


def move_feed(db: Database, feed_id: int, new_url: str) -> bool:
    """Follow a permanent redirect. Returns False (and keeps the old URL) when the new URL is already
    another feed of the pool, since two rows must not poll one URL."""
    if get_feed_by_url(db, new_url) is not None:
        return False
    db.execute("UPDATE feeds SET url = ? WHERE id = ?", [new_url, feed_id])
    return True


def set_added_by(db: Database, feed_id: int, chat_id: int) -> None:
    db.execute("UPDATE feeds SET added_by = ? WHERE id = ?", [chat_id, feed_id])


def feeds_added_by(db: Database, chat_id: int) -> int:
    return db.execute("SELECT count(*) FROM feeds WHERE added_by = ?", [chat_id]).fetchone()[0]


def sources(db: Database) -> list[str]:
    """The outlets of the pool's feeds, as their reports name them (the feed's title, else its host)."""
    return sorted({feed.name for feed in list_feeds(db)})
