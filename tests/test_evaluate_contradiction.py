"""The item-level contradiction metric of design.md, on a small example worked out by hand."""

from __future__ import annotations

import pytest

from bot.monitor.evaluate import contradiction_scores


def rec(item_id: str, story: str, stance: str | None) -> dict[str, object]:
    return {"id": item_id, "story": story, "stance": stance}


# Story A: a3 contradicts a1, a4 contradicts a3. a2 (observing) is never scored.
# Story B: b2 is not scored (only an observing item before it), but b3 and b4 are true contradictions.
# Story C: c1 and c2 only agree with each other: scored, not contradictions.
ITEMS = [
    rec("a1", "A", "for"),
    rec("b1", "B", "observing"),
    rec("a2", "A", "observing"),
    rec("b2", "B", "against"),
    rec("c1", "C", "against"),
    rec("a3", "A", "against"),
    rec("b3", "B", "for"),
    rec("c2", "C", "against"),
    rec("a4", "A", "for"),
    rec("b4", "B", "against"),
    rec("x1", "X", None),
]


def test_hand_computed_example() -> None:
    # Scored: a1 c1 c2 (negatives), a3 a4 b3 b4 (positives). Flagged among them: a3, b3 (true), c2 (false);
    # a2, b2 and x1 are flagged but unscored. P = 2/3, R = 2/4, F1 = 2PR/(P+R) = 4/7.
    p, r, f1 = contradiction_scores(ITEMS, {"a3", "b3", "c2", "a2", "b2", "x1"})
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(1 / 2)
    assert f1 == pytest.approx(4 / 7)


def test_perfect_and_empty_flags() -> None:
    assert contradiction_scores(ITEMS, {"a3", "a4", "b3", "b4"}) == pytest.approx((1.0, 1.0, 1.0))
    p, r, f1 = contradiction_scores(ITEMS, set())
    assert (p, r, f1) == (1.0, 0.0, 0.0)


def test_order_decides_what_is_earlier() -> None:
    # Replayed the other way round, a4 comes first (a negative), then a3 contradicts it and a1 contradicts a3.
    reordered = [rec("a4", "A", "for"), rec("a3", "A", "against"), rec("a1", "A", "for")]
    assert contradiction_scores(reordered, {"a3", "a1"}) == pytest.approx((1.0, 1.0, 1.0))
    assert contradiction_scores(reordered, {"a4"}) == pytest.approx((0.0, 0.0, 0.0))


def test_nothing_to_score() -> None:
    assert contradiction_scores([], set()) == (1.0, 1.0, 1.0)
    assert contradiction_scores([rec("o", "A", "observing")], {"o"}) == (1.0, 1.0, 1.0)
