"""Streaming story clustering: each incoming report joins an open story or starts a new one, immediately.

Pure in-memory Python: no database, no Telegram, no network. The caller persists what `assign` returns and,
after a restart, replays the stored memberships through `restore` (or `add_existing`).

How an item is matched
----------------------
1. The headline (and summary, when present) is normalised (`bot.monitor.terms`): feed furniture and source
   suffixes go, words are folded and stemmed, stop words and negations dropped. Negations are dropped on
   purpose: "Putin to attend summit" and "Putin will not attend summit" are one story; the contradiction
   detector works inside stories. Phrases (two adjacent headline words, order ignored) are terms too, at
   `phrase_weight`: a report of the same claim repeats its phrases ("third breast", "stolen Batmobile"),
   while a different claim about the same subject shares the subject's words and little else. A summary
   word that most recent summaries of the same feed had (boilerplate: "Read more at ...", a copyright
   line) is left out (`boilerplate_share`).
2. Words are weighted by inverse document frequency, maintained as items arrive, so a word seen in many
   reports ("Iran", "police") counts for little and a rare one ("evacuation", "Foley") for much.
3. Candidates come from an inverted index from term to open stories, queried with the item's rarest terms
   only (terms in more than `max_postings` open stories are skipped), and only the `max_candidates` stories
   sharing the most rare-term weight are scored: the cost per item is bounded, whatever the number of open
   stories.
4. Each candidate is scored against what the story is about: the cosine between the item's TF-IDF vector
   and the story's centroid (how many of its reports used each term), and, for near-duplicate wording,
   rapidfuzz's `token_sort_ratio` against a few representative headlines. `token_set_ratio` is not used:
   it scores 100 whenever one headline's words are a subset of the other's.
5. The best candidate wins if its score clears `join_threshold`, raised by up to `time_penalty` as the gap
   since the story's last report grows to `time_window_hours`: a report days later needs stronger evidence.
   The shared words must also carry `min_coverage` of the item's weight, so one common word is not enough,
   and that share must grow with the same gap, up to `min_coverage + coverage_penalty`: a story that went
   quiet even briefly only takes an item it explains, not one that merely names the same subject. This is
   what stops topic chaining ("Apple Watch to cost 5,000" joining "Apple Watch health features cut" an hour
   later because both say "Apple Watch"): against a story whose every report names the subject, such an
   item scores a high cosine, but most of its own weight is words the story never used.
   Coverage counts words only: phrases repeat their words' evidence. A figure the report shares counts only
   beside a shared word or with two shared words besides ("3" is in a copper strike's "up 3%" and a cable
   theft's "3 km"). A report whose one shared word is all it has of a young story's claim (`subject_coverage`:
   the story's two or three reports agree on more words than that one) names the story's subject, not its
   claim, and needs that word to be a good part of its own weight, however recent the story is. When that
   one word is written in lower case (by the report's headline or summary, or in the story's title) it is a
   common word, which many events share ("copper", "hit", "jobs"), not a name ("Haines", "Crabzilla"), and
   the report needs it to be half its weight, whatever the story's size (`common_subject_coverage`): "Thieves
   steal copper wire" is not a development of a copper mine strike, nor "Gold hits record high" of "Floods
   hit southern Brazil". A summary is prose in sentence case: it tells a title-case headline's common words.
   A word the report capitalises inside a sentence is a name even where another outlet wrote it in lower
   case ("Tor" in "Comcast says Tor users are welcome", after "Setting the record straight on tor").
6. Second chance (signatures): a story that went quiet can still take a late report of its claim that the
   time requirements above would turn away, when the report names at least `signature_words` of the
   story's signature words: words its reports used often (`signature_share`) and that no other open story
   has used ("Tridevil", "Batmobile", "Bieber"). Neighbouring signature words that the story nearly always
   has side by side count once ("Kim Jong-un" is one name), and a word that another open story also uses
   is a subject several claims share, not a signature. Such a story has `signature_relief` of the time
   penalty and of the coverage ramp waived, and it is chosen only when no candidate takes the item on the
   ordinary terms.
7. A story's own rhythm: a story has gone quiet once its silence exceeds `quiet_paces` times its pace, the
   typical interval between its reports (its span over its intervals, shrunk toward `time_scale_hours` as if
   it had `pace_prior` more intervals of that length). A story that has gone quiet takes a report on the
   ordinary terms only when the report names at least `quiet_signatures` of its signature words (point 6).
   Thirty reports within a minute followed by an hour of silence is a story that has run its course; a
   story that has had a report every few hours has not, after the same hour. Without this, a loosely worded
   report of a new event ("Stocks slip on news from Asia") joins the last story about the same subject
   hours later, resets its silence, and hands every further report of the new event a free pass: the
   chain that merges distinct stories of one subject (a day's market reports, an Apple Watch claim and
   the next one). The report that reopens a story after a real development names what the story is about
   ("Tridevil", "Banksy"); a new event on the same subject names only the subject, which other stories
   share. A story's first report has no rhythm of its own: its pace is `time_scale_hours`.
8. Among the candidates that may take the item, the one with the largest margin over its requirement wins;
   a story receiving many reports right now gets a bonus (`momentum`, fading over `momentum_hours`), so a
   loosely worded report during a burst joins the burst's story rather than a small side story. The bonus
   only ranks: it never lets an item join a story it could not join anyway.
9. Cold start: while fewer than `cold_start_stories` stories exist, word rarity means little (every word
   is rare), so the join threshold is raised by up to `cold_start_threshold`.
10. A story is closed once it has been quiet for `close_after_hours` (of published time); closed stories are
   candidates again only for point 11.
11. Late and re-worded disputes: a report that denies, refutes or negates something (a word of
   `terms.DENIAL_WORDS` or `terms.NEGATIONS`) and that no story takes on the terms above gets a second lookup,
   among the open stories and those that closed with a report in the last `recall_days`. It joins the story
   whose claim it names: at least `recall_words` of the words most of the story's reports used (its subject
   and predicate: more than `recall_share` of its reports), carrying at least `recall_claim_share` of those words'
   weight (by rarity) and `recall_coverage` of the report's own (its headline's, the denial's words aside).
   A name spelt another way ("Mansoori" for "Mansouri") matches by rapidfuzz's ratio from `recall_fuzzy`.
   A denial days or weeks after the claim shares little else with it: "Bettman says NHL expansion not
   imminent", five weeks after "Bettman has changed his tune on NHL expansion". A closed story that takes a
   report opens again.

Story ids
---------
The clusterer allocates story ids itself: monotonically increasing ints starting at `next_story_id`.
`restore` moves the counter past the largest restored id, so the storage layer can insert stories with the id
it is given (SQLite accepts explicit INTEGER PRIMARY KEY values) and ids never collide after a restart.
"""

from __future__ import annotations

import math
import pickle
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from rapidfuzz import fuzz, process

from bot.monitor.coldterms import ColdTerms
from bot.monitor.model import pickled_as_arguments
from bot.monitor.terms import (
    DENIAL_WORDS,
    NEGATIONS,
    NEWS_FURNITURE,
    STOP_WORDS,
    capitalised_words,
    is_plain_statement,
    is_roundup,
    lowercase_words,
    normalize_headline,
    stem,
    tokenize,
)

_CLUSTER_STOP_WORDS: frozenset[str] = STOP_WORDS | NEGATIONS | NEWS_FURNITURE
# The denial's own words ("denies", "hoax") say what the report does with the claim, not which claim it is.
_DENIAL_KEYS: frozenset[str] = frozenset(stem(word) for word in DENIAL_WORDS)


