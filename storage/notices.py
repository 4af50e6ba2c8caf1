"""The admins' notices of feed health: queued with the poll that decided them, delivered like alerts (marked
sent only once Telegram confirmed the message), so that a crash between deciding and sending loses nothing and
a notice confirmed sent is never sent again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage import alerts as alert_store
from storage.db import execute_many, from_text, to_text

FEED_FAILING = "feed_failing"
FEED_RECOVERED = "feed_recovered"


@dataclass(frozen=True, slots=True)
class PendingNotice:
    id: int
    chat_id: int
    kind: str  # FEED_FAILING or FEED_RECOVERED
    feed_id: int
    feed_name: str
    failures: int  # failed polls in a row: the count that was told, or the count before the recovery
    error: str | None
    attempts: int


def add_feed_notice(
    db: Database, chat_ids: Sequence[int], kind: str, feed_id: int, feed_name: str, failures: int,
    error: str | None, now: datetime,
) -> None:
    """One notice for each of `chat_ids`, due now, in the caller's transaction."""
    execute_many(
        db,
        """INSERT INTO notices (chat_id, kind, feed_id, feed_name, failures, error, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [(chat_id, kind, feed_id, feed_name, failures, error, to_text(now), to_text(now))
         for chat_id in dict.fromkeys(chat_ids)],
    )


def due_notices(db: Database, now: datetime) -> list[PendingNotice]:
    """Pending notices whose time has come, oldest first."""
    rows = db.execute(
        """SELECT id, chat_id, kind, feed_id, feed_name, failures, error, attempts FROM notices
           WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id""",
        [to_text(now)],
    ).fetchall()
    return [PendingNotice(*row) for row in rows]


def next_due_at(db: Database) -> datetime | None:
    row = db.execute("SELECT min(next_attempt_at) FROM notices WHERE status = 'pending'").fetchone()
    return from_text(row[0])


# Their outcomes are recorded as the alerts' are.
def mark_sent(db: Database, notice_ids: Sequence[int], message_id: int, now: datetime) -> None:
    alert_store.mark_sent(db, notice_ids, message_id, now, table="notices")


def retry_later(db: Database, notice_ids: Sequence[int], next_attempt_at: datetime, error: str) -> None:
    alert_store.retry_later(db, notice_ids, next_attempt_at, error, table="notices")


def give_up(db: Database, notice_ids: Sequence[int], error: str) -> None:
    alert_store.give_up(db, notice_ids, error, table="notices")
