"""The whole bot end to end: the real PTB Application talking to a fake Bot API server on 127.0.0.1, feeds
from a loopback HTTP server, a real SQLite file. The tests speak as users do and read what Telegram would
show them."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import BotRuntime
from bot.config import ContradictionsSettings, FeedSettings, PollingSettings
from bot.logs import configure_logging
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import digests as digest_store
from storage.db import AsyncDatabase
from tests.botworld import ADMIN, GROUP, TOKEN, USER, BotWorld, bot_world, say
from tests.conftest import PINNED_NOW, RunningClock
from tests.feedserver import FeedServer, Route

START = PINNED_NOW - timedelta(hours=6)

EVACUATION = ("Iran begins evacuating military personnel from Syria", "https://levant.example/evac", 0)
DENIAL = ("Iran denies evacuating diplomats from Syria", "https://tehran.example/denial", 3)
COPPER = ("Copper prices climb to a two-year high on Chilean mine strike", "https://metals.example/cu", 1)


@pytest.fixture
def world(tmp_path: Path, feed_server: FeedServer) -> Iterator[BotWorld]:
    # These tests publish reports up to six hours before the bot's clock (PINNED_NOW) and expect them as news
    # (entries are hours after START); what old news does is tested on a pinned clock in test_bot_news.py.
    polling = dataclasses.replace(PollingSettings(), timeout_seconds=5.0, late_margin_seconds=7 * 86400)
    with bot_world(tmp_path, feed_server, RunningClock(), epoch=START, polling=polling) as made:
        yield made


@pytest.fixture
async def bot(world: BotWorld) -> AsyncIterator[BotRuntime]:
    runtime = world.runtime()
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_follow_then_new_story_alert_then_contradiction_alert(world: BotWorld, bot: BotRuntime) -> None:
    [welcome] = await say(world, USER, "/start")
    assert "/follow" in welcome.plain_text
    [answer] = await say(world, USER, "/follow iran syria")
    assert answer.plain_text == "Following “iran syria”."
    assert {c["command"] for c in world.api.commands()} >= {"follow", "stories", "story", "alerts"}

    world.publish("/levant.xml", "Levant Wire", [EVACUATION, COPPER])
    await bot.service.poll(force=True)
    [alert] = (await world.wait_messages(USER, 3))[2:]
    assert alert.plain_text.startswith("🆕 New story")
    assert EVACUATION[0] in alert.plain_text and "Copper" not in alert.plain_text
    assert [b["callback_data"] for row in alert.reply_markup["inline_keyboard"] for b in row] == [
        "timeline:1", "mute:1"]  # no Follow: the chat follows it already, through its topic

    world.publish("/levant.xml", "Levant Wire", [EVACUATION, COPPER, DENIAL])
    await bot.service.poll(force=True)
    [contradiction] = (await world.wait_messages(USER, 4))[3:]
    assert contradiction.plain_text.startswith(f"⚠️ Disputed: {EVACUATION[0]} — reported by Levant Wire (")
    assert "), denied by Levant Wire (" in contradiction.plain_text.splitlines()[0]
    assert EVACUATION[0] in contradiction.plain_text and DENIAL[0] in contradiction.plain_text
    assert "denial" in contradiction.plain_text and "evacuat" in contradiction.plain_text
    assert contradiction.reply_to_message_id == alert.message_id  # the story's thread in the chat
    assert contradiction.parse_mode == "HTML"

    # The timeline button answers with the story, times in the chat's zone.
    world.api.press_button(USER, contradiction.message_id, "timeline:1")
    [timeline] = (await world.wait_messages(USER, 5))[4:]
    assert EVACUATION[0] in timeline.plain_text and DENIAL[0] in timeline.plain_text
    assert "Disputed" in timeline.plain_text and "UTC" in timeline.plain_text
    assert "Possibly disputed" not in timeline.plain_text


async def test_alerts_arrive_once_after_a_restart_between_queueing_and_sending(world: BotWorld) -> None:
    # A first run stores the report and queues the alert, and stops before its sender gets to it.
    adb = AsyncDatabase.open(world.db_path)
    first = world.runtime(adb=adb)
    await adb.run(chat_store.ensure_chat, USER, type="private", title=None, now=START)
    # Alerts only: after 08:00 UTC the chat's first digest would fall due too, and be one more message.
    await adb.run(digest_store.set_digest, USER, enabled=False, now=START)
    await first.service.follow_topic(USER, "iran")
    await first.service.add_configured_feeds()
    world.publish("/levant.xml", "Levant Wire", [EVACUATION])
    await first.service.poll(force=True)
    assert (await adb.run(alert_store.outbox_counts)) == {"pending": 1}
    await first.fetcher.aclose()  # never started: nothing was sent
    adb.close()
    assert world.api.messages(USER) == []

    for _ in range(2):  # two restarts: the alert goes out with the first, and never again
        runtime = world.runtime()
        await runtime.start()
        await world.wait(lambda: len(world.api.messages(USER)) >= 1, "the queued alert")
        await runtime.sender.drain()
        await runtime.stop()
    assert len(world.api.messages(USER)) == 1
    check = AsyncDatabase.open(world.db_path)
    assert await check.run(alert_store.outbox_counts) == {"sent": 1}
    check.close()



async def test_a_bot_stopped_while_telegram_is_answering_a_send_records_it_and_never_sends_it_again(
    world: BotWorld,
) -> None:
    adb = AsyncDatabase.open(world.db_path)
    await adb.run(chat_store.ensure_chat, USER, type="private", title=None, now=START)
    await adb.run(digest_store.set_digest, USER, enabled=False, now=START)
    adb.close()
    runtime = world.runtime()
    await runtime.start()
    await runtime.service.follow_topic(USER, "iran")
    # Telegram takes the alert at once and answers a second later; the bot is stopped (SIGTERM) meanwhile.
    world.api.delay("sendMessage", 1.0)
    world.publish("/levant.xml", "Levant Wire", [EVACUATION])
    await runtime.service.poll(force=True)
    await world.wait(lambda: bool(world.api.requests_for("sendMessage")), "the alert on its way")
    await runtime.stop()
    await world.wait(lambda: len(world.api.messages(USER)) == 1, "the held send to take effect")

    restarted = world.runtime()
    await restarted.start()
    await restarted.sender.drain()
    await restarted.stop()
    assert len(world.api.messages(USER)) == 1  # it was recorded as sent before the bot stopped


async def publish_and_poll(world: BotWorld, bot: BotRuntime, entries: list[tuple[str, str, float]]) -> None:
    world.publish("/levant.xml", "Levant Wire", entries)
    await bot.service.poll(force=True)


async def test_a_blocked_chat_is_deactivated_and_comes_back_with_start(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    world.api.block_chat(USER)
    await publish_and_poll(world, bot, [EVACUATION])
    await world.wait(lambda: any(r.status == 403 for r in world.api.errors), "the 403")
    await bot.sender.drain()
    chat = await bot.adb.run(chat_store.get_chat, USER)
    assert not chat.active
    assert await bot.adb.run(alert_store.outbox_counts) == {"failed": 1}

    world.api.unblock_chat(USER)
    await say(world, USER, "/start")
    assert (await bot.adb.run(chat_store.get_chat, USER)).active


async def test_retry_after_is_honoured_and_the_alert_still_arrives(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    world.api.rate_limit(USER, retry_after=1)
    await publish_and_poll(world, bot, [EVACUATION])
    messages = await world.wait_messages(USER, 2)
    assert messages[1].plain_text.startswith("🆕 New story")
    refused = [r for r in world.api.errors if r.status == 429]
    assert len(refused) == 1
    # The retry came no sooner than Telegram asked.
    assert messages[1].at - refused[0].at >= 1.0


async def test_a_group_that_became_a_supergroup_keeps_its_alerts(world: BotWorld, bot: BotRuntime) -> None:
    world.api.set_admins(GROUP, [USER])
    await say(world, GROUP, "/follow iran", user_id=USER, chat_type="group", chat_title="Newsroom")
    world.api.migrate_chat(GROUP, -100999)
    world.publish("/levant.xml", "Levant Wire", [EVACUATION])
    await bot.service.poll(force=True)
    [alert] = await world.wait_messages(-100999, 1)
    assert alert.plain_text.startswith("🆕 New story")
    assert [s.query for s in await bot.adb.run(chat_store.subscriptions, -100999)] == ["iran"]


async def test_html_refused_falls_back_to_plain_text(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    world.api.fail("sendMessage", chat_id=USER, status=400,
                   description="Bad Request: can't parse entities: unsupported start tag \"x\" at byte offset 0")
    await publish_and_poll(world, bot, [EVACUATION])
    messages = await world.wait_messages(USER, 2)
    assert messages[-1].parse_mode is None and EVACUATION[0] in messages[-1].plain_text


async def test_server_errors_are_retried_without_losing_the_alert(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    world.api.server_error(times=1)
    await publish_and_poll(world, bot, [EVACUATION])
    await world.wait(lambda: any(r.status == 500 for r in world.api.errors), "the 500")
    # Waiting is for the retry time, which the sender's clock decides: move it on instead of sleeping.
    await bot.sender.settle()
    [(attempts, error)] = await bot.adb.run(lambda db: db.execute("SELECT attempts, last_error FROM outbox").fetchall())
    assert attempts == 1 and "Internal Server Error" in error
    world.clock.advance(minutes=5)
    await bot.sender.drain()
    messages = world.api.messages(USER)
    assert sum(EVACUATION[0] in m.plain_text for m in messages) == 1
    assert await bot.adb.run(alert_store.outbox_counts) == {"sent": 1}


async def test_feed_text_with_markup_is_shown_as_text(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    hostile = ("Iran <b>evacuates</b> & Syria <script>x</script> talks", "https://levant.example/h", 0)
    await publish_and_poll(world, bot, [hostile])
    [_, alert] = await world.wait_messages(USER, 2)
    assert alert.parse_mode == "HTML"  # accepted by the strict fake: everything was escaped
    assert "&" in alert.plain_text and "<script>" not in alert.plain_text


async def test_a_group_member_who_is_not_an_admin_cannot_change_settings(world: BotWorld, bot: BotRuntime) -> None:
    world.api.set_admins(GROUP, [ADMIN])
    [refusal] = await say(world, GROUP, "/follow iran", user_id=USER, chat_type="group", chat_title="Newsroom")
    assert "admins" in refusal.plain_text
    [refusal] = await say(world, GROUP, "/alerts off", user_id=USER, chat_type="group")
    assert "admins" in refusal.plain_text
    assert await bot.adb.run(chat_store.subscriptions, GROUP) == []
    [ok] = await say(world, GROUP, "/follow@storywatch_bot iran", user_id=ADMIN, chat_type="group")
    assert ok.plain_text == "Following “iran”."
    [listing] = await say(world, GROUP, "/following", user_id=USER, chat_type="group")
    assert "1. topic “iran”" in listing.plain_text


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/frobnicate", "I don't know /frobnicate. Send /help for the commands."),
        ("/follow", "Send /follow and the words of a topic, for example /follow iran syria, or a story's number "
                    "from /stories, for example /follow 12."),
        ("/follow " + "word " * 40, "That topic is too long: send at most 100 characters."),
        ("/stories " + "x" * 400, "That is too long: send at most 300 characters after the command."),
        ("/story", "Send /story and a story number from /stories, for example /story 12."),
        ("/story 99", "There is no story 99: /stories lists them."),
        ("/unfollow 3", "There is no number 3 in /following (it has 0)."),
        ("/alerts loud", "Send /alerts all, /alerts contradictions or /alerts off."),
        ("/addfeed https://example.com/rss", "Only the bot's admins manage the feeds."),
        ("/timezone Mars/Olympus", "“Mars/Olympus” is not a time zone name. Send an IANA name such as /timezone "
                                   "Europe/Berlin or /timezone America/New_York."),
        ("/timezone Europe/Berln", "“Europe/Berln” is not a time zone name. Send an IANA name such as /timezone "
                                   "Europe/Berlin or /timezone America/New_York. Did you mean Europe/Berlin, "
                                   "Europe/Belfast or Europe/Helsinki?"),
        ("/digest at 25:00", "Send /digest at 08:00 (24-hour time), /digest off, /digest on, or /digest for one now."),
    ],
)
async def test_bad_commands_get_a_plain_answer(world: BotWorld, bot: BotRuntime, text: str, answer: str) -> None:
    [reply] = await say(world, USER, text)
    assert reply.plain_text == answer


async def test_admin_manages_feeds_in_the_chat(world: BotWorld, bot: BotRuntime) -> None:
    world.feeds.routes["/copper.xml"] = Route(body=world.rss("Metals Daily", [COPPER]))
    world.feeds.routes["/page.html"] = Route(body=b"<html><body>hello</body></html>", content_type="text/html")
    [added] = await say(world, ADMIN, f"/addfeed {world.feeds.url('/copper.xml')}")
    assert added.plain_text.startswith("Added feed 2: Metals Daily")
    [refused] = await say(world, ADMIN, f"/addfeed {world.feeds.url('/page.html')}")
    assert "not a feed" in refused.plain_text
    [listing] = await say(world, ADMIN, "/feeds")
    assert "2 feeds" in listing.plain_text and "Metals Daily" in listing.plain_text
    # Each feed of the list is checked as /addfeed checks one: the page is no feed and is not added.
    world.feeds.routes["/gulf.xml"] = Route(body=world.rss("Gulf Post", [EVACUATION]))
    opml = (b'<?xml version="1.0"?><opml version="2.0"><body>'
            b'<outline text="x" xmlUrl="%s"/><outline text="y" xmlUrl="%s"/><outline text="z" xmlUrl="%s"/>'
            b'</body></opml>') % (world.feeds.url("/gulf.xml").encode(), world.feeds.url("/page.html").encode(),
                                  world.feeds.url("/copper.xml").encode())
    before = len(world.api.messages(ADMIN))
    world.api.send_document(ADMIN, "feeds.opml", opml, user_id=ADMIN)
    [imported] = (await world.wait_messages(ADMIN, before + 1))[before:]
    lines = imported.plain_text.splitlines()
    assert lines[:2] == ["Imported 1 new feed (1 was already in the pool).",
                         "Not added, 1 feed that could not be read as one:"]
    assert lines[2].startswith(f"• {world.feeds.url('/page.html')}: ") and "not a feed" in lines[2]
    [removed] = await say(world, ADMIN, "/removefeed 2")
    assert removed.plain_text.startswith("Removed feed 2: Metals Daily")


async def test_follow_a_story_by_replying_to_its_alert_and_mute_it(world: BotWorld, bot: BotRuntime) -> None:
    await say(world, USER, "/follow iran")
    await publish_and_poll(world, bot, [EVACUATION])
    [_, alert] = await world.wait_messages(USER, 2)
    await bot.sender.settle()  # the alert's message id is recorded once Telegram's answer is in
    [followed] = await say(world, USER, "/follow", reply_to_message_id=alert.message_id)
    assert followed.plain_text == f"Following story 1: {EVACUATION[0]}"
    world.api.press_button(USER, alert.message_id, "mute:1")
    await world.wait(lambda: len(world.api.answered_callbacks) == 1, "the button's answer")
    assert world.api.answered_callbacks[0]["text"] == "Muted story 1."
    [listing] = await say(world, USER, "/following")
    assert "muted 1" in listing.plain_text
    [stories] = await say(world, USER, "/stories")
    assert "Most active stories" in stories.plain_text and "1. " in stories.plain_text


async def test_the_token_never_reaches_the_log_or_the_database(
    world: BotWorld, bot: BotRuntime, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    # `configure_logging` sets the chatty libraries' levels too: left at debug, the tests after this one logged
    # every update PTB received, and a test reading the log saw what its own logging never wrote.
    libraries = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler", "telegram")}
    secret_filter = configure_logging(2)  # debug: httpx logs every request URL, and the URL holds the token
    secret_filter.add(TOKEN)
    try:
        await say(world, USER, "/start")
        world.api.server_error(times=1)
        await say(world, USER, "/help", expect=0)
        await world.wait(lambda: any(r.status == 500 for r in world.api.errors), "the 500")
        await say(world, USER, "/frobnicate")
    finally:
        root.handlers[:], root.level = saved
        for name, level in libraries.items():
            logging.getLogger(name).setLevel(level)
    logged = capfd.readouterr().err
    assert "HTTP Request: POST" in logged and "/bot[REDACTED]/sendMessage" in logged
    assert TOKEN not in logged
    assert TOKEN.encode() not in world.db_path.read_bytes()
    assert TOKEN.encode() not in Path(f"{world.db_path}-wal").read_bytes()


async def test_digest_and_timezone_settings(world: BotWorld, bot: BotRuntime) -> None:
    [answer] = await say(world, USER, "/timezone europe/berlin")
    assert answer.plain_text == "Time zone set to Europe/Berlin: times and the daily digest follow it."
    [answer] = await say(world, USER, "/digest at 7:30")
    assert answer.plain_text.startswith("The daily digest comes at 07:30 (Europe/Berlin).")
    chat = await bot.adb.run(chat_store.get_chat, USER)
    assert (chat.timezone, chat.digest_time, chat.digest_enabled) == ("Europe/Berlin", "07:30", True)
    [answer] = await say(world, USER, "/digest off")
    assert answer.plain_text.startswith("Daily digest off.")
    assert not (await bot.adb.run(chat_store.get_chat, USER)).digest_enabled

    world.publish("/levant.xml", "Levant Wire", [EVACUATION, DENIAL])
    await bot.service.poll(force=True)
    [digest] = await say(world, USER, "/digest")
    assert "Your digest for" in digest.plain_text and EVACUATION[0] in digest.plain_text
    # Times in the chat's zone, with its abbreviation on the reports' own date (summer time on the pinned day).
    zone = START.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Z")
    assert zone == "CEST" and zone in digest.plain_text


async def test_user_input_cannot_inject_sql_or_markup(world: BotWorld, bot: BotRuntime) -> None:
    hostile = "<b>iran</b> & x'); DROP TABLE chats; --"
    [answer] = await say(world, USER, f"/follow {hostile}")
    assert answer.parse_mode == "HTML"  # sent as HTML and accepted: the user's text was escaped
    assert answer.plain_text == f"Following “{hostile.lower()}”."
    [listing] = await say(world, USER, "/following")
    assert f"1. topic “{hostile.lower()}”" in listing.plain_text
    [search] = await say(world, USER, "/stories %' OR 1=1 --")
    assert search.plain_text == "No open story matches “%' OR 1=1 --”."
    assert (await bot.adb.run(chat_store.get_chat, USER)).active  # the chats table is still there


# The alert policy: a claim, restated by many outlets, then denied by many, in our own words.
NATO = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima",
        "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor"]
CLAIM = "Northwind Airways grounds its whole fleet after engine fault"
CLAIM_RESTATED = [
    "Northwind Airways grounds all planes over engine fault, sources say",
    "Engine fault: Northwind Airways grounds entire fleet",
    "Northwind Airways fleet grounded after engine fault found",
    "Northwind grounds fleet after engine fault",
    "Northwind Airways grounds whole fleet as engine fault is checked",
    "Travellers stranded as Northwind Airways grounds fleet",
    "Northwind Airways grounds fleet after engine fault in Lisbon",
    "Northwind Airways grounds every plane after engine fault",
    "Northwind Airways grounds fleet; engine fault blamed",
]
DENIALS = [
    "Northwind Airways denies grounding its fleet",
    "Northwind Airways denies it grounded planes after engine fault",
    "Northwind Airways denies grounding fleet, says flights run normally",
    "Airline Northwind denies it grounded its planes over engine fault",
    "Northwind denies fleet grounding report",
    "Northwind Airways denies grounding its whole fleet",
    "Northwind Airways rejects claims it grounded its fleet after engine fault",
    "Northwind Airways denies reports of fleet grounding after engine fault",
    "Northwind Airways denies grounding fleet as engine fault probe goes on",
    "Northwind Airways spokesman denies fleet was grounded",
]
LATE_DENIAL = "Northwind Airways chief denies grounding the fleet over an engine fault"
REASSERTED = "Northwind Airways grounds fleet after engine fault, regulator confirms"


def outlet_feeds(world: BotWorld, outlets: list[str]) -> tuple[str, ...]:
    """One feed per outlet, empty for now (see `publish_report`); returns their URLs."""
    for number, outlet in enumerate(outlets):
        world.publish(f"/outlet{number}.xml", outlet, [])
    return tuple(world.feeds.url(f"/outlet{number}.xml") for number in range(len(outlets)))


def publish_report(world: BotWorld, outlets: list[str], outlet: str, headline: str, hours: float) -> None:
    number = outlets.index(outlet)
    world.publish(f"/outlet{number}.xml", outlet, [(headline, f"https://outlet{number}.example/news", hours)])


async def test_ten_restatements_of_a_claim_and_ten_of_its_denial_give_each_chat_one_alert(world: BotWorld) -> None:
    names = iter(f"{word.title()} Post" for word in NATO)
    claims = [("Coast Ledger", CLAIM, 0.0)] + [(next(names), h, 0.1 * n) for n, h in enumerate(CLAIM_RESTATED, 1)]
    denials = [(next(names), headline, 3 + 0.1 * n) for n, headline in enumerate(DENIALS)]
    later = [(next(names), LATE_DENIAL, 5.0), (next(names), REASSERTED, 6.0)]
    outlets = [outlet for outlet, _, _ in claims + denials + later]
    urls = outlet_feeds(world, outlets)
    settings = dataclasses.replace(world.settings, feeds=FeedSettings(urls=urls, allow_private_addresses=True))
    # Each poll sees only the reports published by then: the claim, then the denials, then the last two.
    for report in claims:
        publish_report(world, outlets, *report)

    runtime = world.runtime(settings)
    await runtime.start()
    for chat_id, mode in ((USER, "contradictions"), (ADMIN, "all")):
        await say(world, chat_id, "/digest off")
        await say(world, chat_id, "/follow northwind")
        await say(world, chat_id, f"/alerts {mode}")
    answered = {chat_id: len(world.api.messages(chat_id)) for chat_id in (USER, ADMIN)}
    await runtime.service.poll(force=True)
    for report in denials:
        publish_report(world, outlets, *report)
    await runtime.service.poll(force=True)
    await runtime.sender.drain()
    await runtime.stop()

    # The promise is kept across a restart: a later denial and a restatement of the claim are the same dispute.
    for report in later:
        publish_report(world, outlets, *report)
    runtime = world.runtime(settings)
    await runtime.start()
    await runtime.service.poll(force=True)
    await runtime.sender.drain()
    found = await runtime.adb.run(lambda db: db.execute("SELECT count(*), count(DISTINCT claim_id) FROM contradictions")
                                  .fetchone())
    await runtime.stop()

    assert found[0] >= len(DENIALS) and found[1] == 1  # many contradictions of one claim
    [alert] = world.api.messages(USER)[answered[USER]:]  # /alerts contradictions: exactly the dispute
    # "⚠️ Disputed: <claim> — reported by <outlet> (<time>), denied by <outlet> (<time>)", then both reports. The
    # feeds are polled at once, so which report of the claim and which denial come first varies.
    heading = re.fullmatch(r"⚠️ Disputed: (.+) — reported by (.+) \(.+\), denied by (.+) \(.+\)",
                           alert.plain_text.splitlines()[0])
    assert heading is not None, alert.plain_text
    claim, reporter, denier = heading.groups()
    assert (reporter, claim) in [(outlet, headline) for outlet, headline, _ in claims]
    [(_, denial, _)] = [report for report in denials if report[0] == denier]
    assert denial in alert.plain_text and alert.parse_mode == "HTML"
    links = [e["url"] for e in alert.entities if e["type"] == "text_link"]
    assert links == [f"https://outlet{outlets.index(outlet)}.example/news" for outlet in (reporter, denier)]
    # A chat that gets all alerts hears of the story and its developments, and of the dispute once.
    received = [m.plain_text for m in world.api.messages(ADMIN)[answered[ADMIN]:]]
    assert sum(text.startswith("⚠️ Disputed") for text in received) == 1
    others = [headline for headline in DENIALS if headline != denial] + [LATE_DENIAL, REASSERTED]
    assert not any(headline in text for text in received for headline in others)


async def test_a_weak_contradiction_is_not_pushed_but_the_timeline_shows_it_as_possibly_disputed(
    world: BotWorld,
) -> None:
    outlets = ["Levant Wire", "Tehran Desk"]
    urls = outlet_feeds(world, outlets)
    publish_report(world, outlets, "Levant Wire", EVACUATION[0], EVACUATION[2])
    # Only a contradiction as certain as can be alerts: the detector's denial scores less.
    settings = dataclasses.replace(
        world.settings, feeds=FeedSettings(urls=urls, allow_private_addresses=True),
        contradictions=ContradictionsSettings(alert_min_score=1.0),
    )
    runtime = world.runtime(settings)
    await runtime.start()
    try:
        for chat_id, mode in ((USER, "all"), (ADMIN, "contradictions")):
            await say(world, chat_id, "/digest off")
            await say(world, chat_id, "/follow iran syria")
            await say(world, chat_id, f"/alerts {mode}")
        await runtime.service.poll(force=True)
        publish_report(world, outlets, "Tehran Desk", DENIAL[0], DENIAL[2])
        await runtime.service.poll(force=True)
        await runtime.sender.drain()
        [score] = await runtime.adb.run(lambda db: db.execute("SELECT score FROM contradictions").fetchone())
        assert score < 1.0  # the test's premise: the denial is found, and is weaker than the threshold

        assert len(world.api.messages(ADMIN)) == 3  # its three answers, and no alert
        new_story, development = world.api.messages(USER)[3:]
        assert new_story.plain_text.startswith("🆕 New story")
        # The denial reaches the chat as any report from a new outlet would, not as a dispute.
        assert development.plain_text.startswith("📰 Development") and DENIAL[0] in development.plain_text
        assert "Disputed" not in development.plain_text and "⚠️" not in development.plain_text

        [timeline] = await say(world, USER, "/story 1")
        assert "❔ Possibly disputed" in timeline.plain_text and "⚠️" not in timeline.plain_text
        assert f"{EVACUATION[0]} — reported by Levant Wire (" in timeline.plain_text
        assert "denied by Tehran Desk (" in timeline.plain_text
        assert "Tehran Desk" in timeline.plain_text.split("Possibly disputed")[1]
        [listing] = await say(world, USER, "/stories")
        assert "disputed" not in listing.plain_text  # nothing confidently disputed to mark
    finally:
        await runtime.stop()