def _disputes(words: ItemWords) -> bool:
    """Whether the headline denies, refutes or negates something (module doc, point 11). A question does not:
    it asks about a claim, and may ask about a new one."""
    return any(token in NEGATIONS or token in DENIAL_WORDS for token in words.tokens)


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class ItemWords:
    """An item's words as the clusterer reads them. They depend on the item's text and source alone, so the
    process that parsed the item can make them (`item_words`) while the clusterer's thread is busy."""

    headline: str  # the headline without feed furniture (`terms.normalize_headline`), possibly empty
    tokens: tuple[str, ...]  # the headline's words in order, as written (folded)
    keys: tuple[str | None, ...]  # the stem of each of `tokens`, None for a stop word
    summary: tuple[tuple[str, str], ...]  # (stem, word) of the summary's content words, each stem once, in order
    plain: bool  # whether the headline states the news plainly (`terms.is_plain_statement`)
    roundup: bool = False  # whether it heads a live page or a round-up (`terms.is_roundup`): never a title
    # Stems of the content words the headline or the summary writes in lower case (`terms.lowercase_words`): a
    # summary is prose in sentence case, which tells a common word from a name where a title-case headline
    # does not.
    lowercase: frozenset[str] = frozenset()
    capitalised: frozenset[str] = frozenset()  # stems they capitalise inside a sentence: names


def item_words(title: str, summary: str, source: str) -> ItemWords:
    """The words of an item for `StoryClusterer.assign`."""
    headline = normalize_headline(title, source)
    tokens = tuple(tokenize(headline))
    summary_words: dict[str, str] = {}
    for word in tokenize(summary, _CLUSTER_STOP_WORDS) if summary else ():
        summary_words.setdefault(stem(word), word)
    return ItemWords(
        headline,
        tokens,
        tuple(None if word in _CLUSTER_STOP_WORDS else stem(word) for word in tokens),
        tuple(summary_words.items()),
        is_plain_statement(headline or title),
        is_roundup(title),
        _content_stems(lowercase_words, headline, summary),
        _content_stems(capitalised_words, headline, summary),
    )


def _content_stems(words_of: Callable[[str], list[str]], *texts: str) -> frozenset[str]:
    # The stems of the content words that `words_of` picks out of each text.
    return frozenset(stem(word) for text in texts if text for word in words_of(text) if word not in _CLUSTER_STOP_WORDS)


@dataclass(frozen=True)
class ClusterSettings:
    """Thresholds and windows of the clustering. One configuration serves every feed mix; see the module doc."""

    # Minimum score (0..1) for an item to join its best candidate story that is still receiving reports.
    # Low on purpose: the score is a cosine over IDF-weighted words, and one rare shared name is already
    # evidence; what keeps unrelated stories apart is the time requirement below and IDF.
    join_threshold: float = 0.05
    # Extra score required as the gap since the story's last report grows, reaching `time_penalty` at
    # `time_window_hours`. It grows with log(1 + gap / time_scale_hours), so the first hours of silence
    # matter more than the fifth day: a report a week later must share the story's distinctive words.
    time_penalty: float = 0.6
    time_window_hours: float = 72.0
    time_scale_hours: float = 1.0
    # A story with no report for this long (in published time) is closed and no longer a candidate.
    close_after_hours: float = 14 * 24.0
    # Candidates come from the postings of this many of the item's rarest terms...
    query_terms: int = 8
    # ...skipping terms shared by more open stories than this: they cannot discriminate, and scanning them
    # would make the cost per item grow with the number of open stories.
    max_postings: int = 60
    # At most this many candidates (those sharing the most rare-term weight with the item) are scored.
    max_candidates: int = 24
    # Weight of a word seen only in the summary, relative to a headline word (summaries are longer and
    # wordier than headlines, so they must not swamp them).
    summary_weight: float = 0.5
    # Headlines kept per story for rapidfuzz near-duplicate checks: the first one and the latest ones.
    representatives: int = 4
    # rapidfuzz `token_sort_ratio` (only from 90 up, headlines of four words or more) scaled by this
    # competes with the cosine, so syndicated copies with small edits join even when the story's centroid
    # has drifted away from their wording.
    fuzzy_weight: float = 0.8
    # Share of the item's squared IDF weight that must be words of the story: a story that is receiving
    # reports right now needs only a low cosine, and this stops one common word ("Iran") from being enough.
    min_coverage: float = 0.05
    # Extra coverage required as the gap since the story's last report grows, reaching `coverage_penalty`
    # at `time_window_hours` on a log ramp that starts after minutes (`coverage_scale_hours`) rather than
    # hours: reports of one claim arrive in bursts, and a different claim about the same subject shares
    # only the subject, so it is mostly words the story has not used.
    coverage_penalty: float = 0.45
    coverage_scale_hours: float = 0.1
    # A report that shares a single word (figures aside, and no phrase) with a story of at most
    # `subject_reports` reports, whose reports agree on two words or more besides, names the story's subject
    # and not its claim: that word must carry at least `subject_coverage` of the report's weight, at any gap.
    # 0 turns the rule off.
    subject_coverage: float = 0.12
    subject_reports: int = 3
    # The same at any size, when the one shared word is written in lower case, by the report's headline or
    # summary or in the story's title: a common word ("copper", "bank", "jobs") is a subject many events
    # share, where a name ("Haines", "Crabzilla") is one event's. The word must then be this share of the
    # report's weight, so "Thieves steal copper wire" is not a development of a copper mine strike. 0 turns
    # the rule off.
    common_subject_coverage: float = 0.5
    # Rarity counted over stories ("in how many stories does this term occur") rather than over reports: a
    # name repeated by 300 reports of one story is still distinctive of that story.
    story_idf: bool = True
    # --- Phrases, signatures, rhythm, momentum, cold start, boilerplate (module doc, points 1 and 6 to 9) ---
    # Weight of a phrase (two headline words next to each other once stop words are dropped, order ignored:
    # "third breast", "stolen batmobile") as a term of its own, relative to a headline word. 0: no phrases.
    phrase_weight: float = 0.4
    # A word is a signature of a story when its count there (1 per headline, `summary_weight` per summary
    # that has it and the headline not) reaches this share of the story's reports...
    signature_share: float = 0.5
    # ...and no other open story has used it at all. An item whose headline names this many signature words
    # (a name of several words counts once) of a story that went quiet has `signature_relief` of the time
    # penalty and of the coverage ramp waived for that story, if no story takes it on the ordinary terms.
    signature_words: int = 2
    signature_relief: float = 0.7
    # A story has gone quiet once the gap since its last report exceeds `quiet_paces` times its pace: the typical
    # interval between its reports, (last report - first report) / (reports - 1), shrunk toward
    # `time_scale_hours` as if the story had `pace_prior` more intervals of that length (so a story of two
    # reports a second apart is not deemed to run on seconds). A story that has gone quiet takes a report on the
    # ordinary terms only if the report's headline names at least `quiet_signatures` of its signature words:
    # a burst that has run its course is reopened by a report of its claim, not by any report on its subject.
    # 0 `quiet_paces` turns the rule off.
    quiet_paces: float = 4.0
    pace_prior: float = 2.0
    quiet_signatures: int = 1
    # Among the stories an item may join, one receiving many reports right now is preferred: its margin gains
    # `momentum * ln(reports) * exp(-hours since its last report / momentum_hours)`. Ranking only: it never
    # lets an item join a story it could not join otherwise.
    momentum: float = 0.04
    momentum_hours: float = 0.5
    # While the clusterer has seen fewer than `cold_start_stories` stories, word rarity means little, so the
    # join threshold is raised by `cold_start_threshold`, fading linearly to nothing at `cold_start_stories`.
    cold_start_threshold: float = 0.05
    cold_start_stories: int = 20
    # A summary word that at least this share of a feed's recent summaries had (a sentence every summary of
    # the feed ends with, a copyright line) says nothing about the report: it is left out. 0 keeps them all.
    boilerplate_share: float = 0.6
    boilerplate_min_summaries: int = 2
    # --- Late and re-worded disputes (module doc, point 11) ---
    # How long after its last report a closed story can still take a report that disputes its claim. 0: never,
    # and no second lookup for open stories either.
    recall_days: float = 30.0
    # The claim's words: those more than this share of the story's reports used.
    recall_share: float = 0.5
    # The report must name this many of them, carrying this share of the claim's squared word weight (IDF)...
    recall_words: int = 2
    recall_claim_share: float = 0.5
    # ...and this share of the report's own (its headline's, the denial's words aside).
    recall_coverage: float = 0.25
    # A word of the report matches a claim's word spelt otherwise from this rapidfuzz ratio (words of five
    # letters or more); 100 turns spelling variants off.
    recall_fuzzy: float = 85.0

    def __post_init__(self) -> None:
        if not 0.0 < self.join_threshold <= 1.0:
            raise ValueError("join_threshold must be in (0, 1]")
        if self.time_penalty < 0 or self.time_window_hours <= 0 or self.close_after_hours <= 0:
            raise ValueError("time_penalty must be >= 0, time_window_hours and close_after_hours > 0")
        if not 0.0 <= self.min_coverage < 1.0:
            raise ValueError("min_coverage must be in [0, 1)")
        if self.coverage_penalty < 0 or self.min_coverage + self.coverage_penalty >= 1.0:
            raise ValueError("coverage_penalty must be >= 0 and min_coverage + coverage_penalty < 1")
        if not 0.0 <= self.subject_coverage < 1.0 or self.subject_reports < 2:
            raise ValueError("subject_coverage must be in [0, 1) and subject_reports >= 2")
        if not 0.0 <= self.common_subject_coverage < 1.0:
            raise ValueError("common_subject_coverage must be in [0, 1)")
        if self.time_scale_hours <= 0 or self.coverage_scale_hours <= 0:
            raise ValueError("time_scale_hours and coverage_scale_hours must be > 0")
        if min(self.query_terms, self.max_postings, self.max_candidates, self.representatives) < 1:
            raise ValueError("query_terms, max_postings, max_candidates and representatives must be >= 1")
        if not 0.0 <= self.phrase_weight <= 1.0:
            raise ValueError("phrase_weight must be in [0, 1]")
        if not 0.0 < self.signature_share <= 1.0 or self.signature_words < 1:
            raise ValueError("signature_share must be in (0, 1] and signature_words >= 1")
        if not 0.0 <= self.signature_relief <= 1.0:
            raise ValueError("signature_relief must be in [0, 1]")
        if self.quiet_paces < 0 or self.pace_prior <= 0 or self.quiet_signatures < 1:
            raise ValueError("quiet_paces must be >= 0, pace_prior > 0 and quiet_signatures >= 1")
        if self.momentum < 0 or self.momentum_hours <= 0:
            raise ValueError("momentum must be >= 0 and momentum_hours > 0")
        if self.cold_start_threshold < 0 or self.cold_start_stories < 0:
            raise ValueError("cold_start_threshold and cold_start_stories must be >= 0")
        if not 0.0 <= self.boilerplate_share <= 1.0 or self.boilerplate_min_summaries < 1:
            raise ValueError("boilerplate_share must be in [0, 1] and boilerplate_min_summaries >= 1")
        if self.recall_days < 0 or not 0.0 <= self.recall_share < 1.0 or self.recall_words < 1:
            raise ValueError("recall_days must be >= 0, recall_share in [0, 1) and recall_words >= 1")
        if not 0.0 <= self.recall_claim_share <= 1.0 or not 0.0 <= self.recall_coverage <= 1.0:
            raise ValueError("recall_claim_share and recall_coverage must be in [0, 1]")
        if not 0.0 <= self.recall_fuzzy <= 100.0:
            raise ValueError("recall_fuzzy must be in [0, 100]")


