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
what keeps "Tehran denies any role in the offensive" from contradicting an evacuation story.

Titles carry the stance; summaries are used only to widen what an earlier item asserted, never for cues,
because a summary of a confirmation often quotes the denial and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from bot.monitor.terms import STOP_WORDS, stem, tokenize


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
    """Thresholds of the detector. The defaults were chosen on one half of the Emergent stories."""

    # Contradictions scoring below this are not reported.
    min_score: float = 0.5
    # A denial without a single head event ("X is a hoax") must share this many words with the earlier item...
    min_shared: int = 2
    # ...and this share of the smaller of the two word sets.
    min_overlap: float = 0.2
    # A later report asserting, unhedged, what an earlier report of its story called a hoax needs fewer shared
    # words: the clusterer already put both in one story, and the hoax call covered the whole report.
    reversal_min_shared: int = 1
    # Two figures for the same thing conflict when one is at least this many times the other.
    figure_ratio: float = 1.5
    # Score factor when the earlier item only reported the event with hedging ("reportedly").
    hedged_factor: float = 0.8
    # Opposite states and figures from the same outlet are its own updates, not contradictions.
    same_source_updates: bool = True
    # Report each kind once, against the best-scoring earlier item (one alert, not one per earlier report);
    # False reports every contradicted earlier item.
    best_per_kind: bool = True


DEFAULT_SETTINGS = ContradictionSettings()


@dataclass(frozen=True, slots=True)
class Contradiction:
    """`later` (the new item) contradicts `earlier`; `evidence` names the event and the conflicting words."""

    kind: str
    earlier: ItemText
    later: ItemText
    evidence: str
    score: float


# --------------------------------------------------------------------------------------------------------
# Lexicons. General English, not tuned to any data set.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words whose presence says the reported claim is false, whatever claim it is.
_DEBUNK_WORDS = _words("""
    hoax hoaxes hoaxer hoaxers hoaxed fake fakes faked faking false falsely falsehood fabricated fabrication
    fabricating fabricate bogus untrue myth myths rubbish nonsense baseless unfounded groundless bullshit
    debunk debunks debunked debunking fiction fictional phony phoney sham spoof spoofed satire satirical
    doctored photoshopped misleading erroneous inaccurate incorrect mistaken wrongly retracts retracted
    retract retraction lie lies staged hogwash exaggerated overblown overstated
    """)
# Dismissive only when aimed at a report: "calls selfie claims crazy", not "crazy video".
_DISMISSIVE = _words("absurd ridiculous crazy laughable preposterous silly ludicrous")
# Weaker: the outlet doubts the claim rather than refutes it.
_DOUBT_WORDS = _words("doubt doubts doubted doubtful skeptical sceptical unlikely questions")
# Of those, the adjectives doubt a claim only when predicative ("merger unlikely", "unlikely to happen"); before
# a noun they describe it ("the most unlikely pairs of shoes").
_DOUBT_ADJECTIVES = _words("doubtful skeptical sceptical unlikely")
# Verbs that deny whatever follows them.
_DENIAL_VERBS = _words("""
    deny denies denied denying denial denials refute refutes refuted refuting rubbishes rubbished
    quash quashes quashed dispel dispels dispelled scotch scotches scotched disavow disavows disavowed
    """)
# Verbs that deny only when their object is a report ("rejects claims", "dismissed reports", "kills rumor").
_REPORT_DENIAL_VERBS = _words("""
    reject rejects rejected rejecting dismiss dismisses dismissed dismissing rebuff rebuffs rebuffed dispute
    disputes disputed disputing shoot shoots shot knock knocks knocked kill kills killed slam slams slammed
    contradict contradicts contradicted counter counters countered mock mocks mocked mocking ridicule ridicules
    ridiculed laugh laughs laughed
    """)
# Nouns that stand for "what was reported"; they are never the event itself.
_REPORT_NOUNS = _words("""
    report reports claim claims rumor rumors rumour rumours story stories allegation allegations suggestion
    suggestions speculation assertion assertions account accounts notion idea theory theories news article
    articles headline headlines tale tales word talk
    """)
# The medium of a report, never the event: "video is fake", "photos show".
_MEDIA_NOUNS = _words("video videos photo photos picture pictures pics image images footage clip clips")
_PLAN_WORDS = _words("plan plans planning intention intentions intends intend intent")
_NEGATORS = _words("""
    not no never nobody none neither nor didnt doesnt dont isnt arent wasnt werent hasnt havent hadnt wont
    cant cannot couldnt wouldnt shouldnt aint
    """)
