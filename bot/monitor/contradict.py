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
relays a report ("reportedly", "feared", "may", a question, "officials say") asserts nothing; an item saying
what its subject claims ("priest claims he saw God") reports that claim as the story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple, Protocol

from bot.monitor.judge import shipped_judge
from bot.monitor.model import pickled_as_arguments
from bot.monitor.terms import NEWS_FURNITURE, STOP_WORDS, stem, tokenize


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
    # Shared words that are all names (in a sentence-case title) say "same people", not "same event", unless there
    # are this many of them: two full names and a place are a restatement.
    names_only_min_shared: int = 4
    # A later report that does not name the denied event asserts it all the same when it restates at least this
    # share of the denial's words (and two of them, not names).
    restated_share: float = 0.5
    # A later report restates an earlier one when they share this many words, and this share of the shorter's;
    # restating a report that a denial contradicted reverses the denial, scored by this factor.
    restate_min: int = 3
    restate_overlap: float = 0.5
    restated_factor: float = 0.8
    # A denial this strong (a denial verb, a debunk of a report, not a question) names a claim in circulation by
    # itself: a later report asserting the denied event reverses it even when the story held no report of it.
    explicit_denial: float = 0.85
    # A denial validates (may then be reversed by a later report, and carried by restatements) only when its own
    # contradiction of a report of the story scored at least this: a confident judgment, not a possible one.
    validated_min: float = 0.8
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
    retract retraction lie lies hogwash exaggerated overblown overstated duped fooled parody parodies
    misreported misquoted misinterpreted mistranslated misidentified misattributed unsubstantiated dubious
    implausible fictitious concocted
    """)
# Dismissive only when aimed at a report: "calls selfie claims crazy", not "crazy video".
_DISMISSIVE = _words("absurd ridiculous crazy laughable preposterous silly ludicrous wrong")
# Weaker: the outlet doubts the claim rather than refutes it.
# ("Questions" is not one: "questions and answers about the recall", "faces tough questions" inquire, not doubt.)
_DOUBT_WORDS = _words("doubt doubts doubted doubtful skeptical sceptical unlikely")
# The verb "question" doubts what follows when that is a clause or a report: "questions whether the crater was
# made by a meteorite", "questions the reports".
_QUESTION_VERBS = _words("question questions questioned questioning")
_CONTINUING = _words("keep keeps kept")
# Of those, the adjectives doubt a claim only when predicative ("merger unlikely", "unlikely to happen"); before
# a noun they describe it ("the most unlikely pairs of shoes").
_DOUBT_ADJECTIVES = _words("doubtful skeptical sceptical unlikely")
# Verbs that deny whatever follows them.
_DENIAL_VERBS = _words("""
    deny denies denied denying denial denials refute refutes refuted refuting rubbishes rubbished
    quash quashes quashed dispel dispels dispelled scotch scotches scotched disavow disavows disavowed
    rebut rebuts rebutted backtrack backtracks backtracked
    """)
# Verbs that deny only when their object is a report ("rejects claims", "dismissed reports", "kills rumor").
_REPORT_DENIAL_VERBS = _words("""
    reject rejects rejected rejecting dismiss dismisses dismissed dismissing rebuff rebuffs rebuffed dispute
    disputes disputed disputing shoot shoots shot knock knocks knocked kill kills killed slam slams slammed
    contradict contradicts contradicted counter counters countered mock mocks mocked mocking ridicule ridicules
    ridiculed laugh laughs laughed pull pulls pulled withdraw withdraws withdrew withdrawn blast blasts blasted
    brush brushes brushed shrug shrugs shrugged downplay downplays downplayed squash squashes squashed nix nixes
    nixed correct corrects corrected contest contests contested challenge challenges challenged
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
# Idioms too: "no wonder", "no stranger to", "no secret", "make no mistake", "no joke", "no end in sight", and
# the hedges and intensifiers of praise: "not the first", "not alone", "not bad", "not your average", "not all",
# "not that different", "not too late", "not quite".
_NEGATION_BLOCKERS = _words("""
    yet only just matter doubt longer less more sooner sure certain clear aware wonder stranger secret mistake joke
    end problem idea surprise first alone bad kidding your afraid all everyone everything always quite that so too way
    very necessarily exactly
    """)