@dataclass(frozen=True)
class Assignment:
    """Where an item went and why.

    `score` is the item's similarity (0..1) to the story it joined, before the time requirement: the larger of
    the centroid cosine and the scaled near-duplicate ratio; 0.0 for a new story. `shared_terms` are the words
    (one surface form per stem) the item shares with the story, heaviest first, at most eight.
    """

    story_id: int
    is_new: bool
    score: float
    shared_terms: tuple[str, ...]
    reopened: bool = False  # the story had closed, and the item opened it again (module doc, point 11)


@dataclass(slots=True, eq=False)
class _Story:
    # Slotted, and its small sequences tuples: a story is open for weeks (130,000 of them at a month of a busy
    # pool), so every container per story counts.
    id: int
    first_seen: datetime
    last_seen: datetime
    size: float = 0.0
    # term -> summed weight over the story's items (1.0 per headline occurrence), in the order the terms came:
    # a dict (`held`) while the story is among the clusterer's recently used ones, else packed as its terms
    # and an array of their weights, in that order (`pack`): a dict and a float object per term were a fifth
    # of an open story's memory, and most open stories are quiet, read only when a report names their words.
    # Read it as `counts`.
    held: dict[str, float] | None = field(default_factory=dict)
    terms: tuple[str, ...] = ()
    weights: array | None = None
    # Sums from which the squared norm of the TF-IDF centroid follows for any collection size (see
    # `_story_sq_norm`); all zero means "not counted yet".
    norm_sums: tuple[float, float, float] = (0.0, 0.0, 0.0)
    norm_base: int = 0
    title: str = ""
    # The title's vector as its terms and their weights, in order (two tuples take a third of a dict's room;
    # the title's vector is read only when the title is challenged: `title_terms`).
    title_keys: tuple[str, ...] = ()
    title_weights: tuple[float, ...] = ()
    title_plain: bool = False
    title_roundup: bool = False
    # Members whose headline states the news plainly (see `terms.is_plain_statement`).
    plain: int = 0
    # Fuzzy keys (content words, sorted) of a few member headlines: the first one and the latest ones.
    reps: tuple[str, ...] = ()
    # Those of `reps` long enough to be compared (`_MIN_FUZZY_KEY`), in the same order (`reps` itself when
    # they all are).
    long_reps: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, float]:
        """term -> weight, in the order the terms came (made anew from the packed form when packed)."""
        held = self.held
        return held if held is not None else dict(zip(self.terms, self.weights, strict=True))  # type: ignore[arg-type]

    def term_order(self) -> Iterable[str]:
        """The story's terms, in the order they came, without unpacking."""
        held = self.held
        return self.terms if held is None else held

    def count_items(self) -> Iterable[tuple[str, float]]:
        """(term, weight) in the order the terms came, without unpacking."""
        held = self.held
        return zip(self.terms, self.weights, strict=True) if held is None else held.items()  # type: ignore[arg-type]

    def count(self, term: str) -> float:
        """The weight of a term the story has."""
        held = self.held
        return self.weights[self.terms.index(term)] if held is None else held[term]  # type: ignore[index]

    def pack(self) -> None:
        held = self.held
        if held is not None:
            self.terms = tuple(held)
            self.weights = array("d", held.values())
            self.held = None

    def unpack(self) -> dict[str, float]:
        held = self.held
        if held is None:
            held = self.held = dict(zip(self.terms, self.weights, strict=True))  # type: ignore[arg-type]
            self.terms = ()
            self.weights = None
        return held

    @property
    def title_terms(self) -> dict[str, float]:
        """The title's vector (term -> weight), in the order the vector had."""
        return dict(zip(self.title_keys, self.title_weights, strict=True))

    def _fields(self) -> tuple:
        return (self.id, self.first_seen, self.last_seen, self.size, self.counts, self.norm_sums, self.norm_base,
                self.title, self.title_keys, self.title_weights, self.title_plain, self.title_roundup, self.plain,
                self.reps, self.long_reps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Story) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class _Parked:
    """A closed story kept for `recall_days` (module doc, point 11), parked: its state pickled and compressed,
    about a sixth of its memory as objects, and its claim words. Read back whole (`story`) only when a late
    dispute names its claim or a report opens it again, as the same state it was closed with. Kept as objects,
    the stories closed in the last month were half of a busy bot's memory."""

    last_seen: datetime
    claim: tuple[str, ...]
    data: bytes

    @classmethod
    def of(cls, story: _Story, claim: list[str]) -> _Parked:
        state = zlib.compress(pickle.dumps(story, protocol=pickle.HIGHEST_PROTOCOL), 1)
        return cls(story.last_seen, tuple(claim), state)

    def story(self) -> _Story:
        return pickle.loads(zlib.decompress(self.data))


