"""Chats, their settings and what they follow (topics, stories, muted stories)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import from_text, to_text

ALERT_MODES = ("all", "contradictions", "off")


class SubscriptionNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: str
    title: str | None
    timezone: str | None
    digest_time: str | None
    digest_enabled: bool
    alert_mode: str
    active: bool
    created_at: datetime
    quiet_start: str | None = None  # "HH:MM" local; alerts other than contradictions wait until quiet_end
    quiet_end: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    kind: str  # "topic", "story", "mute", or "outlet" (from outlet_follows; `query` is its name)
    query: str | None
    story_id: int | None
    story_title: str | None
    via: int | None
    created_at: datetime


def chat_from_row(row: dict) -> Chat:
    return Chat(
        id=row["id"], type=row["type"], title=row["title"], timezone=row["timezone"],
        digest_time=row["digest_time"], digest_enabled=bool(row["digest_enabled"]),
        # "default" predates the modes' names: it is "all" (every alert about what the chat follows).
        alert_mode="all" if row["alert_mode"] == "default" else row["alert_mode"],
        active=bool(row["active"]), created_at=from_text(row["created_at"]),
        quiet_start=row.get("quiet_start"), quiet_end=row.get("quiet_end"),
    )


def ensure_chat(db: Database, chat_id: int, *, type: str, title: str | None, now: datetime) -> Chat:
    """The chat's row, created on first contact; a chat that deactivated (blocked the bot) is active again,
    since it is talking to us."""
    db.execute(
        """INSERT INTO chats (id, type, title, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title, active = 1,
               deactivated_at = NULL""",
        [chat_id, type, title, to_text(now)],
    )
    return get_chat(db, chat_id)


def get_chat(db: Database, chat_id: int) -> Chat:
    rows = list(db.query("SELECT * FROM chats WHERE id = ?", [chat_id]))
    if not rows:
        raise LookupError(f"there is no chat {chat_id}")
    return chat_from_row(rows[0])


def find_chat(db: Database, chat_id: int) -> Chat | None:
    rows = list(db.query("SELECT * FROM chats WHERE id = ?", [chat_id]))
    return chat_from_row(rows[0]) if rows else None


def set_alert_mode(db: Database, chat_id: int, mode: str) -> None:
    if mode not in ALERT_MODES:
        raise ValueError(f"alert mode must be one of {', '.join(ALERT_MODES)}")
    db.execute("UPDATE chats SET alert_mode = ? WHERE id = ?", [mode, chat_id])


def set_quiet_hours(db: Database, chat_id: int, start: str | None, end: str | None) -> None:
    db.execute("UPDATE chats SET quiet_start = ?, quiet_end = ? WHERE id = ?", [start, end, chat_id])


def deactivate_chat(db: Database, chat_id: int, now: datetime, reason: str) -> None:
    """A chat that cannot be reached (it blocked the bot, or was deleted): no more alerts or digests until
    it talks to us again, and its pending alerts are dropped rather than kept to flood it on its return."""
    with db.atomic():
        db.execute(
            "UPDATE chats SET active = 0, deactivated_at = ? WHERE id = ? AND active = 1", [to_text(now), chat_id]
        )
        db.execute(
            "UPDATE outbox SET status = 'failed', last_error = ? WHERE chat_id = ? AND status = 'pending'",
            [reason, chat_id],
        )


def migrate_chat(db: Database, old_id: int, new_id: int) -> None:
    """A group became a supergroup under a new id: its settings, follows, alerts and digests move with it
    (the foreign keys cascade the new id). Should the new id already have a row (it talked to us first),
    the old chat's follows are merged into it."""
    with db.atomic():
        if find_chat(db, new_id) is None:
            db.execute("UPDATE chats SET id = ?, type = 'supergroup' WHERE id = ?", [new_id, old_id])
            return
        db.execute("UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?", [new_id, old_id])
        db.execute("UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ?", [new_id, old_id])
        db.execute("DELETE FROM chats WHERE id = ?", [old_id])


def _subscription(row: dict) -> Subscription:
    return Subscription(
        id=row["id"], chat_id=row["chat_id"], kind=row["kind"], query=row["query"], story_id=row["story_id"],
        story_title=row.get("story_title"), via=row["via"], created_at=from_text(row["created_at"]),
    )


def add_topic(db: Database, chat_id: int, query: str, words: Sequence[str], now: datetime) -> tuple[int, bool]:
    """Follow a topic; `words` are its stemmed words, all of which an event must hold to reach the chat.
    Returns (subscription id, whether it is new)."""
    distinct = sorted(set(words))
    if not distinct:
        raise ValueError("a topic needs at least one word")
    with db.atomic():
        existing = db.execute(
            "SELECT id FROM subscriptions WHERE chat_id = ? AND kind = 'topic' AND query = ?", [chat_id, query]
        ).fetchone()
        if existing:
            return existing[0], False
        cursor = db.execute(
            "INSERT INTO subscriptions (chat_id, kind, query, word_count, created_at) VALUES (?, 'topic', ?, ?, ?)",
            [chat_id, query, len(distinct), to_text(now)],
        )
        subscription_id = cursor.lastrowid
        db.conn.executemany(
            "INSERT INTO topic_words (word, subscription_id) VALUES (?, ?)",
            [(word, subscription_id) for word in distinct],
        )
    return subscription_id, True


def follow_story(
    db: Database, chat_id: int, story_id: int, now: datetime, *, via: int | None = None
) -> bool:
    """Follow a story (and unmute it). `via` is the topic that matched it, None when the chat asked.
    Returns whether the chat did not follow it already."""
    with db.atomic():
        db.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? AND kind = 'mute' AND story_id = ?", [chat_id, story_id]
        )
        if via is None:
            # Asked for by name: it stays when the topic that brought it is unfollowed.
            cursor = db.execute(
                "UPDATE subscriptions SET via = NULL WHERE chat_id = ? AND kind = 'story' AND story_id = ?"
                " AND via IS NOT NULL",
                [chat_id, story_id],
            )
            if cursor.rowcount:
                return True
        cursor = db.execute(
            """INSERT OR IGNORE INTO subscriptions (chat_id, kind, story_id, via, created_at)
               VALUES (?, 'story', ?, ?, ?)""",
            [chat_id, story_id, via, to_text(now)],
        )
        return bool(cursor.rowcount)


