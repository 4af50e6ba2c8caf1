"""What happens to new items, whether polled or ingested from files: store → cluster → detect, one path,
one transaction."""

from __future__ import annotations

import gc
import hashlib
import itertools
import logging
import pickle
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from bot.monitor import cluster, coldterms, terms
from bot.monitor.alerts import DEFAULT_POLICY, AlertPolicy, Placement, record_events
from bot.monitor.cluster import ClusterSettings, ItemWords, StoryClusterer, item_words
from bot.monitor.contradiction import DEFAULT_SETTINGS, ContradictionSettings
from bot.monitor.detector import Detector, RulesDetector, StoryState, prepare_text
from bot.monitor.model import Item, StoredItem, pickled_as_arguments
from bot.monitor.parse import ParsedFeed, parse_feed
from storage import items as item_store
from storage import snapshots as snapshot_store
from storage import stories as story_store

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

PROGRESS_STEP = 500

# What the pipeline keeps in memory of the stories that received reports lately, least recently used dropped
# first (`Pipeline`): analysed reports, the first reports of one-report stories, and stories' source sets.
KEPT_REPORTS = 10_000
KEPT_FOUNDERS = 10_000
KEPT_SOURCES = 20_000
# A snapshot of the clusterer is saved after this many new items, or as many as it has open stories if more (and
# when the bot stops): a restart then replays at most these, not all of history. Saving one costs about as much
# as its open stories (8.6 s at 134,000 of them); saved every 20,000 items, that was more than the items' own
# cost per item at a month of news, and grew with the open stories. Saved every as many items as there are open
# stories, it costs the same per item at any size.
SNAPSHOT_EVERY = 20_000

# The code a snapshot of the clusterer depends on: a snapshot made by other code is not restored.
_CLUSTER_CODE = hashlib.sha256(
    b"".join(open(module.__file__, "rb").read() for module in (cluster, coldterms, terms))  # noqa: SIM115
).hexdigest()[:16]

# What an item's contradiction analysis and clustering words may depend on: its text and its source, never its
# identity or time.
TextKey = tuple[str, str, str]


def _text_key(item: Item | StoredItem) -> TextKey:
    return (item.title, item.summary, item.source)


@pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Prepared:
    """What the pipeline reads of an item's text: what the contradiction detector prepared of it, the words the
    clusterer weighs and what the full-text index holds of its title (`storage.items.search_words`)."""

    text: object
    words: ItemWords
    search_words: str


def prepare_items(items: Iterable[Item]) -> dict[TextKey, Prepared]:
    """Each item's `Prepared`, made ahead of `Pipeline.process` (pass it as `prepared`).

    It depends on the item alone, so the worker process that parsed the items can make it (see
    `parse_and_prepare`) while the pipeline's thread is busy clustering: it is about a quarter of the
    pipeline's work per item, and the worker has time to spare.
    """
    return {
        _text_key(item): Prepared(
            prepare_text(item.title, item.summary), item_words(item.title, item.summary, item.source),
            item_store.search_words(item.title),
        )
        for item in items
    }


@dataclass(frozen=True)
class PreparedFeed:
    feed: ParsedFeed
    prepared: dict[TextKey, Prepared]


def parse_and_prepare(content: bytes, **kwargs: object) -> PreparedFeed:
    """`parse_feed` and then `prepare_items`: the work a `ParsePool` worker can take off the pipeline."""
    feed = parse_feed(content, **kwargs)
    return PreparedFeed(feed, prepare_items(feed.items))


def tune_garbage_collector() -> None:
    """Run Python's cycle collector less often than its defaults, for the process that owns a `Pipeline`.

    The clusterer and the stories' analyses are hundreds of thousands of long-lived dicts and sets that the
    collector would otherwise traverse again and again (a collection of the youngest objects every 700
    allocations, and full ones as they age): 6-8 % of the pipeline's time, measured. Every 100,000 allocations
    leaves cyclic garbage around for a moment longer, which costs memory only in the kilobytes.
    """
    gc.set_threshold(100_000, 50, 100)


@dataclass(frozen=True)
class IngestReport:
    received: int
    new_items: list[StoredItem]
    new_stories: list[int] = field(default_factory=list)
    contradictions: list[int] = field(default_factory=list)
    alerts_queued: int = 0
    # Items that repeat an earlier item of the same input (its GUID, or its link): not new, not known before.
    repeated: int = 0

    @property
    def already_known(self) -> int:
        """Items that were stored before this input."""
        return self.received - len(self.new_items) - self.repeated