# Open stories whose counts are kept as dicts, the ones used last (`StoryClusterer._held`); the others are
# packed (`_Story.pack`). Enough for the stories of the last hours of a busy pool, a small part of the open ones.
_HELD_STORIES = 4096
# When a story takes up a term held by at most this many open stories, their norms follow the term's new
# rarity at once (see `_shift_offset`); commoner terms, whose rarity barely moves, wait for the next recount.
_SHIFT_POSTINGS = 16
# How much more central than the story's title a headline must be to replace it: a title that changed with
# every report of similar weight would name the story differently in each alert.
_TITLE_MARGIN = 0.25
# Words (not figures) in common with a story from which a report's figures count as evidence of joining it.
_MIN_SHARED_WORDS = 2
# Words of a young story's claim that a report must leave unnamed, besides the one it shares, before it counts
# as naming only the subject (`subject_coverage`).
_SUBJECT_CLAIM_WORDS = 2
_MIN_FUZZY_KEY = 24  # characters of sorted content words: about four words
_FUZZY_CUTOFF = 90.0


# Phrase terms are two word stems joined by this character, which no stem contains (`terms.tokenize` keeps
# letters, digits and decimal points only): "batmobil+stolen".
_PHRASE_JOINER = "+"


def _is_phrase(term: str) -> bool:
    return _PHRASE_JOINER in term


def _is_figure(term: str) -> bool:
    return term.replace(".", "").replace(",", "").isdigit()


def _fuzzy_key(vector: dict[str, float]) -> str:
    return " ".join(sorted(t for t in vector if _PHRASE_JOINER not in t))


class _IdfTable(dict[int, float]):
    """IDF by term frequency (stories, or reports, holding the term) for one collection size, filled on demand.

    Every term with the same frequency has the same IDF, and frequencies are small numbers shared by many terms,
    so a table per collection size replaces a logarithm per term lookup (millions per thousand items) with a
    dictionary hit. The formula is the one `StoryClusterer._idf` documents, so values are bit-identical.
    """

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __missing__(self, freq: int) -> float:
        # Smoothed so a term seen once is not infinitely rare and a term in every report still weighs a little.
        value = self[freq] = math.log((self.size + 1) / (freq + 1)) + 1.0
        return value


_dict_get = dict.get


class _StoryFrequencies(dict[str, int]):
    """Term -> the number of stories that have held it: the terms of open stories in the dict itself, those
    that no open story holds any more in `cold` (`coldterms.ColdTerms`), where they take a tenth of the
    memory. The terms of closed stories were most of the memory of a clusterer that had run for long."""

    __slots__ = ("cold",)

    def __init__(self) -> None:
        super().__init__()
        self.cold = ColdTerms()

    def get(self, term: str, default: int = 0) -> int:  # type: ignore[override]
        value = _dict_get(self, term)
        return self.cold.get(term, default) if value is None else value

    def cool(self, term: str) -> None:
        """No open story holds `term` any more: its count moves to `cold`."""
        self.cold.put(term, self.pop(term))

    def heat(self, term: str) -> None:
        """An open story holds `term` again without taking it up anew (a closed story reopened): its count
        comes back from `cold`."""
        self[term] = self.cold.get(term, 0)


def _gap_seconds(story: _Story, published: datetime) -> float:
    """How far in time a report is from a story: from its last report, or from its first for a report older
    than the story (as when a poll cycle's feeds each bring reports of days past, one feed after the other),
    0 within the story's span. Measured from the last report alone, a report days older than a story was as
    close to it as a simultaneous one, and stories chained across days."""
    after = (published - story.last_seen).total_seconds()
    if after >= 0.0:
        return after
    return max(0.0, (story.first_seen - published).total_seconds())


def _holders(posting: int | set[int]) -> int:
    """How many open stories a posting holds (see `StoryClusterer._postings`)."""
    return 1 if type(posting) is int else len(posting)


def _offset(frequency: int) -> float:
    """k(term) of a term held by `frequency` stories (or reports): its IDF less ln(N + 1) (see `_idf`)."""
    return 1.0 - math.log(frequency + 1)


