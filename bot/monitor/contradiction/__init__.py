"""Contradiction detection between the items of one story. Pure functions: no database, no Telegram.

When a new item joins a story, `detect(new, earlier)` says whether it contradicts an earlier item of that
story, and how:

- ``denial``: the new item denies or refutes what an earlier item asserted ("Iran denies evacuating
  diplomats" after "Iran begins evacuating personnel"; "X is a hoax"; "reports of X are false").
- ``negation``: the new item negates the earlier item's event ("minister has not resigned" after
  "minister resigns").
- ``reversal``: the new item asserts what an earlier item denied ("Twitter begins layoffs" after
  "Twitter denies layoffs").
- ``opposite``: the two items report opposite states or outcomes (reopens / remains closed, released /
  still held, alive / dead, found / still missing, will attend / will skip, agree to merge / call off talks).
- ``figures``: the two items give conflicting figures for the same thing ("three killed" / "no one was
  killed"; "10,000 jobs" / "2,000 jobs"). A rising toll ("climbs to", "at least") is a development.

Each item is analysed once (`analyze`, cached) into events with their polarity, hedging, states and
figures, so that comparing a new item against N earlier ones costs N set intersections.

A denial only counts when it targets an event the earlier item asserted: the denied word ("evacuating")
must meet the earlier item's word for the same event ("evacuating", "evacuation") after stemming, which is
what keeps "Tehran denies any role in the offensive" from contradicting an evacuation story. The event of a
denial is its verb, not the first noun: "No, state TV didn't blur her face" denies a blurring, so it does not
contradict a report about her hair; "Kurds deny she was in Kobane" denies a place, not the capture; "denies
ISIS claims that they beheaded her" denies the beheading. A negated predicate ("Managua blast not a
meteorite", "X isn't Y's father") must be said of the same subject; "X isn't real" denies X itself.

Cues, besides denial verbs and debunk words: question headlines answered with a dismissal ("X? Good one"),
"setting the record straight", "fell for a hoax", "made it all up", "staged the video", "if only X",
"people actually believed X", "despite reports of X", "no evidence of X", "X never happened", "don't believe
the X rumours". Not cues: purpose clauses ("so he won't turn into a werewolf"), instructions and conditions,
the reader addressed ("you won't believe"), idioms ("no wonder", "not the first"), "refuses to confirm or
deny", "real or hoax?", "insists it was not a hoax" (which affirms).

A restatement carries a contradiction: a report restating one that a denial of the story contradicted
reverses that denial, and a denial restating an earlier denial contradicts what that one contradicted, even
in other words than the denial's ("to ban gender-mixing seating" restates "plans gender segregation on
flights", which "denies plan to separate men and women" denied).

Titles carry the stance; summaries are used only to widen what an earlier item asserted, never for cues,
because a summary of a confirmation often quotes the denial and the other way round. An item that only
hedges ("reportedly", "feared", "may", a question) asserts nothing; an attributed claim ("..., officials say",
"report says", "sources told") is asserted, as news asserts; an item saying what its subject claims ("priest
claims he saw God") reports that claim as the story.

A contradiction is between a claim and a later report about the same subject that targets its predicate. A
confirmation after a denial counts only when that denial was itself a confident contradiction of a report of the
story, or an explicit refutation ("No, X did not Y", "X isn't real", a denial verb); a negation ("we don't need
X") is a claim of its own, not a denial to reverse. With `ContradictionSettings.judge`, the learned judge
(`bot.monitor.judge`) gives each pair the rules propose a probability, which is the contradiction's score.

The package, by job: `settings` (thresholds, what is reported), `lexicon` (word lists), `analysis` (one report),
`compare` (two reports), `story` (a story's reports and `detect`).
"""

from bot.monitor.contradiction.analysis import Analysis, Claim, Figure, State, TextAnalysis, analyze, analyze_text
from bot.monitor.contradiction.compare import proposals
from bot.monitor.contradiction.lexicon import event_key
from bot.monitor.contradiction.settings import (
    DEFAULT_SETTINGS,
    DETECTORS,
    JUDGED_KINDS,
    Contradiction,
    ContradictionSettings,
    ItemText,
    detector_settings,
)
from bot.monitor.contradiction.story import StoryReports, detect

__all__ = [
    "DEFAULT_SETTINGS",
    "DETECTORS",
    "JUDGED_KINDS",
    "Analysis",
    "Claim",
    "Contradiction",
    "ContradictionSettings",
    "Figure",
    "ItemText",
    "State",
    "StoryReports",
    "TextAnalysis",
    "analyze",
    "analyze_text",
    "detect",
    "detector_settings",
    "event_key",
    "proposals",
]
