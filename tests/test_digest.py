"""Daily digests on an injected clock: due at each chat's local time, across daylight-saving changes, sent
once when missed while down, never twice for one day, also across restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot

from bot.config import DigestSettings
from bot.delivery.digest import due_at, due_date
from bot.delivery.digest_job import DigestScheduler
from bot.delivery.pacing import Pacer
from bot.monitor.pipeline import Pipeline
from storage import chats as chat_store
from storage import digests as digest_store
from storage.db import AsyncDatabase
from tests.botworld import TEST_LIMITS
from tests.conftest import Clock
from tests.fakebotapi import FakeBotAPI
from tests.test_pipeline import COPPER, DENIAL, EVACUATION, FOLLOW_UP

BERLIN, NEW_YORK, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
EIGHT = time(8, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        (BERLIN, utc(2024, 1, 15, 7, 0), date(2024, 1, 15)),  # 08:00 CET is 07:00 UTC
        (BERLIN, utc(2024, 1, 15, 6, 59), None),
        (NEW_YORK, utc(2024, 1, 15, 13, 0), date(2024, 1, 15)),  # 08:00 EST is 13:00 UTC
        (NEW_YORK, utc(2024, 1, 15, 12, 0), None),
        (TOKYO, utc(2024, 1, 14, 23, 0), date(2024, 1, 15)),  # already the 15th in Tokyo
    ],
)
def test_the_digest_is_due_at_the_chats_local_time(tz: ZoneInfo, now: datetime, expected: date | None) -> None:
    assert due_date(now, EIGHT, tz, settled=set()) == expected


def test_daylight_saving_keeps_the_local_time() -> None:
    # Berlin moves to summer time on 31 March 2024 and back on 27 October: 08:00 stays 08:00.
    assert due_at(date(2024, 3, 30), EIGHT, BERLIN).astimezone(UTC) == utc(2024, 3, 30, 7, 0)
    assert due_at(date(2024, 3, 31), EIGHT, BERLIN).astimezone(UTC) == utc(2024, 3, 31, 6, 0)
    assert due_at(date(2024, 10, 27), EIGHT, BERLIN).astimezone(UTC) == utc(2024, 10, 27, 7, 0)
    assert due_date(utc(2024, 3, 31, 6, 0), EIGHT, BERLIN, set()) == date(2024, 3, 31)
    assert due_date(utc(2024, 3, 31, 5, 59), EIGHT, BERLIN, set()) is None
    # New York: 3 November 2024 falls back; 08:00 EST is 13:00 UTC that day, 12:00 UTC the day before.
    assert due_date(utc(2024, 11, 2, 12, 0), EIGHT, NEW_YORK, set()) == date(2024, 11, 2)
    assert due_date(utc(2024, 11, 3, 12, 30), EIGHT, NEW_YORK, set()) is None
    assert due_date(utc(2024, 11, 3, 13, 0), EIGHT, NEW_YORK, set()) == date(2024, 11, 3)


def test_a_time_skipped_by_the_clock_change_still_comes_that_day() -> None:
    skipped = due_at(date(2024, 3, 31), time(2, 30), BERLIN).astimezone(UTC)
    assert utc(2024, 3, 31, 0, 0) <= skipped <= utc(2024, 3, 31, 1, 30)
    assert due_date(utc(2024, 3, 31, 1, 30), time(2, 30), BERLIN, set()) == date(2024, 3, 31)


def test_missed_while_down_is_sent_within_the_grace_period_and_never_twice() -> None:
    assert due_date(utc(2024, 1, 15, 12, 0), EIGHT, BERLIN, set()) == date(2024, 1, 15)  # 5 h late
    assert due_date(utc(2024, 1, 15, 14, 0), EIGHT, BERLIN, set()) is None  # 7 h late: skipped
    assert due_date(utc(2024, 1, 15, 12, 0), EIGHT, BERLIN, {date(2024, 1, 15)}) is None
    # A late-evening digest is still owed just after midnight.
    assert due_date(utc(2024, 1, 15, 23, 30), time(23, 45), ZoneInfo("UTC"), set()) is None
    assert due_date(utc(2024, 1, 16, 0, 30), time(23, 45), ZoneInfo("UTC"), set()) == date(2024, 1, 15)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI().start()
    yield server
    server.stop()


@pytest.fixture
async def telegram_bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(api.token, base_url=api.base_url)
    async with bot:
        yield bot


def scheduler(adb: AsyncDatabase, bot: Bot, clock: Clock) -> DigestScheduler:
    return DigestScheduler(adb, bot, DigestSettings(default_time="08:00", default_timezone="UTC"),
                           pacer=Pacer(TEST_LIMITS), clock=clock)


async def test_scheduled_digests_go_out_once_per_day_across_restarts(
    tmp_path: Path, api: FakeBotAPI, telegram_bot: Bot
) -> None:
    clock = Clock(utc(2024, 12, 6, 6, 0))
    adb = AsyncDatabase.open(tmp_path / "sw.db")
    await adb.run(chat_store.ensure_chat, 1, type="private", title=None, now=clock())
    await adb.run(chat_store.ensure_chat, 2, type="private", title=None, now=clock())
    await adb.run(chat_store.add_topic, 1, "iran", ["iran"], clock())  # a chat that follows something
    await adb.run(digest_store.set_timezone, 1, "Europe/Berlin")  # due 07:00 UTC
    await adb.run(digest_store.set_digest, 2, enabled=True, at="09:30", now=clock())  # UTC by default
    await adb.run(lambda db: Pipeline().process(db, [EVACUATION, FOLLOW_UP, COPPER], now=clock()))

    assert await scheduler(adb, telegram_bot, clock).send_due() == 0
    clock.advance(hours=1)
    assert await scheduler(adb, telegram_bot, clock).send_due() == 1
    [digest] = api.messages(1)
    assert "Your digest for Friday 6 December" in digest.plain_text
    assert EVACUATION.title in digest.plain_text and COPPER.title in digest.plain_text
    assert await scheduler(adb, telegram_bot, clock).send_due() == 0  # a restart sends nothing again

    clock.advance(hours=6)  # 13:00 UTC: chat 2's 09:30 passed while "down", within the grace period
    assert await scheduler(adb, telegram_bot, clock).send_due() == 1
    assert len(api.messages(2)) == 1

    await adb.run(lambda db: Pipeline().process(db, [DENIAL], now=clock()))
    clock.advance(hours=18)  # next morning, 07:00 UTC
    assert await scheduler(adb, telegram_bot, clock).send_due() == 1
    second = api.messages(1)[1]
    assert "Saturday 7 December" in second.plain_text
    assert DENIAL.title in second.plain_text and "Contradiction" in second.plain_text
    assert COPPER.title not in second.plain_text  # nothing new about copper since the last digest
    adb.close()


async def test_a_digest_claimed_but_not_sent_before_a_crash_is_sent_after(
    tmp_path: Path, api: FakeBotAPI, telegram_bot: Bot
) -> None:
    clock = Clock(utc(2024, 12, 6, 8, 5))
    adb = AsyncDatabase.open(tmp_path / "sw.db")
    await adb.run(chat_store.ensure_chat, 1, type="private", title=None, now=clock() - timedelta(days=1))
    await adb.run(digest_store.set_digest, 1, enabled=True, now=clock() - timedelta(days=1))
    await adb.run(digest_store.claim_digest, 1, date(2024, 12, 6), clock())  # then the process died
    api.server_error(times=1)
    assert await scheduler(adb, telegram_bot, clock).send_due() == 0  # Telegram down: still owed
    assert await scheduler(adb, telegram_bot, clock).send_due() == 1
    assert await scheduler(adb, telegram_bot, clock).send_due() == 0
    assert len(api.messages(1)) == 1
    adb.close()


async def test_muted_stories_stay_out_and_followed_ones_come_first(
    tmp_path: Path, api: FakeBotAPI, telegram_bot: Bot
) -> None:
    clock = Clock(utc(2024, 12, 6, 8, 0))
    adb = AsyncDatabase.open(tmp_path / "sw.db")
    await adb.run(chat_store.ensure_chat, 1, type="private", title=None, now=clock())
    await adb.run(lambda db: Pipeline().process(db, [EVACUATION, FOLLOW_UP, COPPER], now=clock()))
    stories = await adb.run(digest_store.digest_stories, 1, clock() - timedelta(days=1))
    assert stories[0].title != COPPER.title  # the bigger story leads
    copper = next(s.id for s in stories if s.title == COPPER.title)
    await adb.run(chat_store.follow_story, 1, copper, clock())
    assert (await adb.run(digest_store.digest_stories, 1, clock() - timedelta(days=1)))[0].id == copper
    await adb.run(chat_store.mute_story, 1, copper, clock())
    assert copper not in [s.id for s in await adb.run(digest_store.digest_stories, 1, clock() - timedelta(days=1))]
    adb.close()