def unmute_story(db: Database, chat_id: int, story_id: int) -> bool:
    """Hear of a muted story again (its topics bring it back). Returns whether it was muted."""
    cursor = db.execute(
        "DELETE FROM subscriptions WHERE chat_id = ? AND kind = 'mute' AND story_id = ?", [chat_id, story_id]
    )
    return bool(cursor.rowcount)


def follows_story(db: Database, chat_id: int, story_id: int) -> bool:
    """Whether the chat follows the story, by name or through a topic."""
    row = db.execute(
        "SELECT 1 FROM subscriptions WHERE chat_id = ? AND kind = 'story' AND story_id = ?", [chat_id, story_id]
    ).fetchone()
    return row is not None


def mute_story(db: Database, chat_id: int, story_id: int, now: datetime) -> bool:
    """Silence a story for this chat, whatever topic matches it. Returns whether it was not muted yet."""
    with db.atomic():
        db.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? AND kind = 'story' AND story_id = ?", [chat_id, story_id]
        )
        try:
            db.execute(
                "INSERT INTO subscriptions (chat_id, kind, story_id, created_at) VALUES (?, 'mute', ?, ?)",
                [chat_id, story_id, to_text(now)],
            )
        except sqlite3.IntegrityError:
            return False
    return True


def subscriptions(db: Database, chat_id: int) -> list[Subscription]:
    """What a chat follows and mutes, in the order it asked: topics, stories asked for by name, mutes.
    Stories followed through a topic are not listed (unfollowing the topic drops them)."""
    rows = db.query(
        """SELECT s.*, st.title AS story_title FROM subscriptions s LEFT JOIN stories st ON st.id = s.story_id
           WHERE s.chat_id = ? AND s.via IS NULL
           ORDER BY CASE s.kind WHEN 'topic' THEN 0 WHEN 'story' THEN 1 ELSE 2 END, s.id""",
        [chat_id],
    )
    return [_subscription(row) for row in rows]


def remove_subscription(db: Database, chat_id: int, subscription_id: int) -> Subscription:
    rows = list(
        db.query(
            """SELECT s.*, st.title AS story_title FROM subscriptions s LEFT JOIN stories st ON st.id = s.story_id
               WHERE s.chat_id = ? AND s.id = ?""",
            [chat_id, subscription_id],
        )
    )
    if not rows:
        raise SubscriptionNotFoundError(f"this chat has no subscription {subscription_id}")
    db.execute("DELETE FROM subscriptions WHERE id = ?", [subscription_id])
    return _subscription(rows[0])


def follow_outlet(db: Database, chat_id: int, source: str, now: datetime) -> bool:
    """Follow every story an outlet's reports are in. Returns whether the chat did not follow it already."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO outlet_follows (chat_id, source, created_at) VALUES (?, ?, ?)",
        [chat_id, source, to_text(now)],
    )
    return bool(cursor.rowcount)


def unfollow_outlet(db: Database, chat_id: int, source: str) -> bool:
    cursor = db.execute("DELETE FROM outlet_follows WHERE chat_id = ? AND source = ?", [chat_id, source])
    return bool(cursor.rowcount)


def followed_outlets(db: Database, chat_id: int) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT source FROM outlet_follows WHERE chat_id = ? ORDER BY id", [chat_id])]


def has_outlet_follows(db: Database) -> bool:
    return db.execute("SELECT 1 FROM outlet_follows LIMIT 1").fetchone() is not None


def follow_story_for_outlet(db: Database, story_id: int, source: str, now: datetime) -> int:
    """The chats that follow `source` follow the story it reported in, unless they muted it. Returns how many
    started to."""
    cursor = db.execute(
        """INSERT OR IGNORE INTO subscriptions (chat_id, kind, story_id, created_at)
           SELECT o.chat_id, 'story', ?, ? FROM outlet_follows o
           WHERE o.source = ? AND NOT EXISTS (SELECT 1 FROM subscriptions m WHERE m.chat_id = o.chat_id
                                             AND m.kind = 'mute' AND m.story_id = ?)""",
        [story_id, to_text(now), source, story_id],
    )
    return cursor.rowcount
