"""Analysis of one report's title (and summary): its denials and negations with what they target, hedging,
attribution, states and figures. Done once per report, independent of its identity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from bot.monitor.contradiction.lexicon import (
    _ADVICE,
    _APPROX,
    _ARTICLES,
    _ATTITUDE_VERBS,
    _ATTRIBUTION_SPAN,
    _AUX,
    _BREAK,
    _CLAIM_LINKS,
    _CLAUSE_AUX,
    _CLAUSE_BREAKS,
    _COMPOUND_PARTICLES,
    _CONDITIONALS,
    _CONTINUE_VERBS,
    _CONTINUING,
    _CONTRACTIONS,
    _COPULAS,
    _DEBUNK_WORDS,
    _DENIAL_VERBS,
    _DISMISSIVE,
    _DO_AUX,
    _DO_NEGATORS,
    _DOUBT_ADJECTIVES,
    _DOUBT_COMPLEMENTS,
    _DOUBT_WORDS,
    _EVIDENCE,
    _EXISTENCE,
    _EXTREMES,
    _FAILURE_VERBS,
    _FALL,
    _FIGURE_WORDS,
    _FIRST_PERSONS,
    _FOOLING,
    _GENERIC_COUNTED,
    _GENRES,
    _HEDGES,
    _IN_ON,
    _INSTRUCTED,
    _IRREGULAR,
    _LIE_NOUN_BEFORE,
    _LIES,
    _LIGHT_VERBS,
    _LISTICLE,
    _MAKE,
    _MEASURES,
    _MEDIA_NOUNS,
    _MONTHS,
    _MOVES,
    _NEGATION_BLOCKERS,
    _NEGATORS,
    _NOT_AN_EVENT,
    _NOTHING,
    _PASS,
    _PERSIST,
    _PLAN_WORDS,
    _PLURALS,
    _PREPOSITIONS,
    _PRONOUNS,
    _PUBLISHED,
    _PURPOSE_MARKS,
    _PUT,
    _QUESTION_OPENERS,
    _QUESTION_VERBS,
    _REALITY,
    _RECORD_STRAIGHT,
    _REPLIES,
    _REPORT_DENIAL_VERBS,
    _REPORT_NOUNS,
    _RISING,
    _SAFE_SUBJECTS,
    _SCALES,
    _SEGMENT,
    _SPEAKER_MARK,
    _SPEAKERS,
    _SPEECH,
    _SPEECH_VERBS,
    _SPREAD,
    _STAGE,
    _STATES,
    _STAYING,
    _TOLLS,
    _TOO_GOOD,
    _WORD_NUMBERS,
    _YOU,
    PHRASAL_SYNONYMS,
    _words,
    event_key,
)
from bot.monitor.contradiction.settings import ItemText
from bot.monitor.model import pickled_as_arguments
from bot.monitor.terms import NEWS_FURNITURE, STOP_WORDS, stem, tokenize


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Claim:
    """A denial or negation found in a title: what it targets and how strongly."""

    kind: str  # "denial" or "negation"
    cue: str  # the denying words as written, e.g. "denies evacuating"
    head: str | None  # event key the denial is about; None when it is about the whole report
    targets: frozenset[str]  # event keys of everything the denial covers
    subject: frozenset[str]  # event keys before the cue (who denies, or whose event is negated)
    strength: float
    # A negated predicate ("Managua blast not a meteorite", "Jackson isn't Bruno Mars' dad"): `targets` are the
    # predicate's words, and the other item must say them of the same `subject`.
    predicate: bool = False
    events: frozenset[str] = frozenset()  # the predicate's verbs ("the hero who tackled a gay basher")
    # Of those, the ones the denied clause states after an auxiliary ("you thought the game was gone forever"):
    # what it says happened, which the report it denies must tell of too.
    stated: frozenset[str] = frozenset()


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class State:
    concept: str
    second: bool  # which of the concept's two states
    persists: bool  # "still", "remains"
    phrase: str


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Figure:
    unit: str
    value: float
    approximate: bool
    rising: bool
    toll: bool
    phrase: str
    # The word the number is said with ("cut 2,000 jobs" -> cut; "has 1 million" -> have): two figures said with
    # different words are of different things ("stole 100,000" vs "has 1 million").
    governor: str = ""


class _Phrases:
    """Event key -> the words naming it in the title ("begins evacuating"), for evidence. Built on first use:
    most items never need evidence."""

    __slots__ = ("_map", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self._map: dict[str, str] | None = None

    def get(self, key: str, default: str = "") -> str:
        if self._map is None:
            found: dict[str, str] = {}
            for k, t in enumerate(self.tokens):
                if t not in STOP_WORDS:
                    found.setdefault(event_key(t), _phrase(self.tokens, k))
            self._map = found
        return self._map.get(key, default)


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """What the detector needs of one title and summary, independent of the item's identity."""

    # Kept with every report of every open story, so small: sets shared where equal, no token lists (the title's
    # words are worked out again, cached, for the few reports a comparison needs them of).
    keys: frozenset[str]  # event keys of all content words of the title
    negated: frozenset[str]  # keys right after a negator, idioms included ("hands up, don't shoot")
    asserted: frozenset[str]  # keys the item asserts: outside denial scopes, plus the summary's words
    claims: tuple[Claim, ...] = ()
    hedged: bool = False
    states: tuple[State, ...] = ()
    figures: tuple[Figure, ...] = ()
    title: str = field(default="", compare=False)
    question: bool = False  # the title asks rather than tells
    attributed: bool = False  # "..., officials say", "report says": an assertion all the same, not a hedge
    refutes: bool = False  # answers a claim in circulation: "No, X did not Y", "X isn't real"

    @property
    def tokens(self) -> list[str]:
        """The title's words, as `terms.tokenize` makes them."""
        return _title_phrases(self.title).tokens

    @property
    def phrases(self) -> _Phrases:
        """Event key -> the words naming it in the title ("begins evacuating"), for evidence."""
        return _title_phrases(self.title)

    @property
    def names(self) -> frozenset[str]:
        """Keys of the names in a sentence-case title ("Vladimir Putin"); only needed, and so only worked out,
        when a denial is compared."""
        return _names(self.title)


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Analysis:
    item: ItemText
    text: TextAnalysis


@dataclass(frozen=True, slots=True)
class _Segment:
    tokens: list[str]
    question: bool  # ends in "?"
    after_comma: bool  # follows a comma: "Ticket, not arrest" is a contrast, not a negated event
    cut: bool = False  # the headline was cut off after this segment ("... No ..."): it may go on otherwise


# A negator joined to the next word by a hyphen makes a compound modifier, not a negation: "no-confidence vote",
# "no-fly zone", "non-stop".
_NEGATED_COMPOUND = re.compile(r"\b(no|non|not)-(?=\w)", re.IGNORECASE)