# After a negator these make it something other than the negation of an event ("not yet", "no doubt").
# "Isn't sure how", "not clear whether": uncertainty about something else, not the event denied.
_NEGATION_BLOCKERS = _words("yet only just matter doubt longer less more sooner sure certain clear aware")
_HEDGES = _words("""
    reportedly allegedly alleged apparently appears appear seemingly possibly purportedly purported supposedly
    rumored rumoured unconfirmed unverified claims claim claimed claiming may might could believed suspected
    rumor rumors rumour rumours speculation allegation allegations
    sources source maybe perhaps probably likely
    """)
# Who a claim is attributed to: an item that only relays what one of these says ("Congressman: ten fighters
# caught", "Lawmaker says...", "... - police") reports the claim without asserting it, as "reportedly" does.
_SPEAKERS = _words("""
    official officials spokesman spokeswoman spokesperson lawmaker lawmakers legislator congressman
    congresswoman senator senators rep representative mayor governor police cop cops sheriff authorities
    witness witnesses eyewitness eyewitnesses expert experts source sources insider insiders aide aides
    report reports media analyst analysts activist activists
    """)
_SPEECH_VERBS = _words("say says said claim claims claimed tell tells told insist insists insisted warns warned")
_ATTRIBUTION_SPAN = 4  # a speaker word and a speech verb this close name who says it
_SPEAKER_MARK = re.compile(r":|\s[-–—]+\s")  # "Congressman: ...", "... - police"
# Auxiliaries and other words skipped between a negator and the negated event.
_AUX = _words("""
    be been being is are was were am has have had do does did will would shall should can could may might
    must get got getting gets really actually ever personally even yet still a an the any his her its their
    going gonna able
    """)
# Verbs too light to name an event: "denies taking a selfie" is about the selfie.
_LIGHT_VERBS = _words("""
    take taking took make making made have having do doing get getting give giving become becoming cause causes
    causing caused
    """)

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "dozen": 12,
}  # fmt: skip
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
_APPROX = _words("least more over nearly about around almost some roughly approximately up than")
_RISING = _words("climbs climb rises rise risen rose jumps jump soars soar reaches reach hits mounts")
_GENERIC_COUNTED = _words("people persons person others more")
_TOLL_WORDS = {"dead": "dead", "killed": "dead", "fatalities": "dead", "lives": "dead", "bodies": "dead",
               "injured": "injured", "wounded": "injured", "hurt": "injured"}  # fmt: skip
_MONTHS = _words("jan feb mar apr jun jul aug sep sept oct nov dec january february march april may june july "
                    "august september october november december")  # fmt: skip

# Irregular forms, so that "died", "dead" and "death" name one event.
_IRREGULAR = {
    "dead": "die", "death": "die", "deaths": "die", "died": "die", "dying": "die", "shot": "shoot",
    "fled": "flee", "held": "hold", "made": "make", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "won": "win", "lost": "lose", "sold": "sell", "bought": "buy", "caught": "catch",
    "seen": "see", "saw": "see", "went": "go", "gone": "go", "met": "meet", "stole": "steal",
    "stolen": "steal", "theft": "steal", "broke": "break", "broken": "break", "wrote": "write",
    "written": "write", "spoke": "speak", "spoken": "speak", "fell": "fall", "fallen": "fall",
    "began": "begin", "begun": "begin", "sank": "sink", "sunk": "sink", "struck": "strike", "fought": "fight",
    "rose": "rise", "risen": "rise", "flew": "fly", "flown": "fly", "chose": "choose", "chosen": "choose",
    "hid": "hide", "hidden": "hide", "led": "lead", "paid": "pay", "found": "find", "freed": "free",
    "brought": "bring", "thought": "think", "sent": "send", "built": "build", "kept": "keep", "felt": "feel",
    "left": "leave", "ran": "run", "drove": "drive", "driven": "drive", "ate": "eat", "eaten": "eat",
    "grew": "grow", "grown": "grow", "knew": "know", "known": "know", "threw": "throw", "thrown": "throw",
    "told": "tell", "sought": "seek", "taught": "teach", "spent": "spend", "lent": "lend", "bit": "bite",
    "bitten": "bite", "alive": "live", "lives": "live", "life": "live",
    # A killing is a death: "airstrike kills ISIS leader" asserts what "ISIS leader not dead" denies.
    "kill": "die", "kills": "die", "killed": "die", "killing": "die", "slain": "die",
}  # fmt: skip

