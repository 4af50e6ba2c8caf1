"""Clustering metrics on small examples computed by hand."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.monitor.evaluate import bcubed_scores, pairwise_scores

# Gold stories a (3 items) and b (2 items); the prediction splits one a-item off into b's story.
GOLD = ["a", "a", "a", "b", "b"]
PREDICTED = [1, 1, 2, 2, 2]


def test_pairwise_by_hand() -> None:
    # Gold pairs: 3 within a + 1 within b = 4. Predicted pairs: 1 within story 1 + 3 within story 2 = 4.
    # Correct pairs: (a1, a2) and (b1, b2) = 2. So P = R = F1 = 2/4.
    assert pairwise_scores(GOLD, PREDICTED) == pytest.approx((0.5, 0.5, 0.5))


def test_bcubed_by_hand() -> None:
    # Per item (precision, recall): a1, a2 (1, 2/3); a3 (1/3, 1/3); b1, b2 (2/3, 1).
    precision = (1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5
    recall = (2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5
    assert bcubed_scores(GOLD, PREDICTED) == pytest.approx((precision, recall, precision))
    assert precision == pytest.approx(11 / 15)


def test_asymmetric_example() -> None:
    gold = ["x", "x", "x", "x", "y"]
    predicted = ["p", "p", "q", "q", "q"]
    # Predicted pairs: 1 + 3 = 4, of which correct: (x1, x2) and (x3, x4) = 2. Gold pairs: 6 + 0 = 6.
    p, r, f = pairwise_scores(gold, predicted)
    assert (p, r) == pytest.approx((2 / 4, 2 / 6))
    assert f == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    # BCubed precision: x1, x2: 2/2; x3, x4: 2/3; y: 1/3. Recall: x1..x4: 2/4; y: 1/1.
    bp, br, _ = bcubed_scores(gold, predicted)
    assert bp == pytest.approx((1 + 1 + 2 / 3 + 2 / 3 + 1 / 3) / 5)
    assert br == pytest.approx((0.5 * 4 + 1) / 5)


def test_perfect_and_label_names_do_not_matter() -> None:
    gold = ["s1", "s1", "s2", "s3", "s3", "s3"]
    renamed = [7, 7, 3, 9, 9, 9]
    assert pairwise_scores(gold, renamed) == pytest.approx((1.0, 1.0, 1.0))
    assert bcubed_scores(gold, renamed) == pytest.approx((1.0, 1.0, 1.0))


def test_all_singletons_and_all_merged() -> None:
    gold = ["a", "a", "b", "b"]
    singletons = [1, 2, 3, 4]
    # No predicted pair: nothing is wrongly merged (precision 1) and nothing is found (recall 0).
    assert pairwise_scores(gold, singletons) == pytest.approx((1.0, 0.0, 0.0))
    assert bcubed_scores(gold, singletons) == pytest.approx((1.0, 0.5, 2 / 3))
    merged = [0, 0, 0, 0]
    assert pairwise_scores(gold, merged) == pytest.approx((2 / 6, 1.0, 0.5))
    assert bcubed_scores(gold, merged) == pytest.approx((0.5, 1.0, 2 / 3))


def test_matches_brute_force_pairs() -> None:
    rnd = random.Random(7)
    gold = [rnd.randrange(6) for _ in range(60)]
    predicted = [rnd.randrange(8) for _ in range(60)]
    pairs = list(itertools.combinations(range(60), 2))
    same_gold = {(i, j) for i, j in pairs if gold[i] == gold[j]}
    same_pred = {(i, j) for i, j in pairs if predicted[i] == predicted[j]}
    p, r, _ = pairwise_scores(gold, predicted)
    assert p == pytest.approx(len(same_gold & same_pred) / len(same_pred))
    assert r == pytest.approx(len(same_gold & same_pred) / len(same_gold))
    bp, br, _ = bcubed_scores(gold, predicted)
    brute_p = (
        sum(
            sum(1 for j in range(60) if predicted[j] == predicted[i] and gold[j] == gold[i])
            / sum(1 for j in range(60) if predicted[j] == predicted[i])
            for i in range(60)
        )
        / 60
    )
    brute_r = (
        sum(
            sum(1 for j in range(60) if predicted[j] == predicted[i] and gold[j] == gold[i])
            / sum(1 for j in range(60) if gold[j] == gold[i])
            for i in range(60)
        )
        / 60
    )
    assert (bp, br) == pytest.approx((brute_p, brute_r))


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="labels"):
        pairwise_scores(["a", "b"], [1])
    with pytest.raises(ValueError, match="labels"):
        bcubed_scores(["a"], [1, 2])


def test_empty_input() -> None:
    assert pairwise_scores([], []) == (1.0, 1.0, 1.0)
    assert bcubed_scores([], []) == (1.0, 1.0, 1.0)