def _phrasal_verbs(tokens: list[str]) -> list[str]:
    """A phrasal verb that means what one word does, as that word: "pulls out of the deal" withdraws from it, as
    "quits" and "exits" do. Its particle stays (a stop word, it keys nothing)."""
    out = list(tokens)
    for k in range(len(out) - 1):
        if out[k + 1] in _COMPOUND_PARTICLES:
            out[k] = PHRASAL_SYNONYMS.get((stem(out[k]), out[k + 1]), out[k])
    return out


def _segments(title: str) -> list[_Segment]:
    title = _NEGATED_COMPOUND.sub(r"\1", title)
    # One `tokenize` call for the whole title, the segments kept apart by a marker word (a third of the cost of
    # tokenising each segment on its own, with the same tokens).
    pieces: list[str] = []
    marks: list[tuple[bool, bool]] = []  # (question, after a comma) of each piece
    pos = 0
    comma = False
    for match in _SEGMENT.finditer(title + "|"):
        pieces.append(title[pos : match.start()])
        marks.append(("?" in match.group(), comma))
        comma = match.group() == ","
        pos = match.end()
    out: list[_Segment] = []
    current: list[str] = []
    k = 0
    for tok in tokenize(f" {_BREAK} ".join(pieces) + f" {_BREAK}"):
        if tok != _BREAK:
            current.append(tok)
            continue
        if current:
            question, after_comma = marks[k]
            current = _phrasal_verbs(current)
            # "Who won the final", "Did she get engaged ...": a question even when the headline's "?" was cut off.
            question = question or (current[0] in _QUESTION_OPENERS and len(current) >= 3)
            out.append(_Segment(current, question, after_comma))
            current = []
        k += 1
    if out and title.rstrip().endswith(("...", "…")):
        out[-1] = _Segment(out[-1].tokens, out[-1].question, out[-1].after_comma, cut=True)
    return out


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in STOP_WORDS and t not in _NEGATORS and t not in _CONTRACTIONS]


def _is_number(token: str) -> bool:
    return token[:1].isdigit()


def _verb_like(token: str) -> bool:
    return token.endswith(("ing", "ed")) or token in _IRREGULAR


def _skippable(token: str) -> bool:
    return (
        token in STOP_WORDS or token in _REPORT_NOUNS or token in _PLAN_WORDS or token in _AUX
        or token in _MEDIA_NOUNS or token in _LIGHT_VERBS
    )  # fmt: skip


def _head_of(scope: list[str]) -> tuple[str | None, int]:
    """The event a denial scope is about, and its index: the verb of the first chunk ("it is evacuating
    diplomats", "claims ISIS infiltrating border"), else the head noun of the first noun phrase ("Las Vegas
    expansion report" -> expansion, "any role in the offensive" -> role, "taking a selfie" -> selfie)."""
    i = 0
    object_follows = False  # after "taking", "making": the event is named by the object noun
    while i < len(scope) and _skippable(scope[i]):
        # "taking a selfie" names its event by the object; "have beheaded" is an auxiliary and a participle.
        nxt = scope[i + 1] if i + 1 < len(scope) else ""
        object_follows = object_follows or (scope[i] in _LIGHT_VERBS and not (scope[i] in _AUX and _verb_like(nxt)))
        i += 1
    if i >= len(scope):
        return None, -1
    if _is_number(scope[i]) or (i > 0 and scope[i - 1] == "to"):
        return scope[i], i  # "plans to evacuate": after "to" comes the verb
    j = i
    while j + 1 < len(scope) and scope[j + 1] not in STOP_WORDS and scope[j + 1] not in _NEGATORS:
        j += 1
    chunk = range(i, j + 1)
    reports = [k for k in chunk if scope[k] in _REPORT_NOUNS or scope[k] in _MEDIA_NOUNS]
    if reports and reports[0] == j and j + 2 < len(scope) and scope[j + 1] in _CLAIM_LINKS:
        # "ISIS claims that they beheaded her", "ISIS claims it kidnapped her": the event is what the claim
        # says, not who claims it.
        start = j + 2 if scope[j + 1] in ("that", "of", "about") else j + 1
        head, at = _head_of(scope[start:])
        if head is not None:
            return head, at + start
    if reports and reports[0] < j and reports[0] - i <= 2:
        # "congressman's claim ISIS infiltrating border": what follows the report noun is the event.
        chunk = range(reports[0] + 1, j + 1)
    elif reports:
        # "Stolen Batmobile rumor with photo": the report noun closes the phrase naming the event.
        chunk = range(i, reports[0]) if reports[0] > i else chunk
    if not object_follows:
        for k in chunk:
            if _verb_like(scope[k]) and scope[k] not in _LIGHT_VERBS:
                return scope[k], k
        if j + 2 < len(scope) and scope[j + 1] in _CLAUSE_AUX:
            # "deny Gill Rosenberg was in Kobane": a name before "was" is the clause's subject; its predicate
            # is the event denied.
            head, at = _head_of(scope[j + 2 :])
            if head is not None:
                return head, at + j + 2
    k = chunk[-1]
    while k > chunk[0] and (scope[k] in _REPORT_NOUNS or scope[k] in _MEDIA_NOUNS):
        k -= 1
    return scope[k], k


def _keys(tokens: Iterable[str]) -> frozenset[str]:
    keys = []
    before = ""
    for t in tokens:
        # A report noun after "to", a modal or a negator is a verb, and an event: "to headline the festival",
        # "will not headline it".
        if t not in _NOT_KEYS or (t in _REPORT_NOUNS and before in _VERB_OPENERS):
            keys.append(event_key(t))
        before = t
    return frozenset(keys)


_VERB_OPENERS = frozenset({"to", "will", "would", "wont", "not", "cannot", "cant", "can", "could", "may", "might"})


# Words that never name an event: function words, negators, and the words of denying, reporting and hedging.
_NOT_KEYS = (
    STOP_WORDS | _NEGATORS | _CONTRACTIONS | _DEBUNK_WORDS | _REPORT_NOUNS | _MEDIA_NOUNS | _DENIAL_VERBS
    | _HEDGES | _AUX | NEWS_FURNITURE
)  # fmt: skip


def _negated(tokens: list[str], i: int, window: int = 3) -> bool:
    return any(t in _NEGATORS for t in tokens[max(0, i - window) : i])


