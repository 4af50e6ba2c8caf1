"""Plain data passed between the pipeline stages. No I/O here."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def pickled_as_arguments(cls: type[T]) -> type[T]:
    """Pickle instances of a frozen, slotted dataclass as the arguments of its constructor.

    For such classes `dataclasses` pickles a state that it sets back field by field in Python, after listing
    the fields anew for every object: a parsing worker's items and their analyses, five such objects per
    item, took the pipeline's process more time to unpickle than the worker took to pickle them. Calling the
    constructor costs half as much. Every field must be a positional argument of `__init__`.
    """
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    values = operator.attrgetter(*names)
    single = len(names) == 1

    def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, (values(self),) if single else values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Item:
    """One normalised report, as parsed from a feed or a JSON Lines file, before it is stored.

    `published` is timezone-aware UTC. `key` is the deduplication key and `guid_scope` where its GUID was
    given (see `bot.monitor.normalize.guid_scope`).
    """

    key: str
    title: str
    link: str | None
    summary: str
    source: str
    published: datetime
    guid: str | None = None
    guid_scope: str | None = None


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the database holds it: an `Item` plus its row id. `guid` is the source's own identity of it
    (the feed's GUID or Atom id, a JSON Lines line's `id`), so that output can be joined back to the input."""

    id: int
    title: str
    link: str | None
    summary: str
    source: str
    published: datetime
    guid: str | None = None


def skipped_note(reasons: Mapping[str, int]) -> str:
    """How many entries gave no item and why, as every report of it words it: "0 skipped",
    "3 skipped: no title", "7 skipped: 2 no title, 5 over the 1,000-entry limit"."""
    total = sum(reasons.values())
    if not total:
        return "0 skipped"
    counted = [(reason, count) for reason, count in reasons.items() if count]
    if len(counted) == 1:
        return f"{total:,} skipped: {counted[0][0]}"
    return f"{total:,} skipped: " + ", ".join(f"{count:,} {reason}" for reason, count in counted)
