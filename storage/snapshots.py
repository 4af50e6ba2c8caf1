"""The clusterer's saved memory (`clusterer_snapshot`): one row, stamped with the memberships it covers."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlite_utils import Database

from storage.db import to_text


@dataclass(frozen=True)
class Snapshot:
    version: str
    covers_item_id: int
    memberships: int


def membership_stamp(db: Database) -> tuple[int, int]:
    """(largest item id in a story, number of memberships): what a snapshot taken now covers."""
    row = db.execute("SELECT coalesce(max(item_id), 0), count(*) FROM story_items").fetchone()
    return row[0], row[1]


def memberships_covered(db: Database, covers_item_id: int) -> int:
    """How many memberships the database holds of items up to `covers_item_id`."""
    return db.execute("SELECT count(*) FROM story_items WHERE item_id <= ?", [covers_item_id]).fetchone()[0]


def save_snapshot(db: Database, version: str, covers_item_id: int, memberships: int, state: BinaryIO,
                  now: datetime) -> None:
    """Save the state read from `state` (a file positioned at its start), a piece at a time (SQLite's
    incremental blob I/O): holding the state's bytes at once added their size, hundreds of megabytes for a
    clusterer of a month of news, to the peak memory of the bot every time it saved one."""
    size = state.seek(0, io.SEEK_END)
    state.seek(0)
    with db.atomic():
        db.execute(
            """INSERT OR REPLACE INTO clusterer_snapshot (id, version, covers_item_id, memberships, created_at, state)
               VALUES (1, ?, ?, ?, ?, zeroblob(?))""",
            [version, covers_item_id, memberships, to_text(now), size],
        )
        with db.conn.blobopen("clusterer_snapshot", "state", 1, readonly=False) as blob:
            while chunk := state.read(1 << 20):
                blob.write(chunk)


def load_snapshot(db: Database) -> Snapshot | None:
    """The snapshot's stamp; its state is read with `snapshot_state`."""
    row = db.execute("SELECT version, covers_item_id, memberships FROM clusterer_snapshot").fetchone()
    return None if row is None else Snapshot(*row)


@contextlib.contextmanager
def snapshot_state(db: Database) -> Iterator[BinaryIO]:
    """The snapshot's state as a stream read from the database a piece at a time (SQLite's incremental blob
    I/O): the restored memory, not the tens of megabytes of its bytes as well, is what the process holds."""
    with db.conn.blobopen("clusterer_snapshot", "state", 1, readonly=True) as blob:
        yield io.BufferedReader(_BlobReader(blob), 1 << 16)  # type: ignore[arg-type]


class _BlobReader(io.RawIOBase):
    def __init__(self, blob: object) -> None:
        self._blob = blob

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._blob.read(len(buffer))  # type: ignore[attr-defined]
        buffer[: len(data)] = data
        return len(data)


def drop_snapshot(db: Database) -> None:
    db.execute("DELETE FROM clusterer_snapshot")