# Opposite states: concept -> (words of the first state, words of the second state, natural direction).
# The natural direction is the order in which the states follow each other as a story develops
# (closed, then reopened): a later item moving along it is a development, not a contradiction.
_STATES: dict[str, tuple[frozenset[str], frozenset[str], bool]] = {
    "open": (_words("closed close closes shut shuts remains remain suspended"),
             _words("reopen reopens reopened reopening open opens opened resume resumes resumed"), True),
    "freedom": (_words("held hostage captive detained detention custody jailed imprisoned"),
                _words("released release releases freed free frees"), True),
    "found": (_words("missing disappeared vanished"),
              _words("found located rescued recovered"), True),
    "alive": (_words("alive survived survives survivor survive living"),
              _words("dead die dies died killed death behead beheaded beheads beheading executed"), True),
    "attend": (_words("attend attends attending travel travels travelling traveling visit visits"),
               _words("skip skips skipping boycott boycotts boycotting cancels cancelled canceled"),
               False),
    "deal": (_words("agree agrees agreed merge merges accept accepts accepted sign signs signed"),
             _words("off collapse collapses collapsed abandon abandons abandoned scrap scraps scrapped "
                       "walks walk"), False),
    "verdict": (_words("guilty convicted convicts convict"),
                _words("acquitted acquits acquit innocent cleared"), False),
}  # fmt: skip
# "Still held", "remains closed": the earlier state persists, so moving back to it is no development.
_PERSIST = _words("still remains remain remained continues continue yet")

_SEGMENT = re.compile(r"[:;!?|…]+|\s[-–—]+\s|(?<=[a-z0-9)])\.(?=\s|$)|,(?!\d)")
_DOUBLE = re.compile(r"([bdfgklmnprtvz])\1$")
_NUMBER_WITH_SCALE = re.compile(r"(\d[\d,.]*)(?:k|m|mn|bn|b|s|st|nd|rd|th)?")


# Nominalisations back to their verb: expansion -> expand, explosion -> explod(e), withdrawal -> withdraw.
_NOMINAL_SUFFIXES = (
    ("ssion", "ss"), ("nsion", "nd"), ("sion", "d"), ("tion", "t"), ("ment", ""), ("ness", ""), ("wal", "w"),
    ("val", "v"), ("sal", "s"), ("ial", "y"),
)  # fmt: skip


@lru_cache(maxsize=65536)
def event_key(word: str) -> str:
    """One key for the inflected and nominal forms of an event ("evacuate", "evacuating", "evacuation").

    `terms.stem` handles inflection; this adds irregular verbs and the usual nominalisations, and undoubles
    a final consonant on every form so that "kill" and "killed" meet.
    """
    base = _IRREGULAR.get(word, word)
    if base.isalpha() and len(base) > 6:
        for suffix, replacement in _NOMINAL_SUFFIXES:
            if base.endswith(suffix):
                base = base[: -len(suffix)] + replacement
                break
    number = _NUMBER_WITH_SCALE.fullmatch(base)
    if number:
        return number.group(1).replace(",", "")  # "72m" and "72 million" share "72"
    key = stem(base)
    if key.endswith("y"):
        key = key[:-1] + "i"  # stem leaves "fly" but makes "flies" "fli"
    if key.endswith("at") and len(key) > 6:  # evacuat(e) -> evacu, so "evacuation" (evacuat) meets it
        key = key[:-2]
    if key.endswith("en") and len(key) > 6:  # threaten -> threat, strengthen -> strength
        key = key[:-2]
    return _DOUBLE.sub(r"\1", key)


# Counted things whose number only ever grows as a story develops, by event key ("killed", "deaths" -> dead).
_TOLLS = {event_key(word): toll for word, toll in _TOLL_WORDS.items()}

# --------------------------------------------------------------------------------------------------------
# Analysis of one item.