def _negation_claim(seg: _Segment, i: int, strength: float) -> Claim | None:
    tokens = seg.tokens
    tok = tokens[i]
    after = tokens[i + 1 :]
    if after and (
        after[0] in _NEGATION_BLOCKERS or (after[0] in _ARTICLES and after[1:2] and after[1] in _NEGATION_BLOCKERS)
    ):
        return None  # "not yet allowed home" is a development; "no doubt" affirms; "not the first time"
    if "yet" in after[1:3]:
        return None  # "no spike yet", "not allowed home yet": not so far, a development to come
    if tok == "not" and tokens[i - 1 : i] and tokens[i - 1] in _PREPOSITIONS | {"to"} and after[:1] and (
        not _verb_like(after[0])
    ):
        return None  # "married to not George Clooney": "not" picks out a noun phrase, it negates no event
    if "without" in after[:6]:
        return None  # "can't sell X without Y", "no peace without Z": a condition (Y is needed), not a negated event
    if tok == "shouldnt" or (tok == "not" and tokens[i - 1 : i] == ["should"]):
        return None  # "why she should not win": an opinion of what ought to be, not an event that did not happen
    if i == 0 and tok in ("dont", "never") and not seg.question:
        return None  # imperative: "Don't shoot", "Never forget"
    if (i == 0 and tok == "not" and seg.after_comma) or (tok == "not" and tokens[i - 1 : i] == ["but"]):
        # contrast: "a ticket, not an arrest"; "marries in secret, but not the actor"
        return None  # contrast: "a ticket, not an arrest"
    if (
        tok == "no" and after[:1] and after[0] in STOP_WORDS and after[0] not in _ARTICLES
        and after[0] not in _PRONOUNS and after[0] != "one"
    ):  # fmt: skip
        return None  # "HBO Go becomes HBO No during the finale": a word, not a negator
    if tok == "nobody" or (tok == "no" and after[:1] == ["one"]):
        # "No one was killed": the event is the verb, not whatever follows "no one".
        verbs = [k for k, t in enumerate(after) if _verb_like(t)]
        if not verbs:
            return None
        after = after[verbs[0] :]
    rest = [t for t in after if t not in _AUX]
    speaker = next((t for t in reversed(tokens[:i]) if t not in _AUX), "")
    if speaker in _FIRST_PERSONS and rest[:1] and rest[0] in _ATTITUDE_VERBS:
        return None  # "We don't need X", "you won't want Y": an opinion voiced, no event denied
    did = tok in _DO_NEGATORS or (tok == "not" and i > 0 and tokens[i - 1] in _DO_AUX)
    past = tok in ("didnt", "doesnt", "never") or (tok == "not" and i > 0 and tokens[i - 1] in ("did", "does"))
    if past and rest[:1] and rest[0] in _SPEECH and len(rest) > 1:
        # "The Pope did not say pets go to heaven": denies the reported words, not the saying.
        return Claim("denial", f"{tok} {rest[0]}", None, _keys(rest[1:]), _keys(tokens[:i]), strength)
    if (rest and rest[0] in _NOT_AN_EVENT) or (
        rest[:1] and rest[0] in _CONTINUE_VERBS and len(rest) > 1 and rest[1].endswith("ing")
    ):  # fmt: skip
        return None  # "won't say", "won't stop confronting"
    if rest[:1] and (rest[0] in _EXISTENCE or rest[:2] in (["take", "place"], ["took", "place"])):
        # "The attack never happened", "no such law exists": the whole subject is denied, not a verb.
        targets = _keys(tokens[:i]) or _keys(rest[1:])
        return Claim("denial", f"{tok} {rest[0]}", None, targets, frozenset(), strength) if targets else None
    if did and after[:1] in (["be"], ["been"]):
        participle = next((k for k, t in enumerate(after) if t not in _AUX), None)
        if participle is not None and after[participle].endswith("ed") and after[participle] not in _NOT_KEYS:
            # A passive ("has not been arrested", "won't be charged") negates the verb, as the active does.
            verb = after[participle]
            return Claim("negation", f"{tok} {verb}", event_key(verb), _keys(after[participle : participle + 5]),
                         _keys(tokens[:i]), strength)  # fmt: skip
        return _predicate_claim(tokens, i, after, strength)  # "won't be the digital doctor it could have been"
    if did and rest and rest[0] in STOP_WORDS:
        return None  # "... but won't when it ships": the verb is elided, and what it negates is unclear
    if did and rest and rest[0] not in _LIGHT_VERBS:
        # After "did not", "won't", "has not" comes the verb itself: "did not personally fly airstrikes".
        k = after.index(rest[0])
        return Claim("negation", f"{tok} {rest[0]}", event_key(rest[0]), _keys(after[k:k+5]), _keys(tokens[:i]),
                     strength)  # fmt: skip
    claim = _scoped_claim("negation", tokens, after, i + 1, i, strength, window=5)
    predicative = tok in ("isnt", "wasnt", "arent", "werent", "aint") or (
        tok == "not"
        and i > 0
        and (tokens[i - 1] in _COPULAS or tokens[i - 1] not in STOP_WORDS)
        and after[:1] != ["to"]  # "reasons not to give up", "X not to attend": an infinitive follows
    )
    verb = next((t for t in rest if t != "to"), "")  # "isn't going to be selling": the verb is "selling"
    if claim is not None and predicative and not _verb_like(verb):
        return _predicate_claim(tokens, i, after, strength)
    if claim is not None and claim.head is not None and sum(event_key(t) == claim.head for t in tokens) > 1:
        return None  # "she's not Oprah in the Oprah series": the headline asserts what it seems to negate
    return claim


def _predicate_claim(tokens: list[str], i: int, after: list[str], strength: float) -> Claim | None:
    """A negated predicate: "NHL expansion not imminent", "Paul Rudd is not the hero who...". What is denied is
    the predicate said of the subject, not the word after "not" alone; "X isn't real" denies X itself."""
    subject = _keys(tokens[:i])
    content = [t for t in after if t not in _AUX and t not in STOP_WORDS]
    if (content[:1] and content[0] in _REALITY) or after[:3] == ["what", "it", "seems"]:
        return Claim("negation", f"{tokens[i]} {content[0] if content else 'what it seems'}", None, subject,
                     frozenset(), strength) if subject else None  # fmt: skip
    targets = _keys(after[:8])
    if not targets:
        return None
    events = frozenset(event_key(t) for t in after[:8] if _verb_like(t) and t not in _NOT_KEYS)
    return Claim("negation", f"{tokens[i]} {' '.join(content[:2])}", None, targets, subject, strength, True, events)


def _attributive(tok: str, after: list[str]) -> bool:
    return tok in _DOUBT_ADJECTIVES and bool(after) and after[0] not in STOP_WORDS and not _is_number(after[0])


def _copula_subject(before: list[str]) -> list[str] | None:
    """The subject of "X is/are (a) <debunk word>" when another clause comes before it in the segment."""
    k = len(before) - 1
    while k >= 0 and before[k] in _ARTICLES:
        k -= 1
    if k < 0 or before[k] not in _COPULAS:
        return None
    start = k
    while start > 0 and before[start - 1] not in _CLAUSE_BREAKS:
        start -= 1
    return before[start:k] if start > 0 else None


