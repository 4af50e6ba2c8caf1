"""What happens to new items, whether polled or ingested from files: store → cluster → detect, one path,
one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.alerts import Placement, record_events
from bot.monitor.cluster import ClusterSettings, StoryClusterer
from bot.monitor.contradict import DEFAULT_SETTINGS, Analysis, ContradictionSettings, analyze, detect
from bot.monitor.model import Item, StoredItem
from storage import items as item_store
from storage import stories as story_store

log = logging.getLogger(__name__)

PROGRESS_STEP = 500


@dataclass(frozen=True)
class IngestReport:
    received: int
    new_items: list[StoredItem]
    new_stories: list[int] = field(default_factory=list)
    contradictions: list[int] = field(default_factory=list)
    alerts_queued: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - len(self.new_items)


class Pipeline:
    """The stages after parsing. It keeps the clusterer's memory and the analyses of open stories' reports
    between calls; both are rebuilt from the database on first use and after a failed transaction, so what
    it remembers is always what the database holds.

    Blocking and single-threaded: from asyncio, call `process` through `AsyncDatabase.run`.
    """

    def __init__(
        self,
        cluster_settings: ClusterSettings | None = None,
        contradiction_settings: ContradictionSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.cluster_settings = cluster_settings or ClusterSettings()
        self.contradiction_settings = contradiction_settings
        self._clusterer: StoryClusterer | None = None
        self._analyses: dict[int, list[Analysis]] = {}

    def _load(self, db: Database) -> StoryClusterer:
        if self._clusterer is None:
            clusterer = StoryClusterer(self.cluster_settings, next_story_id=story_store.max_story_id(db) + 1)
            # Streamed in published order straight from the database: holding every membership in a list (and
            # a sorted copy) made the bot's memory grow with all of history while it started.
            for story_id, item in story_store.memberships(db):
                clusterer.add_existing(story_id, item.title, item.summary, item.source, item.published)
            self._clusterer = clusterer
            self._analyses = {}
        return self._clusterer

    def _story_analyses(self, db: Database, story_id: int) -> list[Analysis]:
        """Analyses of a story's reports, made once per story and then kept up to date."""
        if story_id not in self._analyses:
            members = story_store.story_members(db, [story_id])[story_id]
            self._analyses[story_id] = [analyze(member.item) for member in members]
        return self._analyses[story_id]

    def process(
        self,
        db: Database,
        items: Sequence[Item],
        *,
        now: datetime,
        feed_id: int | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> IngestReport:
        """Store the new items in published-time order, place each in a story, record the contradictions
        it makes and queue the alerts they cause, all or nothing. `progress(n)` hears of every n items done."""
        ordered = sorted(items, key=lambda item: item.published)
        new_items: list[StoredItem] = []
        new_stories: list[int] = []
        contradictions: list[int] = []
        alerts_queued = 0
        clusterer = self._load(db)
        try:
            with db.atomic():
                for start in range(0, len(ordered), PROGRESS_STEP):
                    batch = ordered[start : start + PROGRESS_STEP]
                    placements = []
                    for item in item_store.store_items(db, batch, now=now, feed_id=feed_id):
                        new_items.append(item)
                        story_id, is_new, new_source = self._place(db, clusterer, item, now)
                        found = [] if is_new else self._detect(db, story_id, item, now)
                        if is_new:
                            new_stories.append(story_id)
                        contradictions += found
                        placements.append(
                            Placement(item, story_id, is_new, new_source, clusterer.title_of(story_id), found)
                        )
                    alerts_queued += record_events(db, placements, now)
                    if progress is not None:
                        progress(len(batch))
        except BaseException:
            # The database rolled back: forget what the clusterer learnt in this transaction.
            self._clusterer = None
            self._analyses = {}
            raise
        return IngestReport(len(items), new_items, new_stories, contradictions, alerts_queued)

    def _place(
        self, db: Database, clusterer: StoryClusterer, item: StoredItem, now: datetime
    ) -> tuple[int, bool, bool]:
        """Put the item in its story; returns (story id, whether it started it, whether its source is new)."""
        closed = clusterer.close_stale(item.published)
        if closed:
            story_store.close_stories(db, closed, now)
            for story_id in closed:
                self._analyses.pop(story_id, None)
        assignment = clusterer.assign(item.title, item.summary, item.source, item.published)
        if assignment.is_new:
            story_store.create_story(db, assignment.story_id, item.title, item.published)
        new_source = story_store.add_member(
            db, assignment.story_id, item, score=assignment.score, shared_terms=assignment.shared_terms,
            title=clusterer.title_of(assignment.story_id), now=now,
        )
        return assignment.story_id, assignment.is_new, new_source

    def _detect(self, db: Database, story_id: int, item: StoredItem, now: datetime) -> list[int]:
        earlier = self._story_analyses(db, story_id)
        new = analyze(item)
        found = []
        # `detect` skips the item itself, which a freshly loaded story already holds.
        for contradiction in detect(new, earlier, self.contradiction_settings):
            contradiction_id = story_store.add_contradiction(
                db, story_id, int(contradiction.earlier.id), item.id, kind=contradiction.kind,
                evidence=contradiction.evidence, score=contradiction.score, now=now,
            )
            if contradiction_id is not None:
                found.append(contradiction_id)
        if all(analysis.item.id != item.id for analysis in earlier):
            earlier.append(new)
        return found

