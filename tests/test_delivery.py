"""The sender against Telegram: the real `Sender` and a real python-telegram-bot `Bot` talking HTTP to the fake Bot
API server, alerts queued by the real pipeline in a real SQLite file. Time is virtual (the pacer's sleeps move it
on, the fake records arrivals on it, the sender reads it), so no test waits for a limit or a retry."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.monitor.alerts import topic_words
from bot.monitor.model import Item
from bot.monitor.normalize import dedup_key
from bot.monitor.pipeline import Pipeline
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import notices as notice_store
from storage.db import AsyncDatabase
from tests.fakebotapi import FakeBotAPI, SentMessage, utf16_len

TOKEN = "4242:DELIVERY-TEST"
START = datetime(2024, 12, 6, 9, 30, tzinfo=UTC)
ALICE, BOB, CAROL = 101, 202, 303
GROUP = -404
NATO = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima",
        "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
        "xray", "yankee", "zulu"]
# Outlets named with words: a number in a headline would read as a figure to the contradiction detector.
OUTLETS = [f"{a.title()} {b.title()}" for a in NATO[:10] for b in NATO[10:]]


def report(title: str, source: str, hours: float) -> Item:
    link = f"https://{source.lower().replace(' ', '-')}.example/{hours:g}"
    return Item(key=dedup_key(guid=None, link=link, title=title, scope=source), title=title, link=link,
                summary="", source=source, published=START + timedelta(hours=hours))


EVACUATION = report("Iran begins evacuating military personnel from Syria", "Levant Wire", 0)
DENIAL = report("Iran denies evacuating diplomats from Syria", "Tehran Desk", 5)


def developments(count: int) -> list[Item]:
    """Reports of the evacuation story from `count` other outlets: one development each."""
    return [report(f"Iran evacuating military personnel from Syria, {OUTLETS[i]} reports", f"{OUTLETS[i]} News",
                   0.05 * i) for i in range(1, count + 1)]


def denials(count: int) -> list[Item]:
    """Denials from `count` outlets: one contradiction each."""
    return [report(f"Iran denies evacuating military personnel from Syria, {OUTLETS[50 + i]} says",
                   f"{OUTLETS[50 + i]} Desk", 6 + 0.01 * i) for i in range(count)]


class VirtualTime:
    """Seconds that pass when the pacer sleeps or the test says so; the sender sees them as datetimes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    def datetime(self) -> datetime:
        return START + timedelta(seconds=self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    api: FakeBotAPI
    adb: AsyncDatabase
    bot: Bot
    time: VirtualTime
    pipeline: Pipeline = field(default_factory=Pipeline)

    def sender(self, **kwargs: object) -> Sender:
        pacer = Pacer(clock=self.time, sleep=self.time.sleep)  # Telegram's own limits, on virtual time
        return Sender(self.adb, self.bot, pacer=pacer, clock=self.time.datetime, **kwargs)

    async def follow(self, chat_id: int, query: str = "iran syria", *, chat_type: str = "private") -> None:
        def add(db) -> None:
            chat_store.ensure_chat(db, chat_id, type=chat_type, title=None, now=START)
            chat_store.add_topic(db, chat_id, query, topic_words(query), START)

        await self.adb.run(add)

    async def ingest(self, *items: Item) -> int:
        """Reports arrive (one poll): returns the alerts queued."""
        done = await self.adb.run(self.pipeline.process, list(items), now=self.time.datetime())
        return done.alerts_queued

    async def outbox(self, chat_id: int | None = None) -> list[tuple]:
        """(chat, kind, item title, status, message id, attempts, last error) of every alert, oldest first."""
        return await self.adb.run(lambda db: db.execute(
            """SELECT o.chat_id, e.kind, i.title, o.status, o.message_id, o.attempts, o.last_error
               FROM outbox o JOIN events e ON e.id = o.event_id JOIN items i ON i.id = e.item_id
               WHERE ? IS NULL OR o.chat_id = ? ORDER BY o.id""", [chat_id, chat_id]).fetchall())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    time = VirtualTime()
    api = FakeBotAPI(token=TOKEN, clock=time).start()
    adb = AsyncDatabase.open(tmp_path / "delivery.db")
    try:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            yield World(api, adb, bot, time)
    finally:
        adb.close()
        api.stop()


def sent_in(messages: list[SentMessage], title: str) -> list[SentMessage]:
    return [m for m in messages if title in m.plain_text]


async def test_a_burst_of_fifty_developments_is_one_message_within_telegrams_limit(world: World) -> None:
    await world.follow(ALICE)
    assert await world.ingest(EVACUATION, *developments(49)) == 50  # the new story and 49 developments
    assert await world.sender().drain() == 1

    [message] = world.api.messages(ALICE)
    assert utf16_len(message.plain_text) <= 4096
    assert "50 new reports" in message.plain_text
    rows = await world.outbox(ALICE)
    assert len(rows) == 50
    assert {(status, message_id, attempts) for _, _, _, status, message_id, attempts, _ in rows} == {
        ("sent", message.message_id, 1)}
    assert world.api.errors == []


async def test_a_chats_burst_is_one_message_even_when_a_drain_takes_the_outbox_a_few_chats_at_a_time(
    world: World,
) -> None:
    for chat_id in (ALICE, BOB, CAROL):
        await world.follow(chat_id)
    # Queued event by event: the outbox holds the first report for all three chats, then the second...
    assert await world.ingest(EVACUATION, *developments(2)) == 9
    assert await world.sender(batch_size=2).drain() == 3
    for chat_id in (ALICE, BOB, CAROL):
        [message] = world.api.messages(chat_id)
        assert "3 new reports" in message.plain_text
    assert {status for _, _, _, status, *_ in await world.outbox()} == {"sent"}


async def test_a_burst_too_long_for_one_message_shows_the_first_reports_and_counts_the_rest(world: World) -> None:
    await world.follow(ALICE)
    await world.ingest(EVACUATION, *developments(49))
    await world.sender().drain()

    [message] = world.api.messages(ALICE)
    assert utf16_len(message.plain_text) <= 4096
    assert EVACUATION.title in message.plain_text  # the burst's first report is shown
    shown = sum(line.startswith("•") for line in message.plain_text.splitlines())  # one line a report
    more = re.search(r"… and (\d+) more", message.plain_text)
    assert more is not None and 0 < shown < 50
    assert shown + int(more.group(1)) == 50


async def test_a_contradiction_is_never_batched_even_in_a_burst_and_its_restatements_are_not_told_again(
    world: World,
) -> None:
    await world.follow(ALICE)
    # The new story, three developments, and one alert for the three outlets denying the same claim.
    assert await world.ingest(EVACUATION, *developments(3), *denials(3)) == 5
    assert await world.sender().drain() == 2

    batch, contradiction = world.api.messages(ALICE)
    assert "4 new reports" in batch.plain_text
    assert not any(item.title in batch.plain_text for item in denials(3))
    assert contradiction.plain_text.startswith(f"⚠️ Disputed: {EVACUATION.title} — reported by Levant Wire")
    assert denials(3)[0].title in contradiction.plain_text  # the first denial found
    rows = await world.outbox(ALICE)
    assert [kind for _, kind, *_ in rows].count("contradiction") == 1
    assert len({message_id for *_, message_id, _, _ in rows}) == 2 and all(r[3] == "sent" for r in rows)


async def test_alerts_wait_out_telegram_being_down_and_then_arrive_in_order_once_each(
    world: World, tmp_path: Path
) -> None:
    await world.follow(ALICE)
    await world.follow(BOB)
    sender = world.sender()

    # Telegram answers 500: the new-story alerts stay pending, to be retried in 5 s.
    world.api.server_error(times=2)
    assert await world.ingest(EVACUATION) == 2
    assert await sender.drain() == 0
    rows = await world.outbox()
    assert [(status, attempts) for *_, status, _, attempts, _ in rows] == [("pending", 1)] * 2
    assert all("Internal Server Error" in error for *_, error in rows)

    # Telegram is back, but the retry is not due yet: the contradiction found meanwhile must not overtake the
    # alert it contradicts.
    assert await world.ingest(DENIAL) == 2
    assert await sender.drain() == 0
    assert world.api.messages() == []

    # The retry falls due and Telegram is slow: Alice's request times out on our side (and is then refused,
    # so it did not take effect, but the sender cannot know that), Bob's gets another 500. Both back off again, 10 s.
    world.time.advance(5)
    world.api.delay("sendMessage", 0.6)
    world.api.fail("sendMessage", chat_id=ALICE, status=500, description="Internal Server Error")
    world.api.fail("sendMessage", chat_id=BOB, status=500, description="Internal Server Error")
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=world.api.base_url, request=request) as impatient:
        slow = Sender(world.adb, impatient, pacer=sender.pacer, clock=world.time.datetime)
        assert await slow.drain() == 0
    # The held request is answered (and refused) before anything else is sent: no fault is left to take.
    await world.api.await_until(lambda: not world.api._faults, 5.0, "the held request to be answered")
    rows = await world.outbox()
    assert [(kind, status, attempts) for _, kind, _, status, _, attempts, _ in rows] == [
        ("new_story", "pending", 2), ("new_story", "pending", 2),
        ("contradiction", "pending", 0), ("contradiction", "pending", 0)]
    assert any("timed out, may have been delivered" in error for *_, error in rows if error)
    world.time.advance(5)
    assert await sender.drain() == 0  # 5 s are not the 10 s asked for

    world.time.advance(5)
    assert await sender.drain() == 4
    for chat_id in (ALICE, BOB):
        messages = world.api.messages(chat_id)
        assert len(messages) == 2  # each alert exactly once
        assert "New story" in messages[0].plain_text and EVACUATION.title in messages[0].plain_text
        assert "Disputed" in messages[1].plain_text and DENIAL.title in messages[1].plain_text
        assert [message_id for *_, message_id, _, _ in await world.outbox(chat_id)] == [
            m.message_id for m in messages]
    assert {status for _, _, _, status, *_ in await world.outbox()} == {"sent"}