def _debunks(tok: str, before: list[str], after: list[str]) -> bool:
    """Whether a debunk word calls something false here, rather than describing a thing ("fake tan", "a bogus
    price war") or naming a genre or a place ("SNL parody", "what lies ahead")."""
    if tok in _GENRES:
        return before[-1:] in (["is"], ["was"], ["are"], ["were"], ["be"]) or (
            before[-1:] in (["a"], ["an"]) and before[-2:-1] in (["is"], ["was"], ["be"], ["just"])
        )
    if tok in _LIES:
        return (before[-1:] and before[-1] in _LIE_NOUN_BEFORE) or after[:1] == ["about"]
    # Before a noun phrase naming no report, picture or post ("fake tan", "a bogus price war"), it describes it.
    if not _describes(after):
        return True
    phrase = []
    for t in after:
        if t in STOP_WORDS:
            break
        phrase.append(t)
    return any(t in _MEDIA_NOUNS or t in _REPORT_NOUNS or t in _FOOLING for t in phrase)


def _describes(after: list[str]) -> bool:
    """A dismissive adjective before a noun other than a report describes it ("crazy Apple rumors", "a crazy
    video"); before a report noun it dismisses ("absurd claims"), and after one too ("calls claims crazy")."""
    return bool(after) and after[0] not in STOP_WORDS and after[0] not in _REPORT_NOUNS and not _is_number(after[0])


def _after_cue(tokens: list[str], flat_keys: frozenset[str]) -> frozenset[str]:
    """What a cue refutes: the words that follow it ("on X", "about X"), or else the whole title."""
    while tokens and tokens[0] in ("on", "about", "over", "for", "of", "that"):
        tokens = tokens[1:]
    return _keys(tokens) or flat_keys


class _Cue(NamedTuple):
    cue: str
    targets: frozenset[str]
    strength: float
    head: str | None = None


def _phrase_cue(
    segments: list[_Segment], s: int, i: int, flat: list[str], offset: int, all_keys: frozenset[str]
) -> _Cue | None:
    """Phrases that refute a report without a denial verb: "If only X", "X? Good one", "setting the record
    straight on X", "news sites fall for X", "investor made it all up", "did he stage the video?", "despite
    reports of X". Returns the cue, what it refutes and how strongly."""
    tokens = segments[s].tokens
    tok = tokens[i]
    before, after = tokens[:i], tokens[i + 1 :]
    if s == 0 and i == 0 and tok == "if" and after[:1] == ["only"]:
        return _Cue("if only", _keys(flat[2:]), 0.8)  # a wish: what follows did not happen
    reply = i == 0 and any(tokens[: len(r)] == r for r in _REPLIES)
    if reply and s > 0 and (segments[s - 1].question or any(tokens == r for r in _REPLIES)):
        # A question answered with a dismissal, or a report followed by one ("X. Not so fast"): what came
        # before is refuted.
        return _Cue(" ".join(tokens[:3]), _keys(flat[:offset]), 0.85)
    if reply and s == 0 and any(tokens == r for r in _REPLIES) and len(segments) > 1:
        # "Not so fast: X", "Think again, X": what follows is refuted.
        return _Cue(" ".join(tokens), _keys(flat[len(tokens) :]), 0.85)
    if i == 0 and tok in ("dont", "do") and (after[:1] in (["believe"], ["buy"]) or after[:2] == ["fall", "for"]):
        # "Don't believe the X rumours"; with nothing after it ("Don't believe ..."), it names nothing.
        return _Cue(f"{tok} {after[0]}", _after_cue(after[1:], frozenset()), 0.85)
    if tok == "stop" and after[:1] and after[0] in _SPREAD:
        return _Cue(f"stop {after[0]}", _after_cue(after[1:], all_keys), 0.85)  # "Stop sharing the X photo"
    if tok == "cold" and after[:2] == ["water", "on"]:
        return _Cue("cold water on", _after_cue(after[2:], all_keys), 0.75)  # "pours cold water on X reports"
    if tok == "out" and after[:2] == ["of", "context"]:
        return _Cue("out of context", all_keys, 0.8)  # "quote taken out of context"
    if tok in ("walks", "walk", "walked") and after[:1] == ["back"]:
        return _Cue(f"{tok} back", _after_cue(after[1:], all_keys), 0.8)  # "walks back claim that X"
    if tok == "far" and after[:1] == ["fetched"]:
        return _Cue("far fetched", all_keys, 0.75)
    if tok in ("set", "sets", "setting") and any(after[: len(r)] == r for r in _RECORD_STRAIGHT):
        rest = after[after.index("straight") + 1 :]
        return _Cue("setting the record straight", _after_cue(rest, all_keys), 0.85)
    if tok in ("believed", "believe", "believes") and before[-1:] in (["actually"], ["really"]) and after:
        return _Cue(f"{before[-1]} {tok}", _after_cue(after, all_keys), 0.8)  # "people actually believed X"
    if tok in _FALL and after[:1] == ["for"] and any(t in _FOOLING for t in after[1:6]):
        return _Cue(f"{tok} for", _after_cue(after[1:], all_keys), 0.85)  # "news sites fall for bird video"
    if tok in _MAKE and (
        (after[:1] == ["up"] and after[1:2] not in (["of"], ["for"])) or after[:2] == ["it", "up"]
        or after[:3] == ["it", "all", "up"]
    ):  # fmt: skip
        return _Cue(f"{tok} up", all_keys, 0.85)  # "investor made it all up", "quote was made up"
    if tok in _STAGE and (
        any(t in _MEDIA_NOUNS for t in after[:4])
        or (tok == "staged" and (any(t in _MEDIA_NOUNS for t in before[-3:]) or not after or before[-1:] == ["was"]))
    ):  # fmt: skip
        return _Cue(_phrase(tokens, i), all_keys, 0.85)  # "did he stage the video?", "the photo was staged"
    if (tok == "despite" or (tok == "contrary" and after[:1] == ["to"])) and any(t in _REPORT_NOUNS for t in after[:4]):
        # "alive and well despite death rumours": the reports are refuted.
        k = next(k for k, t in enumerate(after[:4]) if t in _REPORT_NOUNS)
        cue = f"{tok} {' '.join(after[: k + 1])}"
        if after[k + 1 : k + 2] in (["of"], ["that"]):
            return _Cue(cue, _after_cue(after[k + 1 :], all_keys), 0.8)
        modifier = _keys(after[:k])
        # "despite kidnap reports", "despite death rumours": the word before the report noun is the event refuted.
        head = event_key(after[k - 1]) if k > 0 and event_key(after[k - 1]) in modifier else None
        return _Cue(cue, modifier or all_keys, 0.8, head)
    return None


# First words of the phrases `_phrase_cue` knows.
_PHRASE_STARTS = frozenset(
    {r[0] for r in _REPLIES} | _FALL | _MAKE | _STAGE
    | _words("if set sets setting believed believe believes despite contrary dont do stop cold out walks walk "
             "walked far")
)  # fmt: skip


def _doubted(after: list[str]) -> frozenset[str] | None:
    """What a doubt word's complement says is in doubt ("about reports of X", "that X", "on claims X"): None when no
    complement follows it, nothing when the complement names only a report ("on the claims")."""
    if not after or after[0] not in _DOUBT_COMPLEMENTS:
        return None
    rest = after[1:]
    while rest and (rest[0] in STOP_WORDS or rest[0] in _REPORT_NOUNS):
        rest = rest[1:]  # "about the reports of", "on claims that": the report is not what is doubted
    return _keys(rest)