@dataclass(frozen=True, slots=True)
class Claim:
    """A denial or negation found in a title: what it targets and how strongly."""

    kind: str  # "denial" or "negation"
    cue: str  # the denying words as written, e.g. "denies evacuating"
    head: str | None  # event key the denial is about; None when it is about the whole report
    targets: frozenset[str]  # event keys of everything the denial covers
    subject: frozenset[str]  # event keys before the cue (who denies, or whose event is negated)
    strength: float


@dataclass(frozen=True, slots=True)
class State:
    concept: str
    second: bool  # which of the concept's two states
    persists: bool  # "still", "remains"
    phrase: str


@dataclass(frozen=True, slots=True)
class Figure:
    unit: str
    value: float
    approximate: bool
    rising: bool
    toll: bool
    phrase: str


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """What the detector needs of one title and summary, independent of the item's identity."""

    keys: frozenset[str]  # event keys of all content words of the title
    negated: frozenset[str]  # keys right after a negator, idioms included ("hands up, don't shoot")
    asserted: frozenset[str]  # keys the item asserts: outside denial scopes, plus the summary's words
    phrases: dict[str, str] = field(hash=False, compare=False)  # key -> "begins evacuating", for evidence
    claims: tuple[Claim, ...] = ()
    hedged: bool = False
    states: tuple[State, ...] = ()
    figures: tuple[Figure, ...] = ()
    names: frozenset[str] = frozenset()  # keys of the names in a sentence-case title ("Vladimir Putin")


@dataclass(frozen=True, slots=True)
class Analysis:
    item: ItemText
    text: TextAnalysis


@dataclass(frozen=True, slots=True)
class _Segment:
    tokens: list[str]
    question: bool  # ends in "?"
    after_comma: bool  # follows a comma: "Ticket, not arrest" is a contrast, not a negated event


def _segments(title: str) -> list[_Segment]:
    out: list[_Segment] = []
    pos = 0
    comma = False
    for match in _SEGMENT.finditer(title + "|"):
        tokens = tokenize(title[pos : match.start()])
        if tokens:
            out.append(_Segment(tokens, "?" in match.group(), comma))
        comma = match.group() == ","
        pos = match.end()
    return out


# Contractions `tokenize` joins into one word ("you're" -> "youre"); function words all the same.
_CONTRACTIONS = _words("youre theyre were im ive id hes shes thats theres whats lets weve youve")


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
        object_follows = object_follows or scope[i] in _LIGHT_VERBS
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
    k = chunk[-1]
    while k > chunk[0] and (scope[k] in _REPORT_NOUNS or scope[k] in _MEDIA_NOUNS):
        k -= 1
    return scope[k], k


def _keys(tokens: Iterable[str]) -> frozenset[str]:
    return frozenset(
        event_key(t) for t in _content(tokens) if t not in _DEBUNK_WORDS and t not in _REPORT_NOUNS
        and t not in _MEDIA_NOUNS and t not in _DENIAL_VERBS and t not in _HEDGES
    )  # fmt: skip


def _negated(tokens: list[str], i: int, window: int = 3) -> bool:
    return any(t in _NEGATORS for t in tokens[max(0, i - window) : i])


# After a negator, these make it an idiom rather than the negation of the story's event.
_NOT_AN_EVENT = _words("""
    say says comment comments confirm confirms know knows disclose reveal discuss elaborate idea
    """)
_SPEECH = _words("say said says tell told tells call called calls")
_DO_NEGATORS = _words("didnt doesnt dont wont cant cannot couldnt wouldnt shouldnt hasnt havent hadnt never")
_DO_AUX = _words("did does do will would can could should has have had must")
_PRONOUNS = _words("he she it they we i you that this")
_COPULAS = _words("is are was were be been")
_CONTINUE_VERBS = _words("stop stops end ends halt halts cease ceases quit quits")


