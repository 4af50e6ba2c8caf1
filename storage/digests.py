"""Daily digests: which chats want one and when, what goes in one, and which were sent (one per chat and
local day, across restarts)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlite_utils import Database

from bot.monitor.model import StoredItem
from storage.chats import Chat, chat_from_row
from storage.db import from_text, to_text
from storage.stories import StoredContradiction, contradictions_by_id, item_from_row


@dataclass(frozen=True, slots=True)
class DigestStory:
    """One story as a digest tells it: how big it is, what changed since the last digest."""

    id: int
    title: str
    followed: bool
    source_count: int
    item_count: int
    new_items: int
    new_sources: int
    latest: StoredItem
    contradiction: StoredContradiction | None  # the newest confident one since the last digest


def digest_chats(db: Database) -> list[tuple[Chat, datetime]]:
    """Active chats that get a daily digest, each with the moment it began to: a chat gets one when it turned
    it on itself, or while it follows something (a topic or a story) and did not turn it off. Only digest
    times after that moment are owed, so the first digest comes at the next digest time, not at once."""
    rows = db.query(
        """SELECT c.*, (SELECT min(s.created_at) FROM subscriptions s
                        WHERE s.chat_id = c.id AND s.kind IN ('topic', 'story')) AS following_since
           FROM chats c WHERE c.active = 1 AND c.digest_enabled = 1"""
    )
    chats = []
    for row in rows:
        starts = [from_text(value) for value in (row["digest_since"], row["following_since"]) if value]
        if starts:
            chats.append((chat_from_row(row), min(starts)))
    return chats


def set_digest(db: Database, chat_id: int, *, enabled: bool, now: datetime, at: str | None = None) -> None:
    """Turn the daily digest on (from `now`, unless it was on already) or off, and set its time."""
    db.execute(
        """UPDATE chats SET digest_enabled = :on, digest_since = CASE WHEN :on THEN coalesce(digest_since, :now) END,
               digest_time = coalesce(:at, digest_time)
           WHERE id = :chat""",
        {"on": int(enabled), "now": to_text(now), "at": at, "chat": chat_id},
    )


def record_manual_digest(db: Database, chat_id: int, now: datetime) -> None:
    """A digest the chat asked for (/digest) was sent: the next one tells what moved after it."""
    db.execute("UPDATE chats SET manual_digest_at = ? WHERE id = ?", [to_text(now), chat_id])


def set_timezone(db: Database, chat_id: int, timezone: str) -> None:
    db.execute("UPDATE chats SET timezone = ? WHERE id = ?", [timezone, chat_id])


def settled_dates(db: Database, chat_ids: Sequence[int], local_dates: Sequence[date]) -> set[tuple[int, date]]:
    """(chat, local date) pairs whose digest was sent, or given up, already."""
    if not chat_ids or not local_dates:
        return set()
    rows = db.execute(
        f"""SELECT chat_id, local_date FROM digests WHERE status != 'pending'
            AND chat_id IN ({", ".join("?" for _ in chat_ids)})
            AND local_date IN ({", ".join("?" for _ in local_dates)})""",
        [*chat_ids, *(d.isoformat() for d in local_dates)],
    ).fetchall()
    return {(chat_id, date.fromisoformat(day)) for chat_id, day in rows}


def claim_digest(db: Database, chat_id: int, local_date: date, now: datetime) -> bool:
    """Record that the digest for this chat and day is being sent; False when it was sent already. A claim
    left pending by a crash may be taken again, so the digest is not lost."""
    db.execute(
        "INSERT OR IGNORE INTO digests (chat_id, local_date, created_at) VALUES (?, ?, ?)",
        [chat_id, local_date.isoformat(), to_text(now)],
    )
    row = db.execute(
        "SELECT status FROM digests WHERE chat_id = ? AND local_date = ?", [chat_id, local_date.isoformat()]
    ).fetchone()
    return row[0] == "pending"


def mark_digest(db: Database, chat_id: int, local_date: date, *, status: str, message_ids: Sequence[int],
                now: datetime) -> None:
    db.execute(
        "UPDATE digests SET status = ?, sent_at = ?, message_ids = ? WHERE chat_id = ? AND local_date = ?",
        [status, to_text(now), json.dumps(list(message_ids)), chat_id, local_date.isoformat()],
    )


def last_digest_was_manual(db: Database, chat_id: int) -> bool:
    row = db.execute(
        """SELECT manual_digest_at > coalesce((SELECT max(sent_at) FROM digests WHERE chat_id = :chat
                                               AND status = 'sent'), '')
           FROM chats WHERE id = :chat""",
        {"chat": chat_id},
    ).fetchone()
    return bool(row and row[0])


def last_digest_at(db: Database, chat_id: int) -> datetime | None:
    """When the chat's last digest went out, whether it came at its time or was asked for with /digest."""
    row = db.execute(
        """SELECT max(coalesce((SELECT max(sent_at) FROM digests WHERE chat_id = :chat AND status = 'sent'), ''),
                      coalesce((SELECT manual_digest_at FROM chats WHERE id = :chat), ''))""",
        {"chat": chat_id},
    ).fetchone()
    return from_text(row[0] or None)


