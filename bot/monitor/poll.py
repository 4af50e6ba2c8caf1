"""One poll cycle: fetch the due feeds concurrently, parse, store, and keep each feed's health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from bot.config import PollingSettings
from bot.logs import mask_credentials
from bot.monitor.fetch import Fetcher, FetchError, FetchResult
from bot.monitor.model import StoredItem, skipped_note
from bot.monitor.parse import NotAFeedError, ParsedFeed, ParsePool, ParserClosedError, parse_feed
from bot.monitor.pipeline import Pipeline, Prepared, PreparedFeed, TextKey, parse_and_prepare
from storage import feeds as feed_store
from storage import notices as notice_store
from storage.db import AsyncDatabase, utcnow
from storage.feeds import Feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedPoll:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    status: str  # "new", "unchanged", "not-modified" or "failed"
    new_items: list[StoredItem] = field(default_factory=list)
    error: str | None = None
    moved_to: str | None = None
    warnings: list[str] = field(default_factory=list)
    next_poll_at: datetime | None = None
    # The document's entries that gave no item, reason -> count (see `ParsedFeed.skipped_reasons`).
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    # Whether this poll changed the feed's health enough to queue a notice for the admins (`Notify`).
    notified: bool = False


@dataclass(frozen=True)
class Notify:
    """Who hears of a feed's change of health, and when: a feed that has failed `after_failures` polls in a
    row, and one that works again after that. The notices are queued in the transaction that records the
    poll, so a crash after it loses none, and each change is told once."""

    chat_ids: tuple[int, ...] = ()
    after_failures: int = 0

    def __bool__(self) -> bool:
        return bool(self.chat_ids and self.after_failures)


def backoff_delay(failures: int, settings: PollingSettings, retry_after: float | None = None) -> timedelta:
    """How long to leave a feed alone after its `failures`-th failure in a row: the poll interval doubled
    for each failure, capped; never sooner than the server's own Retry-After (within the cap)."""
    seconds = min(settings.backoff_max_seconds, settings.interval_seconds * 2 ** min(failures, 30))
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, settings.backoff_max_seconds))
    return timedelta(seconds=seconds)


def next_poll_time(feed: Feed, started: datetime, settings: PollingSettings) -> datetime:
    """When to poll a feed again after a successful poll that `started` at that time: one interval after the
    time it was due, so that a feed polled every 120 s is polled every 120 s, neither later by the time its
    fetch and parse took nor by how late the poll job woke; one interval after `started` when the poll was not
    on that schedule (the feed was forced, or was due over an interval ago: the bot was down, the feed failing)."""
    interval = timedelta(seconds=settings.interval_seconds)
    due = feed.next_poll_at
    return (due if due <= started < due + interval else started) + interval


def parse_pool(settings: PollingSettings) -> ParsePool[PreparedFeed] | None:
    """The worker processes that parse for `poll_cycle`, as configured (None: parse on a thread). The caller
    owns the pool and closes it."""
    if settings.parse_workers == 0:
        return None
    return ParsePool(settings.parse_workers, parse_and_prepare, timeout_seconds=settings.parse_timeout_seconds)


async def _parse(
    pool: ParsePool[PreparedFeed] | None, result: FetchResult, feed: Feed, now: datetime, settings: PollingSettings
) -> tuple[ParsedFeed, Mapping[TextKey, Prepared] | None]:
    kwargs = {"url": result.url, "headers": result.headers, "scope": f"feed:{feed.id}", "now": now,
              "source": feed.title}
    if pool is None:
        limit = settings.parse_timeout_seconds
        try:
            return await asyncio.wait_for(asyncio.to_thread(parse_feed, result.content, **kwargs), limit), None
        except TimeoutError:
            # A thread cannot be stopped: it parses on, but the feed fails now and the cycle goes on.
            raise NotAFeedError(f"parsing took longer than {limit:g} s") from None
    ready = await pool.parse(result.content, **kwargs)
    return ready.feed, ready.prepared


def _store_success(
    db: Database, pipeline: Pipeline, feed: Feed, result: FetchResult, parsed: ParsedFeed | None, now: datetime,
    next_poll_at: datetime, prepared: Mapping[TextKey, Prepared] | None = None, notify: Notify = Notify(),
) -> tuple[list[StoredItem], str | None, bool]:
    """Runs on the database thread: the feed's new items, its health and the admins' notice of its recovery,
    in one transaction. Returns the new items, the address it moved to, and whether a notice was queued."""
    with db.atomic():
        moved = None
        if result.moved_to and feed_store.move_feed(db, feed.id, result.moved_to):
            moved = result.moved_to
        new = []
        if parsed:
            new = pipeline.process(db, parsed.items, now=now, feed_id=feed.id, prepared=prepared).new_items
        failed_before = feed_store.record_success(
            db, feed.id, now=now, next_poll_at=next_poll_at, etag=result.etag,
            last_modified=result.last_modified, title=parsed.title if parsed else None,
            site_url=parsed.site_url if parsed else None, new_items=len(new),
            items=len(parsed.items) if parsed else None, skipped=parsed.skipped_reasons if parsed else None,
        )
        recovered = bool(notify) and failed_before >= notify.after_failures
        if recovered:
            notice_store.add_feed_notice(db, notify.chat_ids, notice_store.FEED_RECOVERED, feed.id,
                                         feed_store.get_feed(db, feed.id).name, failed_before, None, now)
    return new, moved, recovered