def _negation_claim(seg: _Segment, i: int, strength: float) -> Claim | None:
    tokens = seg.tokens
    tok = tokens[i]
    after = tokens[i + 1 :]
    if after and after[0] in _NEGATION_BLOCKERS:
        return None  # "not yet allowed home" is a development; "no doubt" affirms
    if i == 0 and tok in ("dont", "never") and not seg.question:
        return None  # imperative: "Don't shoot", "Never forget"
    if i == 0 and tok == "not" and seg.after_comma:
        return None  # contrast: "a ticket, not an arrest"
    if tok == "nobody" or (tok == "no" and after[:1] == ["one"]):
        # "No one was killed": the event is the verb, not whatever follows "no one".
        verbs = [k for k, t in enumerate(after) if _verb_like(t)]
        if not verbs:
            return None
        after = after[verbs[0] :]
    rest = [t for t in after if t not in _AUX]
    did = tok in _DO_NEGATORS or (tok == "not" and i > 0 and tokens[i - 1] in _DO_AUX)
    past = tok in ("didnt", "doesnt", "never") or (tok == "not" and i > 0 and tokens[i - 1] in ("did", "does"))
    if past and rest[:1] and rest[0] in _SPEECH and len(rest) > 1:
        # "The Pope did not say pets go to heaven": denies the reported words, not the saying.
        return Claim("denial", f"{tok} {rest[0]}", None, _keys(rest[1:]), _keys(tokens[:i]), strength)
    if (rest and rest[0] in _NOT_AN_EVENT) or (
        rest[:1] and rest[0] in _CONTINUE_VERBS and len(rest) > 1 and rest[1].endswith("ing")
    ):  # fmt: skip
        return None  # "won't say", "won't stop confronting"
    if did and rest and rest[0] not in _LIGHT_VERBS:
        # After "did not", "won't", "has not" comes the verb itself: "did not personally fly airstrikes".
        k = after.index(rest[0])
        return Claim("negation", f"{tok} {rest[0]}", event_key(rest[0]), _keys(after[k:k+5]), _keys(tokens[:i]),
                     strength)  # fmt: skip
    claim = _scoped_claim("negation", tokens, after, i + 1, i, strength, window=5)
    predicative = tok in ("isnt", "wasnt", "arent", "werent", "aint") or (
        tok == "not" and i > 0 and (tokens[i - 1] in _COPULAS or tokens[i - 1] not in STOP_WORDS)
    )
    if claim is not None and predicative and not _verb_like(rest[0] if rest else ""):
        # "Paul Rudd is not the hero who...", "NHL expansion not imminent": what is denied is the whole
        # statement about the subject, not the word after "not".
        return replace(claim, head=None, targets=_keys(tokens), subject=frozenset())
    return claim


def _attributive(tok: str, after: list[str]) -> bool:
    return tok in _DOUBT_ADJECTIVES and bool(after) and after[0] not in STOP_WORDS and not _is_number(after[0])


def _describes(after: list[str]) -> bool:
    """A dismissive adjective before a noun other than a report describes it ("crazy Apple rumors", "a crazy
    video"); before a report noun it dismisses ("absurd claims"), and after one too ("calls claims crazy")."""
    return bool(after) and after[0] not in STOP_WORDS and after[0] not in _REPORT_NOUNS and not _is_number(after[0])


# "Too good to check", "too good to be true": the outlet doubts the story it relays.
_TOO_GOOD = (["too", "good", "to", "check"], ["too", "good", "to", "be", "true"])
# After "if" or "whether" a clause is a question, not an assertion: "won't say if X was not paid".
_CONDITIONALS = _words("if whether")
# "Told not to pay", "urged not to travel": what someone was asked not to do, not an event that did not happen.
# ("Putin not to attend" is headline English for "will not attend", and stays a negation.)
_INSTRUCTED = _words("""
    told tells tell urged urges urge asked asks ask warned warns warn threatened threatens advised advises
    ordered orders pressured pressed begged begs instructed encouraged
    """)


