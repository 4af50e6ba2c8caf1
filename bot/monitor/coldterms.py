"""How many stories have held each term that no open story holds any more, in about 12 bytes a term.

The clusterer's rarity statistics count every story ever seen: a term's frequency is needed again whenever
a report uses it, even years later. Kept as a dict of strings, the terms of closed stories were most of a
long-running bot's memory, growing with all of history (about five terms a report, mostly phrases, at some
110 bytes each). Here a term is its 64-bit BLAKE2b digest, and the counts sit in sorted arrays: a small dict
takes the newest counts, and is merged into levels of sorted arrays as it fills, as in a log-structured merge
tree, so that each count is rewritten only a logarithmic number of times. A later count of a term replaces an
earlier one.

Two terms would be confused only if their digests were equal: with millions of terms, a chance in 10^12 per
look-up.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left

# Counts held in the dict before they go into a sorted level.
RECENT_TERMS = 1 << 16


def term_digest(term: str) -> int:
    """The term's 64-bit digest: the same in every process (Python's own `hash` of a string is not)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


class ColdTerms:
    """term -> count, for terms set once and read now and then; see the module doc."""

    __slots__ = ("_levels", "_recent", "recent_limit")

    def __init__(self, recent_limit: int = RECENT_TERMS) -> None:
        self.recent_limit = recent_limit
        self._recent: dict[int, int] = {}
        # Sorted digests and their counts, oldest level first; a digest in a newer level overrides older ones.
        self._levels: list[tuple[array, array]] = []

    def __len__(self) -> int:
        """Entries held, a term counted once per level it is in (what the memory holds)."""
        return len(self._recent) + sum(len(keys) for keys, _ in self._levels)

    def get(self, term: str, default: int = 0) -> int:
        digest = term_digest(term)
        value = self._recent.get(digest)
        if value is not None:
            return value
        for keys, counts in reversed(self._levels):
            at = bisect_left(keys, digest)
            if at < len(keys) and keys[at] == digest:
                return counts[at]
        return default

    def put(self, term: str, count: int) -> None:
        self._recent[term_digest(term)] = count
        if len(self._recent) >= self.recent_limit:
            self._flush()

    def as_dict(self) -> dict[int, int]:
        """digest -> count of every term held (for tests and checks: it builds a dict of them all)."""
        merged: dict[int, int] = {}
        for keys, counts in self._levels:
            merged.update(zip(keys, counts, strict=True))
        merged.update(self._recent)
        return merged

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColdTerms) and self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]

    def _flush(self) -> None:
        ordered = sorted(self._recent.items())
        self._levels.append((array("Q", [k for k, _ in ordered]), array("I", [c for _, c in ordered])))
        self._recent = {}
        # Merge while the newest level is at least half the size of the one before: each count is copied
        # into a larger level only a logarithmic number of times.
        levels = self._levels
        while len(levels) >= 2 and 2 * len(levels[-1][0]) >= len(levels[-2][0]):
            newer = levels.pop()
            levels[-1] = _merge(levels[-1], newer)


def _merge(older: tuple[array, array], newer: tuple[array, array]) -> tuple[array, array]:
    """One sorted level of both, the newer count kept where both have a digest."""
    old_keys, old_counts = older
    new_keys, new_counts = newer
    keys, counts = array("Q"), array("I")
    i = j = 0
    n, m = len(old_keys), len(new_keys)
    while i < n and j < m:
        a, b = old_keys[i], new_keys[j]
        if a < b:
            keys.append(a)
            counts.append(old_counts[i])
            i += 1
        else:
            keys.append(b)
            counts.append(new_counts[j])
            j += 1
            if a == b:
                i += 1
    keys.extend(old_keys[i:])
    counts.extend(old_counts[i:])
    keys.extend(new_keys[j:])
    counts.extend(new_counts[j:])
    return keys, counts