def _store_failure(
    db: Database, feed: Feed, now: datetime, error: str, next_poll_at: datetime, notify: Notify
) -> bool:
    """Runs on the database thread: the failure and, when it is the one the admins hear of, their notice, in
    one transaction. Returns whether a notice was queued."""
    with db.atomic():
        failures = feed_store.record_failure(db, feed.id, now=now, error=error, next_poll_at=next_poll_at)
        failing = bool(notify) and failures == notify.after_failures
        if failing:
            notice_store.add_feed_notice(db, notify.chat_ids, notice_store.FEED_FAILING, feed.id, feed.name,
                                         failures, error, now)
    return failing


async def poll_feed(
    adb: AsyncDatabase, fetcher: Fetcher, pipeline: Pipeline, feed: Feed, settings: PollingSettings,
    clock: Callable[[], datetime] = utcnow, pool: ParsePool[PreparedFeed] | None = None, notify: Notify = Notify(),
) -> FeedPoll:
    """Poll one feed, parsing in `pool`'s worker processes if given. Never raises for a feed's own problems:
    they are recorded (and told to `notify`'s chats when the feed's health changes) and returned."""
    error: FetchError | NotAFeedError
    started = clock()
    try:
        result = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        parsed, prepared = None, None
        if result.status == 200:
            parsed, prepared = await _parse(pool, result, feed, clock(), settings)
    except (FetchError, NotAFeedError) as exc:
        error = exc
    else:
        now = clock()
        next_poll_at = next_poll_time(feed, started, settings)
        new, moved, notified = await adb.run(_store_success, pipeline, feed, result, parsed, now, next_poll_at,
                                             prepared, notify)
        if moved:
            log.info("feed %s moved permanently to %s", feed.url, moved)
        for warning in parsed.warnings if parsed else []:
            log.warning("feed %s: %s", feed.url, warning)
        if parsed and parsed.skipped_reasons:
            log.warning("feed %s: %s", feed.url, skipped_note(parsed.skipped_reasons))
        status = "not-modified" if parsed is None else ("new" if new else "unchanged")
        return FeedPoll(feed.id, moved or feed.url, status, new, None, moved,
                        parsed.warnings if parsed else [], next_poll_at,
                        dict(parsed.skipped_reasons) if parsed else {}, notified)

    now = clock()
    reason = mask_credentials(str(error))  # a redirect's target may hold credentials
    delay = backoff_delay(feed.consecutive_failures + 1, settings, getattr(error, "retry_after", None))
    notified = await adb.run(_store_failure, feed, now, reason, now + delay, notify)
    log.warning("feed %s failed (%s); next try in %s", feed.url, reason, delay)
    return FeedPoll(feed.id, feed.url, "failed", error=reason, next_poll_at=now + delay, notified=notified)


async def poll_cycle(
    adb: AsyncDatabase, fetcher: Fetcher, pipeline: Pipeline, settings: PollingSettings, *, force: bool = False,
    clock: Callable[[], datetime] = utcnow, pool: ParsePool[PreparedFeed] | None = None, notify: Notify = Notify(),
) -> list[FeedPoll]:
    """Poll every feed that is due (every feed with `force`), concurrently within the fetcher's limits, parsing
    in `pool` (see `parse_pool`) or, without one, on threads; `notify`: who hears of changes of feed health.

    One feed's failure never stops the others: each is recorded on its own feed.
    """
    if force:
        feeds = await adb.run(feed_store.list_feeds)
    else:
        feeds = await adb.run(feed_store.due_feeds, clock())
    return list(
        await asyncio.gather(*(_poll_guarded(adb, fetcher, pipeline, feed, settings, clock, pool, notify)
                               for feed in feeds))
    )


async def _poll_guarded(
    adb: AsyncDatabase, fetcher: Fetcher, pipeline: Pipeline, feed: Feed, settings: PollingSettings,
    clock: Callable[[], datetime], pool: ParsePool[PreparedFeed] | None, notify: Notify,
) -> FeedPoll:
    """A bug or a database fault while polling one feed is logged with the feed's URL and recorded as that
    feed's failure, with its backoff, so that the rest of the cycle still completes and the feed is not
    fetched again every cycle."""
    try:
        return await poll_feed(adb, fetcher, pipeline, feed, settings, clock, pool, notify)
    except ParserClosedError as exc:  # the bot is stopping: the feed is polled as due when it starts again
        return FeedPoll(feed.id, feed.url, "failed", error=str(exc))
    except Exception as exc:
        log.exception("polling feed %s failed unexpectedly", feed.url)
        reason = f"internal error: {exc.__class__.__name__}"
        now = clock()
        next_poll_at = now + backoff_delay(feed.consecutive_failures + 1, settings)
        notified = False
        try:
            notified = await adb.run(_store_failure, feed, now, reason, next_poll_at, notify)
        except Exception:  # the database itself may be what failed: the next cycle tries the feed again
            log.exception("recording the failure of feed %s failed too", feed.url)
            next_poll_at = None
        return FeedPoll(feed.id, feed.url, "failed", error=reason, next_poll_at=next_poll_at, notified=notified)
