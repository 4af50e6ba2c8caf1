"""Wiring and lifecycle of the running bot: the PTB application with our handlers, the poll job on PTB's
JobQueue (APScheduler), and the sender that drains the outbox. Tests and `storywatch run` start and stop it
the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime

from telegram.ext import Application, ApplicationBuilder, ContextTypes

import handlers
from bot.config import Settings
from bot.delivery.digest_job import DigestScheduler
from bot.delivery.pacing import Pacer, PacingRateLimiter
from bot.delivery.sender import Sender
from bot.monitor.fetch import Fetcher
from bot.monitor.pipeline import Pipeline
from bot.service import StoryWatch
from storage.db import AsyncDatabase, InstanceLock, check_integrity, utcnow

log = logging.getLogger(__name__)

# The poll job wakes when the next feed is due (each feed keeps its own schedule, `polling.interval_seconds`
# after it was last due), and at least this often, to find feeds added by another process (`storywatch feeds
# add` while the bot runs).
POLL_CHECK_SECONDS = 60
# Digests are checked this often; each chat's time and zone are in the database (see bot/delivery/digest.py).
DIGEST_TICK_SECONDS = 60
CONCURRENT_UPDATES = 16
# Long-poll length of getUpdates: how long Telegram holds the request open when nothing happens.
UPDATES_TIMEOUT_SECONDS = 30
# On stop, how long the sends on their way may take to be answered and recorded, well within the 30 s that
# systemd (TimeoutStopSec) and compose (stop_grace_period) give before they kill the process.
STOP_SENDS_SECONDS = 10


def next_poll_delay(due: datetime | None, cycle_started: datetime | None, now: datetime, check: float) -> float:
    """Seconds until the poll job should wake after a cycle that began at `cycle_started` (None: it failed as
    a whole): when the next feed is due, at most `check` seconds on. A feed that was due before the cycle began
    was in it and is due still only if its poll went wrong without being recorded (a bug, a database fault):
    it waits for the next check, rather than being polled again and again at once."""
    if due is None or cycle_started is None or due < cycle_started:
        return check
    return min(check, max(0.0, (due - now).total_seconds()))


class MissingTokenError(ValueError):
    pass


def require_token(settings: Settings) -> str:
    token = settings.telegram.token.reveal()
    if not token:
        raise MissingTokenError(
            "no Telegram bot token: set telegram.token in the config or STORYWATCH_TELEGRAM_TOKEN "
            "(get one from @BotFather), or try storywatch demo, which needs none"
        )
    return token


def build_application(settings: Settings, pacer: Pacer) -> Application:
    """The PTB application; every message it sends is paced by `pacer`, the one the alerts use."""
    token = require_token(settings)
    base = settings.telegram.base_url.rstrip("/")
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_base)
        # A slow command (/addfeed fetches the feed) must not hold up everyone else's.
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(PacingRateLimiter(pacer))
        .get_updates_read_timeout(UPDATES_TIMEOUT_SECONDS + 10)
        # PTB's default of 5 s gave up on messages Telegram accepted and answered later: the retry sent them
        # again. A send that does time out is taken as possibly delivered (see Sender).
        .read_timeout(settings.telegram.send_timeout_seconds)
        .write_timeout(settings.telegram.send_timeout_seconds)
        .build()
    )


class BotRuntime:
    """Everything the running bot holds. `start()` and `stop()` bracket its life; `serve()` runs it until
    SIGINT or SIGTERM."""

    def __init__(
        self,
        settings: Settings,
        *,
        adb: AsyncDatabase | None = None,
        owns_db: bool | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacer: Pacer | None = None,
        poll_check_seconds: float = POLL_CHECK_SECONDS,
    ) -> None:
        self.settings = settings
        self.pacer = pacer or Pacer()
        self.application = build_application(settings, self.pacer)
        self.adb = adb or AsyncDatabase.open(settings.storage.path)
        # Closed by stop() when it is ours (opened here, or handed over); only then is a stop clean.
        self._owns_db = adb is None if owns_db is None else owns_db
        self.clock = clock
        self.poll_check_seconds = poll_check_seconds
        self.fetcher = Fetcher(settings.polling, allow_private_addresses=settings.feeds.allow_private_addresses)
        self.sender = Sender(self.adb, self.application.bot, pacer=self.pacer, clock=clock)
        self.digests = DigestScheduler(self.adb, self.application.bot, settings.digest, pacer=self.pacer,
                                       clock=clock)
        pipeline = Pipeline.configured(settings)
        self.service = StoryWatch(settings, self.adb, self.fetcher, pipeline, clock=clock, on_alerts=self.sender.wake)
        self.application.bot_data["service"] = self.service
        handlers.register(self.application)
        self._sender_task: asyncio.Task[None] | None = None
        self._instance_lock: InstanceLock | None = None
        self.polls_done = asyncio.Event()
        # Set each time the poll job is armed again; `next_poll_in` says in how many seconds it wakes.
        self.poll_scheduled = asyncio.Event()
        self.next_poll_in: float | None = None

    async def start(self) -> None:
        # Before anything is polled or sent: a second bot on this database would deliver every alert again.
        self._instance_lock = InstanceLock(self.settings.storage.path)
        # The check reads the whole file (about 1 s per GB): worth it after a crash, a kill or another writer,
        # not after this bot's own clean stop on a file nothing has touched since.
        if self._instance_lock.stopped_cleanly:
            log.info("The database is as the last clean stop left it; its integrity check is skipped")
        else:
            await self.adb.run(check_integrity, self.settings.storage.path)
        await self.service.add_configured_feeds()
        application = self.application
        await application.initialize()  # getMe: a refused token fails here
        await handlers.set_command_menus(application.bot, self.settings.telegram.admins)
        await self.sender.remember_recent_sends()  # before any reply or alert: a restart keeps the pace
        await application.start()
        await application.updater.start_polling(timeout=UPDATES_TIMEOUT_SECONDS, drop_pending_updates=False)
        digests = application.job_queue.run_repeating(
            self._digest_job, interval=DIGEST_TICK_SECONDS, name="digests",
            job_kwargs={"coalesce": True, "misfire_grace_time": None},
        )
        # The first runs now, not a tick later. `first=0` does not do it: by the time APScheduler computes the
        # first fire time, "now" is already past and it moves to the next interval (PTB documents this under
        # run_repeating); a restarted bot then sat a whole tick before polling. Run them by hand, as PTB
        # recommends; stop() waits for them. A digest missed while down goes out now.
        application.create_task(digests.run(application), name="storywatch-first-digests")
        application.create_task(self._poll_job(None), name="storywatch-first-poll")
        self._sender_task = asyncio.create_task(self.sender.run(), name="storywatch-sender")
        log.info("storywatch is running as @%s", application.bot.username)

    async def stop(self) -> None:
        # The sends under way are answered and recorded first (within a limit: Telegram may not answer).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.sender.finish(), STOP_SENDS_SECONDS)
        if self._sender_task is not None:
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
        application = self.application
        if application.updater.running:
            await application.updater.stop()
        # Before the application, which waits for a poll job under way: a feed still parsing gets a few
        # seconds, then its worker is stopped, instead of holding the bot for as long as the parse takes.
        await self.service.close()
        if application.running:
            await application.stop()
        await application.shutdown()
        await self.fetcher.aclose()
        if self._owns_db:
            self.adb.close()
        if self._instance_lock is not None:
            self._instance_lock.release(clean=self._owns_db)  # a database still open is no clean stop yet

    async def serve(self) -> None:
        """Run until SIGINT or SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            await self.stop()

    async def _poll_job(self, context: ContextTypes.DEFAULT_TYPE | None) -> None:
        """Poll the feeds that are due, then sleep until the next one is: one job at a time, woken at the next
        feed's own time rather than at a fixed tick (which made a 120 s interval 120 to 180 s)."""
        cycle_started: datetime | None = self.clock()
        try:
            polls = await self.service.poll()
        except Exception:
            log.exception("A poll cycle failed; the next check tries again")
            cycle_started = None
        else:
            for poll in polls:
                if poll.status == "failed":
                    log.warning("Feed %s failed: %s", poll.url, poll.error)
            self.polls_done.set()
        finally:
            await self._schedule_next_poll(cycle_started)

    async def _schedule_next_poll(self, cycle_started: datetime | None) -> None:
        due = None
        try:
            due = await self.service.next_poll_due()
        except Exception:
            log.exception("Could not read when the next feed is due; checking again in %s s", self.poll_check_seconds)
            cycle_started = None
        delay = next_poll_delay(due, cycle_started, self.clock(), self.poll_check_seconds)
        if self.application.running:
            self.application.job_queue.run_once(
                self._poll_job, when=delay, name="poll", job_kwargs={"misfire_grace_time": None}
            )
            self.next_poll_in = delay
            self.poll_scheduled.set()

    async def _digest_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.digests.send_due()
        except Exception:
            log.exception("Sending digests failed; the next check tries again")
