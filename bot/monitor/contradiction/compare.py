"""Comparison of two analysed reports: whether a later one denies, negates, reverses or states the opposite of
what an earlier one asserted."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from bot.monitor.contradiction.analysis import Analysis, Claim, Figure, TextAnalysis, _Phrases, _verb_like, analyze_text
from bot.monitor.contradiction.lexicon import _STATES, event_key
from bot.monitor.contradiction.settings import DEFAULT_SETTINGS, ContradictionSettings


def _targets_met(
    claim: Claim,
    other: frozenset[str],
    settings: ContradictionSettings,
    names: frozenset[str] = frozenset(),
    min_shared: int | None = None,
    restated: bool = False,
) -> frozenset[str] | None:
    """The claim's event words the other item has, when they are enough to say it is the same event.

    A denial of a whole report ("X is a hoax") must share more than names with the other item: "Putin gives
    a speech" is not what "the video of a bird pooping on Vladimir Putin is a hoax" denies."""
    shared = claim.targets & other
    if claim.predicate:
        # Most of the predicate, said of the same subject: "Managua blast not a meteorite" against "meteorite
        # strikes Managua", not against "meteorite strikes Lima".
        # A short predicate must be met whole: "not the worst host" is not met by "host" alone.
        needed = len(claim.targets) if len(claim.targets) <= 2 else (len(claim.targets) + 1) // 2
        if (claim.subject and not claim.subject & other) or (len(shared) < needed and not shared & claim.events):
            return None
        if restated and len(shared - names) < min(2, len(claim.targets)):
            return None  # reasserting "X is not a Y" takes saying Y of X, not naming X
        return shared if shared - names else None
    if claim.kind == "negation" and claim.subject and not claim.subject & other:
        # Someone else's event: "the minister has not resigned" vs "the governor resigns", "Clare will not win" vs
        # "Nikki wins". A denial's subject is who denies ("Pentagon denies it killed ISIS chief"), whom the report
        # it denies seldom names.
        return None
    if claim.head is not None:
        if claim.head in other:
            met = shared | {claim.head}
            # "married to not George Clooney" after "Clooney's ex gets married": negating a name says who, not
            # that the event did not happen.
            return met if claim.kind != "negation" or met - names else None
        if (
            restated and claim.kind == "denial" and len(shared - names) >= 2
            and len(shared) >= settings.restated_share * len(claim.targets)
        ):  # fmt: skip
            # Most of what was denied, in other words: "plans to keep men and women apart" after "denies plan
            # to separate men and women on flights".
            return shared
        return None
    if restated:
        # A report reasserting what a denial of a whole report called false must restate most of it, beyond a
        # name: one shared name is the same people, not the same claim ("nix the word 'bossy'" is no claim that
        # every later report on bossiness reverses). A name and the very event denied are the claim, though: "X
        # dies in hospital" after "X killed by internet death hoax".
        told = shared - names
        names_the_event = bool(shared & names) and bool(told) and told <= claim.events
        if (
            (len(told) < 2 and len(shared) < settings.names_only_min_shared and not names_the_event)
            or len(shared) < settings.restated_share * len(claim.targets)
            or (claim.events and not shared & claim.events)
        ):
            return None
    if claim.stated and not claim.stated & other:
        # The denied clause says what happened ("you thought the game was gone forever, think again"): the other
        # report must tell of it, not only name the game ("creator considers bringing the game back").
        return None
    smaller = min(len(claim.targets), len(other)) or 1
    needed = settings.min_shared if min_shared is None else min_shared
    if (
        len(shared) >= needed
        and len(shared) / smaller >= settings.min_overlap
        and (shared - names or len(shared) >= settings.names_only_min_shared)
    ):
        return shared
    return None


def _event_name(keys: frozenset[str], head: str | None, phrases: _Phrases, names: frozenset[str] = frozenset()) -> str:
    """The word to name the event by: the denial's head, else the shared word most like an event (a verb rather
    than a name, then the longest)."""
    if head is not None:
        return phrases.get(head, head).split()[-1]
    words = {key: phrases.get(key, key).split()[-1] for key in keys}
    key = max(sorted(keys), key=lambda k: (k not in names, _verb_like(words[k]), len(k)))
    return words[key]


