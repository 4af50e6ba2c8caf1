"""The last stage of the pipeline: turn what the new items did to the stories into events, and queue an
alert for every chat that follows what happened. Runs inside the pipeline's transaction, so an alert is
promised exactly when its items are stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from sqlite_utils import Database

from bot.monitor.model import StoredItem
from bot.monitor.topics import topic_words
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import stories as story_store
from storage.stories import StoredContradiction

# A topic is a few words; a longer one could never match and would only cost index space.
MAX_TOPIC_WORDS = 8

# Two headlines state the same thing when they share this many content words, and at least this share of the
# shorter one's: "Iran evacuating military personnel from Syria, Alpha News reports" restates "Iran begins
# evacuating military personnel from Syria". Reports of one story share their subject's words ("harbour board",
# "spill") whatever they say of it, so half is not enough: "board says two workers hurt in spill" is another
# claim than "board closes port after spill".
RESTATE_MIN_SHARED = 3
RESTATE_MIN_SHARE = 2 / 3

# The kinds in which the later report restates the claim (after a denial) rather than disputing it.
REASSERTING_KINDS = frozenset({"reversal"})


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Which contradictions are pushed to the chats that follow their story.

    `min_score`: a contradiction scoring below it is shown in the story's timeline as possibly disputed and
    never pushed. The default is the detector's recommendation: the learned judge's probability is recorded
    from 0.8, and on real news (uci-sample) half of what scores 0.8 to 0.9 is still a false alarm."""

    min_score: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"alert_min_score must be between 0 and 1, not {self.min_score!r}")


DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True)
class Placement:
    """Where one new item went: its story, whether it started it or brought it a new source, and the
    contradictions it made."""

    item: StoredItem
    story_id: int
    started_story: bool
    new_source: bool
    story_title: str
    contradiction_ids: list[int] = field(default_factory=list)
    # First seen long after it was published (`Pipeline.is_late`): old news, told only if it contradicts.
    late: bool = False


def claim_and_dispute(contradiction: StoredContradiction) -> tuple[StoredItem, StoredItem]:
    """The report that states the disputed claim, and the one that disputes it. A reversal's later report
    states the claim again after the earlier one denied it."""
    if contradiction.kind in REASSERTING_KINDS:
        return contradiction.later, contradiction.earlier
    return contradiction.earlier, contradiction.later


@lru_cache(maxsize=4096)
def _headline_words(title: str) -> frozenset[str]:
    # Cached: each new contradiction of a story is compared with all its earlier ones.
    return frozenset(topic_words(title))


def restates(words: frozenset[str], other: frozenset[str]) -> bool:
    shared = len(words & other)
    return shared >= RESTATE_MIN_SHARED and shared >= RESTATE_MIN_SHARE * min(len(words), len(other))


def claim_of(contradiction: StoredContradiction, disputes: Sequence[StoredContradiction]) -> int:
    """The claim a new contradiction disputes, given the earlier contradictions of its story (with their
    claims, oldest first): the claim of the first one that involves one of its two reports (a second denial of
    the same report; a restatement after a denial, which the reversal pairs with that denial), else of the
    first whose claim or whose dispute it restates (a denial of another report of the same claim), else a claim
    of its own (its own id).

    Groups are never merged afterwards: an alert once promised for a claim is kept to that claim."""
    reports = {contradiction.earlier.id, contradiction.later.id}
    for other in disputes:
        if reports & {other.earlier.id, other.later.id}:
            return other.claim_id or other.id
    claim, dispute = (_headline_words(item.title) for item in claim_and_dispute(contradiction))
    for other in disputes:
        other_claim, other_dispute = (_headline_words(item.title) for item in claim_and_dispute(other))
        if restates(claim, other_claim) or restates(dispute, other_dispute):
            return other.claim_id or other.id
    return contradiction.id