def _find_claims(segments: list[_Segment]) -> tuple[list[Claim], bool]:
    """Denials and negations of a title, and whether it affirms a claim against a debunk ("no hoax",
    "denies hoax claims")."""
    claims: list[Claim] = []
    affirmed = False
    flat = [t for seg in segments for t in seg.tokens]
    all_keys = _keys(flat)
    debunk_keys = {event_key(w) for w in _DEBUNK_WORDS}
    offset = 0
    for s, seg in enumerate(segments):
        tokens = seg.tokens
        q = 0.85 if seg.question else 1.0
        for i, tok in enumerate(tokens):
            before = tokens[:i]
            after = tokens[i + 1 :]
            dismissive = tok in _DISMISSIVE and any(t in _REPORT_NOUNS for t in flat) and not _describes(after)
            doubt = tok in _DOUBT_WORDS and not _negated(tokens, i) and not _attributive(tok, after)
            doubt = doubt or (tok == "too" and any(after[: len(p) - 1] == p[1:] for p in _TOO_GOOD))
            if tok in _DEBUNK_WORDS or dismissive or doubt:
                if tok in _DEBUNK_WORDS and (_negated(tokens, i) or any(t in _DENIAL_VERBS for t in before)):
                    affirmed = True  # "no hoax", "denies hoax claims": a debunk denied asserts the claim
                    continue
                strength = 0.65 if tok in _DOUBT_WORDS or tok == "too" else 0.9
                # "reports that X are false": the denial is about X. Otherwise about the whole title.
                targets = all_keys
                for j in range(offset + i - 2, -1, -1):
                    if flat[j] in _REPORT_NOUNS and flat[j + 1] in ("of", "that", "about"):
                        targets = _keys(flat[j + 2 : offset + i]) or all_keys
                        break
                claims.append(Claim("denial", _phrase(tokens, i), None, targets, frozenset(), strength * q))
            elif tok in _DENIAL_VERBS or (
                (tok in _REPORT_DENIAL_VERBS or (tok == "fun" and before[-1:] in (["makes"], ["make"], ["made"],
                                                                                   ["pokes"], ["poked"])))
                and any(t in _REPORT_NOUNS for t in after[:4])
            ) or (tok in ("put", "puts") and "rest" in after[:5]):  # fmt: skip
                if tok in ("put", "puts"):
                    scope, start = tokens[:i], 0  # "rumor put to rest": the rumor comes first
                else:
                    scope, start = after, i + 1
                if any(t in _DEBUNK_WORDS for t in scope[:6]):
                    affirmed = True
                    continue
                claim = _scoped_claim("denial", tokens, scope, start, i, 0.95 * q)
                if claim is not None:
                    claims.append(claim)
            elif tok in ("no", "nope") and i == 0 and (len(tokens) == 1 or tok == "nope"):
                if s == 0:
                    # "No, X did Y": the whole rest of the title is denied.
                    rest = [t for seg2 in segments[1:] for t in seg2.tokens]
                else:
                    # "X did Y. UPDATE: Nope", "X? No, says Y": the earlier part is denied.
                    rest = [t for seg2 in segments[:s] for t in seg2.tokens]
                targets = _keys(rest)
                if targets:
                    claims.append(Claim("denial", " ".join([tok, *rest[:3]]), None, targets, frozenset(), 0.9))
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
                # "not true" refutes the preceding report, like a debunk word.
                targets = _keys(flat[: offset + i]) or all_keys
                claims.append(Claim("denial", "not true", None, targets, frozenset(), 0.9 * q))
            elif tok in _NEGATORS:
                if any(t in _CONDITIONALS for t in before) or (
                    tok == "not" and after[:1] == ["to"] and before[-1:] and before[-1] in _INSTRUCTED
                ):
                    continue  # "won't say if the family was not paid", "told not to pay": nothing negated
                claim = _negation_claim(seg, i, 0.8 * q)
                if claim is None:
                    continue
                if claim.head in debunk_keys:
                    affirmed = True
                    continue
                claims.append(claim)
        offset += len(tokens)
    return claims, affirmed


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


# Objects that make "releases" a publication, not a liberation: "ISIS releases video".
_PUBLISHED = _words("statement footage images image details data results names figures list album film song "
                       "trailer plans plan report video videos photo photos pictures")  # fmt: skip


def _find_states(tokens: list[str]) -> list[State]:
    out: list[State] = []
    for i, tok in enumerate(tokens):
        for concept, (first, second, _) in _STATES.items():
            which: bool | None = True if tok in second else False if tok in first else None
            if which is None or not _is_state(concept, tokens, i):
                continue
            negated = _negated(tokens, i, 2)
            if negated:
                which = not which
            persists = any(t in _PERSIST for t in tokens[max(0, i - 2) : i]) or negated
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
    if concept == "freedom" and (nxt in _PUBLISHED or tok in ("release", "releases", "free", "frees")):
        return tok == "free" and prev in ("set", "walks", "walk", "now", "is", "are", "was", "were")
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
        out.append(
            Figure(
                unit=unit, value=value, approximate=any(t in _APPROX for t in before),
                rising=any(t in _RISING for t in before), toll=toll,
                phrase=" ".join(tokens[max(0, i - 1) : j + 2]),
            )
        )  # fmt: skip
    return out


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