def _purpose(before: list[str]) -> bool:
    if any(t in _PURPOSE_MARKS for t in before[-3:]):
        return True
    # "so he won't", "so that it doesn't", "so they don't": "so" then a subject, then the negator.
    return (before[-2:-1] == ["so"] and before[-1] in _PRONOUNS) or before[-3:-1] == ["so", "that"]


# Every word at which `_find_claims` may find something; a title without any is skipped at once.
_TRIGGERS = frozenset(
    _DEBUNK_WORDS | _DISMISSIVE | _DOUBT_WORDS | _DENIAL_VERBS | _REPORT_DENIAL_VERBS | _NEGATORS | _PUT
    | _PHRASE_STARTS | _QUESTION_VERBS | _words("too fun no nope")
)  # fmt: skip


def _find_claims(segments: list[_Segment]) -> tuple[list[Claim], bool, bool, bool]:
    """Denials and negations of a title; whether it affirms a claim against a debunk ("no hoax", "denies hoax
    claims"); whether it refutes a claim in circulation; and whether it answers its own question with a denial
    ("X? USDA debunks the hoax")."""
    claims: list[Claim] = []
    interjections: list[Claim] = []  # "No, ..." opening a title
    affirmed = False
    flat = [t for seg in segments for t in seg.tokens]
    if _TRIGGERS.isdisjoint(flat):
        return claims, affirmed, False, False  # most headlines: nothing that could deny anything
    all_keys = _keys(flat)
    debunk_keys = {event_key(w) for w in _DEBUNK_WORDS}
    offset = 0
    answered = False
    for s, seg in enumerate(segments):
        tokens = seg.tokens
        q = 0.85 if seg.question else 1.0
        found_before = len(claims) + len(interjections)
        for i, tok in enumerate(tokens):
            if tok not in _TRIGGERS:
                continue
            before = tokens[:i]
            after = tokens[i + 1 :]
            # Dismissive when said of a report ("calls the claims absurd"), not before a noun ("crazy stories").
            dismissive = (
                tok in _DISMISSIVE and any(t in _REPORT_NOUNS for t in flat) and not _describes(after)
                and not (after[:1] and after[0] in _REPORT_NOUNS)
            )
            doubt = tok in _DOUBT_WORDS and not _negated(tokens, i) and not _attributive(tok, after)
            doubt = doubt or (
                tok in _QUESTION_VERBS and i > 0 and "you" not in before[-3:] and (
                    after[:1] in (["whether"], ["if"]) or any(t in _REPORT_NOUNS for t in after[:3])
                )
            )  # fmt: skip
            doubt = doubt or (tok == "too" and any(after[: len(p) - 1] == p[1:] for p in _TOO_GOOD))
            if tok in _DEBUNK_WORDS and seg.question and ("or" in before[-2:] or after[:1] == ["or"]):
                continue  # "Real or hoax?", "Fake or freak?": a question offering both answers
            if tok in _DEBUNK_WORDS and not _debunks(tok, before, after):
                continue
            phrase = _phrase_cue(segments, s, i, flat, offset, all_keys) if tok in _PHRASE_STARTS else None
            if phrase is not None:
                if phrase.targets:
                    claims.append(
                        Claim("denial", phrase.cue, phrase.head, phrase.targets, frozenset(), phrase.strength * q)
                    )
            elif tok in _DEBUNK_WORDS or dismissive or doubt:
                if tok in _DEBUNK_WORDS and (_negated(tokens, i) or any(t in _DENIAL_VERBS for t in before)):
                    affirmed = True  # "no hoax", "denies hoax claims": a debunk denied asserts the claim
                    continue
                strength = 0.65 if tok in _DOUBT_WORDS or tok in _QUESTION_VERBS or tok == "too" else 0.9
                # "reports that X are false": the denial is about X. Otherwise about the whole title.
                targets = all_keys
                for j in range(offset + i - 2, -1, -1):
                    if flat[j] in _REPORT_NOUNS and flat[j + 1] in ("of", "that", "about"):
                        targets = _keys(flat[j + 2 : offset + i]) or all_keys
                        break
                if tok in _DEBUNK_WORDS and after[:1] in (["of"], ["that"], ["about"]):
                    targets = _keys(after[1:]) or targets  # "the myth of virtual money" debunks what follows
                elif tok in _DEBUNK_WORDS and targets is all_keys:
                    # "... and says his attacks are false": what is called false is the copula's subject, back to
                    # the clause's start, not the whole headline.
                    subject = _copula_subject(before)
                    targets = _keys(subject) or targets if subject is not None else targets
                head = None
                doubted = _doubted(after) if doubt else None
                if doubted is not None:
                    # "raises doubts about reports of X", "doubt that X", "cast doubt on X": the doubt is about X,
                    # the complement, not the doubter or the verb that voices it; "cast doubt on the claims",
                    # about the claim the title reports.
                    targets = doubted or targets
                elif tok in ("doubt", "doubts") and before and before[-1] not in STOP_WORDS and (
                    not after or after[0] in STOP_WORDS
                ):
                    # "amid merger doubt": the doubt is about the merger, not the rest of the headline
                    head = event_key(before[-1])
                    targets = frozenset({head})
                claims.append(Claim("denial", _phrase(tokens, i), head, targets, frozenset(), strength * q))
            elif tok in _DENIAL_VERBS and before[-2:] in (["confirm", "or"], ["confirm", "nor"]):
                continue  # "refuses to confirm or deny": neither
            elif tok in _DENIAL_VERBS or (
                (tok in _REPORT_DENIAL_VERBS or (tok == "fun" and before[-1:] in (["makes"], ["make"], ["made"],
                                                                                   ["pokes"], ["poked"])))
                and any(t in _REPORT_NOUNS for t in after[:4])
            ) or (tok in _PUT and "rest" in after[:5]):  # fmt: skip
                if tok in _PUT:
                    # "Dawn of Justice stolen Batmobile rumor put to rest": the rumor, just before, is denied.
                    start = i
                    while start > 0 and tokens[start - 1] not in STOP_WORDS:
                        start -= 1
                    scope = tokens[start:i]
                else:
                    scope, start = after, i + 1
                if any(t in _DEBUNK_WORDS for t in scope[:6]):
                    affirmed = True
                    continue
                claim = _scoped_claim("denial", tokens, scope, start, i, 0.95 * q)
                if claim is not None:
                    claims.append(claim)
            elif tok in ("no", "nope") and i == 0 and (len(tokens) == 1 or tok == "nope"):
                if s > 0 and s == len(segments) - 1 and seg.cut:
                    continue  # "... Um, No ...": cut off, it may go on ("No, really"); no reply to read
                following = segments[s + 1].tokens if s + 1 < len(segments) else []
                if following[:1] == ["not"] and not _keys(following[1:]):
                    continue  # "Ban the B-word (No, not that one)": a joke that clarifies a word, no reply
                if s == 0:
                    # "No, X did Y": the whole rest of the title is denied.
                    rest = [t for seg2 in segments[1:] for t in seg2.tokens]
                else:
                    # "X did Y. UPDATE: Nope", "X? No, says Y": the earlier part is denied.
                    rest = [t for seg2 in segments[:s] for t in seg2.tokens]
                targets = _keys(rest)
                if targets:
                    claim = Claim("denial", " ".join([tok, *rest[:3]]), None, targets, frozenset(), 0.9)
                    if s == 0:
                        interjections.append(claim)
                    else:
                        claims.append(claim)
            elif (
                tok in ("no", "nope")
                and i == 0
                and s > 0
                and not seg.after_comma
                and (after[:1] and after[0] in _PRONOUNS and any(t in _NEGATORS for t in after[1:3]))
            ):
                # "... Heroes No He Wasn't" after a colon or dash: the earlier part is denied.
                targets = _keys(t for seg2 in segments[:s] for t in seg2.tokens)
                if targets:
                    claims.append(Claim("denial", " ".join(tokens[:4]), None, targets, frozenset(), 0.85))
            elif tok in ("not", "no") and after[:1] == ["true"]:
                # "not true" refutes the preceding report, like a debunk word; "report of X not true" refutes X.
                targets = _keys(flat[: offset + i]) or all_keys
                for j in range(offset + i - 2, -1, -1):
                    if flat[j] in _REPORT_NOUNS and flat[j + 1] in ("of", "that", "about"):
                        targets = _keys(flat[j + 2 : offset + i]) or targets
                        break
                claims.append(Claim("denial", "not true", None, targets, frozenset(), 0.9 * q))
            elif tok in _NEGATORS:
                if any(t in _CONDITIONALS for t in before) or (
                    tok == "not" and after[:1] == ["to"] and before[-1:] and before[-1] in _INSTRUCTED | _ADVICE
                ):
                    continue  # "won't say if the family was not paid", "told not to pay", "reasons not to go"
                if _purpose(before):
                    continue  # "adopts a boy so he won't turn into a werewolf": the aim, not an event denied
                if (before[-1:] and before[-1] in _YOU) or before[-2:-1] == ["you"]:
                    continue  # "you won't believe", "the app you don't use": addressed to the reader
                if tok == "not" and before[-1:] and before[-1] in _PREPOSITIONS:
                    continue  # "fed up with not having a girlfriend": a gerund, not an event denied
                evidence = [k for k, t in enumerate(after[:3]) if t in _EVIDENCE]
                if tok == "no" and evidence:
                    # "No evidence of X", "no sign that X": doubts X; "no sign in Cuba" names nothing.
                    k = evidence[0]
                    if after[k + 1 : k + 2] in (["of"], ["that"], ["for"]):
                        claim = _scoped_claim("denial", tokens, after[k + 2 :], i + k + 3, i, 0.75 * q)
                        if claim is not None:
                            claims.append(replace(claim, cue=" ".join(tokens[i : i + k + 2])))
                    continue
                if any(t in _DEBUNK_WORDS for t in [t for t in after if t not in _AUX][:2]):
                    affirmed = True  # "insists it was not a hoax"
                    continue
                if tok == "no" and after[:1] and after[0] in _PLAN_WORDS and after[1:2] in (["to"], ["of"]):
                    # "says it has no plans to cut jobs", "no intention of selling": the formula of a denial of
                    # the plan reported, not a negation of the speaker's own.
                    planned = _keys(after[2:10])
                    if after[2:3] and planned:
                        head = event_key(after[2])  # the verb of the plan denied: "to cut", "of selling"
                        cue = " ".join(tokens[i : i + 4])
                        claims.append(
                            Claim("denial", cue, head if head in planned else None, planned, _keys(before), 0.9 * q)
                        )
                    continue
                claim = _negation_claim(seg, i, 0.8 * q)
                if claim is None:
                    continue
                if claim.head in debunk_keys:
                    affirmed = True
                    continue
                claims.append(claim)
        offset += len(tokens)
        if len(claims) + len(interjections) > found_before and not seg.question:
            answered = answered or any(earlier.question for earlier in segments[:s])
    if interjections and not any(c.kind == "negation" and c.head is not None for c in claims):
        # "No, X did Y" denies X doing Y. When the rest negates a verb itself ("No, Saudi TV didn't blur her
        # face"), that verb is the event denied, and the "No" only stresses it; otherwise the whole rest is.
        claims = interjections + claims
    # Whether the title refutes a claim in circulation, not only says something is not so: a "No," that answers
    # it, or "X isn't real".
    refutes = bool(claims) and (bool(interjections) or any(c.cue.split()[-1] in _REALITY for c in claims))
    return claims, affirmed, refutes, answered


