"""Events and the outbox: what happened, which chats are owed an alert about it, and what was delivered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.model import StoredItem
from storage.db import execute_many, from_text, to_text
from storage.stories import StoredContradiction, contradictions_by_id, item_from_row


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One outbox row that is due, with what it takes to render it."""

    id: int
    chat_id: int
    chat_type: str
    chat_timezone: str | None
    kind: str  # "new_story", "development" or "contradiction"
    story_id: int
    story_title: str
    story_sources: int
    item: StoredItem
    contradiction: StoredContradiction | None
    attempts: int
    reply_to: int | None  # the chat's last delivered alert of this story
    quiet_start: str | None = None  # the chat's quiet hours ("HH:MM" local), if any
    quiet_end: str | None = None

    @property
    def is_group(self) -> bool:
        return self.chat_type in ("group", "supergroup")


def add_event(
    db: Database, kind: str, story_id: int, item_id: int, now: datetime, contradiction_id: int | None = None
) -> int | None:
    """Record an event once; returns its id, or None when it was recorded before."""
    cursor = db.execute(
        """INSERT OR IGNORE INTO events (kind, story_id, item_id, contradiction_id, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        [kind, story_id, item_id, contradiction_id, to_text(now)],
    )
    return cursor.lastrowid if cursor.rowcount else None


def add_events(db: Database, events: Sequence[tuple[str, int, int, int | None]], now: datetime) -> None:
    """Record `(kind, story id, item id, contradiction id)` events once each, in order, without their ids: for
    events no chat is owed an alert about."""
    created_at = to_text(now)
    execute_many(
        db,
        """INSERT OR IGNORE INTO events (kind, story_id, item_id, contradiction_id, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        [(*event, created_at) for event in events],
    )


def followed_stories(db: Database, story_ids: Sequence[int]) -> set[int]:
    """Those of the stories that some chat follows."""
    distinct = sorted(set(story_ids))
    followed: set[int] = set()
    for start in range(0, len(distinct), 500):  # under SQLite's oldest limit of 999 bound parameters
        chunk = distinct[start : start + 500]
        rows = db.execute(
            f"""SELECT DISTINCT story_id FROM subscriptions
                WHERE kind = 'story' AND story_id IN ({", ".join("?" for _ in chunk)})""",
            chunk,
        )
        followed.update(row[0] for row in rows)
    return followed


def has_topics(db: Database) -> bool:
    return db.execute("SELECT EXISTS (SELECT 1 FROM topic_words)").fetchone()[0] == 1


def follow_matching_topics(db: Database, story_id: int, words: Sequence[str], now: datetime) -> int:
    """Every topic whose words all occur in `words` now follows the story (unless its chat muted the story
    or follows it already). Returns how many follows were added.

    The mute is looked up among the chat's own rows ("+" keeps SQLite off the story_id index, which would
    read every follow of the story for each topic: quadratic in the story's followers)."""
    distinct = sorted(set(words))
    if not distinct:
        return 0
    marks = ", ".join("?" for _ in distinct)
    cursor = db.execute(
        f"""INSERT OR IGNORE INTO subscriptions (chat_id, kind, story_id, via, created_at)
            SELECT s.chat_id, 'story', ?, s.id, ? FROM topic_words w JOIN subscriptions s ON s.id = w.subscription_id
            WHERE w.word IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.chat_id = s.chat_id AND x.kind = 'mute'
                              AND +x.story_id = ?)
            GROUP BY s.id HAVING count(*) = s.word_count""",
        [story_id, to_text(now), *distinct, story_id],
    )
    return cursor.rowcount


def queue_alerts(
    db: Database, event_id: int, kind: str, story_id: int, now: datetime, claim_id: int | None = None
) -> int:
    """An outbox row for every active chat that follows the story, has not muted it, and wants this kind
    of alert. Returns how many were queued.

    `claim_id`, for a contradiction: the claim it disputes. A chat that was already promised an alert about
    that claim (queued or sent; one given up on does not count) gets no second one: restatements of a claim
    and of its denial are one dispute, told once."""
    cursor = db.execute(
        """INSERT OR IGNORE INTO outbox (chat_id, event_id, story_id, next_attempt_at, created_at)
           SELECT c.id, ?, ?, ?, ? FROM subscriptions f JOIN chats c ON c.id = f.chat_id
           WHERE f.kind = 'story' AND f.story_id = ? AND c.active = 1 AND c.alert_mode != 'off'
             AND (c.alert_mode != 'contradictions' OR ? = 'contradiction')
             AND (? IS NULL OR NOT EXISTS (
                 SELECT 1 FROM outbox p JOIN events e ON e.id = p.event_id
                      JOIN contradictions x ON x.id = e.contradiction_id
                 WHERE p.chat_id = c.id AND p.story_id = ? AND p.status != 'failed' AND x.claim_id = ?))""",
        [event_id, story_id, to_text(now), to_text(now), story_id, kind, claim_id, story_id, claim_id],
    )
    return cursor.rowcount


# A chat's alerts go out in the order they were queued: while one waits for its retry, the chat's later
# alerts wait behind it, even those that are due. An alert held for the chat's quiet hours (never tried, so
# attempts = 0) holds nothing back: a contradiction still goes out. (The unary "+" keeps SQLite to the chat's
# rows instead of reading every pending row that is not due, which could be all of them while Telegram is down.)
_DUE_SQL = """
    SELECT o.id, o.chat_id FROM outbox o JOIN chats c ON c.id = o.chat_id
    WHERE o.status = 'pending' AND o.next_attempt_at <= :now AND c.active = 1
      AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id AND +p.status = 'pending' AND p.id < o.id
                      AND +p.next_attempt_at > :now AND +p.attempts > 0)"""

# Whole chats at a time: every due alert of the `limit` chats with the oldest, so that a chat's burst is never
# cut in two by the limit (it goes out as one message).
_PENDING_SQL = f"""
    WITH due AS MATERIALIZED ({_DUE_SQL}),
         chosen AS (SELECT chat_id FROM due GROUP BY chat_id ORDER BY min(id) LIMIT :limit)
    SELECT o.id AS oid, o.chat_id, o.attempts, c.type AS chat_type, c.timezone AS chat_timezone,
           c.quiet_start, c.quiet_end,
           e.kind, e.story_id, e.contradiction_id, s.title AS story_title, s.source_count, i.*,
           (SELECT p.message_id FROM outbox p WHERE p.chat_id = o.chat_id AND p.story_id = o.story_id
              AND p.status = 'sent' AND p.message_id IS NOT NULL ORDER BY p.sent_at DESC, p.id DESC LIMIT 1)
              AS reply_to
    FROM due d JOIN outbox o ON o.id = d.id JOIN chats c ON c.id = o.chat_id JOIN events e ON e.id = o.event_id
         JOIN stories s ON s.id = e.story_id JOIN items i ON i.id = e.item_id
    WHERE d.chat_id IN (SELECT chat_id FROM chosen)
    ORDER BY o.id"""


def due_alerts(db: Database, now: datetime, limit: int = 1000) -> list[PendingAlert]:
    """Pending alerts whose time has come, oldest first: all of them for at most `limit` chats. A chat's alert
    waiting for a retry holds back its later ones."""
    rows = list(db.query(_PENDING_SQL, {"now": to_text(now), "limit": limit}))
    contradictions = contradictions_by_id(db, [row["contradiction_id"] for row in rows if row["contradiction_id"]])
    return [
        PendingAlert(
            id=row["oid"], chat_id=row["chat_id"], chat_type=row["chat_type"], chat_timezone=row["chat_timezone"],
            kind=row["kind"], story_id=row["story_id"], story_title=row["story_title"],
            story_sources=row["source_count"], item=item_from_row(row),
            contradiction=contradictions.get(row["contradiction_id"]), attempts=row["attempts"],
            reply_to=row["reply_to"], quiet_start=row["quiet_start"], quiet_end=row["quiet_end"],
        )
        for row in rows
    ]


def next_due_at(db: Database) -> datetime | None:
    """When the earliest pending alert of an active chat falls due. Only a chat's oldest pending alert counts:
    the later ones wait behind it (see `due_alerts`)."""
    row = db.execute(
        """SELECT min(o.next_attempt_at) FROM outbox o JOIN chats c ON c.id = o.chat_id
           WHERE o.status = 'pending' AND c.active = 1
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id AND +p.status = 'pending'
                             AND p.id < o.id AND (+p.attempts > 0 OR p.next_attempt_at <= o.next_attempt_at))"""
    ).fetchone()
    return from_text(row[0])


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" for _ in ids)


# The tables whose rows are delivered by the sender and record its outcomes alike: the alerts' outbox and the
# admins' notices (storage/notices.py).
_DELIVERED = frozenset({"outbox", "notices"})


def _delivered(table: str) -> str:
    if table not in _DELIVERED:
        raise ValueError(f"not a table of deliveries: {table}")
    return table


def mark_sent(
    db: Database, outbox_ids: Sequence[int], message_id: int, now: datetime, *, table: str = "outbox"
) -> None:
    db.execute(
        f"""UPDATE {_delivered(table)} SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1,
                last_error = NULL
            WHERE id IN ({_marks(outbox_ids)}) AND status = 'pending'""",
        [to_text(now), message_id, *outbox_ids],
    )


def recent_sends(db: Database, since: datetime) -> dict[tuple[int, bool], list[datetime]]:
    """When each chat was sent its alert messages from `since` on, by (chat, whether it is a group)."""
    rows = db.execute(
        """SELECT DISTINCT o.chat_id, c.type, o.message_id, o.sent_at FROM outbox o JOIN chats c ON c.id = o.chat_id
           WHERE o.status = 'sent' AND o.sent_at >= ?""",
        [to_text(since)],
    ).fetchall()
    sends: dict[tuple[int, bool], list[datetime]] = {}
    for chat_id, chat_type, _message_id, sent_at in rows:
        sends.setdefault((chat_id, chat_type in ("group", "supergroup")), []).append(from_text(sent_at))
    return sends


def retry_later(
    db: Database, outbox_ids: Sequence[int], next_attempt_at: datetime, error: str, *, table: str = "outbox"
) -> None:
    db.execute(
        f"""UPDATE {_delivered(table)} SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
            WHERE id IN ({_marks(outbox_ids)}) AND status = 'pending'""",
        [to_text(next_attempt_at), error, *outbox_ids],
    )


def hold_until(db: Database, outbox_ids: Sequence[int], until: datetime) -> None:
    """Hold alerts back until `until` (the chat's quiet hours end), without counting it as a try."""
    db.execute(
        f"UPDATE outbox SET next_attempt_at = ? WHERE id IN ({_marks(outbox_ids)}) AND status = 'pending'",
        [to_text(until), *outbox_ids],
    )


def give_up(db: Database, outbox_ids: Sequence[int], error: str, *, table: str = "outbox") -> None:
    db.execute(
        f"""UPDATE {_delivered(table)} SET status = 'failed', attempts = attempts + 1, last_error = ?
            WHERE id IN ({_marks(outbox_ids)}) AND status = 'pending'""",
        [error, *outbox_ids],
    )


def stories_of_message(db: Database, chat_id: int, message_id: int) -> list[int]:
    """The stories an alert message of ours was about (several for a burst's message), in order."""
    rows = db.execute(
        "SELECT DISTINCT story_id FROM outbox WHERE chat_id = ? AND message_id = ? ORDER BY story_id",
        [chat_id, message_id],
    ).fetchall()
    return [row[0] for row in rows]


def outbox_counts(db: Database) -> dict[str, int]:
    return {row["status"]: row["n"] for row in db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")}