class _Disputes:
    """The contradictions of the stories touched by one `record_events` call, with their claims."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._placed: dict[int, list[StoredContradiction]] = {}

    def place(self, contradiction_ids: Sequence[int], policy: AlertPolicy) -> list[StoredContradiction]:
        """Give each new contradiction its claim and its confidence, in order; returns them so placed."""
        found = story_store.contradictions_by_id(self.db, contradiction_ids)
        placed = []
        for contradiction_id in contradiction_ids:
            contradiction = found[contradiction_id]
            disputes = self._story(contradiction.story_id)
            claim_id = claim_of(contradiction, disputes)
            confident = contradiction.score >= policy.min_score
            story_store.set_claim(self.db, contradiction_id, claim_id, confident=confident)
            contradiction = replace(contradiction, claim_id=claim_id, confident=confident)
            disputes.append(contradiction)
            placed.append(contradiction)
        return placed

    def _story(self, story_id: int) -> list[StoredContradiction]:
        disputes = self._placed.get(story_id)
        if disputes is None:
            stored = story_store.list_contradictions(self.db, story_id=story_id)
            disputes = self._placed[story_id] = sorted(
                (c for c in stored if c.claim_id is not None), key=lambda c: c.id
            )
        return disputes


def record_events(
    db: Database, placements: Iterable[Placement], now: datetime, policy: AlertPolicy = DEFAULT_POLICY
) -> int:
    """Record the events of these placements and queue their alerts. Returns the number of alerts queued.

    - new story: the item started a story; chats whose topic matches it start following it.
    - development: a report from a source the story had not had (another report from the same outlet is
      an update, not news), unless it confidently contradicts an earlier one;
    - contradiction: one event per confident contradiction the item made (score at least
      `policy.min_score`), alerted to a chat only if the chat had no alert about the claim it disputes. A weaker
      contradiction is recorded with its claim, for the timeline, and the report is told as any other.
    A late report (old news, see `Pipeline.is_late`) is neither a new story nor a development; a contradiction
    it makes is still told, with both reports' times.
    A topic that matches a later report of a story also starts following it then.
    """
    queued = 0
    # Without a single topic (a fresh install, `storywatch ingest` for analysis) there is nothing to match.
    any_topics = alert_store.has_topics(db)
    any_outlets = chat_store.has_outlet_follows(db)
    placements = list(placements)
    # The events of a story nobody follows are owed to no chat: they are recorded together, without their ids.
    # A story becomes followed here only through a topic that matches it, or an outlet a chat follows.
    followed = alert_store.followed_stories(db, [p.story_id for p in placements])
    unheard: list[tuple[str, int, int, int | None]] = []
    disputes = _Disputes(db)
    for placement in placements:
        item, story_id = placement.item, placement.story_id
        if any_topics:
            words = topic_words(f"{item.title} {item.summary} {placement.story_title}")
            if alert_store.follow_matching_topics(db, story_id, words, now):
                followed.add(story_id)
        if any_outlets and chat_store.follow_story_for_outlet(db, story_id, item.source, now):
            followed.add(story_id)
        # A confidently contradicting report is told as the contradiction, not a second time as a development.
        claims: dict[int, int] = {}  # contradiction id -> claim id, of the confident ones
        if placement.contradiction_ids:
            for contradiction in disputes.place(placement.contradiction_ids, policy):
                if contradiction.confident:
                    claims[contradiction.id] = contradiction.claim_id
        kinds: list[tuple[str, int | None]] = [("contradiction", contradiction_id) for contradiction_id in claims]
        if placement.late:
            pass  # old news: neither a new story nor a development
        elif placement.started_story:
            kinds.append(("new_story", None))
        elif not kinds and placement.new_source:
            kinds.append(("development", None))
        if story_id not in followed:
            unheard += [(kind, story_id, item.id, contradiction_id) for kind, contradiction_id in kinds]
            continue
        if unheard:  # keep events in order
            alert_store.add_events(db, unheard, now)
            unheard = []
        for kind, contradiction_id in kinds:
            event_id = alert_store.add_event(db, kind, story_id, item.id, now, contradiction_id)
            if event_id is not None:
                claim_id = None if contradiction_id is None else claims[contradiction_id]
                queued += alert_store.queue_alerts(db, event_id, kind, story_id, now, claim_id)
    if unheard:
        alert_store.add_events(db, unheard, now)
    return queued
