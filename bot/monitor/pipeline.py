"""What happens to new items, whether polled or ingested from files: one path, one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.model import Item, StoredItem
from storage import items as item_store

PROGRESS_STEP = 500


@dataclass(frozen=True)
class IngestReport:
    received: int
    new_items: list[StoredItem]

    @property
    def duplicates(self) -> int:
        return self.received - len(self.new_items)


def ingest_items(
    db: Database,
    items: Sequence[Item],
    *,
    now: datetime,
    feed_id: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> IngestReport:
    """Store new items in published-time order, all or nothing. `progress(n)` hears of every n items done.

    Blocking: from asyncio, call it through `AsyncDatabase.run`.
    """
    ordered = sorted(items, key=lambda item: item.published)
    new: list[StoredItem] = []
    with db.atomic():
        for start in range(0, len(ordered), PROGRESS_STEP):
            batch = ordered[start : start + PROGRESS_STEP]
            new.extend(item_store.store_items(db, batch, now=now, feed_id=feed_id))
            if progress is not None:
                progress(len(batch))
    return IngestReport(received=len(items), new_items=new)
