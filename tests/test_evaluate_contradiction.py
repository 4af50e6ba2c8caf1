"""The item-level contradiction metric of design.md, on a small example worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import evaluate
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


def test_an_against_item_after_only_observing_ones_is_not_scored_whatever_else_is_unlabelled() -> None:
    # design.md: not scored when its only earlier stanced items are `observing`; unlabelled items are no stance.
    items = [rec("o1", "S", "observing"), rec("u1", "S", None), rec("a1", "S", "against")]
    assert contradiction_scores(items, {"a1"}) == (1.0, 1.0, 1.0)


def test_a_neutral_item_is_a_stanced_earlier_item() -> None:
    # After a `neutral` and an `observing` item, the earlier stanced items are not only `observing`: an
    # `against` item is scored, and flagging it is a false alarm.
    items = [rec("n1", "S", "neutral"), rec("o1", "S", "observing"), rec("a1", "S", "against")]
    assert contradiction_scores(items, {"a1"}) == (0.0, 1.0, 0.0)


def test_eval_counts_an_earlier_report_the_pipeline_stored_as_a_duplicate(tmp_path: Path) -> None:
    # o1 carries the article of x1 (one link): the pipeline stores it once, yet o1 is still an earlier,
    # `observing` report of story S, so a1 (`against`) is not scored, though the pipeline flags it against x1.
    lines = [
        ("x1", "X", "for", "Iran begins evacuating military personnel from Syria", "https://a.example/evac", 10),
        ("o1", "S", "observing", "Reports: Iran evacuating personnel from Syria", "https://a.example/evac", 11),
        ("a1", "S", "against", "Iran denies evacuating military personnel from Syria", "https://b.example/deny", 12),
    ]
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(
        json.dumps({"id": item_id, "story": story, "stance": stance, "title": title, "link": link,
                    "source": f"outlet-{item_id}", "published": f"2024-12-06T{hour}:00:00Z"}) + "\n"
        for item_id, story, stance, title, link, hour in lines
    ))
    report = evaluate(path)
    assert report.flagged == 1  # a1, against x1
    assert report.contradiction is not None
    assert (report.contradiction.precision, report.contradiction.recall) == (1.0, 1.0)
