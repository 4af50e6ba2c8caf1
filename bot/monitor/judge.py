"""The learned judge of a candidate contradiction: given an earlier and a later report of one story, and what the
rules proposed between them, the probability that the later one denies, negates or states the opposite of what
the earlier one asserted.

A logistic regression over sparse features of the pair (the event keys and key pairs the later report adds to
the earlier one, its cues and where they point, hedging, overlap; never the story's own words the later report
leaves out), trained by `benchmarks/train_judge.py` on several sources of labelled stance data and shipped as
`judge_weights.json` beside this module. Inference is a sum of a few dozen weights and a sigmoid in plain Python:
no library, nothing downloaded, a few microseconds per pair.
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
    nothing). Lexical features are only what the later report adds, by event key (`lexicon.event_key`): `+key`
    for each key of its words that the earlier report lacks, `+a_b` for each pair of neighbouring keys of which
    one is new. So the model weighs the language of the difference, not the story's topic, which both share.

    By key, not by word: "Porto deny signing X" after "Porto sign X" adds a denial, not the word "signing", and
    "deny" weighs as "denies" does. Nothing is keyed on what the later report leaves out or on its first word:
    those are mostly the story's own words (a name, a place), whose weights learnt which training stories were
    contradicted, and on a new story pulled a plain denial up or down by its topic (`-london` and `first=banksy`
    sank "Banksy has not been arrested" after "Graffiti artist Banksy arrested in London"). A denial now scores
    the same whatever else the earlier report says of where or who, beyond how much the two share."""
    from bot.monitor.contradiction.lexicon import event_key  # the package imports this module

    # Who says it is no part of what is said: attribution ("people familiar with the matter say", "officials
    # say") is an assertion all the same, weighed once by the `attributed` features, not word by word.
    attribution = _attribution_words()
    old_words = {event_key(t) for t in old.tokens if t not in attribution}
    new_words = [event_key(t) for t in new.tokens if t not in attribution]
    features = [f"kind={kind}"]
    shared = old.keys & new.keys
    union = old.keys | new.keys
    features.append(f"shared={min(len(shared), 6)}")
    features.append(f"jaccard={_bucket(len(shared) / len(union)) if union else 0}")
    features += [f"+{k}" for k in dict.fromkeys(new_words) if k not in old_words]
    features += [f"+{a}_{b}" for a, b in itertools.pairwise(new_words) if a not in old_words or b not in old_words]
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
                f"{side}c:cue={event_key(words[0])}",
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