def _compare(
    new: Analysis, old: Analysis, settings: ContradictionSettings, old_validated: bool = True
) -> list[tuple[str, float, str]]:
    """What `new` says against `old`. `old_validated`: whether `old`'s denial was itself found to contradict a
    claim of the story; only then can a later report asserting the denied event reverse it."""
    a, b = new.text, old.text
    found: list[tuple[str, float, str]] = []
    hedge = settings.hedged_factor if b.hedged else 1.0
    # A hedged report asserts nothing, so there is nothing for a denial to contradict.
    for claim in a.claims if not b.hedged else ():
        met = _targets_met(claim, b.asserted, settings, a.names | b.names)
        if met is None or claim.head in b.negated or (claim.kind == "negation" and met & b.negated - a.names):
            continue  # both negate it: they agree ("not close to overheating" after "not yet overheated")
            continue
        event = _event_name(met, claim.head, b.phrases, a.names | b.names)
        score = claim.strength * (0.85 + 0.15 * len(met) / max(1, len(claim.targets)))
        label = "denial" if claim.kind == "denial" else "negation"
        earlier_phrase = b.phrases.get(claim.head or "", "") or b.phrases.get(event_key(event), event)
        found.append((label, score, f"{label} of '{event}': '{claim.cue}' vs '{earlier_phrase}'"))
    if not a.hedged and not a.claims:
        for claim in b.claims:
            if not (old_validated and claim.kind == "denial") and not _explicit(claim, b, settings):
                continue  # a vague or weak "denial" that contradicted nothing in the story is no claim to reverse
            met = _targets_met(
                claim, a.asserted, settings, a.names | b.names, settings.reversal_min_shared, restated=True
            )
            if met is None or claim.head in a.negated:
                continue
            event = _event_name(met, claim.head, a.phrases, a.names | b.names)
            later_phrase = a.phrases.get(claim.head or "", "") or a.phrases.get(event_key(event), event)
            score = claim.strength * 0.95 * (0.85 + 0.15 * len(met) / max(1, len(claim.targets)))
            found.append(("reversal", score, f"reversal of '{event}': '{later_phrase}' after '{claim.cue}'"))
    if settings.same_source_updates and new.item.source and new.item.source == old.item.source:
        return found
    if a.claims and (b.claims or b.hedged):
        # Two items that both deny something agree: their states and figures are the denied ones. And a denial
        # has nothing to contradict in a report that only relays a rumour, in its states no more than its words.
        return found
    if a.states and b.states and len(a.keys & b.keys) >= 2:
        for sa in a.states:
            for sb in b.states:
                if sa.concept != sb.concept or sa.second == sb.second:
                    continue
                # Closed then reopened, missing then found: the story moved on. Moving back needs the later
                # report to insist ("remains closed", "still missing", "not released") since a road can
                # close again; only death does not reverse, so "found alive" after "killed" always counts.
                # Insisting on the later state says the earlier never held: "remains open" after "closes".
                if _STATES[sa.concept][2] and not sa.persists and (sa.second or sa.concept != "alive"):
                    continue
                found.append(("opposite", 0.8 * hedge, f"opposite {sa.concept}: '{sa.phrase}' vs '{sb.phrase}'"))
    for fa in a.figures:
        for fb in b.figures:
            if fa.unit != fb.unit or fa.value == fb.value or not _figures_conflict(fa, fb, settings):
                continue
            if any(f.unit == fb.unit and f.value == fb.value for f in a.figures):
                continue  # the later report gives the earlier figure too ("19 hours, 2.5 hours heavy use")
            found.append(
                ("figures", 0.75 * hedge, f"figures for '{fa.unit.strip(':')}': '{fa.phrase}' vs '{fb.phrase}'")
            )
    return found


def _figures_conflict(later: Figure, earlier: Figure, settings: ContradictionSettings) -> bool:
    if later.governor and earlier.governor and later.governor != earlier.governor:
        return False  # said with different verbs, of different things: "stole 100,000 coins", "has 1 million"
    if (later.value == 0.0) != (earlier.value == 0.0):
        return True  # "no one was killed" against any toll, in either order
    low, high = sorted((later.value, earlier.value))
    if high < low * settings.figure_ratio:
        return False
    if later.value > earlier.value:
        # Tolls grow; "at least"/"climbs to" announce growth; an earlier lower bound allows more.
        return not (later.toll or later.rising or later.approximate or earlier.approximate)
    return not (later.approximate and earlier.approximate)


def _explicit(claim: Claim, text: TextAnalysis, settings: ContradictionSettings) -> bool:
    """Whether a denial names a claim in circulation by itself (a denial verb, a debunk of a report, "No, X did not
    Y", "X isn't real"), so that a later report asserting the claim reverses it even when the story held no report
    of it before. A plain negation ("I'm not bossy") is a claim of its own, not a denial of one."""
    return (claim.kind == "denial" and claim.strength >= settings.explicit_denial) or text.refutes


def negates_event(new: TextAnalysis, old: TextAnalysis, settings: ContradictionSettings) -> bool:
    """Whether `new`, telling and not asking, negates or denies a verb event that `old` asserted, said of a subject
    `old` names too (see `ContradictionSettings.negated_event_score`)."""
    if new.question:
        return False
    for claim in new.claims:
        cue = claim.cue.split()
        if (
            claim.head is not None and claim.head in old.asserted and claim.subject & old.asserted
            and claim.strength >= settings.tentative_strength and cue[0] != "no" and _verb_like(cue[-1])
        ):  # fmt: skip
            return True
    return False


def _same_source(a: Analysis, b: Analysis) -> bool:
    return bool(a.item.source) and a.item.source == b.item.source


class _Text(NamedTuple):
    id: str
    title: str
    summary: str
    source: str
    published: datetime


def proposals(later: str, later_source: str, earlier: str, earlier_source: str) -> list[tuple[str, float, str]]:
    """What the rules propose between two titles, best first: (kind, strength, evidence). For training the judge."""
    when = datetime(2000, 1, 1)
    new = Analysis(_Text("later", later, "", later_source, when), analyze_text(later))
    old = Analysis(_Text("earlier", earlier, "", earlier_source, when), analyze_text(earlier))
    return sorted(_compare(new, old, DEFAULT_SETTINGS), key=lambda found: -found[1])
