"""The clusterer's saved memory (`clusterer_snapshot`): one row, stamped with the memberships it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_text


@dataclass(frozen=True)
class Snapshot:
    version: str
    covers_item_id: int
    memberships: int
    state: bytes


def membership_stamp(db: Database) -> tuple[int, int]:
    """(largest item id in a story, number of memberships): what a snapshot taken now covers."""
    row = db.execute("SELECT coalesce(max(item_id), 0), count(*) FROM story_items").fetchone()
    return row[0], row[1]


def memberships_covered(db: Database, covers_item_id: int) -> int:
    """How many memberships the database holds of items up to `covers_item_id`."""
    return db.execute("SELECT count(*) FROM story_items WHERE item_id <= ?", [covers_item_id]).fetchone()[0]


def save_snapshot(db: Database, version: str, covers_item_id: int, memberships: int, state: bytes,
                  now: datetime) -> None:
    with db.atomic():
        db.execute(
            """INSERT OR REPLACE INTO clusterer_snapshot (id, version, covers_item_id, memberships, created_at, state)
               VALUES (1, ?, ?, ?, ?, ?)""",
            [version, covers_item_id, memberships, to_text(now), state],
        )


def load_snapshot(db: Database) -> Snapshot | None:
    row = db.execute("SELECT version, covers_item_id, memberships, state FROM clusterer_snapshot").fetchone()
    return None if row is None else Snapshot(*row)


def drop_snapshot(db: Database) -> None:
    db.execute("DELETE FROM clusterer_snapshot")