class StoryClusterer:
    """Assigns items to stories one at a time, in published order. Not thread-safe: one owner at a time."""

    def __init__(self, settings: ClusterSettings | None = None, next_story_id: int = 1) -> None:
        self.settings = settings or ClusterSettings()
        self._next_id = next_story_id
        self._df: dict[str, int] = {}
        self._docs = 0
        self._sf = _StoryFrequencies()
        self._story_count = 0
        self._stories: dict[int, _Story] = {}
        # Open story ids, least recently updated first, so closing stale stories only looks at the front.
        self._open: OrderedDict[int, None] = OrderedDict()
        # The open stories whose counts are held as a dict (`_Story.held`), least recently used first: those that
        # took a report or were scored lately. Past `_HELD_STORIES`, the least recently used is packed.
        self._held: OrderedDict[int, _Story] = OrderedDict()
        # Term -> the open stories holding it: the story's id while only one does (most terms: phrases, names),
        # a set from the second story on. A set per term cost three quarters of the clusterer's memory.
        self._postings: dict[str, int | set[int]] = {}
        # Stories closed with a report in the last `recall_days`, in the order they closed, each parked (see
        # `_Parked`), and the claim words (point 11) of each -> those stories: what a late dispute is looked up in.
        self._recent: OrderedDict[int, _Parked] = OrderedDict()
        # As in `_postings`, a story's id while only one story holds the word (most claim words are names), a set
        # from the second on: a set for every claim word of every story closed in the last month was most of
        # what those stories held.
        self._recent_postings: dict[str, int | set[int]] = {}
        self._recall_window = timedelta(days=self.settings.recall_days)
        # A readable word for each stem, for `shared_terms` ("sav" -> "saves"): the first form seen of it, kept only
        # where it is not the stem itself (`_note_surface`). Kept for every stem, most of them names that are
        # their own stem, it grew with all of history: 1,100,000 entries at a month of a busy pool.
        self._surface: dict[str, str] = {}
        # Per feed: how many of its summaries were counted (decayed) and in how many each word was.
        self._feed_words: dict[str, list] = {}  # source -> [summaries counted, {word: summaries with it}]
        self._last_summary: tuple[str, set[str]] | None = None
        # Frequencies the IDF is computed from (see `_idf`), and the IDF table for the current collection size.
        self._freq = self._sf if self.settings.story_idf else self._df
        self._idf_table = _IdfTable(0)
        self._close_after = timedelta(hours=self.settings.close_after_hours)
        self._scale_s = self.settings.time_scale_hours * 3600.0
        self._window_log = math.log1p(self.settings.time_window_hours / self.settings.time_scale_hours)
        self._cov_scale_s = self.settings.coverage_scale_hours * 3600.0
        self._cov_window_log = math.log1p(self.settings.time_window_hours / self.settings.coverage_scale_hours)

    # ----------------------------------------------------------------------------------------- public API

    def assign(
        self, title: str, summary: str, source: str, published: datetime, words: ItemWords | None = None
    ) -> Assignment:
        """Place one item in a story (an open one or a new one) and record it there. `words`: the item's
        `item_words`, when they were made ahead."""
        self.close_stale(published)
        if words is None:
            words = item_words(title, summary, source)
        vector = self._vector(words, source)
        self._count_document(vector)
        self._note_summary()
        key = _fuzzy_key(vector)
        best, best_score, shared = self._best_story(vector, words, published, key)
        reopened = False
        if best is None and self.settings.recall_days and _disputes(words):
            best, best_score, shared = self._recall(vector, words)
            if best is not None and best.id not in self._open:
                self._reopen(best)
                reopened = True
        if best is None:
            story = self._new_story(published)
            self._add(story, vector, words, title, published, key)
            return Assignment(story.id, True, 0.0, ())
        self._add(best, vector, words, title, published, key)
        return Assignment(best.id, False, round(best_score, 4), shared, reopened)

    def add_existing(self, story_id: int, title: str, summary: str, source: str, published: datetime) -> None:
        """Record an item already stored in `story_id`, without scoring: used to rebuild state after a restart.

        Feed stored items in published order, exactly as they were assigned; the clusterer then holds the same
        statistics, stories and titles as one that never stopped, and gives the same future assignments.
        """
        self.close_stale(published)
        words = item_words(title, summary, source)
        vector = self._vector(words, source)
        self._count_document(vector)
        self._note_summary()
        story = self._stories.get(story_id)
        if story is None and story_id in self._recent:  # a late report that opened it again (point 11)
            story = self._recent[story_id].story()
            self._reopen(story)
        if story is None:
            story = _Story(id=story_id, first_seen=published, last_seen=published)
            self._stories[story_id] = story
            self._story_count += 1
        self._add(story, vector, words, title, published, _fuzzy_key(vector))
        self._next_id = max(self._next_id, story_id + 1)

    def restore(self, items: Iterable[tuple[int, str, str, str, datetime]]) -> None:
        """Rebuild from stored `(story_id, title, summary, source, published)` rows, oldest first."""
        for story_id, title, summary, source, published in sorted(items, key=lambda row: row[4]):
            self.add_existing(story_id, title, summary, source, published)

    def close_stale(self, now: datetime) -> list[int]:
        """Close the stories quiet for `close_after_hours` before `now`; return their ids."""
        closed: list[int] = []
        while self._open:
            story_id = next(iter(self._open))
            story = self._stories[story_id]
            if now - story.last_seen < self._close_after:
                break
            self._close(story)
            closed.append(story_id)
        recent = self._recent
        while recent:
            story_id, parked = next(iter(recent.items()))
            if now - parked.last_seen < self._recall_window:
                break
            self._forget_recent(story_id)
        return closed

    def title_of(self, story_id: int) -> str:
        """The representative headline of an open or recently closed story: the one closest to what the story is
        about so far. (Of a story closed longer ago, the database has it.)"""
        story = self._stories.get(story_id)
        if story is not None:
            return story.title
        return self._recent[story_id].story().title

    def last_seen_of(self, story_id: int) -> datetime | None:
        """The published time of the open story's latest report (None for a closed story)."""
        story = self._stories.get(story_id)
        return None if story is None else story.last_seen

    def is_open(self, story_id: int) -> bool:
        return story_id in self._open

    @property
    def open_story_count(self) -> int:
        return len(self._open)

    @property
    def next_story_id(self) -> int:
        return self._next_id

    def follow_ids(self, next_story_id: int) -> None:
        """Allocate story ids from `next_story_id` on, at least (a clusterer restored from a snapshot, whose
        database has stories it has not seen)."""
        self._next_id = max(self._next_id, next_story_id)

    # ------------------------------------------------------------------------------------------ internals

    def _vector(self, words: ItemWords, source: str) -> dict[str, float]:
        vector: dict[str, float] = {}
        keys: list[str] = []
        surface = self._surface
        for key, word in zip(words.keys, words.tokens, strict=True):
            if key is None:
                continue
            if word != key and key not in vector and key not in surface:
                self._note_surface(key, word)
            vector[key] = 1.0
            keys.append(key)
        if self.settings.phrase_weight:
            self._add_phrases(vector, keys)
        if words.summary:
            weight = self.settings.summary_weight
            # Boilerplate: the words at least `boilerplate_share` of the feed's recent summaries had.
            feed_counts, floor = self._boilerplate_floor(source)
            for key, word in words.summary:
                if key not in vector and feed_counts.get(key, 0.0) < floor:
                    if word != key and key not in surface:
                        self._note_surface(key, word)
                    vector[key] = weight
            self._last_summary = (source, {key for key, _ in words.summary})
        else:
            self._last_summary = None
        return vector

    def _note_surface(self, key: str, word: str) -> None:
        # `word`, a form of `key` other than the stem itself, is the readable form of `key` if it is the first form
        # seen: every term of an earlier report went into a story, so a stem seen before has a story count (which
        # never goes back to 0), and its first form was then the stem itself, which is what is shown without an
        # entry. Called once per stem of a report, before the report's own terms are counted.
        if not self._sf.get(key, 0):
            self._surface[key] = word

    def _boilerplate_floor(self, source: str) -> tuple[dict[str, float], float]:
        # The feed's summary word counts and the count from which a word is boilerplate (infinite: none is).
        record = self._feed_words.get(source)
        settings = self.settings
        if not settings.boilerplate_share or record is None or record[0] < settings.boilerplate_min_summaries:
            return {}, math.inf
        return record[1], settings.boilerplate_share * record[0]

    def _note_summary(self) -> None:
        # Count the words of the summary `_vector` just read, per feed, for `_boilerplate_floor`. The counts decay
        # (halved every 16 summaries of the feed, rare words dropped), so they stay small and recent.
        if self._last_summary is None or not self.settings.boilerplate_share:
            return
        source, words = self._last_summary
        self._last_summary = None
        record = self._feed_words.setdefault(source, [0.0, {}])
        record[0] += 1.0
        counts = record[1]
        for term in words:
            counts[term] = counts.get(term, 0.0) + 1.0
        if record[0] >= 16:
            record[0] /= 2.0
            record[1] = {t: n / 2.0 for t, n in counts.items() if n >= 2.0}

    def _add_phrases(self, vector: dict[str, float], keys: list[str]) -> None:
        # Neighbouring headline words (once stop words are gone), order ignored, as terms of their own: a report of
        # the same claim tends to repeat its phrases ("third breast", "stolen batmobile"), while a different
        # claim about the same subject shares the subject's words but not the rest. Headlines only: summary
        # phrases (and summary boilerplate) would swamp them.
        weight = self.settings.phrase_weight
        for a, b in pairwise(keys):
            if a != b:
                vector[f"{a}{_PHRASE_JOINER}{b}" if a < b else f"{b}{_PHRASE_JOINER}{a}"] = weight

    def _count_document(self, vector: dict[str, float]) -> None:
        self._docs += 1
        if self.settings.story_idf:
            return  # report frequencies are read only without `story_idf`, and they grow with all of history
        df = self._df
        for term in vector:
            df[term] = df.get(term, 0) + 1

    def _idf(self, term: str) -> float:
        """log((N + 1) / (f + 1)) + 1, N stories and f stories holding the term (reports, without `story_idf`)."""
        return self._idfs()[self._freq.get(term, 0)]

    def _idfs(self) -> _IdfTable:
        """The IDF table of the current collection size: index it with a term's frequency in `_freq`."""
        table = self._idf_table
        base = self._idf_base()
        if table.size != base:
            table = self._idf_table = _IdfTable(base)
        return table

    def _term_idfs(self, terms: Iterable[str]) -> dict[str, float]:
        table = self._idfs()
        freq = self._freq
        return {t: table[freq.get(t, 0)] for t in terms}

    def _best_story(
        self, vector: dict[str, float], words: ItemWords, published: datetime, fuzzy_key: str
    ) -> tuple[_Story | None, float, tuple[str, ...]]:
        if not vector:
            return None, 0.0, ()
        settings = self.settings
        idf = self._term_idfs(vector)
        q = {t: w * idf[t] for t, w in vector.items()}
        q_sq = sum(v * v for v in q.values())
        q_norm = math.sqrt(q_sq)
        stories = [self._stories[story_id] for story_id in self._candidates(vector, idf)]
        for story in stories:
            self._hold(story)
        # Coverage is a share of the item's squared word weight: phrases only repeat the words' evidence.
        squares = {t: v * v for t, v in q.items() if not _is_phrase(t)}
        squares_sum = sum(squares.values())
        threshold = self._join_threshold()
        best: _Story | None = None
        best_score = 0.0
        best_rank = (False, 0.0)
        fuzzy = self._fuzzy_scores(fuzzy_key, stories) if settings.fuzzy_weight else {}
        q_idf = {t: v * idf[t] for t, v in q.items()}
        for story, score in zip(stories, self._similarities(q_idf, q_norm, stories), strict=True):
            near_copy = fuzzy.get(story.id, 0.0) if fuzzy else 0.0
            score = max(score, near_copy)
            if score < threshold:
                continue  # every requirement below is the score less something, so none can be met
            # Lone figures weigh in the report, but do not count towards its coverage by the story's words.
            lone = self._lone_figures(q, story) if near_copy < threshold else None
            covered = {t: v for t, v in squares.items() if t not in lone} if lone else squares
            # A report naming only the subject of a young story must be mostly that subject (point 5).
            floor = self._subject_floor(q, squares, squares_sum, story, words) if near_copy < threshold else 0.0
            penalty = self._penalty(story, published)
            margin = score - penalty
            direct = margin >= threshold and self._covers(
                covered, squares_sum, max(floor, self._coverage_needed(story, published)), story)
            if direct and self._gone_quiet(story, published):
                # A story that has gone quiet by its own rhythm is reopened only by a report naming what is
                # distinctive of it (module doc, point 7); the second chance below may still take the item.
                direct = self._signatures(words.keys, story) >= settings.quiet_signatures
            if not direct:
                # Second chance for a story that went quiet: an item naming several of its signature words
                # (see `_signatures`) has `signature_relief` of the time requirements waived. Used only when
                # no candidate takes the item on the ordinary terms.
                if not penalty or not settings.signature_relief or (best is not None and best_rank[0]):
                    continue
                keep = 1.0 - settings.signature_relief
                margin = score - penalty * keep
                if margin < threshold:
                    continue
                need = settings.min_coverage + (self._coverage_needed(story, published) - settings.min_coverage) * keep
                if not self._covers(covered, squares_sum, max(need, floor), story):
                    continue
                if self._signatures(words.keys, story) < settings.signature_words:
                    continue
            rank = (direct, margin + self._momentum(story, published))
            # Ties go to the older story, so the outcome does not depend on set iteration order.
            if best is None or rank > best_rank or (rank == best_rank and story.id < best.id):
                best, best_score, best_rank = story, score, rank
        if best is None:
            return None, 0.0, ()
        shared = sorted(
            (t for t in q if t in best.counts and not _is_phrase(t)), key=lambda t: q[t] * best.counts[t], reverse=True
        )[:8]
        return best, best_score, tuple(self._surface.get(t, t) for t in shared)

    @staticmethod
    def _lone_figures(q: dict[str, float], story: _Story) -> set[str]:
        # A lone figure is no evidence of one event: "Copper theft: thieves strip 3 km of cable" shares "copper"
        # and "3" with a copper mine strike ("Copper up 3% as..."), and joined it on the figure. A figure the
        # report shares with the story counts when the story has it beside the same word ("dead for 48
        # minutes": the phrase is shared too), or when the report shares two words with the story besides.
        # A name with a figure in it ("6s", "mh17") is a word. Returns the figures that do not count.
        counts = story.counts
        words = 0
        figures: set[str] = set()
        in_shared_phrases: set[str] = set()
        for term in q:
            if term not in counts:
                continue
            if _is_phrase(term):
                in_shared_phrases.update(term.split(_PHRASE_JOINER))
            elif _is_figure(term):
                figures.add(term)
            else:
                words += 1
        if words >= _MIN_SHARED_WORDS:
            return set()
        return figures - in_shared_phrases

    def _subject_floor(self, q: dict[str, float], squares: dict[str, float], total: float, story: _Story,
                       words: ItemWords) -> float:
        # The coverage a report needs when all it shares with a story is one word (figures aside, no phrase)
        # and the story's claim has at least two more words the report does not name. The words most reports
        # of a story have are its claim; a report that names one of them and none of the others names the
        # subject, not the claim: "Copper theft: thieves strip cable from rail line" and a copper mine strike's
        # "copper", "Chilean", "mine", "strike". When that word is written in lower case (and the report does
        # not capitalise it inside a sentence, as a name) it is a common word, a subject many events share,
        # whatever the story's size (`common_subject_coverage`). A name ("Haines") is one event's: a story that
        # has grown past a few differently worded reports has shown that it is what they share ("Titanfall"),
        # so only a young story asks it to be a good part of the report (`subject_coverage`), and a story of
        # one report has no claim apart from its words.
        settings = self.settings
        young = settings.subject_coverage if 2 <= story.size <= settings.subject_reports else 0.0
        if not young and not settings.common_subject_coverage:
            return 0.0
        counts = story.counts
        word = ""
        for term in q:
            if term in counts and not _is_figure(term):
                if _is_phrase(term) or word:
                    return 0.0
                word = term
        # Cheapest first: most reports that share one word with a candidate are far from needing a floor.
        share = squares.get(word, 0.0) / total if word and total else 1.0
        common = share < settings.common_subject_coverage and word not in words.capitalised and (
            word in words.lowercase or any(word == stem(written) for written in lowercase_words(story.title)))
        floor = settings.common_subject_coverage if common else young
        if share >= floor:
            return 0.0
        unnamed = sum(1 for term in self._claim_words(story) if term not in q and not _is_figure(term))
        return floor if unnamed >= _SUBJECT_CLAIM_WORDS else 0.0

    @staticmethod
    def _covers(squares: dict[str, float], total: float, need: float, story: _Story) -> bool:
        # Whether words the story has used carry at least `need` of the item's squared word weight.
        if need <= 0.0:
            return True
        counts = story.counts
        return sum(v for t, v in squares.items() if t in counts) >= need * total

    def _join_threshold(self) -> float:
        # Cold start: with only a few stories, rarity statistics cannot tell a distinctive word from a common
        # one ("rebels" shared by a Syria evacuation and a Hama offensive), so a stronger match is required.
        settings = self.settings
        if not settings.cold_start_threshold or self._story_count >= settings.cold_start_stories:
            return settings.join_threshold
        return settings.join_threshold + settings.cold_start_threshold * (
            1.0 - self._story_count / settings.cold_start_stories
        )

    def _signatures(self, headline: Sequence[str | None], story: _Story) -> int:
        # Signature words of a story: words its reports used often (a count of at least `signature_share` per
        # report) and no other open story has used ("Batmobile", "Tridevil", "Bieber"). An item naming several
        # of them is about this story even days later; a word shared with another open story (a subject such
        # as "Apple Watch" that several claims are about) is no signature. Neighbouring signature words that
        # the story nearly always has side by side count once: "Kim Jong-un" is one name, however many words
        # it has. Only the item's headline is read. `headline` holds its word keys in order, None where a stop
        # word was.
        counts = story.counts
        postings = self._postings
        floor = self.settings.signature_share * story.size
        found = 0
        previous: str | None = None
        weight = self.settings.phrase_weight
        for term in headline:
            signature = term is not None and counts.get(term, 0.0) >= floor and _holders(postings[term]) == 1
            if not signature:
                previous = None
                continue
            # Two neighbouring signature words are one name when the story nearly always has them together.
            if previous is not None and weight:
                a, b = (previous, term) if previous < term else (term, previous)
                together = counts.get(f"{a}{_PHRASE_JOINER}{b}", 0.0) / weight
                if together >= 0.8 * min(counts[previous], counts[term]):
                    previous = term
                    continue
            found += 1
            previous = term
        return found

    def _gone_quiet(self, story: _Story, published: datetime) -> bool:
        # Whether the silence since the story's last report exceeds `quiet_paces` times the story's pace: its
        # span over its intervals between reports, with `pace_prior` intervals of `time_scale_hours` added, so
        # a story of a few reports keeps close to the default pace and a first report has exactly that pace.
        settings = self.settings
        if not settings.quiet_paces:
            return False
        gap = _gap_seconds(story, published)
        if gap <= 0.0:
            return False
        span = (story.last_seen - story.first_seen).total_seconds()
        prior = settings.pace_prior
        pace = (span + prior * self._scale_s) / (story.size - 1.0 + prior)
        return gap > settings.quiet_paces * pace

    def _momentum(self, story: _Story, published: datetime) -> float:
        # Preference for a story receiving many reports right now, among those the item may join: a loosely
        # worded report during a burst goes to the big story of the burst rather than a small side story.
        momentum = self.settings.momentum
        if not momentum or story.size < 2:
            return 0.0
        gap_hours = _gap_seconds(story, published) / 3600.0
        return momentum * math.log(story.size) * math.exp(-gap_hours / self.settings.momentum_hours)

    def _fuzzy_scores(self, key: str, stories: list[_Story]) -> dict[int, float]:
        """Story id -> scaled near-duplicate score of its best representative headline, for the stories that
        have one scoring at least `_FUZZY_CUTOFF` (any other story's fuzzy score is 0.0).

        Near-duplicate wording (syndicated copy, small edits) of a recent headline, even when the centroid has
        drifted. Short keys are skipped: "apple watch" vs "apple watch gold" already scores 85.

        The score is `token_sort_ratio`, computed as the plain `ratio` of the keys: a fuzzy key is already its
        words sorted and joined by single spaces, which is all `token_sort_ratio` adds to `ratio`, and re-sorting
        every key on every comparison cost five times the comparison. All candidates' representatives go to
        rapidfuzz in one call: a call per representative (about 70 per item) cost more in Python overhead
        than the comparisons themselves.
        """
        if len(key) < _MIN_FUZZY_KEY:
            return {}
        choices: list[str] = []
        ends: list[int] = []  # ends[i]: how many choices the first i + 1 stories gave
        for story in stories:
            choices += story.long_reps
            ends.append(len(choices))
        if not choices:
            return {}
        best: dict[int, float] = {}
        for _, ratio, index in process.extract(
            key, choices, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=None
        ):
            owner = stories[bisect_right(ends, index)].id
            if ratio > best.get(owner, 0.0):
                best[owner] = ratio
        weight = self.settings.fuzzy_weight
        return {owner: weight * ratio / 100.0 for owner, ratio in best.items()}

    def _penalty(self, story: _Story, published: datetime) -> float:
        gap = _gap_seconds(story, published)
        return self.settings.time_penalty * min(1.0, math.log1p(gap / self._scale_s) / self._window_log)

    def _coverage_needed(self, story: _Story, published: datetime) -> float:
        # Share of the item's squared weight that must be words of the story: `min_coverage` while the story
        # is receiving reports, growing on a log ramp of the gap to `min_coverage + coverage_penalty`.
        settings = self.settings
        if not settings.coverage_penalty:
            return settings.min_coverage
        gap = _gap_seconds(story, published)
        ramp = min(1.0, math.log1p(gap / self._cov_scale_s) / self._cov_window_log)
        return settings.min_coverage + settings.coverage_penalty * ramp

    def _candidates(self, vector: dict[str, float], idf: dict[str, float] | None = None) -> set[int]:
        # Stories are ranked by the summed IDF of the rare terms they share with the item, and only the best
        # `max_candidates` are scored exactly: the cost per item is bounded by query_terms * max_postings
        # dictionary updates plus max_candidates cosines, whatever the number of open stories.
        # `idf`: the IDF of the vector's terms, when the caller has it already.
        settings = self.settings
        hits: dict[int, float] = {}
        used = 0
        if idf is None:
            idf = self._term_idfs(vector)
        for term in sorted(vector, key=idf.__getitem__, reverse=True):
            posting = self._postings.get(term)
            if posting is None:
                continue
            weight = idf[term]
            if type(posting) is int:
                hits[posting] = hits.get(posting, 0.0) + weight
            elif len(posting) > settings.max_postings:
                continue
            else:
                for story_id in posting:
                    hits[story_id] = hits.get(story_id, 0.0) + weight
            used += 1
            if used >= settings.query_terms:
                break
        if len(hits) <= settings.max_candidates:
            return set(hits)
        # What heapq.nlargest documents itself to be equivalent to (ties included), but sorted in C.
        return set(sorted(hits, key=hits.__getitem__, reverse=True)[: settings.max_candidates])

    def _similarities(self, q_idf: dict[str, float], q_norm: float, stories: list[_Story]) -> list[float]:
        """The cosine between the item's TF-IDF vector (of norm `q_norm`) and each story's centroid. `q_idf` holds
        the vector's weights multiplied by IDF once more: the centroid's weights are counts times IDF, so each
        product carries IDF twice, folded into the item's side once instead of into every candidate's.

        The dot products are summed term by term through the postings: a term's posting, intersected in C with
        the candidates, names exactly the candidates whose centroid has the term, so only the products that are
        not zero are computed (a few per item, against a dictionary look-up per term and candidate). Each
        story's products are still added in the order of the item's terms, so the sums are the same to the bit.
        """
        postings = self._postings
        counts_of = {story.id: story.counts for story in stories}
        candidates = set(counts_of)  # a set: intersecting two sets is twice as fast as a set and a key view
        dots = dict.fromkeys(candidates, 0.0)
        for term, weight in q_idf.items():
            posting = postings.get(term)
            if posting is None:
                continue
            if type(posting) is int:
                if posting in dots:
                    dots[posting] += weight * counts_of[posting][term]
                continue
            for story_id in candidates & posting:
                dots[story_id] += weight * counts_of[story_id][term]
        sq_norm = self._story_sq_norm
        sqrt = math.sqrt
        log_n = math.log(self._idf_base() + 1)
        scores: list[float] = []
        for story in stories:
            dot = dots[story.id]
            if dot == 0.0:
                scores.append(0.0)
                continue
            norm = sqrt(sq_norm(story, log_n))
            scores.append(min(1.0, dot / (q_norm * norm)) if norm else 0.0)
        return scores

    def _idf_base(self) -> int:
        return self._story_count if self.settings.story_idf else self._docs

    def _story_sq_norm(self, story: _Story, log_n: float | None = None) -> float:
        # Every IDF is ln(N + 1) + k(term), with k(term) = 1 - ln(frequency + 1): the centroid's squared norm
        # sum(c² (L + k)²) is sum(c²) L² + 2 sum(c² k) L + sum(c² k²) with L = ln(N + 1). `_add` keeps the three
        # sums current at the cost of the report's terms (see `_update_norm`), so the norm follows the growth
        # of N exactly, and that of term frequencies closely. `log_n`: L, when the caller has it already.
        if not story.norm_sums[0]:
            self._recount_norm(story)
        total, linear, square = story.norm_sums
        if log_n is None:
            log_n = math.log(self._idf_base() + 1)
        return total * log_n * log_n + 2.0 * linear * log_n + square

    def _hold(self, story: _Story) -> dict[str, float]:
        """The open story's counts as a dict, kept so while it is among the `_HELD_STORIES` used last."""
        held = story.unpack()
        recent = self._held
        recent[story.id] = story
        recent.move_to_end(story.id)
        if len(recent) > _HELD_STORIES:
            recent.popitem(last=False)[1].pack()
        return held

    def _idf_offset(self, term: str) -> float:
        return _offset(self._freq.get(term, 0))

    def _recount_norm(self, story: _Story) -> None:
        offset = self._idf_offset
        total = linear = square = 0.0
        for term, count in story.count_items():
            c2 = count * count
            k = offset(term)
            total += c2
            linear += c2 * k
            square += c2 * k * k
        story.norm_sums = (total, linear, square)
        story.norm_base = self._idf_base()

    def _shift_offset(self, term: str, posting: int | set[int], frequency: int) -> None:
        # A story is about to take up `term` for the first time, so its rarity drops for every story that
        # has it: the open stories holding it get their norm sums adjusted now. Only for rare terms (few
        # stories hold them, and their IDF moves most); a common term's drift waits for the next recount.
        before, after = _offset(frequency), _offset(frequency + 1)
        stories = self._stories
        for story_id in (posting,) if type(posting) is int else posting:
            other = stories[story_id]
            total, linear, square = other.norm_sums
            if total:
                c2 = other.count(term) ** 2
                other.norm_sums = (total, linear + c2 * (after - before), square + c2 * (after**2 - before**2))

    def _update_norm(self, story: _Story, vector: dict[str, float]) -> None:
        # After a report joined: its terms' counts changed, so their part of the sums is adjusted. Term
        # frequencies also move when other stories take up a term; that drift is tolerated until the
        # collection has grown by 5 % since the last full recount. Only here, never while scoring, so a
        # clusterer rebuilt by `restore` holds exactly the same sums as one that never stopped.
        if not story.norm_sums[0] or self._idf_base() > story.norm_base * 1.05 + 2:
            self._recount_norm(story)
            return
        offset = self._idf_offset
        counts = story.counts
        total, linear, square = story.norm_sums
        for term, weight in vector.items():
            count = counts[term]
            change = count * count - (count - weight) ** 2
            k = offset(term)
            total += change
            linear += change * k
            square += change * k * k
        story.norm_sums = (total, linear, square)

    def _new_story(self, published: datetime) -> _Story:
        story = _Story(id=self._next_id, first_seen=published, last_seen=published)
        self._next_id += 1
        self._story_count += 1
        self._stories[story.id] = story
        return story

    def _add(
        self, story: _Story, vector: dict[str, float], words: ItemWords, title: str, published: datetime, key: str
    ) -> None:
        counts = self._hold(story)
        postings = self._postings
        for term, weight in vector.items():
            old = counts.get(term, 0.0)
            counts[term] = old + weight
            if old == 0.0:
                posting = postings.get(term)
                frequency = self._sf.get(term, 0)
                if posting is None:
                    postings[term] = story.id
                else:
                    if self.settings.story_idf and _holders(posting) <= _SHIFT_POSTINGS:
                        self._shift_offset(term, posting, frequency)
                    if type(posting) is int:
                        postings[term] = {posting, story.id}
                    else:
                        posting.add(story.id)
                self._sf[term] = frequency + 1
        story.size += 1
        self._update_norm(story, vector)
        story.last_seen = max(story.last_seen, published)
        story.first_seen = min(story.first_seen, published)
        reps = story.reps
        if len(reps) < self.settings.representatives:
            reps = (*reps, key)
        elif self.settings.representatives > 1:
            # Keep the first headline; the other slots cycle through the latest ones.
            at = 1 + int(story.size) % (self.settings.representatives - 1)
            reps = (*reps[:at], key, *reps[at + 1 :])
        story.reps = reps
        long_reps = tuple(rep for rep in reps if len(rep) >= _MIN_FUZZY_KEY)
        story.long_reps = reps if len(long_reps) == len(reps) else long_reps
        self._open[story.id] = None
        self._open.move_to_end(story.id)
        self._update_title(story, vector, words, title)

    def _update_title(self, story: _Story, vector: dict[str, float], words: ItemWords, title: str) -> None:
        # The title is the headline most central to the story so far; the incumbent is rescored against the
        # current centroid so the title follows the story as it grows. While at least half of the reports
        # state the news plainly, a plain headline is preferred: a denial ("X denies Y") or a question
        # repeats the claim's words and can be the most central, but it does not say what the story is.
        # A title is kept until a clearly better headline arrives (`_TITLE_MARGIN` more central), so that a
        # chat sees one name for a story in its alerts, its list and its digest. A round-up headline ("live
        # updates part 3") is never chosen over one that reports the news.
        headline = words.headline or title
        plain = words.plain
        story.plain += plain
        if not story.title or words.roundup != story.title_roundup:
            better = not story.title or story.title_roundup
        elif story.plain * 2 >= story.size and plain != story.title_plain:
            better = plain
        else:
            better = self._centrality(vector, story) > (1.0 + _TITLE_MARGIN) * self._centrality(
                story.title_terms, story)
        if better:
            story.title = headline
            story.title_keys = tuple(vector)
            story.title_weights = tuple(vector.values())
            story.title_plain = plain
            story.title_roundup = words.roundup

    def _centrality(self, vector: dict[str, float], story: _Story) -> float:
        # The cosine with the story's centroid, less the division by the centroid's norm: the title only
        # compares headlines of one story, and the norm divides them all alike.
        idf = self._term_idfs(vector)
        counts = story.counts
        dot = sq = 0.0
        for term, weight in vector.items():
            rarity = idf[term]
            value = weight * rarity
            sq += value * value
            count = counts.get(term)
            if count:
                dot += value * rarity * count
        return dot / math.sqrt(sq) if sq else 0.0

    def _close(self, story: _Story) -> None:
        del self._open[story.id]
        for term in story.term_order():
            posting = self._postings.get(term)
            if type(posting) is int:
                if posting == story.id:
                    del self._postings[term]
                    self._sf.cool(term)
            elif posting is not None:
                posting.discard(story.id)
                if not posting:
                    del self._postings[term]
                    self._sf.cool(term)
        del self._stories[story.id]
        self._held.pop(story.id, None)
        story.pack()
        claim = self._claim_words(story) if self.settings.recall_days else None
        if claim:
            self._recent[story.id] = _Parked.of(story, claim)
            recent_postings = self._recent_postings
            for term in claim:
                holders = recent_postings.get(term)
                if holders is None:
                    recent_postings[term] = story.id
                elif type(holders) is int:
                    recent_postings[term] = {holders, story.id}
                else:
                    holders.add(story.id)

    def _forget_recent(self, story_id: int) -> None:
        recent_postings = self._recent_postings
        for term in self._recent.pop(story_id).claim:
            holders = recent_postings.get(term)
            if holders is None:
                continue
            if type(holders) is int:
                if holders == story_id:
                    del recent_postings[term]
            else:
                holders.discard(story_id)
                if not holders:
                    del recent_postings[term]

    def _reopen(self, story: _Story) -> None:
        """A closed story takes a report again: it is open, and indexed under all its words, once more."""
        self._forget_recent(story.id)
        self._stories[story.id] = story
        postings = self._postings
        for term in story.term_order():
            posting = postings.get(term)
            if posting is None:
                postings[term] = story.id
                self._sf.heat(term)
            elif type(posting) is int:
                postings[term] = {posting, story.id}
            else:
                posting.add(story.id)
        self._open[story.id] = None  # `_add` moves it to the end, as the story last updated

    def _claim_words(self, story: _Story) -> list[str]:
        # The words more than `recall_share` of the story's reports used (phrases aside): what the story claims.
        # A story of one report claims all its words; of two, the words both have.
        floor = self.settings.recall_share * story.size
        return [t for t, count in story.count_items() if count > floor and not _is_phrase(t)]

    def _recall(
        self, vector: dict[str, float], words: ItemWords
    ) -> tuple[_Story | None, float, tuple[str, ...]]:
        """Second lookup for a report that disputes something and that no story took (module doc, point 11):
        the open or recently closed story whose claim it names. The score is the product of the two shares
        named: of the report's word weight, and of the claim's."""
        settings = self.settings
        own = {key for key in words.keys if key is not None and key not in _DENIAL_KEYS}
        if len(own) < settings.recall_words:
            return None, 0.0, ()
        idf = self._term_idfs(own)
        squares = {t: idf[t] ** 2 for t in own}
        total = sum(squares.values())
        candidates: set[int] = set()
        for term in own:
            posting = self._postings.get(term)
            if posting is not None and _holders(posting) <= settings.max_postings:
                candidates.update((posting,) if type(posting) is int else posting)
            holders = self._recent_postings.get(term, ())
            candidates.update((holders,) if type(holders) is int else holders)
        best: int | None = None
        best_score = 0.0
        best_matched: list[str] = []
        for story_id in sorted(candidates):
            # A parked story's claim words were kept when it closed, and it has not changed since: it is read
            # back only if it wins. Read back to be scored, every candidate among a month of closed stories
            # cost a decompression and an unpickling, and the closed stories sharing a word grow with the month.
            story = self._stories.get(story_id)
            claim = self._recent[story_id].claim if story is None else self._claim_words(story)
            matched = self._named_claim_words(own, claim)
            if len(matched) < settings.recall_words:
                continue
            share = sum(squares[item_term] for item_term, _ in matched) / total
            claim_idf = self._term_idfs(claim)
            claim_share = sum(claim_idf[t] ** 2 for _, t in matched) / sum(v * v for v in claim_idf.values())
            if share < settings.recall_coverage or claim_share < settings.recall_claim_share:
                continue
            if share * claim_share > best_score:
                best, best_score, best_matched = story_id, share * claim_share, [t for _, t in matched]
        if best is None:
            return None, 0.0, ()
        story = self._stories.get(best) or self._recent[best].story()
        return story, best_score, tuple(self._surface.get(t, t) for t in best_matched[:8])

    def _named_claim_words(self, own: set[str], claim: Sequence[str]) -> list[tuple[str, str]]:
        # (the report's word, the claim's word) for each claim word the report names, as written or spelt
        # another way (a name transliterated, misspelt).
        matched = []
        cutoff = self.settings.recall_fuzzy
        for term in claim:
            if term in own:
                matched.append((term, term))
            elif cutoff < 100.0 and len(term) >= 5:
                for word in own:
                    if len(word) >= 5 and fuzz.ratio(word, term) >= cutoff:
                        matched.append((word, term))
                        break
        return matched