_HEDGES = _words("""
    reportedly allegedly alleged apparently appears appear seemingly possibly purportedly purported supposedly
    rumored rumoured unconfirmed unverified may might could believed suspected
    rumor rumors rumour rumours speculation allegation allegations
    maybe perhaps probably likely probable possible feared presumed
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
_FIGURE_WORDS = frozenset(_WORD_NUMBERS) | {"no", "nobody", "none"}
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
_APPROX = _words("least more over under below within nearly about around almost some roughly approximately up than")
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
    "bitten": "bite", "alive": "live", "lives": "live", "life": "live", "sale": "sell", "sales": "sell",
    # A killing is a death: "airstrike kills ISIS leader" asserts what "ISIS leader not dead" denies.
    "kill": "die", "kills": "die", "killed": "die", "killing": "die", "slain": "die", "mortality": "die",
}  # fmt: skip

# Words that name one event or one relation the same way, for the commonest news events: "kidnapped" reports
# the capture that "captured" does; "mom" is a mother.
_SYNONYM_GROUPS = {
    "capture": "capture captures captured capturing kidnap kidnaps kidnapped kidnapping abduct abducts abducted "
               "abducting abduction",
    "separate": "segregate segregates segregated segregating segregation",
    "buy": "buy buys buying acquire acquires acquired acquiring acquisition purchase purchases purchased "
           "purchasing",
    "ban": "prohibit prohibits prohibited prohibiting prohibition outlaw outlaws outlawed",
    "mother": "mom moms mum mums mommy mother mothers",
    "father": "dad dads daddy father fathers",
    "child": "kid kids child children",
}  # fmt: skip
_SYNONYMS = {word: base for base, words in _SYNONYM_GROUPS.items() for word in words.split()}

# Opposite states: concept -> (words of the first state, words of the second state, natural direction).
# The natural direction is the order in which the states follow each other as a story develops
# (closed, then reopened): a later item moving along it is a development, not a contradiction.
_STATES: dict[str, tuple[frozenset[str], frozenset[str], bool]] = {
    "open": (_words("closed close closes shut shuts remains remain suspended"),
             _words("reopen reopens reopened reopening open opens opened resume resumes resumed stay stays staying "
                    "sticking sticks stick"), True),
    "freedom": (_words("held hostage captive detained detention custody jailed imprisoned"),
                _words("released release releases freed free frees"), True),
    "found": (_words("missing disappeared vanished"),
              _words("found located rescued recovered"), True),
    "alive": (_words("alive survived survives survivor survive living safe"),
              _words("dead die dies died killed death behead beheaded beheads beheading executed pass passes "
                     "passed passing"), True),
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

_BREAK = "zqxsegmentbreakzqx"  # a word no headline holds
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
    if word in _WORD_NUMBERS:
        return str(_WORD_NUMBERS[word])  # "two" and "2" name the same figure
    base = _IRREGULAR.get(word) or _SYNONYMS.get(word, word)
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
    if key.endswith(("ller", "sser")) and len(key) > 6:  # agent nouns: catcaller -> catcall, harasser -> harass
        key = key[:-2]
    if key.endswith("ic") and len(key) > 6:  # robotic -> robot, Islamic -> Islam
        key = key[:-2]
    elif key.endswith("an") and len(key) >= 5 and not key.endswith("man"):  # Nicaraguan -> Nicaragua
        key = key[:-1]
    return _DOUBLE.sub(r"\1", key)


# Counted things whose number only ever grows as a story develops, by event key ("killed", "deaths" -> dead).
_TOLLS = {event_key(word): toll for word, toll in _TOLL_WORDS.items()}

# --------------------------------------------------------------------------------------------------------
# Analysis of one item.


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


# A negator joined to the next word by a hyphen makes a compound modifier, not a negation: "no-confidence vote",
# "no-fly zone", "non-stop".
_NEGATED_COMPOUND = re.compile(r"\b(no|non|not)-(?=\w)", re.IGNORECASE)


# Words that open a question ("Who won", "Did she", "Is it"); "why" and "how" open explanations as often.
_QUESTION_OPENERS = _words("who what which did does do is are was were will can could should would has have")


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
            # "Who won the final", "Did she get engaged ...": a question even when the headline's "?" was cut off.
            question = question or (current[0] in _QUESTION_OPENERS and len(current) >= 3)
            out.append(_Segment(current, question, after_comma))
            current = []
        k += 1
    return out


# Contractions `tokenize` joins into one word ("you're" -> "youre"); function words all the same.
_CONTRACTIONS = _words(
    "youre theyre were im ive id hes shes thats theres whats lets weve youve youll theyll itll youd theyd"
)


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


_CLAUSE_AUX = _words("is are was were has have had will would")
_CLAIM_LINKS = _words("that of about he she it they")


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
    return frozenset([event_key(t) for t in tokens if t not in _NOT_KEYS])


# Words that never name an event: function words, negators, and the words of denying, reporting and hedging.
_NOT_KEYS = (
    STOP_WORDS | _NEGATORS | _CONTRACTIONS | _DEBUNK_WORDS | _REPORT_NOUNS | _MEDIA_NOUNS | _DENIAL_VERBS
    | _HEDGES | _AUX | NEWS_FURNITURE
)  # fmt: skip


def _negated(tokens: list[str], i: int, window: int = 3) -> bool:
    return any(t in _NEGATORS for t in tokens[max(0, i - window) : i])


# After a negator, these make it an idiom rather than the negation of the story's event.
_NOT_AN_EVENT = _words("""
    say says comment comments confirm confirms know knows disclose reveal discuss elaborate idea guess believe
    """)
_SPEECH = _words("say said says tell told tells call called calls")
_DO_NEGATORS = _words("didnt doesnt dont wont cant cannot couldnt wouldnt shouldnt hasnt havent hadnt never")
_DO_AUX = _words("did does do will would can could should has have had must")
_PRONOUNS = _words("he she it they we i you that this")
_COPULAS = _words("is are was were be been")
_CONTINUE_VERBS = _words("stop stops end ends halt halts cease ceases quit quits")


_ARTICLES = _words("a an the")
_EXISTENCE = _words("happen happens happened exist exists existed occur occurs occurred")


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
    return claim


# "X isn't real", "X is not true", "X is not what it seems": the subject itself is denied.
_REALITY = _words("real true genuine authentic legit legitimate accurate correct")


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


# Names of a genre: a parody or a satire is a kind of work ("SNL's 'Girls' parody"), and calls a report false only
# when it is said of it ("the story was satire", "turned out to be a spoof").
_GENRES = _words("parody parodies spoof spoofs spoofed satire satirical fiction fictional")
_LIES = _words("lie lies")
# Before "lie(s)", the words that make it the noun of a falsehood ("a lie", "all lies", "is lying"), not the verb of
# place ("what lies ahead", "hopes may lie with Congress").
_LIE_NOUN_BEFORE = _words("a big all outright pack such is are was were more")


_CLAUSE_BREAKS = _words("and but says say said that while as after")


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


_PREPOSITIONS = _words("with of for about by from without")
# "Five reasons not to cancel", "how not to pay": advice, not an event that did not happen.
_ADVICE = _words("reasons reason ways tips why how")
_YOU = _words("you youll youre youve youd")
_EVIDENCE = _words("evidence proof sign signs indication trace")
# Replies that answer a question headline in the negative: "Batmobile stolen? Good one", "X? Think again".
_REPLIES = (
    ["good", "one"], ["nice", "try"], ["not", "quite"], ["not", "so", "fast"], ["think", "again"],
    ["not", "really"], ["hardly"], ["nah"], ["no", "way"], ["dream", "on"], ["fat", "chance"], ["wrong"],
    ["not", "likely"], ["not", "exactly"], ["guess", "again"],
)  # fmt: skip
_FALL = _words("fall falls fell falling")
# "Fall for" a story or a picture is to be fooled by it; "fans fall for the new phone" is to like it.
_FOOLING = (
    _MEDIA_NOUNS
    | _REPORT_NOUNS
    | _DEBUNK_WORDS
    | _words("prank pranks trick tricks scam scams joke jokes tweet tweets post posts meme memes site website april")
)
_PUT = _words("put puts putting lay lays laid laying")  # "rumor put to rest", "lays rumours to rest"
_SPREAD = _words("sharing spreading believing")
_MAKE = _words("make makes made making")
_STAGE = _words("stage stages staged staging")
_RECORD_STRAIGHT = (["the", "record", "straight"], ["record", "straight"])


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


# "So he won't", "so that it doesn't", "lest", "unless": a negation stating an aim or a condition, not an event.
_PURPOSE_MARKS = _words("lest unless")


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


def _find_claims(segments: list[_Segment]) -> tuple[list[Claim], bool, bool]:
    """Denials and negations of a title, and whether it affirms a claim against a debunk ("no hoax",
    "denies hoax claims")."""
    claims: list[Claim] = []
    interjections: list[Claim] = []  # "No, ..." opening a title
    affirmed = False
    flat = [t for seg in segments for t in seg.tokens]
    if _TRIGGERS.isdisjoint(flat):
        return claims, affirmed, False  # most headlines: nothing that could deny anything
    all_keys = _keys(flat)
    debunk_keys = {event_key(w) for w in _DEBUNK_WORDS}
    offset = 0
    for s, seg in enumerate(segments):
        tokens = seg.tokens
        q = 0.85 if seg.question else 1.0
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
                if tok in ("doubt", "doubts") and before and before[-1] not in STOP_WORDS and (
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
                claim = _negation_claim(seg, i, 0.8 * q)
                if claim is None:
                    continue
                if claim.head in debunk_keys:
                    affirmed = True
                    continue
                claims.append(claim)
        offset += len(tokens)
    if interjections and not any(c.kind == "negation" and c.head is not None for c in claims):
        # "No, X did Y" denies X doing Y. When the rest negates a verb itself ("No, Saudi TV didn't blur her
        # face"), that verb is the event denied, and the "No" only stresses it; otherwise the whole rest is.
        claims = interjections + claims
    # Whether the title refutes a claim in circulation, not only says something is not so: a "No," that answers
    # it, or "X isn't real".
    refutes = bool(claims) and (bool(interjections) or any(c.cue.split()[-1] in _REALITY for c in claims))
    return claims, affirmed, refutes


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


_STAYING = _words("stay stays staying sticking sticks stick")
_SAFE_SUBJECTS = _words("is are was were im hes shes theyre were safe alive")


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


# Plurals without an s, and the nouns of a listicle: "six things to know", "10 reasons why" count the article's
# points, not anything of the story.
_PLURALS = _words("people men women children feet teeth mice geese police staff")
_LISTICLE = _words("things reasons ways tips facts questions lessons moments signs secrets takeaways rules myths")


# Words of a change, before a number: the number is by how much, not how many ("rise 10 cents", "up 3.4 cents").
_MOVES = _words("""
    up down rise rises rose fall falls fell drop drops dropped increase increases increased decrease decreases
    decreased jump jumps jumped climb climbs climbed slide slides slid slip slips slipped gain gains gained lose
    loses surge surges surged plunge plunges plunged add adds added
    """)
_EXTREMES = _words("low high record best worst lowest highest")
_IN_ON = _words("in on at to into through")


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


_MEASURES = _words("""
    foot feet ft inch inches meter meters metre metres m km kilometer kilometers kilometre kilometres mile miles
    yard yards cm mm kg kilo kilos pound pounds lb lbs ton tons tonne tonnes second seconds minute minutes hour
    hours day days week weeks month months year years
    """)


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
    if sum(w[:1].islower() and len(w) > 3 for w in words) < 2:
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


_PASS = _words("pass passes passed passing")


def _idioms(tokens: list[str]) -> frozenset[str]:
    """Events named by more than one word: "passes away" is a death."""
    return frozenset("die" for k, t in enumerate(tokens) if t in _PASS and tokens[k + 1 : k + 2] == ["away"])


_NOTHING: frozenset[str] = frozenset()


@lru_cache(maxsize=16384)
def _title_phrases(title: str) -> _Phrases:
    return _Phrases([t for seg in _segments(title) for t in seg.tokens])


@lru_cache(maxsize=8192)
def analyze_text(title: str, summary: str = "") -> TextAnalysis:
    """Analyse one title (and summary) once; the result is shared by every comparison of that item."""
    segments = _segments(title)
    flat = [t for seg in segments for t in seg.tokens]
    claims, affirmed, refutes = _find_claims(segments)
    question = any(seg.question for seg in segments)
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
    claims = [
        replace(c, events=c.targets & verbs)
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
        first_sentence = re.split(r"(?<=[.!?])\s", summary.strip(), maxsplit=1)[0]
        asserted |= _keys(tokenize(first_sentence))
    # Attribution is how news asserts ("..., officials say", "report says"): it is no hedge.
    hedged = hedge_words and not affirmed and not claims
    states = [st for seg in segments for st in _find_states(seg.tokens)]
    figures = [f for seg in segments for f in _find_figures(seg.tokens)]
    negated = frozenset(
        event_key(t)
        for seg in segments
        for k, n in enumerate(seg.tokens)
        if n in _NEGATORS
        for t in [t for t in seg.tokens[k + 1 : k + 6] if t not in _AUX and t not in STOP_WORDS][:3]
    )
    return TextAnalysis(
        keys, negated or _NOTHING, asserted, tuple(claims), hedged, tuple(states), tuple(figures), title, question,
        _attributed(title, segments), refutes,
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
    if claim.kind == "negation" and claim.subject and not claim.subject & other and len(shared) < 2:
        # Someone else's event: "the minister has not resigned" vs "the governor resigns". A denial's subject
        # is who denies ("Pentagon denies it killed ISIS chief"), whom the report it denies seldom names.
        return None
    if claim.head is not None:
        if claim.head in other:
            return shared | {claim.head}
        if (
            restated and claim.kind == "denial" and len(shared - names) >= 2
            and len(shared) >= settings.restated_share * len(claim.targets)
        ):  # fmt: skip
            # Most of what was denied, in other words: "plans to keep men and women apart" after "denies plan
            # to separate men and women on flights".
            return shared
        return None
    if restated and (
        (len(shared - names) < 2 and len(shared) < settings.names_only_min_shared)
        or len(shared) < settings.restated_share * len(claim.targets)
        or (claim.events and not shared & claim.events)
    ):
        # A report reasserting what a denial of a whole report called false must restate most of it, beyond a
        # name: one shared name is the same people, not the same claim ("nix the word 'bossy'" is no claim that
        # every later report on bossiness reverses).
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


class StoryReports:
    """The analyses of one story's reports, kept with the story and indexed by what a later report can contradict.

    `detect` given a plain sequence compares the new item with every earlier one. Given this, it visits only
    the reports that can matter (a report that denies nothing meets only the story's denials, states and
    figures), and it remembers which of the story's reports each denial contradicts, so that a restatement is
    checked against those reports alone. In a story of hundreds of reports, comparing each new one with all of
    them made detection cost grow with the story's size.
    """

    def __init__(self, analyses: Iterable[Analysis] = (), settings: ContradictionSettings | None = None) -> None:
        self.reports: list[Analysis] = []
        self._positions: dict[int | str, int] = {}
        self._settings = settings or DEFAULT_SETTINGS
        # Position of a report whose denial or negation was found to contradict earlier reports -> their
        # positions, with the score of each contradiction: only such a validated denial can be reversed or restated.
        self.contradicted: dict[int, dict[int, float]] = {}
        # Positions in `reports` of those with denials or negations, with states, with figures; and of the plain
        # ones (neither denying nor hedged): what a denial contradicts and what a later report may restate.
        self._claims: list[int] = []
        self._states: list[int] = []
        self._figures: list[int] = []
        self._plain: list[int] = []
        # (position of a report, index of one of its denial claims) -> the plain reports that denial meets, with
        # the words it meets them on, in story order. Made when first asked for, then kept up to date.
        self._denied: dict[tuple[int, int], list[tuple[int, frozenset[str]]]] = {}
        self._denied_for: ContradictionSettings | None = None
        for analysis in analyses:
            self.add(analysis)

    def __len__(self) -> int:
        return len(self.reports)

    def holds(self, item_id: int | str) -> bool:
        return item_id in self._positions

    def add(self, analysis: Analysis, found: Sequence[Contradiction] | None = None) -> None:
        """Add a report after detecting on it; `found` is what `detect` said of it (worked out when not given)."""
        if found is None:
            found = detect(analysis, self, self._settings) if self.reports else []
        position = len(self.reports)
        contradicted = {
            self._positions[c.earlier.id]: c.score
            for c in found
            if c.kind in ("denial", "negation") and c.earlier.id in self._positions
            and c.score >= self._settings.validated_min
        }
        # A question ("X fake?") doubts a claim; it is no denial for later reports to reverse or restate.
        if contradicted and not analysis.text.question:
            self.contradicted[position] = contradicted
        self.reports.append(analysis)
        self._positions[analysis.item.id] = position
        text = analysis.text
        if text.claims:
            self._claims.append(position)
        elif not text.hedged:
            self._plain.append(position)
        if text.states:
            self._states.append(position)
        if text.figures:
            self._figures.append(position)
        if self._denied_for is not None:
            if text.claims:
                self._pair_denier(position, self._denied_for)
            elif not text.hedged:
                self._pair_plain(position, self._denied_for)

    def candidates(self, new: TextAnalysis) -> list[int]:
        """Positions of the reports that `new` may contradict or reverse, in story order."""
        if new.claims:
            return list(range(len(self.reports)))
        groups = [
            group
            for wanted, group in (
                (not new.hedged, self._claims), (bool(new.states), self._states), (bool(new.figures), self._figures)
            )
            if wanted and group
        ]
        if len(groups) == 1:
            return groups[0]
        return sorted({position for group in groups for position in group})

    def has_claims(self, besides: int | str) -> bool:
        """Whether a report other than item `besides` denies or negates something."""
        return any(self.reports[position].item.id != besides for position in self._claims)

    def denied(self, settings: ContradictionSettings) -> dict[tuple[int, int], list[tuple[int, frozenset[str]]]]:
        """(report position, index of its denial claim) -> [(position of a plain report it contradicts, words)]."""
        if self._denied_for != settings:
            self._denied, self._denied_for = {}, settings
            for position in self._claims:
                self._pair_denier(position, settings)
        return self._denied

    def _pair_denier(self, position: int, settings: ContradictionSettings) -> None:
        text = self.reports[position].text
        for index, claim in enumerate(text.claims):
            if claim.kind == "denial":
                self._denied[(position, index)] = [
                    (plain, met)
                    for plain in self._plain
                    if (met := self._meets(claim, text, self.reports[plain], settings)) is not None
                ]

    def _pair_plain(self, position: int, settings: ContradictionSettings) -> None:
        report = self.reports[position]
        for (denier, index), met_list in self._denied.items():
            text = self.reports[denier].text
            met = self._meets(text.claims[index], text, report, settings)
            if met is not None:
                met_list.append((position, met))

    @staticmethod
    def _meets(
        claim: Claim, denier: TextAnalysis, report: Analysis, settings: ContradictionSettings
    ) -> frozenset[str] | None:
        return _targets_met(claim, report.text.asserted, settings, denier.names | report.text.names)


def detect(
    new: ItemText | Analysis,
    earlier: Sequence[ItemText | Analysis] | StoryReports,
    settings: ContradictionSettings = DEFAULT_SETTINGS,
) -> list[Contradiction]:
    """Contradictions between `new` and the earlier items of its story, best first.

    `earlier` may hold items or their `analyze` results, or be the story's `StoryReports`: keep one with the
    story and `add` each report after detecting on it, so each report is analysed once and compared only with
    those it can contradict. With `settings.best_per_kind`, each kind is reported once, against the earlier
    item that scores best (the earliest one on ties).
    """
    a = new if isinstance(new, Analysis) else analyze(new)
    story = (
        earlier
        if isinstance(earlier, StoryReports)
        else StoryReports((old if isinstance(old, Analysis) else analyze(old) for old in earlier), settings)
    )
    results: list[Contradiction] = []
    reports = story.reports
    judge = shipped_judge() if settings.judge else None
    for position in story.candidates(a.text):
        b = reports[position]
        if b.item.id == a.item.id:
            continue
        for kind, score, evidence in _compare(a, b, settings, position in story.contradicted):
            if judge is not None and kind in JUDGED_KINDS:
                if score < settings.propose_min:
                    continue
                score = judge.judge(b.text, a.text, kind, _same_source(a, b))
            if score >= settings.min_score:
                results.append(Contradiction(kind, b.item, a.item, evidence, round(min(1.0, score), 3)))
    # Only when an earlier report denies something can a restatement contradict.
    if a.text.claims:
        if not any(c.kind in ("denial", "negation") for c in results) and story.has_claims(a.item.id):
            results += _restated_denials(a, story, settings)
    elif not a.text.hedged and not any(c.kind == "reversal" for c in results) and story.has_claims(a.item.id):
        results += _restated_reversals(a, story, settings)
    if settings.best_per_kind:
        best: dict[str, Contradiction] = {}
        for c in results:
            if c.kind not in best or c.score > best[c.kind].score:
                best[c.kind] = c
        results = list(best.values())
    results.sort(key=lambda c: -c.score)
    return results


def _explicit(claim: Claim, text: TextAnalysis, settings: ContradictionSettings) -> bool:
    """Whether a denial names a claim in circulation by itself (a denial verb, a debunk of a report, "No, X did not
    Y", "X isn't real"), so that a later report asserting the claim reverses it even when the story held no report
    of it before. A plain negation ("I'm not bossy") is a claim of its own, not a denial of one."""
    return (claim.kind == "denial" and claim.strength >= settings.explicit_denial) or text.refutes


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


def _restates(a: TextAnalysis, x: TextAnalysis, settings: ContradictionSettings) -> frozenset[str] | None:
    """The words `a` shares with `x` when they are enough to say `a` restates `x`: most of them, and enough."""
    shared = a.keys & x.keys
    if len(shared) >= settings.restate_min and len(shared) >= settings.restate_overlap * min(len(a.keys), len(x.keys)):
        return shared
    return None


def _restated_reversals(a: Analysis, story: StoryReports, settings: ContradictionSettings) -> list[Contradiction]:
    """A later report that restates an earlier report which a denial of the story contradicted reverses that
    denial too, even in other words than the denial's ("Saudi airline to ban gender-mixing seating" restates
    "Saudi airline plans gender segregation on flights", which "airline denies plan to separate men and women"
    denied)."""
    reports = story.reports
    out: list[Contradiction] = []
    restated: dict[int, frozenset[str] | None] = {}  # position of a denied report -> words a shares with it
    for (denier, index), denied in story.denied(settings).items():
        b = reports[denier]
        claim = b.text.claims[index]
        if b.item.id == a.item.id or claim.head in a.text.negated or denier not in story.contradicted:
            continue  # a negation may be an idiom ("don't shoot"); a denial is about a report
        for position, _ in denied:
            x = reports[position]
            if x.item.id == a.item.id or position not in story.contradicted[denier]:
                continue
            if position not in restated:
                restated[position] = _restates(a.text, x.text, settings)
            shared = restated[position]
            if shared is None:
                continue
            # As sure as the denial's own contradiction of the report restated, and a little less.
            score = story.contradicted[denier][position] if settings.judge else claim.strength
            score *= settings.restated_factor
            if score >= settings.min_score:
                event = _event_name(shared, None, a.text.phrases, a.text.names | x.text.names)
                evidence = (
                    f"reversal of '{event}': '{a.text.phrases.get(event_key(event), event)}' restates the "
                    f"report that '{claim.cue}' denied"
                )
                out.append(Contradiction("reversal", b.item, a.item, evidence, round(score, 3)))
            break
    return out


def _restated_denials(a: Analysis, story: StoryReports, settings: ContradictionSettings) -> list[Contradiction]:
    """A denial that restates an earlier denial of the story ("No, a bird didn't poop on Putin" after "the video of
    a bird pooping on Putin is a hoax") contradicts the reports that one contradicted, even in other words than
    its own."""
    own = [c for c in a.text.claims if c.kind == "denial" or c.head is not None]
    if not own:
        return []
    reports = story.reports
    for (denier, index), denied in story.denied(settings).items():
        b = reports[denier]
        if b.item.id == a.item.id or denier not in story.contradicted or _restates(a.text, b.text, settings) is None:
            continue
        claim = b.text.claims[index]
        for position, met in denied:
            x = reports[position]
            if x.item.id == a.item.id or position not in story.contradicted[denier]:
                continue
            score = (story.contradicted[denier][position] if settings.judge else own[0].strength)
            score *= settings.restated_factor
            if score < settings.min_score:
                return []
            event = _event_name(met, claim.head, x.text.phrases, b.text.names | x.text.names)
            evidence = (
                f"denial of '{event}': '{own[0].cue}' restates '{claim.cue}', which denied "
                f"'{x.text.phrases.get(event_key(event), event)}'"
            )
            return [Contradiction("denial", x.item, a.item, evidence, round(score, 3))]
    return []
