"""Scoring of the pipeline against labelled data sets. Pure functions, no I/O.

Clustering metrics follow the protocol of Miranda et al. (EMNLP 2018): pairwise precision/recall/F1 over
item pairs, and BCubed precision/recall/F1. Both are computed from the contingency table of (gold, predicted)
label pairs, so they cost O(n) rather than O(n^2) pairs.

`gold` and `predicted` are parallel sequences: position i holds the gold story label and the predicted story
label of item i. Labels only need to be hashable; their values are never compared across the two sequences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Mapping, Sequence

Scores = tuple[float, float, float]


def _f1(precision: float, recall: float) -> float:
    if precision + recall == 0.0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def _contingency(
    gold: Sequence[Hashable], predicted: Sequence[Hashable]
) -> tuple[Counter[tuple[Hashable, Hashable]], Counter[Hashable], Counter[Hashable]]:
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} labels but predicted has {len(predicted)}")
    joint: Counter[tuple[Hashable, Hashable]] = Counter(zip(gold, predicted, strict=True))
    return joint, Counter(gold), Counter(predicted)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Scores:
    """Precision, recall and F1 over unordered item pairs placed in the same story.

    A ratio with no pairs in its denominator is 1.0: with no predicted pairs no pair can be wrongly merged
    (precision 1.0), with no gold pairs none can be missed (recall 1.0). An empty input scores (1.0, 1.0, 1.0).
    """
    joint, gold_sizes, predicted_sizes = _contingency(gold, predicted)
    together = sum(_pairs(n) for n in joint.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    gold_pairs = sum(_pairs(n) for n in gold_sizes.values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    return precision, recall, _f1(precision, recall)


def bcubed_scores(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> Scores:
    """BCubed precision, recall and F1 (Bagga & Baldwin 1998; Amigó et al. 2009).

    Per item: precision is the share of its predicted story that shares its gold story, recall the share of
    its gold story that shares its predicted story; both are averaged over items. Each item counts itself,
    so singletons score 1.0. An empty input scores (1.0, 1.0, 1.0).
    """
    joint, gold_sizes, predicted_sizes = _contingency(gold, predicted)
    n = len(gold)
    if n == 0:
        return 1.0, 1.0, 1.0
    # Every one of the n_ij items in cell (i, j) has the same per-item ratio n_ij / size, hence n_ij^2.
    precision = sum(c * c / predicted_sizes[p] for (_, p), c in joint.items()) / n
    recall = sum(c * c / gold_sizes[g] for (g, _), c in joint.items()) / n
    return precision, recall, _f1(precision, recall)


_OPPOSITE_STANCE = {"for": "against", "against": "for"}


def contradiction_scores(
    items_in_order: Sequence[Mapping[str, object]], flagged_ids: Collection[Hashable]
) -> Scores:
    """Item-level precision, recall and F1 of contradiction flags (design.md, "Metrics").

    `items_in_order` are labelled records (keys `id`, `story`, `stance`) in the order they were replayed;
    `flagged_ids` are the ids reported as the `later` side of some contradiction. An item is a true
    contradiction when its stance (for/against) is opposite to that of an earlier item of its gold story.
    `observing` and unlabelled items are not scored (`neutral` ones are: they must not be flagged),
    nor is an `against` item whose only earlier stanced items (items with any stance label, `neutral` too)
    are `observing` (it has nothing asserted to contradict). A ratio with an empty denominator is 1.0.
    Every labelled item of the data set must be in `items_in_order`, stored by the pipeline or not: each is an
    earlier report of its story for the items after it.
    """
    flagged = set(flagged_ids)
    seen: dict[object, set[object]] = {}
    true_positive = flagged_scored = positives = 0
    for item in items_in_order:
        stance = item.get("stance")
        earlier = seen.setdefault(item.get("story"), set())
        opposite = _OPPOSITE_STANCE.get(stance) if isinstance(stance, str) else None
        # `neutral` items are scored too: flagging one is a false alarm.
        scored = (opposite is not None or stance == "neutral") and not (
            stance == "against" and earlier == {"observing"}
        )
        if scored:
            positive = opposite is not None and opposite in earlier
            is_flagged = item.get("id") in flagged
            positives += positive
            flagged_scored += is_flagged
            true_positive += positive and is_flagged
        if stance is not None:
            earlier.add(stance)
    precision = true_positive / flagged_scored if flagged_scored else 1.0
    recall = true_positive / positives if positives else 1.0
    return precision, recall, _f1(precision, recall)