def _names(title: str) -> frozenset[str]:
    """Keys of the capitalised words inside a sentence-case title: who or where the story is about, which a
    debunk shares with every other report on the same person. In Title Case or capitals nothing can tell a
    name, so there are none."""
    words = _RAW_WORD.findall(title)
    if sum(w[:1].islower() and len(w) > 3 for w in words) < 2:
        return frozenset()
    names: set[str] = set()
    after_break = True
    for k, w in enumerate(words):
        if not w[:1].isalnum():
            after_break = True
            continue
        # A capital after a break may only start the sentence, unless a capitalised word follows ("Vladimir Putin").
        # Hyphenated compounds ("Three-Headed") describe; they are not names.
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if w[:1].isupper() and "-" not in w and (not after_break or (nxt[:1].isupper() and "-" not in nxt)):
            names.update(event_key(t) for t in tokenize(w))
        after_break = False
    return frozenset(names)


@lru_cache(maxsize=8192)
def analyze_text(title: str, summary: str = "") -> TextAnalysis:
    """Analyse one title (and summary) once; the result is shared by every comparison of that item."""
    segments = _segments(title)
    flat = [t for seg in segments for t in seg.tokens]
    claims, affirmed = _find_claims(segments)
    hedge_words = any(t in _HEDGES for t in flat) or any(seg.question for seg in segments)
    if hedge_words:
        claims = [replace(c, strength=c.strength * 0.9) for c in claims]
    keys = _keys(flat)
    # A title that denies anything asserts nothing: its other words name what it denies, or who denies.
    asserted = frozenset() if claims else keys
    if summary and not claims:
        first_sentence = re.split(r"(?<=[.!?])\s", summary.strip(), maxsplit=1)[0]
        asserted |= _keys(tokenize(first_sentence))
    phrases: dict[str, str] = {}
    for k, t in enumerate(flat):
        if t in STOP_WORDS:
            continue
        phrases.setdefault(event_key(t), _phrase(flat, k))
    hedged = (hedge_words or _attributed(title, segments)) and not affirmed and not claims
    states = [st for seg in segments for st in _find_states(seg.tokens)]
    figures = [f for seg in segments for f in _find_figures(seg.tokens)]
    negated = frozenset(
        event_key(t) for seg in segments for k, t in enumerate(seg.tokens) if _negated(seg.tokens, k, 2)
    )
    return TextAnalysis(
        keys, negated, asserted, phrases, tuple(claims), hedged, tuple(states), tuple(figures), _names(title)
    )


def analyze(item: ItemText) -> Analysis:
    """The item with its text analysis; keep it with the story to compare later items against it cheaply."""
    return Analysis(item, analyze_text(item.title, item.summary or ""))


# --------------------------------------------------------------------------------------------------------
# Comparison of two analysed items.


def _targets_met(
    claim: Claim,
    other: frozenset[str],
    settings: ContradictionSettings,
    names: frozenset[str] = frozenset(),
    min_shared: int | None = None,
) -> frozenset[str] | None:
    """The claim's event words the other item has, when they are enough to say it is the same event.

    A denial of a whole report ("X is a hoax") must share more than names with the other item: "Putin gives
    a speech" is not what "the video of a bird pooping on Vladimir Putin is a hoax" denies."""
    shared = claim.targets & other
    if claim.kind == "negation" and claim.subject and not claim.subject & other and len(shared) < 2:
        # Someone else's event: "the minister has not resigned" vs "the governor resigns". A denial's subject
        # is who denies ("Pentagon denies it killed ISIS chief"), whom the report it denies seldom names.
        return None
    if claim.head is not None:
        if claim.head not in other:
            return None
        return shared | {claim.head}
    smaller = min(len(claim.targets), len(other)) or 1
    needed = settings.min_shared if min_shared is None else min_shared
    if len(shared) >= needed and len(shared) / smaller >= settings.min_overlap and shared - names:
        return shared
    return None


def _event_name(keys: frozenset[str], head: str | None, phrases: dict[str, str]) -> str:
    key = head if head is not None else max(sorted(keys), key=len)
    return phrases.get(key, key).split()[-1]