def _scoped_claim(
    kind: str, tokens: list[str], scope: list[str], start: int, cue_at: int, strength: float, window: int = 8
) -> Claim | None:
    scope = scope[:window]
    head, at = _head_of(scope)
    if head is None:
        return None
    if start + at == cue_at + 1:
        cue = f"{tokens[cue_at]} {head}"
    elif start > cue_at:
        cue = " ".join([tokens[cue_at], "...", head])
    else:
        cue = f"{head} ... {tokens[cue_at]}"
    subject = _keys(tokens[:cue_at]) if start > cue_at else frozenset()
    return Claim(kind, cue, event_key(head), _keys(scope), subject, strength)


def _phrase(tokens: list[str], i: int) -> str:
    prev = tokens[i - 1] if i > 0 else ""
    return f"{prev} {tokens[i]}".strip()


# word -> the concepts it is a state of, and which state.
_STATE_WORDS: dict[str, list[tuple[str, bool]]] = {}


for _concept, (_first, _second, _) in _STATES.items():
    for _word in _first | _second:
        _STATE_WORDS.setdefault(_word, []).append((_concept, _word in _second))


def _find_states(tokens: list[str]) -> list[State]:
    out: list[State] = []
    if _STATE_WORDS.keys().isdisjoint(tokens):
        return out
    for i, tok in enumerate(tokens):
        for concept, which in _STATE_WORDS.get(tok, ()):
            if not _is_state(concept, tokens, i):
                continue
            negated = _negated(tokens, i, 2)
            if negated:
                which = not which
            persists = any(t in _PERSIST for t in tokens[max(0, i - 2) : i]) or negated or tok in _STAYING
            out.append(State(concept, which, persists, " ".join(tokens[max(0, i - 2) : i + 1])))
    # A title holding both states of a concept tells the transition itself ("missing soldiers found").
    sides: dict[str, set[bool]] = {}
    for st in out:
        sides.setdefault(st.concept, set()).add(st.second)
    return [st for st in out if len(sides[st.concept]) == 1]


