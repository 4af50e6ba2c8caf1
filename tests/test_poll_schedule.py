"""The running bot polls each feed at its configured interval: the real PTB Application and its JobQueue
(APScheduler) against the fake Bot API server, feeds from the loopback server, the runtime's clock pinned. The
test plays the scheduler's part in time: it moves the clock to when the armed poll job would fire and runs that
job, so no test waits for the wall clock."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import BotRuntime, next_poll_delay
from bot.config import FeedSettings, PollingSettings, Secret, Settings, StorageSettings, TelegramSettings
from bot.delivery.pacing import Limits, Pacer
from storage import feeds as feed_store
from tests.conftest import Clock
from tests.fakebotapi import FakeBotAPI
from tests.feedserver import FeedServer, rss

TOKEN = "4242:SCHEDULE-TOKEN"
LIMITS = Limits(messages_per_second=1000, private_chat_interval=0.001, group_messages_per_minute=1000)
T0 = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)


@dataclasses.dataclass
class Bot:
    runtime: BotRuntime
    clock: Clock
    feeds: FeedServer
    # The scheduler's own (wall) time before the step that arms the next poll job.
    before: datetime

    async def next_poll_job(self) -> float:
        """Wait until the poll job is armed; returns in how many seconds it fires, after checking that the
        scheduler holds exactly that one job, armed for then (in its own time, between the step that armed it
        and now)."""
        await asyncio.wait_for(self.runtime.poll_scheduled.wait(), 10)
        after = datetime.now(UTC)
        self.runtime.poll_scheduled.clear()
        delay = self.runtime.next_poll_in
        assert delay is not None
        [job] = self.runtime.application.job_queue.get_jobs_by_name("poll")
        assert self.before + timedelta(seconds=delay) <= job.next_t <= after + timedelta(seconds=delay)
        return delay

    async def fire(self, after: float) -> None:
        """What the scheduler does `after` seconds on: the clock has moved on, and the armed job runs."""
        [job] = self.runtime.application.job_queue.get_jobs_by_name("poll")
        job.schedule_removal()
        self.clock.advance(seconds=after)
        self.before = datetime.now(UTC)
        await job.run(self.runtime.application)

    def polls(self) -> int:
        return len(self.feeds.requests_to("/wire.xml"))

    async def next_poll_at(self) -> datetime:
        [feed] = await self.runtime.adb.run(feed_store.list_feeds)
        return feed.next_poll_at


@pytest.fixture
def interval() -> int:
    return 30


@pytest.fixture
async def bot(tmp_path: Path, feed_server: FeedServer, interval: int) -> AsyncIterator[Bot]:
    api = FakeBotAPI(token=TOKEN).start()
    feed_server.route("/wire.xml", rss("Wire", [("Harbour reopens", "https://wire.example/1", T0)]))
    settings = Settings(
        telegram=TelegramSettings(token=Secret(TOKEN), base_url=api.base_url),
        storage=StorageSettings(path=str(tmp_path / "bot.db")),
        polling=dataclasses.replace(PollingSettings(), interval_seconds=interval, timeout_seconds=5.0),
        feeds=FeedSettings(urls=(feed_server.url("/wire.xml"),), allow_private_addresses=True),
    )
    clock = Clock(T0)
    runtime = BotRuntime(settings, clock=clock, pacer=Pacer(LIMITS))
    before = datetime.now(UTC)
    await runtime.start()
    try:
        yield Bot(runtime, clock, feed_server, before)
    finally:
        await runtime.stop()
        api.stop()


@pytest.mark.parametrize("interval", [30, 10])
async def test_a_feed_is_polled_every_interval_even_when_the_job_wakes_late(bot: Bot, interval: int) -> None:
    assert await bot.next_poll_job() == interval  # the first poll ran at start
    assert (bot.polls(), await bot.next_poll_at()) == (1, T0 + timedelta(seconds=interval))

    await bot.fire(after=interval)
    assert await bot.next_poll_job() == interval
    assert (bot.polls(), await bot.next_poll_at()) == (2, T0 + timedelta(seconds=2 * interval))

    # Woken a second late (a busy machine), the poll keeps the feed's own schedule: the next is due one interval
    # after this one was, so the job sleeps a second less.
    await bot.fire(after=interval + 1)
    assert await bot.next_poll_job() == interval - 1
    assert (bot.polls(), await bot.next_poll_at()) == (3, T0 + timedelta(seconds=3 * interval))


@pytest.mark.parametrize("interval", [120])
async def test_an_interval_longer_than_the_check_is_kept_to_the_second(bot: Bot) -> None:
    # The job also wakes every POLL_CHECK_SECONDS (60) to find feeds added by another process; the feed itself
    # is polled at 120 s, not 120-180 s.
    assert await bot.next_poll_job() == 60
    await bot.fire(after=60)
    assert bot.polls() == 1
    assert await bot.next_poll_job() == 60
    await bot.fire(after=60)
    assert bot.polls() == 2
    assert await bot.next_poll_at() == T0 + timedelta(seconds=240)


def test_the_poll_job_wakes_when_the_next_feed_is_due_and_never_spins() -> None:
    started = T0
    # Due during the check: then; due already (it became due while the cycle ran): at once; none: the check.
    assert next_poll_delay(T0 + timedelta(seconds=25), started, T0 + timedelta(seconds=5), 60) == 20
    assert next_poll_delay(T0 + timedelta(seconds=3), started, T0 + timedelta(seconds=5), 60) == 0
    assert next_poll_delay(T0 + timedelta(seconds=600), started, T0, 60) == 60
    assert next_poll_delay(None, started, T0, 60) == 60
    # Due still though it was in the cycle (its poll went wrong unrecorded), or the cycle failed: the check, so
    # that nothing is polled again and again at once.
    assert next_poll_delay(T0 - timedelta(seconds=1), started, T0 + timedelta(seconds=2), 60) == 60
    assert next_poll_delay(T0 + timedelta(seconds=3), None, T0 + timedelta(seconds=5), 60) == 60