@dataclass
class IngestTotals:
    """What a stream of items did, counted (`Pipeline.process_stream`): no list of them is kept."""

    received: int = 0
    new_items: int = 0
    new_stories: int = 0
    contradictions: int = 0
    alerts_queued: int = 0
    repeated: int = 0  # items that repeat an earlier item of the same stream (see `IngestReport.repeated`)

    @property
    def already_known(self) -> int:
        """Items that were stored before this stream."""
        return self.received - self.new_items - self.repeated


# Items per transaction of `Pipeline.process_stream`.
STREAM_BATCH = 5_000


class Pipeline:
    """The stages after parsing. It keeps the clusterer's memory, the analyses of open stories' reports and
    their sources between calls; all are rebuilt from the database on first use and after a failed
    transaction, so what it remembers is always what the database holds.

    Blocking and single-threaded: from asyncio, call `process` through `AsyncDatabase.run`.
    """

    def __init__(
        self,
        cluster_settings: ClusterSettings | None = None,
        contradiction_settings: ContradictionSettings = DEFAULT_SETTINGS,
        detector: Detector | None = None,
        alert_policy: AlertPolicy = DEFAULT_POLICY,
        *,
        kept_reports: int = KEPT_REPORTS,
        kept_founders: int = KEPT_FOUNDERS,
        kept_sources: int = KEPT_SOURCES,
        snapshot_every: int | None = SNAPSHOT_EVERY,
        late_after: timedelta | None = None,
    ) -> None:
        """`late_after`: a report first seen longer than this after it was published is late (see
        `is_late`); None: every report is news when first seen."""
        self.cluster_settings = cluster_settings or ClusterSettings()
        self.detector: Detector = detector or RulesDetector(contradiction_settings)
        self.alert_policy = alert_policy
        # Bounds on what is kept of the stories (see `_evict`): what a quiet story drops is read back from the
        # database and analysed again if a report joins it, with the same results.
        self.kept_reports = kept_reports
        self.kept_founders = kept_founders
        self.kept_sources = kept_sources
        self.snapshot_every = snapshot_every
        self.late_after = late_after
        self._clusterer: StoryClusterer | None = None
        self._data_version: int | None = None
        # (largest item id, memberships) of what the clusterer has seen, and new items since its snapshot.
        self._stamp = (0, 0)
        self._since_snapshot = 0
        # What was prepared ahead for the items of the current `process` call.
        self._ready: Mapping[TextKey, Prepared] = {}
        self._forget()

    @classmethod
    def configured(cls, settings: Settings) -> Pipeline:
        """The pipeline as the configuration sets it up: [stories], [contradictions] and what is late news."""
        return cls(
            settings.stories.cluster_settings(), settings.contradictions.detector_settings(),
            alert_policy=settings.contradictions.alert_policy(), late_after=settings.polling.late_after(),
        )

    def _forget(self) -> None:
        """Drop what is kept of the stories; the database holds it all and is read again as needed."""
        # Each kept in order of use, least recently used first, so that `_evict` drops the stories gone quiet.
        self._states: OrderedDict[int, StoryState] = OrderedDict()
        self._analysed = 0  # reports held in `_states`
        # The first report of each story started in memory that no later report has joined yet, without its link
        # and GUID, with what the detector keeps of its text if it was prepared ahead (`Detector.keep`): most such
        # stories never get a second report, and then need no state. Kept whole, the founders of a bot's parsing
        # worker held ten thousand analyses.
        self._founders: OrderedDict[int, tuple[StoredItem, object | None]] = OrderedDict()
        # The sources of each open story's reports, to tell a development (a new source) from an update: a tuple
        # of interned names, a fifth of the memory of a set of them (a story has few sources; feeds repeat).
        self._sources: OrderedDict[int, tuple[str, ...]] = OrderedDict()

    def _evict(self) -> None:
        """Keep within the bounds by dropping the state of the stories least recently given a report.

        Only between batches, once every membership is written (`MemberWriter.write`): a story dropped here and
        given a report later is read back from the database whole. Without this the analyses of every report of
        every open story stayed in memory for the two weeks a story stays open: the memory of a running bot grew
        with all it had processed in that time (445 MB at 100,000 items), where only recent stories need them.
        """
        states = self._states
        while self._analysed > self.kept_reports and len(states) > 1:
            _, dropped = states.popitem(last=False)
            self._analysed -= len(dropped)
        while len(self._founders) > self.kept_founders:
            self._founders.popitem(last=False)
        while len(self._sources) > self.kept_sources:
            self._sources.popitem(last=False)

    def is_late(self, item: Item, now: datetime) -> bool:
        """Whether a report first seen `now` is old news: published longer ago than an earlier poll could have
        seen it (a new feed's archive, a feed back after an outage, the bot back after a stop). A late report is
        stored and clustered by its own published time, but is never told as a new story or a development,
        and does not move a story's first time back."""
        return self.late_after is not None and now - item.published > self.late_after

    def _is_live(self, clusterer: StoryClusterer, story_id: int, now: datetime) -> bool:
        """Whether the story is running now: its latest report is news (a late report leaves such a story's
        dates; a story of old reports, such as an archive ingested, takes every report's time)."""
        last_seen = clusterer.last_seen_of(story_id)
        return self.late_after is not None and last_seen is not None and now - last_seen <= self.late_after

    def _load(self, db: Database) -> StoryClusterer:
        # Another process (`storywatch ingest` or `poll` beside the bot) may have stored reports and stories
        # since: SQLite's data_version changes with every commit of another connection, and then what is
        # remembered is read again. Checked inside the write transaction, where no other commit can follow.
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._clusterer = None
            self._data_version = version
        if self._clusterer is None:
            clusterer, covered = self._restored(db)
            if clusterer is None:
                clusterer = StoryClusterer(self.cluster_settings)
            clusterer.follow_ids(story_store.max_story_id(db) + 1)
            # Streamed in published order straight from the database: holding every membership in a list (and
            # a sorted copy) made the bot's memory grow with all of history while it started.
            for story_id, item in story_store.memberships(db, after_item_id=covered):
                clusterer.add_existing(story_id, item.title, item.summary, item.source, item.published)
            self._clusterer = clusterer
            self._stamp = snapshot_store.membership_stamp(db)
            self._since_snapshot = 0
            self._forget()
        return self._clusterer

    def _snapshot_version(self) -> str:
        """What a snapshot is valid for: these settings and this clustering code (a snapshot of another
        version's memory could hold other statistics, or not load)."""
        return f"{_CLUSTER_CODE}:{self.cluster_settings!r}"

    def _restored(self, db: Database) -> tuple[StoryClusterer | None, int]:
        """The clusterer of the database's snapshot and the largest item id it covers, if the snapshot is of
        this version and every membership it covers is still there, exactly (else `(None, 0)`: replay all).
        The memberships past it are the caller's to replay."""
        snapshot = snapshot_store.load_snapshot(db)
        if snapshot is None or snapshot.version != self._snapshot_version():
            return None, 0
        if snapshot_store.memberships_covered(db, snapshot.covers_item_id) != snapshot.memberships:
            log.info("The clusterer's snapshot no longer matches the stored stories: replaying them all")
            return None, 0
        # Millions of containers are made at once, none of them garbage: the cycle collector, run again and again
        # while they pile up, took a third of the time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with snapshot_store.snapshot_state(db) as stream:
                clusterer = pickle.load(stream)
        except Exception:
            log.warning("The clusterer's snapshot could not be read: replaying every story", exc_info=True)
            return None, 0
        finally:
            if collecting:
                gc.enable()
        if not isinstance(clusterer, StoryClusterer):
            return None, 0
        return clusterer, snapshot.covers_item_id

    def save_snapshot(self, db: Database, now: datetime) -> bool:
        """Save the clusterer's memory in the database, stamped with the memberships it covers, so that the
        next start restores it instead of replaying every membership. Between `process` calls only (the
        memory then holds exactly what the database does). Returns whether there was anything to save."""
        if self._clusterer is None:
            return False
        if snapshot_store.membership_stamp(db) != self._stamp:
            # Another process stored stories this memory has not seen: it is not what the database holds.
            log.warning("Stories were stored by another process: the clusterer's snapshot is not saved")
            return False
        covers_item_id, count = self._stamp
        with tempfile.TemporaryFile() as state:
            pickle.dump(self._clusterer, state, protocol=pickle.HIGHEST_PROTOCOL)
            snapshot_store.save_snapshot(db, self._snapshot_version(), covers_item_id, count, state, now)
        self._since_snapshot = 0
        return True

    def _story_state(self, db: Database, story_id: int, members: story_store.MemberWriter) -> StoryState:
        """The detector's state of a story, made once per story and then kept up to date."""
        state = self._states.get(story_id)
        if state is None:
            founder = self._founders.pop(story_id, None)
            if founder is not None:
                item, kept = founder
                state = self.detector.story([(item, kept if kept is not None else self._prepared(item))])
            else:
                members.write(db)  # the database must hold every member before they are read back
                stored = story_store.story_members(db, [story_id])[story_id]
                state = self.detector.story((member.item, self._prepared(member.item)) for member in stored)
            self._states[story_id] = state
            self._analysed += len(state)
        else:
            self._states.move_to_end(story_id)
        return state

    def _prepared(self, item: StoredItem) -> object:
        """What the detector prepared of the item's text: ahead, if it was (`prepare_items`), else now."""
        ready = self._ready.get(_text_key(item))
        return ready.text if ready is not None else self.detector.prepare(item.title, item.summary)

    def _add_source(self, db: Database, story_id: int, is_new: bool, source: str) -> bool:
        """Note the source of a report of the story; returns whether the story had no report from it yet."""
        sources = self._sources.get(story_id)
        if sources is None:
            # A story this memory has not touched yet (or dropped, after its memberships were written) has no
            # membership waiting in a MemberWriter.
            sources = () if is_new else tuple(sys.intern(name) for name in story_store.story_sources(db, story_id))
        else:
            self._sources.move_to_end(story_id)
        if source in sources:
            self._sources[story_id] = sources
            return False
        self._sources[story_id] = (*sources, sys.intern(source))
        return True

    def process(
        self,
        db: Database,
        items: Sequence[Item],
        *,
        now: datetime,
        feed_id: int | None = None,
        progress: Callable[[int], object] | None = None,
        prepared: Mapping[TextKey, Prepared] | None = None,
        repeats_after: int | None = None,
    ) -> IngestReport:
        """Store the new items in published-time order, place each in a story, record the contradictions
        it makes and queue the alerts they cause, all or nothing. `progress(n)` hears of every n items done.
        `prepared`: what `prepare_items` made ahead for the items, if anything. `repeats_after`: the items of the
        same input are those of ids past this one (`process_stream`), not only those of this call."""
        ordered = sorted(items, key=lambda item: item.published)
        new_items: list[StoredItem] = []
        new_stories: list[int] = []
        contradictions: list[int] = []
        alerts_queued = 0
        known_ids: list[int] = []
        self._ready = prepared or {}
        # Made in the parsing worker when there is one: the main process then tokenises no title for the index.
        indexed = {key[0]: ready.search_words for key, ready in self._ready.items()}
        try:
            with db.atomic():
                clusterer = self._load(db)
                members = story_store.MemberWriter(now)
                for start in range(0, len(ordered), PROGRESS_STEP):
                    batch = ordered[start : start + PROGRESS_STEP]
                    placements = []
                    for item in item_store.store_items(
                        db, batch, now=now, feed_id=feed_id, known_ids=known_ids, indexed=indexed
                    ):
                        new_items.append(item)
                        late = self.is_late(item, now)
                        story_id, is_new, new_source = self._place(db, clusterer, item, now, members, late)
                        found = [] if is_new else self._detect(db, story_id, item, now, members)
                        if is_new:
                            new_stories.append(story_id)
                        contradictions += found
                        placements.append(
                            Placement(item, story_id, is_new, new_source, clusterer.title_of(story_id), found, late)
                        )
                    members.write(db)
                    self._evict()
                    alerts_queued += record_events(db, placements, now, self.alert_policy)
                    if progress is not None:
                        progress(len(batch))
        except BaseException:
            # The database rolled back: forget what the clusterer learnt in this transaction.
            self._clusterer = None
            self._forget()
            raise
        finally:
            self._ready = {}
        if new_items:
            covered, count = self._stamp
            self._stamp = (max(covered, max(item.id for item in new_items)), count + len(new_items))
            self._since_snapshot += len(new_items)
            if self.snapshot_every is not None and self._since_snapshot >= max(
                self.snapshot_every, self._clusterer.open_story_count
            ):
                self.save_snapshot(db, now)
        if repeats_after is None:
            new_ids = {item.id for item in new_items}
            repeated = sum(1 for item_id in known_ids if item_id in new_ids)
        else:
            repeated = sum(1 for item_id in known_ids if item_id > repeats_after)
        return IngestReport(len(items), new_items, new_stories, contradictions, alerts_queued, repeated)

    def process_stream(
        self,
        db: Database,
        items: Iterable[Item],
        *,
        now: datetime,
        progress: Callable[[int], object] | None = None,
        batch: int = STREAM_BATCH,
    ) -> IngestTotals:
        """`process` for a stream of items already in published order (`files.sorted_items`), `batch` at a
        time, one transaction each, so that memory does not grow with the stream. Each batch is all or
        nothing; a failure leaves the batches before it stored (a second run finds them known). The clusterer's
        snapshot is saved at the end, so that the bot started next restores it."""
        totals = IngestTotals()
        iterator = iter(items)
        # Items stored by this stream get ids past this one: an item matching one of them repeats the stream.
        stored_before = item_store.max_item_id(db)
        while chunk := list(itertools.islice(iterator, batch)):
            report = self.process(db, chunk, now=now, progress=progress, repeats_after=stored_before)
            totals.received += report.received
            totals.new_items += len(report.new_items)
            totals.new_stories += len(report.new_stories)
            totals.contradictions += len(report.contradictions)
            totals.alerts_queued += report.alerts_queued
            totals.repeated += report.repeated
        if totals.new_items:
            self.save_snapshot(db, now)
        return totals

    def _place(
        self, db: Database, clusterer: StoryClusterer, item: StoredItem, now: datetime,
        members: story_store.MemberWriter, late: bool = False,
    ) -> tuple[int, bool, bool]:
        """Put the item in its story; returns (story id, whether it started it, whether its source is new)."""
        closed = clusterer.close_stale(item.published)
        if closed:
            story_store.close_stories(db, closed, now)
            for story_id in closed:
                dropped = self._states.pop(story_id, None)
                if dropped is not None:
                    self._analysed -= len(dropped)
                self._founders.pop(story_id, None)
                self._sources.pop(story_id, None)
        ready = self._ready.get(_text_key(item))
        assignment = clusterer.assign(
            item.title, item.summary, item.source, item.published, None if ready is None else ready.words
        )
        story_id = assignment.story_id
        if assignment.reopened:
            story_store.reopen_story(db, story_id)
        if assignment.is_new:
            story_store.create_story(db, story_id, item.title, item.published)
            kept = None if ready is None else self.detector.keep(ready.text)
            self._founders[story_id] = (replace(item, link=None, guid=None), kept)
        new_source = self._add_source(db, story_id, assignment.is_new, item.source)
        members.add(
            story_id, item, score=assignment.score, shared_terms=assignment.shared_terms,
            title=clusterer.title_of(story_id), new_source=new_source,
            dates_from=not late or assignment.is_new or not self._is_live(clusterer, story_id, now),
        )
        return story_id, assignment.is_new, new_source

    def _detect(
        self, db: Database, story_id: int, item: StoredItem, now: datetime, members: story_store.MemberWriter
    ) -> list[int]:
        story = self._story_state(db, story_id, members)
        found = []
        held = len(story)
        # The detector skips the item itself, which a freshly loaded story already holds.
        judged = self.detector.judge(story, item, self._prepared(item))
        self._analysed += len(story) - held
        for contradiction in judged:
            if contradiction.earlier.published > item.published:  # a StoredItem (detector._kept)
                # A report seen late, against one published after it: "later" would be the earlier report
                # (a "reversal" of a denial that came after it). Not told in that order.
                continue
            if story_store.has_same_contradiction(db, story_id, contradiction.kind, contradiction.earlier, item):
                continue  # the same outlet's same headlines again (syndicated copies): told once
            contradiction_id = story_store.add_contradiction(
                db, story_id, int(contradiction.earlier.id), item.id, kind=contradiction.kind,
                evidence=contradiction.evidence, score=contradiction.score, now=now,
            )
            if contradiction_id is not None:
                found.append(contradiction_id)
        return found