def _compare(new: Analysis, old: Analysis, settings: ContradictionSettings) -> list[tuple[str, float, str]]:
    a, b = new.text, old.text
    found: list[tuple[str, float, str]] = []
    hedge = settings.hedged_factor if b.hedged else 1.0
    # A hedged report asserts nothing, so there is nothing for a denial to contradict.
    for claim in a.claims if not b.hedged else ():
        met = _targets_met(claim, b.asserted, settings, a.names | b.names)
        if met is None or claim.head in b.negated:  # both negate it: they agree
            continue
        event = _event_name(met, claim.head, b.phrases)
        score = claim.strength * (0.85 + 0.15 * len(met) / max(1, len(claim.targets)))
        label = "denial" if claim.kind == "denial" else "negation"
        earlier_phrase = b.phrases.get(claim.head or "", "") or b.phrases.get(event_key(event), event)
        found.append((label, score, f"{label} of '{event}': '{claim.cue}' vs '{earlier_phrase}'"))
    if not a.hedged and not a.claims:
        for claim in b.claims:
            met = _targets_met(claim, a.asserted, settings, a.names | b.names, settings.reversal_min_shared)
            if met is None or claim.head in a.negated:
                continue
            event = _event_name(met, claim.head, a.phrases)
            later_phrase = a.phrases.get(claim.head or "", "") or a.phrases.get(event_key(event), event)
            score = claim.strength * 0.95 * (0.85 + 0.15 * len(met) / max(1, len(claim.targets)))
            found.append(("reversal", score, f"reversal of '{event}': '{later_phrase}' after '{claim.cue}'"))
    if settings.same_source_updates and new.item.source and new.item.source == old.item.source:
        return found
    if a.claims and b.claims:
        return found  # two items that both deny something agree; their states and figures are the denied ones
    if a.states and b.states and len(a.keys & b.keys) >= 2:
        for sa in a.states:
            for sb in b.states:
                if sa.concept != sb.concept or sa.second == sb.second:
                    continue
                # Closed then reopened, missing then found: the story moved on. Moving back needs the later
                # report to insist ("remains closed", "still missing", "not released") since a road can
                # close again; only death does not reverse, so "found alive" after "killed" always counts.
                if _STATES[sa.concept][2] and (sa.second or not (sa.persists or sa.concept == "alive")):
                    continue
                found.append(("opposite", 0.8 * hedge, f"opposite {sa.concept}: '{sa.phrase}' vs '{sb.phrase}'"))
    for fa in a.figures:
        for fb in b.figures:
            if fa.unit != fb.unit or fa.value == fb.value or not _figures_conflict(fa, fb, settings):
                continue
            found.append(
                ("figures", 0.75 * hedge, f"figures for '{fa.unit.strip(':')}': '{fa.phrase}' vs '{fb.phrase}'")
            )
    return found


def _figures_conflict(later: Figure, earlier: Figure, settings: ContradictionSettings) -> bool:
    if (later.value == 0.0) != (earlier.value == 0.0):
        return True  # "no one was killed" against any toll, in either order
    low, high = sorted((later.value, earlier.value))
    if high < low * settings.figure_ratio:
        return False
    if later.value > earlier.value:
        # Tolls grow; "at least"/"climbs to" announce growth; an earlier lower bound allows more.
        return not (later.toll or later.rising or later.approximate or earlier.approximate)
    return not (later.approximate and earlier.approximate)


def detect(
    new: ItemText | Analysis,
    earlier: Sequence[ItemText | Analysis],
    settings: ContradictionSettings = DEFAULT_SETTINGS,
) -> list[Contradiction]:
    """Contradictions between `new` and the earlier items of its story, best first.

    `earlier` may hold items or their `analyze` results; pass analyses kept with the story to avoid
    re-analysing (analyses are also cached by text). With `settings.best_per_kind`, each kind is reported
    once, against the earlier item that scores best (the earliest one on ties).
    """
    a = new if isinstance(new, Analysis) else analyze(new)
    results: list[Contradiction] = []
    for old in earlier:
        b = old if isinstance(old, Analysis) else analyze(old)
        if b.item.id == a.item.id:
            continue
        for kind, score, evidence in _compare(a, b, settings):
            if score >= settings.min_score:
                results.append(Contradiction(kind, b.item, a.item, evidence, round(min(1.0, score), 3)))
    if settings.best_per_kind:
        best: dict[str, Contradiction] = {}
        for c in results:
            if c.kind not in best or c.score > best[c.kind].score:
                best[c.kind] = c
        results = list(best.values())
    results.sort(key=lambda c: -c.score)
    return results
