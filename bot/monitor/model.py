"""Plain data passed between the pipeline stages. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    """One normalised report, as parsed from a feed or a JSON Lines file, before it is stored.

    `published` is timezone-aware UTC. `key` is the deduplication key (see `bot.monitor.normalize`).
    """

    key: str
    title: str
    link: str | None
    summary: str
    source: str
    published: datetime
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the database holds it: an `Item` plus its row id."""

    id: int
    title: str
    link: str | None
    summary: str
    source: str
    published: datetime