async def test_a_private_chat_gets_at_most_one_message_a_second(world: World) -> None:
    await world.follow(ALICE)
    sender = world.sender()
    for item in [EVACUATION, *developments(2)]:  # three alerts, each drained on its own
        assert await world.ingest(item) == 1
        assert await sender.drain() == 1
    times = world.api.send_times(ALICE)
    assert len(times) == 3
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in itertools.pairwise(times))


async def test_a_group_gets_at_most_twenty_messages_a_minute(world: World) -> None:
    await world.follow(GROUP, chat_type="group")
    sender = world.sender()
    for item in [EVACUATION, *developments(24)]:  # 25 alerts, each drained on its own
        assert await world.ingest(item) == 1
        assert await sender.drain() == 1
    times = world.api.send_times(GROUP)
    assert len(times) == 25
    assert times[19] - times[0] < 60  # the first twenty go at the per-chat pace...
    for first, twenty_first in zip(times, times[20:], strict=False):  # ...then no 21 in any minute
        assert twenty_first - first >= 60 - 1e-9


def test_a_chat_waiting_for_its_turn_does_not_hold_up_the_others() -> None:
    pacer = Pacer(clock=lambda: 0.0)
    group = [pacer.reserve(GROUP, is_group=True) for _ in range(21)]
    assert group[20] == pytest.approx(61.0)  # the group's 21st waits for its minute (and a second of margin)...
    alice = [pacer.reserve(ALICE, is_group=False) for _ in range(2)]
    assert alice == pytest.approx([1 / 30, 1 + 1 / 30])  # ...and Alice need not wait with it, nor for its 2nd
    others = [pacer.reserve(chat, is_group=False) for chat in range(1000, 1040)]
    assert max(others) < 2.0  # the gaps the group left are filled, at 30 a second
    slots = sorted([*group, *alice, *others])
    assert all(later - earlier >= 1 / 30 - 1e-9 for earlier, later in itertools.pairwise(slots))


