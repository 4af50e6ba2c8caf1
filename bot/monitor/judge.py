"""The learned judge of a candidate contradiction: given an earlier and a later report of one story, and what the
rules proposed between them, the probability that the later one denies, negates or states the opposite of what
the earlier one asserted.

A logistic regression over sparse features of the pair (what the later report adds to the earlier one, its cues
and where they point, hedging, overlap), trained by `benchmarks/train_judge.py` on several sources of labelled
stance data and shipped as `judge_weights.json` beside this module. Inference is a sum of a few dozen weights and
a sigmoid in plain Python: no library, nothing downloaded, a few microseconds per pair.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.monitor.contradiction import TextAnalysis

WEIGHTS_FILE = "judge_weights.json"


@lru_cache(maxsize=1)
def _attribution_words() -> frozenset[str]:
    from bot.monitor.contradiction.lexicon import _SPEAKERS, _SPEECH_VERBS  # the package imports this module

    return _SPEAKERS | _SPEECH_VERBS | frozenset({"familiar", "matter", "according"})


def _bucket(value: float, steps: int = 4) -> int:
    return min(steps, int(value * steps))


def pair_features(old: TextAnalysis, new: TextAnalysis, kind: str, same_source: bool = False) -> list[str]:
    """The features of (earlier `old`, later `new`) for the judge; `kind` is what the rules proposed ("none" when
    nothing). Lexical features are the words and word pairs the later report adds and the words it drops, so the
    model weighs the language of the difference, not the story's topic, which both reports share."""
    # Who says it is no part of what is said: attribution ("people familiar with the matter say", "officials
    # say") is an assertion all the same, weighed once by the `attributed` features, not word by word.
    attribution = _attribution_words()
    old_tokens = [t for t in old.tokens if t not in attribution]
    new_tokens = [t for t in new.tokens if t not in attribution]
    old_set, new_set = set(old_tokens), set(new_tokens)
    features = [f"kind={kind}"]
    shared = old.keys & new.keys
    union = old.keys | new.keys
    features.append(f"shared={min(len(shared), 6)}")
    features.append(f"jaccard={_bucket(len(shared) / len(union)) if union else 0}")
    added = [t for t in dict.fromkeys(new_tokens) if t not in old_set]
    features += [f"+{t}" for t in added]
    features += [f"-{t}" for t in dict.fromkeys(old_tokens) if t not in new_set]
    features += [
        f"+{a}_{b}" for a, b in itertools.pairwise(new_tokens) if a not in old_set or b not in old_set
    ]
    if new_tokens:
        features.append(f"first={new_tokens[0]}")
    for side, text, other in (("n", new, old), ("o", old, new)):
        if text.hedged:
            features.append(f"{side}:hedged")
        if text.question:
            features.append(f"{side}:question")
        if text.attributed:
            features.append(f"{side}:attributed")
        for claim in text.claims[:2]:
            words = claim.cue.split()
            met = claim.targets & other.asserted
            features += [
                f"{side}c:{claim.kind}",
                f"{side}c:cue={words[0]}",
                f"{side}c:{claim.kind}:strength={_bucket(claim.strength, 5)}",
                f"{side}c:{claim.kind}:met={_bucket(len(met) / len(claim.targets)) if claim.targets else 0}",
            ]
            if claim.head is None:
                features.append(f"{side}c:{claim.kind}:headless")
            else:
                features.append(f"{side}c:{claim.kind}:head_met={claim.head in other.keys}")
            if claim.predicate:
                features.append(f"{side}c:predicate")
            if claim.subject:
                features.append(f"{side}c:subject_met={bool(claim.subject & other.keys)}")
    if new.claims and old.claims:
        features.append("both_deny")
    if same_source:
        features.append("same_source")
    features.append(f"kind={kind}:shared={min(len(shared), 4)}")
    return features


class Judge:
    """A logistic regression over `pair_features`."""

    def __init__(self, weights: Mapping[str, float], bias: float) -> None:
        self.weights = dict(weights)
        self.bias = bias

    def probability(self, features: list[str]) -> float:
        get = self.weights.get
        z = self.bias + sum(get(f, 0.0) for f in set(features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def judge(self, old: TextAnalysis, new: TextAnalysis, kind: str, same_source: bool = False) -> float:
        return self.probability(pair_features(old, new, kind, same_source))

    def to_json(self) -> dict:
        return {"bias": self.bias, "weights": dict(sorted(self.weights.items()))}


@lru_cache(maxsize=1)
def shipped_judge() -> Judge:
    """The judge whose weights ship in the package."""
    data = json.loads(resources.files("bot.monitor").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8"))
    return Judge(data["weights"], data["bias"])
