"""The detector's settings and what it reports. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol


class ItemText(Protocol):
    """What the detector reads of an item; `bot.monitor.model.StoredItem` satisfies it."""

    @property
    def id(self) -> int | str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def published(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class ContradictionSettings:
    """Thresholds of the detector. The defaults were chosen on the choose halves of emergent-dev and uci-sample."""

    # With the judge, contradictions whose probability is below this are not reported: 0.8 keeps real news to a
    # handful of flags a day (uci-sample), at some recall on rumour debunking (emergent-dev).
    min_score: float = 0.8
    # Without the judge ("--detector rules"), the rules' strengths are the scores and this is their floor.
    rules_min_score: float = 0.5
    # A denial without a single head event ("X is a hoax") must share this many words with the earlier item...
    min_shared: int = 2
    # ...and this share of the smaller of the two word sets.
    min_overlap: float = 0.2
    # A later report asserting, unhedged, what an earlier report of its story called a hoax needs fewer shared
    # words: the clusterer already put both in one story, and the hoax call covered the whole report.
    reversal_min_shared: int = 1
    # Shared words that are all names (in a sentence-case title) say "same people", not "same event", unless there
    # are this many of them: two full names and a place are a restatement.
    names_only_min_shared: int = 4
    # A later report that does not name the denied event asserts it all the same when it restates at least this
    # share of the denial's words (and two of them, not names).
    restated_share: float = 0.5
    # A later report restates an earlier one when they share this many words, and this share of the shorter's;
    # restating a report that a denial contradicted reverses the denial, scored by this factor (times that
    # contradiction's score: 0.9 lets a restatement after a confident denial reach `min_score`; 0.8 let none).
    restate_min: int = 3
    restate_overlap: float = 0.5
    restated_factor: float = 0.9
    # A denial this strong (a denial verb, a debunk of a report, not a question) names a claim in circulation by
    # itself: a later report asserting the denied event reverses it even when the story held no report of it.
    explicit_denial: float = 0.85
    # A denial validates (may then be reversed by a later report, and carried by restatements) only when its own
    # contradiction of a report of the story scored at least this. A doubt recorded as possibly disputed
    # (`tentative_max`) validates too, but what reverses it is possibly disputed as well, never confident.
    validated_min: float = 0.75
    # A report that only asks or doubts (a question, or no cue stronger than this) contradicts at most with this
    # score: "possibly disputed", never confident. With the judge, one aimed at a claim ("questions whether X") that
    # the judge gives `min_score` is recorded with this score; others are not recorded.
    tentative_strength: float = 0.7
    tentative_max: float = 0.75
    # With the judge: a later report, telling and not asking, that negates or denies the very verb event an earlier
    # report asserted of the same subject ("Okafor has not resigned" after "Okafor resigns", "denies it is
    # evacuating" after "begins evacuating") scores at least this, whatever the judge's word features say. The judge
    # learnt negations mostly from real-news false alarms (idioms, "no banks"), and gave the plainest negation of
    # an event 0.45. Not a noun after "no" ("has no control"), which names a thing, not an event.
    negated_event_score: float = 0.8
    # Two figures for the same thing conflict when one is at least this many times the other.
    figure_ratio: float = 1.5
    # Score factor when the earlier item only reported the event with hedging ("reportedly").
    hedged_factor: float = 0.8
    # Opposite states and figures from the same outlet are its own updates, not contradictions.
    same_source_updates: bool = True
    # Whether the learned judge (`bot.monitor.judge`) scores what the rules propose; without it the rules' own
    # strengths are the scores.
    judge: bool = True
    # With the judge: a proposal of the rules scoring at least this is judged, and reported when the judge's
    # probability is at least `min_score`.
    propose_min: float = 0.5
    # Report each kind once, against the best-scoring earlier item (one alert, not one per earlier report);
    # False reports every contradicted earlier item.
    best_per_kind: bool = True
    # ...where an earlier item scoring within this of the best counts as a tie, won by the earliest: the claim's
    # first report, not whichever restatement the judge happened to score a hair higher.
    tie_margin: float = 0.05


DEFAULT_SETTINGS = ContradictionSettings()


# What the judge scores: the language of denial, which it learnt from several sources. Opposite states and
# conflicting figures are structured comparisons of the same thing, which the rules check themselves; they keep
# the rules' strengths.
JUDGED_KINDS = frozenset({"denial", "negation", "reversal"})


# The detectors `storywatch eval --detector NAME` compares on one replay.
DETECTORS = ("rules+judge", "rules")


def detector_settings(name: str, base: ContradictionSettings = DEFAULT_SETTINGS) -> ContradictionSettings:
    """The settings of detector `name` (one of `DETECTORS`), the rest as in `base`."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}: choose one of {', '.join(DETECTORS)}")
    return replace(base, judge=name == "rules+judge")


def score_floor(settings: ContradictionSettings, kind: str = "denial") -> float:
    """The lowest score a contradiction of `kind` is reported with under `settings`: the judge's probability for
    the kinds it judges, the rules' strength for the others."""
    return settings.min_score if settings.judge and kind in JUDGED_KINDS else settings.rules_min_score


@dataclass(frozen=True, slots=True)
class Contradiction:
    """`later` (the new item) contradicts `earlier`; `evidence` names the event and the conflicting words."""

    kind: str
    earlier: ItemText
    later: ItemText
    evidence: str
    score: float
