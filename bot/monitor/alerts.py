"""The last stage of the pipeline: turn what the new items did to the stories into events, and queue an
alert for every chat that follows what happened. Runs inside the pipeline's transaction, so an alert is
promised exactly when its items are stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.contradiction import event_key
from bot.monitor.model import StoredItem
from bot.monitor.terms import STOP_WORDS, tokenize
from storage import alerts as alert_store

# A topic is a few words; a longer one could never match and would only cost index space.
MAX_TOPIC_WORDS = 8


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


def topic_words(text: str) -> list[str]:
    """The content words of a topic or a report, each reduced to the key its inflected and nominal forms
    share, so that "/follow evacuation" meets "evacuating"."""
    return list(dict.fromkeys(event_key(word) for word in tokenize(text, STOP_WORDS)))


def record_events(db: Database, placements: Iterable[Placement], now: datetime) -> int:
    """Record the events of these placements and queue their alerts. Returns the number of alerts queued.

    - new story: the item started a story; chats whose topic matches it start following it.
    - development: a report from a source the story had not had (another report from the same outlet is
      an update, not news), unless it contradicts an earlier one;
    - contradiction: one event per contradiction the item made.
    A topic that matches a later report of a story also starts following it then.
    """
    queued = 0
    # Without a single topic (a fresh install, `storywatch ingest` for analysis) there is nothing to match.
    any_topics = alert_store.has_topics(db)
    placements = list(placements)
    # The events of a story nobody follows are owed to no chat: they are recorded together, without their ids.
    # A story becomes followed here only through a topic that matches it.
    followed = alert_store.followed_stories(db, [p.story_id for p in placements])
    unheard: list[tuple[str, int, int, int | None]] = []
    for placement in placements:
        item, story_id = placement.item, placement.story_id
        if any_topics:
            words = topic_words(f"{item.title} {item.summary} {placement.story_title}")
            if alert_store.follow_matching_topics(db, story_id, words, now):
                followed.add(story_id)
        # A contradicting report is told as the contradiction, not a second time as a development.
        kinds: list[tuple[str, int | None]] = [
            ("contradiction", contradiction_id) for contradiction_id in placement.contradiction_ids
        ]
        if placement.started_story:
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
                queued += alert_store.queue_alerts(db, event_id, kind, story_id, now)
    if unheard:
        alert_store.add_events(db, unheard, now)
    return queued