def digest_stories(db: Database, chat_id: int, since: datetime, *, limit: int = 10) -> list[DigestStory]:
    """The stories that moved since `since` that this chat has not muted: the ones it follows first, then the
    ones that gained most sources and reports, then the biggest."""
    # One pass over the members of the stories that moved, each (story, source) once: a source is new when none of
    # the story's reports from it was first seen before `since`. Counting the fresh reports of each story, and
    # its sources, with a subquery per story scanned the fresh reports again for each of thousands of stories.
    rows = list(db.query(
        """WITH moved AS (
               SELECT DISTINCT m.story_id FROM items i CROSS JOIN story_items m ON m.item_id = i.id
               WHERE i.first_seen >= :since),
           per_source AS (
               SELECT m.story_id, min(i.first_seen) AS first_seen, sum(i.first_seen >= :since) AS fresh
               FROM moved CROSS JOIN story_items m ON m.story_id = moved.story_id JOIN items i ON i.id = m.item_id
               GROUP BY m.story_id, i.source),
           moves AS (
               SELECT story_id, sum(fresh) AS new_items, sum(first_seen >= :since) AS new_sources
               FROM per_source GROUP BY story_id)
           SELECT s.id, s.title, s.source_count, s.item_count, moves.new_items, moves.new_sources,
                  EXISTS (SELECT 1 FROM subscriptions f WHERE f.chat_id = :chat AND f.kind = 'story'
                          AND f.story_id = s.id) AS followed
           FROM moves JOIN stories s ON s.id = moves.story_id
           WHERE NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.chat_id = :chat AND x.kind = 'mute'
                             AND x.story_id = s.id)
           ORDER BY followed DESC, new_sources DESC, new_items DESC, s.source_count DESC, s.id DESC
           LIMIT :limit""",
        {"since": to_text(since), "chat": chat_id, "limit": limit},
    ))
    # The latest fresh report and the newest confident contradiction, of the stories shown only.
    for row in rows:
        row["latest_id"], row["contradiction_id"] = db.execute(
            """SELECT (SELECT i.id FROM story_items m JOIN items i ON i.id = m.item_id
                       WHERE m.story_id = :story AND i.first_seen >= :since ORDER BY i.published DESC, i.id DESC
                       LIMIT 1),
                      (SELECT c.id FROM contradictions c WHERE c.story_id = :story AND c.detected_at >= :since
                       AND c.confident ORDER BY c.id DESC LIMIT 1)""",
            {"story": row["id"], "since": to_text(since)},
        ).fetchone()
    latest = {row["id"]: item_from_row(row) for row in db.query(
        f"SELECT * FROM items WHERE id IN ({', '.join('?' for _ in rows)})", [r["latest_id"] for r in rows])}
    contradictions = contradictions_by_id(db, [r["contradiction_id"] for r in rows if r["contradiction_id"]])
    return [
        DigestStory(
            id=row["id"], title=row["title"], followed=bool(row["followed"]), source_count=row["source_count"],
            item_count=row["item_count"], new_items=row["new_items"], new_sources=row["new_sources"],
            latest=latest[row["latest_id"]], contradiction=contradictions.get(row["contradiction_id"]),
        )
        for row in rows
    ]
