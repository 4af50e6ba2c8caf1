"""The running bot against what should not stop it: a feed whose parsing never ends, beside a good one.

The real bot (BotRuntime: PTB, the poll job, the parse worker, the sender) against the fake Bot API server and
loopback feeds; waits are on what the fake Telegram receives, each with a deadline."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import BotRuntime
from bot.config import FeedSettings, PollingSettings, Secret, Settings, StorageSettings, TelegramSettings
from bot.delivery.pacing import Limits, Pacer
from bot.monitor.alerts import topic_words
from storage import chats as chat_store
from storage.db import open_database, utcnow
from tests.fakebotapi import FakeBotAPI
from tests.feedserver import FeedServer, Route, rss

TOKEN = "4242:RELIABILITY-secret"
USER = 777
FAST = Limits(messages_per_second=1000, private_chat_interval=0.001, group_messages_per_minute=1000)
# A document of "<id " repeated: the expression that looked for GUIDs took 136 s on 512 kB of it, and feedparser's
# own lenient parser still takes seconds a megabyte.
QUADRATIC_DOCUMENT = b"<id " * 256_000


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI(token=TOKEN).start()
    yield server
    server.stop()


def bot_settings(tmp_path: Path, api: FakeBotAPI, urls: list[str], **polling: object) -> Settings:
    return Settings(
        telegram=TelegramSettings(token=Secret(TOKEN), base_url=api.base_url),
        storage=StorageSettings(path=str(tmp_path / "bot.db")),
        polling=dataclasses.replace(PollingSettings(), timeout_seconds=5.0, **polling),
        feeds=FeedSettings(urls=tuple(urls), allow_private_addresses=True),
    )


def follow(db_path: str, chat_id: int, topic: str) -> None:
    db = open_database(db_path)
    try:
        chat_store.ensure_chat(db, chat_id, type="private", title=None, now=utcnow())
        chat_store.add_topic(db, chat_id, topic, topic_words(topic), utcnow())
        db.execute("UPDATE chats SET digest_enabled = 0")
    finally:
        db.close()


async def test_a_feed_that_takes_too_long_to_parse_fails_alone_and_the_good_feed_alerts(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer
) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    hostile = feed_server.route("/hostile.xml", QUADRATIC_DOCUMENT)
    feed_server.routes["/levant.xml"] = Route(body=rss("Levant Wire", [
        ("Iran begins evacuating military personnel from Syria", "https://levant.example/evac", published)]))
    good = feed_server.url("/levant.xml")
    settings = bot_settings(tmp_path, api, [hostile, good], parse_timeout_seconds=1.0)
    follow(settings.storage.path, USER, "iran syria")

    runtime = BotRuntime(settings, pacer=Pacer(FAST))
    await runtime.start()
    try:
        # The first poll cycle ends, within its own limits, and the good feed's report is alerted.
        await asyncio.wait_for(runtime.polls_done.wait(), 60)
        [alert] = await api.await_messages(USER, 1, timeout=30)
        assert "Iran begins evacuating military personnel from Syria" in alert.plain_text
        feeds = {feed.url: feed for feed in await runtime.service.feeds()}
        assert feeds[good].consecutive_failures == 0 and feeds[good].last_error is None
        assert feeds[hostile].consecutive_failures == 1
        assert feeds[hostile].last_error == "parsing took longer than 1 s"
    finally:
        await runtime.stop()


# ------------------------------------------------------------------------------------- one pacer for all

OTHER_USER = 778
EVACUATION = "Iran begins evacuating military personnel from Syria"


@pytest.fixture
async def paced_bot(tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, request: pytest.FixtureRequest):
    feed_server.routes["/levant.xml"] = Route(body=rss("Levant Wire", []))
    settings = bot_settings(tmp_path, api, [feed_server.url("/levant.xml")])
    for chat_id in (USER, OTHER_USER):
        follow(settings.storage.path, chat_id, "iran syria")
    runtime = BotRuntime(settings, pacer=Pacer(request.param))
    await runtime.start()
    await asyncio.wait_for(runtime.polls_done.wait(), 30)
    yield runtime
    await runtime.stop()


def publish_evacuation(feed_server: FeedServer) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    feed_server.routes["/levant.xml"] = Route(body=rss("Levant Wire", [
        (EVACUATION, "https://levant.example/evac", published)]))


ONE_A_SECOND = Limits(messages_per_second=1000, private_chat_interval=1.0, group_messages_per_minute=1000)


@pytest.mark.parametrize("paced_bot", [ONE_A_SECOND], indirect=True)
async def test_command_replies_and_alerts_share_one_pacer(
    paced_bot: BotRuntime, api: FakeBotAPI, feed_server: FeedServer
) -> None:
    for _ in range(4):
        api.send_message(USER, "/help")
    replies = await api.await_messages(USER, 4, timeout=20)
    # Arrival times can only lag the slots the pacer gave (by the network's delay), never lead them.
    assert replies[-1].at - replies[0].at >= 3 * 1.0 - 0.3, [m.at for m in replies]

    # The alert after them keeps its distance from the replies: the alerts' pacer knows what replies used.
    publish_evacuation(feed_server)
    await paced_bot.service.poll(force=True)
    alert = (await api.await_messages(USER, 5, timeout=20))[4]
    assert EVACUATION in alert.plain_text
    assert alert.at - replies[-1].at >= 1.0 - 0.3


THREE_A_SECOND = Limits(messages_per_second=3, private_chat_interval=0.001, group_messages_per_minute=1000)


@pytest.mark.parametrize("paced_bot", [THREE_A_SECOND], indirect=True)
async def test_a_flood_wait_holds_back_every_send_already_scheduled(
    paced_bot: BotRuntime, api: FakeBotAPI, feed_server: FeedServer
) -> None:
    api.rate_limit(None, retry_after=2)  # the first message, whichever chat it is for, is refused for 2 s
    publish_evacuation(feed_server)
    await paced_bot.service.poll(force=True)
    await api.await_until(lambda: all(len(api.messages(chat)) == 1 for chat in (USER, OTHER_USER)), 20,
                          "both alerts")
    [refusal] = [error for error in api.errors if error.status == 429]
    # The other chat's alert had its slot a third of a second after the refused one: it waited out the 2 s too.
    other = USER if refusal.params["chat_id"] == OTHER_USER else OTHER_USER
    [alert] = api.messages(other)
    assert alert.at >= refusal.at + 2.0


# --------------------------------------------------------------------------------------- button presses


@pytest.mark.parametrize("paced_bot", [FAST], indirect=True)
async def test_every_button_press_is_answered_whatever_it_carries(
    paced_bot: BotRuntime, api: FakeBotAPI, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    publish_evacuation(feed_server)
    await paced_bot.service.poll(force=True)
    [alert] = await api.await_messages(USER, 1, timeout=20)
    await paced_bot.sender.settle()
    presses = [
        ("mute:99999999999999999999", {"chat_id": USER, "message_id": alert.message_id}),  # overflows SQLite
        ("timeline:99999", {"chat_id": USER, "message_id": alert.message_id}),  # no such story
        ("mute:²", {"chat_id": USER, "message_id": alert.message_id}),  # a digit to str.isdigit, not to int()
        ("mute:1", {}),  # inline mode: no message, no chat
    ]
    for data, where in presses:
        api.press_forged_button(data, **where)
    await api.await_until(lambda: len(api.answered_callbacks) == len(presses), 20, "every press answered")
    answers = sorted(answer.get("text", "") for answer in api.answered_callbacks)
    assert answers == sorted([
        "This button is from an older version of the bot.",
        "",  # the timeline's: the story's absence is said in the chat
        "This button is from an older version of the bot.",
        "This button works only under the bot's own messages, in the chat they were sent to.",
    ])
    [absent] = (await api.await_messages(USER, 2, timeout=20))[1:]
    assert absent.plain_text == "There is no story 99999: /stories lists them."
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


async def test_url_credentials_never_reach_a_chat_or_the_log(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(bot_settings(tmp_path, api, []), telegram=TelegramSettings(
        token=Secret(TOKEN), base_url=api.base_url, admins=(USER,)))
    runtime = BotRuntime(settings, pacer=Pacer(FAST))
    await runtime.start()
    try:
        missing = feed_server.url("/missing").replace("http://", "http://reader:s3cret-pass@")
        api.send_message(USER, f"/addfeed {missing}")
        [answer] = await api.await_messages(USER, 1, timeout=20)
    finally:
        await runtime.stop()
    assert "http://***@127.0.0.1" in answer.plain_text and "HTTP 404" in answer.plain_text
    assert "s3cret" not in answer.text
    assert "s3cret" not in caplog.text