def _is_state(concept: str, tokens: list[str], i: int) -> bool:
    tok = tokens[i]
    prev = tokens[i - 1] if i > 0 else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if concept == "deal" and tok in ("off", "walk", "walks"):
        return (tok == "off" and prev in ("call", "calls", "called", "calling")) or (tok != "off" and nxt == "away")
    if concept == "open" and tok in ("remains", "remain"):
        return False  # only a marker of persistence; "remains closed" carries the state
    if concept == "open" and tok in _STAYING:
        # "the service is sticking around", "stays open", "here to stay": it never closed.
        return nxt in ("around", "open") or (tok == "stay" and tokens[max(0, i - 2) : i] == ["here", "to"])
    if concept == "freedom" and (nxt in _PUBLISHED or tok in ("release", "releases", "free", "frees")):
        return tok == "free" and prev in ("set", "walks", "walk", "now", "is", "are", "was", "were")
    if concept == "alive" and tok in ("pass", "passes", "passed", "passing"):
        return nxt == "away"  # "passes away" is a death; "passes a law" is not
    if concept == "alive" and tok == "safe":
        # "she is safe", "I'm safe": a person reported well; "safe to eat", "a safe haven" are not.
        return prev in _SAFE_SUBJECTS and nxt != "to"
    if concept == "alive" and tok == "alive" and prev.endswith(("ed", "en")):
        return False  # "buried alive", "eaten alive": manner, not survival
    if concept == "alive" and tok == "dead" and prev in ("the", "from"):
        return False  # "back from the dead", "among the dead": the dead as people
    if concept == "found" and tok in ("missing", "disappeared", "vanished"):
        # An adjective ("missing soldiers found") describes who, not the state now.
        return prev in _PERSIST or prev in ("is", "are", "was", "were", "remain", "still", "went", "gone")
    return True


def _find_figures(tokens: list[str]) -> list[Figure]:
    out: list[Figure] = []
    if _FIGURE_WORDS.isdisjoint(tokens) and not any(t[:1].isdigit() for t in tokens):
        return out
    for i, tok in enumerate(tokens):
        value: float | None = None
        if tok in ("no", "nobody", "none"):
            value = 0.0
        elif _is_number(tok) and tok.replace(",", "").replace(".", "", 1).isdigit():
            number = float(tok.replace(",", ""))
            if 1900 <= number <= 2100 and "," not in tok:
                continue  # a year
            if i > 0 and tokens[i - 1] in _MONTHS:
                continue  # a date
            value = number
        elif tok in _WORD_NUMBERS and not (tok == "one" and i > 0 and tokens[i - 1] == "no"):
            value = float(_WORD_NUMBERS[tok])
        if value is None:
            continue
        before = tokens[max(0, i - 3) : i]
        if any(t in ("another", "additional", "other", "further", "more") for t in before[-1:]):
            continue  # "another 26 missing" is a part, not the total
        j = i + 1
        if tok == "no" and tokens[j : j + 1] == ["one"]:
            j += 1
        while j < len(tokens) and tokens[j] in _SCALES:
            value *= _SCALES[tokens[j]]
            j += 1
        unit, toll = _unit(tokens[j : j + 4])
        if unit is None or (value == 0.0 and not toll):
            continue  # a bare "no" is only a figure in "no one killed", "no deaths"
        if not toll and not _counts(tok, value, tokens[i - 1] if i > 0 else "", tokens[j : j + 1]):
            continue
        if not toll and (
            (any(t in _MOVES for t in before[-2:]) and before[-1:] != ["to"]) or unit.split(":")[-1] in _EXTREMES
        ):
            continue  # "prices rise 10 cents", "falls to an eight-month low": a movement or a record, no quantity
        said_with = [t for t in before if t not in _ARTICLES and t not in _APPROX and not _is_number(t)][-1:]
        out.append(
            Figure(
                unit=unit, value=value, approximate=any(t in _APPROX for t in before),
                rising=any(t in _RISING for t in before), toll=toll,
                phrase=" ".join(tokens[max(0, i - 1) : j + 2]),
                governor=event_key(said_with[0]) if said_with and said_with[0] not in _PREPOSITIONS | _IN_ON else "",
            )
        )  # fmt: skip
    return out


def _counts(token: str, value: float, before: str, following: list[str]) -> bool:
    """Whether a number counts something of the story: "two iPads", "10,000 jobs", "three hours". A version
    ("iOS 7.1") or a model number ("iPhone 6 release") follows a name and comes before a singular noun, and a
    listicle's count counts its points."""
    after_name = bool(before) and before not in STOP_WORDS and not _verb_like(before)
    if after_name and before not in _APPROX | _RISING | _MOVES and ("." in token or value < 100):
        return False  # "iOS 7.1", "episode 11", "season 18": a version or a label, after the name it numbers
    noun = following[0] if following else ""
    if noun in _LISTICLE:
        return False
    if value == 1 or not noun or noun in STOP_WORDS or noun in _MEASURES or noun in _PLURALS or noun in _SCALES:
        return True
    return noun.endswith("s") or event_key(noun) in _TOLLS


def _unit(following: list[str]) -> tuple[str | None, bool]:
    """What a number counts: a toll ("people killed" -> dead) or the next content word ("jobs")."""
    counted: str | None = None
    for t in following:
        if t in _AUX or t in ("were", "was", "have", "has", "been"):
            continue
        key = event_key(t)
        if key in _TOLLS:
            return f"{counted or ''}:{_TOLLS[key]}", True
        if counted is None and t not in STOP_WORDS and not _is_number(t):
            if t in _GENERIC_COUNTED:
                counted = ""
                continue
            counted = key
            if t in _MEASURES:
                # A measure says nothing until what it measures: "16-foot-deep crater" and "40-foot crater"
                # give a depth and a width.
                what = next((w for w in following[following.index(t) + 1 :] if w not in STOP_WORDS), "")
                return f"{key}:{event_key(what)}" if what else key, False
            continue
        break
    return counted or None, False


def _attributed(title: str, segments: list[_Segment]) -> bool:
    """Whether the title relays someone's claim: "Congressman: X", "X - police", "officials say X",
    "X, according to Y"."""
    flat = [t for seg in segments for t in seg.tokens]
    if "according" in flat:
        return True
    if len(segments) > 1 and _SPEAKER_MARK.search(title):
        for seg in (segments[0], segments[-1]):
            if len(seg.tokens) <= _ATTRIBUTION_SPAN + 1 and any(t in _SPEAKERS for t in seg.tokens):
                return True
    for i, tok in enumerate(flat):
        if tok in _SPEECH_VERBS:
            near = flat[max(0, i - _ATTRIBUTION_SPAN) : i + _ATTRIBUTION_SPAN + 1]
            if any(t in _SPEAKERS for t in near):
                return True
    return False


_RAW_WORD = re.compile(r"[^\W_][\w'’.-]*|[:–—]|\s-\s")


