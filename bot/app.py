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

# The poll job runs this often and polls the feeds that are due; each feed keeps its own schedule.
POLL_TICK_SECONDS = 60
# Digests are checked this often; each chat's time and zone are in the database (see bot/delivery/digest.py).
DIGEST_TICK_SECONDS = 60
CONCURRENT_UPDATES = 16
# Long-poll length of getUpdates: how long Telegram holds the request open when nothing happens.
UPDATES_TIMEOUT_SECONDS = 30


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
        clock: Callable[[], datetime] = utcnow,
        pacer: Pacer | None = None,
        poll_tick_seconds: float = POLL_TICK_SECONDS,
    ) -> None:
        self.settings = settings
        self.pacer = pacer or Pacer()
        self.application = build_application(settings, self.pacer)
        self.adb = adb or AsyncDatabase.open(settings.storage.path)
        self._owns_db = adb is None
        self.clock = clock
        self.poll_tick_seconds = poll_tick_seconds
        self.fetcher = Fetcher(settings.polling, allow_private_addresses=settings.feeds.allow_private_addresses)
        self.sender = Sender(self.adb, self.application.bot, pacer=self.pacer, clock=clock)
        self.digests = DigestScheduler(self.adb, self.application.bot, settings.digest, pacer=self.pacer,
                                       clock=clock)
        pipeline = Pipeline(settings.stories.cluster_settings(), settings.contradictions.detector_settings())
        self.service = StoryWatch(settings, self.adb, self.fetcher, pipeline, clock=clock, on_alerts=self.sender.wake)
        self.application.bot_data["service"] = self.service
        handlers.register(self.application)
        self._sender_task: asyncio.Task[None] | None = None
        self._instance_lock: InstanceLock | None = None
        self.polls_done = asyncio.Event()

    async def start(self) -> None:
        # Before anything is polled or sent: a second bot on this database would deliver every alert again.
        self._instance_lock = InstanceLock(self.settings.storage.path)
        await self.adb.run(check_integrity, self.settings.storage.path)
        await self.service.add_configured_feeds()
        application = self.application
        await application.initialize()  # getMe: a refused token fails here
        await application.bot.set_my_commands(handlers.BOT_COMMANDS)
        await application.start()
        await application.updater.start_polling(timeout=UPDATES_TIMEOUT_SECONDS, drop_pending_updates=False)
        for callback, interval, name in (
            (self._poll_job, self.poll_tick_seconds, "poll"),
            (self._digest_job, DIGEST_TICK_SECONDS, "digests"),  # a digest missed while down goes out now
        ):
            job = application.job_queue.run_repeating(
                callback, interval=interval, name=name, job_kwargs={"coalesce": True, "misfire_grace_time": None}
            )
            # The first run now, not a tick later. `first=0` does not do it: by the time APScheduler computes
            # the first fire time, "now" is already past and it moves to the next interval (PTB documents this
            # under run_repeating); a restarted bot then sat a whole tick before polling. Run it by hand, as
            # PTB recommends; stop() waits for it.
            application.create_task(job.run(application), name=f"storywatch-first-{name}")
        await self.sender.remember_recent_sends()
        self._sender_task = asyncio.create_task(self.sender.run(), name="storywatch-sender")
        log.info("storywatch is running as @%s", application.bot.username)

    async def stop(self) -> None:
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
            self._instance_lock.release()

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

    async def _poll_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            polls = await self.service.poll()
        except Exception:
            log.exception("A poll cycle failed; the next tick tries again")
            return
        failed = [poll for poll in polls if poll.status == "failed"]
        for poll in failed:
            log.warning("Feed %s failed: %s", poll.url, poll.error)
        self.polls_done.set()

    async def _digest_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.digests.send_due()
        except Exception:
            log.exception("Sending digests failed; the next check tries again")