async def test_a_chats_next_message_waits_its_turn_without_keeping_other_chats_waiting(world: World) -> None:
    chats = [ALICE, BOB, CAROL, 404, 505, 606]
    for chat_id in chats:
        await world.follow(chat_id)
    sender = world.sender(concurrency=2)
    await world.ingest(EVACUATION)
    assert await sender.drain() == len(chats)
    world.time.advance(10)
    before = len(world.api.messages())
    # A development and a contradiction each: two messages each (the contradiction is never batched).
    assert await world.ingest(*developments(1), *denials(1)) == 2 * len(chats)
    assert await sender.drain() == 2 * len(chats)

    # Each chat's second message waits a second after its first (test_a_private_chat_gets_at_most_one_message_a_second),
    # and meanwhile the other chats get theirs: the burst takes little more than that second, not a second for each
    # pair of chats that hold the two sending slots.
    times = sorted(m.at for m in world.api.messages()[before:])
    assert times[-1] - times[0] < 1.6


async def test_chat_not_found_deactivates_and_a_refused_message_is_given_up_alone(world: World) -> None:
    for chat_id in (ALICE, BOB, CAROL):
        await world.follow(chat_id)
    world.api.fail("sendMessage", chat_id=ALICE, status=400, description="Bad Request: chat not found")
    world.api.fail("sendMessage", chat_id=BOB, status=400, description="Bad Request: message is too long")
    assert await world.ingest(EVACUATION, DENIAL) == 6  # a new story and its contradiction, for each chat
    assert await world.sender().drain() == 3

    alice = await world.outbox(ALICE)
    assert [status for _, _, _, status, *_ in alice] == ["failed", "failed"]
    assert all("chat not found" in error.lower() for *_, error in alice)
    assert not (await world.adb.run(chat_store.get_chat, ALICE)).active

    # Bob's first message was refused for good: given up, and his next one still goes; he stays active.
    [(_, kind, _, status, _, attempts, error), sent] = await world.outbox(BOB)
    assert (kind, status, attempts) == ("new_story", "failed", 1)
    assert error == "refused by Telegram: Message is too long"  # PTB drops "Bad Request: " and capitalises
    assert sent[3] == "sent" and (await world.adb.run(chat_store.get_chat, BOB)).active
    assert [m.message_id for m in world.api.messages(BOB)] == [sent[4]]

    assert [status for _, _, _, status, *_ in await world.outbox(CAROL)] == ["sent", "sent"]
    assert len(world.api.messages(CAROL)) == 2
    assert await world.adb.run(alert_store.next_due_at) is None  # nothing left to retry