@lru_cache(maxsize=8192)
def _names(title: str) -> frozenset[str]:
    """Keys of the capitalised words inside a sentence-case title: who or where the story is about, which a
    debunk shares with every other report on the same person. In Title Case or capitals nothing can tell a
    name, so there are none."""
    words = _RAW_WORD.findall(title)
    # Title Case keeps its function words small ("Adopts Boy to Keep Him from Turning into a Werewolf"): only
    # lower-case content words say the title is in sentence case.
    if sum(w[:1].islower() and len(w) > 3 and w.lower() not in STOP_WORDS for w in words) < 2:
        return frozenset()
    capitalised: list[str] = []
    after_break = True
    for k, w in enumerate(words):
        if not w[:1].isalnum():
            after_break = True
            continue
        # A capital after a break may only start the sentence, unless a capitalised word follows ("Vladimir Putin").
        # Hyphenated compounds ("Three-Headed") describe; they are not names.
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if w[:1].isupper() and "-" not in w and (not after_break or (nxt[:1].isupper() and "-" not in nxt)):
            capitalised.append(w)
        after_break = False
    return frozenset(event_key(t) for t in tokenize(" ".join(capitalised))) if capitalised else frozenset()


def _idioms(tokens: list[str]) -> frozenset[str]:
    """Events named by more than one word: "passes away" is a death."""
    return frozenset("die" for k, t in enumerate(tokens) if t in _PASS and tokens[k + 1 : k + 2] == ["away"])


@lru_cache(maxsize=16384)
def _title_phrases(title: str) -> _Phrases:
    return _Phrases([t for seg in _segments(title) for t in seg.tokens])


def summary_read(summary: str) -> str:
    """What the analysis reads of a summary: its first sentence. `analyze_text(title, summary_read(summary))` is
    `analyze_text(title, summary)`, so a story can keep this instead of the summary."""
    return re.split(r"(?<=[.!?])\s", summary.strip(), maxsplit=1)[0]


@lru_cache(maxsize=2048)
def analyze_text(title: str, summary: str = "") -> TextAnalysis:
    """Analyse one title (and summary) once; the result is shared by every comparison of that item."""
    segments = _segments(title)
    flat = [t for seg in segments for t in seg.tokens]
    claims, affirmed, refutes, answered = _find_claims(segments)
    # A title that asks and then answers with a denial ("Turkey recall? Ebola birds? USDA debunks the hoax",
    # "Batmobile stolen? Good one") tells; it does not ask.
    question = any(seg.question for seg in segments) and not answered
    hedge_words = question or any(t in _HEDGES for t in flat)
    # A denial of a rumour is no hedged denial: "rumor debunked" refutes the rumour it names.
    if question or any(t in _HEDGES and t not in _REPORT_NOUNS for t in flat):
        claims = [replace(c, strength=c.strength * 0.9) for c in claims]
    # What a denial of a whole report says did not happen: the verbs among what it covers ("thought the game was
    # gone forever, think again" denies the going). Reasserting the claim means reasserting one of them.
    # Not the verbs addressed to the reader ("the panel you keep hearing about"), and not when the denial says the
    # whole subject is unreal ("... isn't real").
    verbs = {
        event_key(t) for k, t in enumerate(flat)
        if _verb_like(t) and t not in _NOT_KEYS and not (k > 0 and flat[k - 1] in _PRONOUNS | _CONTINUING)
    }  # fmt: skip
    stated_at = [
        k for k, t in enumerate(flat)
        if k > 0 and flat[k - 1] in _CLAUSE_AUX | {"been"} and _verb_like(t) and t not in _NOT_KEYS
    ]  # fmt: skip

    def stated(claim: Claim) -> frozenset[str]:
        # The denied clause comes before its cue ("you thought X was gone forever, think again"); not the verb
        # that carries the cue itself ("was taken out of context", "was made up"), nor one after the cue, which
        # says more of the denier ("was a fake who has tricked people before").
        cue = claim.cue.split()
        cue_at = flat.index(cue[0]) if cue[0] in flat else len(flat)
        return frozenset(
            event_key(flat[k]) for k in stated_at
            if k < cue_at and flat[k] not in cue and flat[k + 1 : k + 2] != cue[:1]
        ) & claim.targets  # fmt: skip

    claims = [
        replace(c, events=c.targets & verbs, stated=stated(c) & verbs)
        if c.head is None and not c.predicate and c.targets & verbs and c.cue.split()[-1] not in _REALITY
        else c
        for c in claims
    ]
    keys = _keys(flat)
    if "away" in flat and any(t in _PASS for t in flat):
        keys |= _idioms(flat)
    # A title that denies anything asserts nothing: its other words name what it denies, or who denies.
    asserted = frozenset() if claims else keys
    if summary and not claims:
        asserted |= _keys(tokenize(summary_read(summary)))
    # Attribution is how news asserts ("..., officials say", "report says"): it is no hedge.
    # "Don't hold your breath for X": advice, which asserts X no more than a hedge does.
    advice = any(seg.tokens[0] in ("dont", "never") and not seg.question for seg in segments if seg.tokens)
    hedged = (hedge_words or advice) and not affirmed and not claims
    states = [st for seg in segments for st in _find_states(seg.tokens)]
    figures = [f for seg in segments for f in _find_figures(seg.tokens)]
    negated = frozenset(
        event_key(t)
        for seg in segments
        for k, n in enumerate(seg.tokens)
        if n in _NEGATORS or n in _FAILURE_VERBS
        for t in [t for t in seg.tokens[k + 1 : k + 6] if t not in _AUX and t not in STOP_WORDS][:3]
    )
    return TextAnalysis(
        keys, negated or _NOTHING, asserted, tuple(claims), hedged, tuple(states), tuple(figures), title, question,
        _attributed(title, segments), refutes,
    )


def doubts_a_claim(text: TextAnalysis) -> bool:
    """Whether a title that only doubts or asks aims at a claim ("NASA questions whether the crater was a meteorite",
    "doubts cast over the claim", "was it all a hoax?"), rather than calling an outcome unlikely ("default
    unlikely this year") or tagging a word ("X fake?")."""
    tokens = text.tokens
    if text.question:
        # "Was the viral video all a hoax?", "Is X an internet hoax?": the question asks whether the claim is false.
        return any(
            t in _DEBUNK_WORDS and any(w in _ARTICLES | _COPULAS for w in tokens[max(0, k - 3) : k])
            for k, t in enumerate(tokens)
        )
    return any(
        (t in _DOUBT_WORDS | _QUESTION_VERBS and any(w in _DOUBT_COMPLEMENTS for w in tokens[k + 1 : k + 3]))
        # "a story too good to check", "too good to be true": the story itself is what is doubted.
        or (t == "too" and any(tokens[k : k + len(p)] == p for p in _TOO_GOOD))
        for k, t in enumerate(tokens)
    )


def analyze(item: ItemText) -> Analysis:
    """The item with its text analysis; keep it with the story to compare later items against it cheaply."""
    return Analysis(item, analyze_text(item.title, item.summary or ""))