async def test_a_restarted_sender_keeps_its_distance_from_the_last_run_s_sends(world: World) -> None:
    await world.follow(ALICE)
    await world.follow(GROUP, chat_type="group")
    assert await world.ingest(EVACUATION) == 2
    assert await world.sender().drain() == 2
    first = {chat: world.api.messages(chat)[0].at for chat in (ALICE, GROUP)}

    world.time.advance(0.3)  # the bot restarts at once: a new sender, a new pacer
    restarted = world.sender()
    await restarted.remember_recent_sends()
    assert await world.ingest(*denials(1)) == 2
    assert await restarted.drain() == 2
    for chat in (ALICE, GROUP):
        assert world.api.messages(chat)[1].at >= first[chat] + 1.0


async def test_feed_health_notices_are_retried_like_alerts_and_given_up_for_an_admin_who_never_wrote(
    world: World
) -> None:
    def queue(db) -> None:
        notice_store.add_feed_notice(db, [ALICE, BOB], notice_store.FEED_FAILING, 1, "Levant Wire", 3, "HTTP 500",
                                     world.time.datetime())
        notice_store.add_feed_notice(db, [ALICE, BOB], notice_store.FEED_RECOVERED, 2, "Gulf Post", 4, None,
                                     world.time.datetime())

    await world.adb.run(queue)
    world.api.fail("sendMessage", chat_id=ALICE, status=500)
    world.api.fail("sendMessage", chat_id=BOB, status=403, description="Forbidden: bot can't initiate conversation")
    sender = world.sender()
    assert await sender.drain() == 0
    assert await sender.drain() == 0  # Alice's retry is not due; Bob's notices were given up, not retried
    world.time.advance(5)
    assert await sender.drain() == 1
    [message] = world.api.messages(ALICE)
    assert message.plain_text == ("⚠️ Feed 1 (Levant Wire) has failed 3 polls in a row: HTTP 500. It is tried "
                                  "again with longer waits; /feeds shows it.\n"
                                  "✅ Feed 2 (Gulf Post) works again, after 4 failed polls.")
    assert world.api.messages(BOB) == []
    statuses = await world.adb.run(lambda db: db.execute(
        "SELECT chat_id, status, attempts FROM notices ORDER BY id").fetchall())
    assert statuses == [(ALICE, "sent", 2), (BOB, "failed", 1), (ALICE, "sent", 2), (BOB, "failed", 1)]
    assert await world.adb.run(notice_store.next_due_at) is None
