"""The bot as a chat that keeps it sees it, on a pinned clock: only news that is new, named steadily, and easy
to act on (issue 17). The real PTB Application against the fake Bot API server, feeds over loopback HTTP,
a real SQLite file; the bot's clock is a `Clock` the test moves."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import BotRuntime
from storage import stories as story_store
from tests.botworld import ADMIN, USER, BotWorld, bot_world, say
from tests.conftest import Clock
from tests.feedserver import FeedServer, Route, rss

NOW = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)  # a DST change day in Europe, on purpose


@pytest.fixture
def news(tmp_path: Path, feed_server: FeedServer) -> Iterator[BotWorld]:
    with bot_world(tmp_path, feed_server, Clock(NOW), epoch=NOW) as world:
        yield world


@pytest.fixture
async def bot(news: BotWorld) -> AsyncIterator[BotRuntime]:
    runtime = news.runtime()
    await runtime.start()
    yield runtime
    await runtime.stop()


async def poll_and_deliver(bot: BotRuntime) -> None:
    await bot.service.poll(force=True)
    await bot.sender.drain()


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


STRIKE = "Copper prices climb to a two-year high on Chilean mine strike"


async def test_a_new_feeds_backlog_and_a_feed_back_after_an_outage_are_not_news(
    news: BotWorld, bot: BotRuntime
) -> None:
    await say(news, USER, "/follow copper")
    news.publish("/levant.xml", "Levant Wire", [(STRIKE, "https://levant.example/cu", ago(minutes=5))])
    await poll_and_deliver(bot)
    [alert] = (await news.wait_messages(USER, 2))[1:]
    assert alert.plain_text.startswith("🆕 New story") and STRIKE in alert.plain_text
    [live] = await bot.adb.run(story_store.most_active_stories)
    assert live.first_seen == ago(minutes=5)

    # A newly added feed whose twenty reports are one to twenty days old.
    backlog = [(f"Copper market weekly review {n}: Chilean mine strike lifts copper prices", f"https://m.example/{n}",
                ago(days=n)) for n in range(1, 21)]
    news.publish("/metals.xml", "Metals Daily", backlog)
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/metals.xml')}")
    # A feed that was down for hours comes back with what it published meanwhile.
    news.publish("/andes.xml", "Andes Times", [("Chilean mine strike: copper prices climb, miners walk out",
                                                "https://andes.example/1", ago(hours=3))])
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/andes.xml')}")
    await poll_and_deliver(bot)
    assert len(news.api.messages(USER)) == 2  # nothing more: all of it is old news

    # Stored, and grouped by their own time: the live story's dates did not move back.
    stories = await bot.adb.run(story_store.most_active_stories, limit=50)
    assert sum(story.item_count for story in stories) == 22
    assert min(story.first_seen for story in stories if story.id == live.id) == ago(minutes=5)
    assert all(story.first_seen >= ago(days=20) for story in stories)

    # A report that is news still is: the chat hears of the next source of the strike.
    news.clock.advance(minutes=10)
    news.publish("/gulf.xml", "Gulf Post", [("Copper prices climb further as Chilean mine strike enters second day",
                                             "https://gulf.example/2", NOW + timedelta(minutes=8))])
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/gulf.xml')}")
    await poll_and_deliver(bot)
    [development] = (await news.wait_messages(USER, 3))[2:]
    assert "second day" in development.plain_text



# The strike's reports after its first two, for a strike that has grown by the time of the theft.
MORE_OF_THE_STRIKE = ["Strike at Chilean copper mine enters fourth day", "Copper climbs as Chilean strike halts output",
                      "Chile copper mine strike: union vows to continue", "Chilean copper miners extend strike"]


@pytest.mark.parametrize(("theft", "strike_reports"), [
    ("Copper theft: thieves strip 3 km of cable from rail line", 2),
    # Four words, one of them "copper", written in lower case: a common word that many events share.
    ("Thieves steal copper wire", 6),
])
async def test_a_theft_of_copper_is_news_of_its_own_and_not_a_development_of_the_strike(
    news: BotWorld, bot: BotRuntime, theft: str, strike_reports: int
) -> None:
    await say(news, USER, "/follow copper")
    # Enough other news that word rarity means something (with a handful of stories every word is rare).
    elsewhere = ["Volcano erupts in Iceland, flights grounded", "Fed holds interest rates steady",
                 "Floods hit southern Brazil", "Tesla recalls cars over software fault", "Gold hits record high",
                 "Wildfires spread in California", "Nasa delays moon mission", "UN warns of famine in Sudan",
                 "Storm batters Philippines", "Bitcoin tops 100,000", "Japan election results", "Spain heatwave",
                 "France pension protests", "Chinese exports rise", "Bank of England warns on inflation",
                 "Apple unveils new iPhone", "Elections in India enter final phase", "Oil prices fall on demand fears",
                 "Amazon workers strike in UK", "Boeing 737 grounded after incident"]
    news.publish("/levant.xml", "Levant Wire", [
        *((title, f"https://levant.example/{n}", ago(minutes=60 - n)) for n, title in enumerate(elsewhere)),
        (STRIKE, "https://levant.example/cu", ago(minutes=20)),
        ("Copper up 3% as Chilean mine strike enters third day", "https://levant.example/cu2", ago(minutes=15)),
        *((title, f"https://levant.example/cu-{n}", ago(minutes=14 - n))
          for n, title in enumerate(MORE_OF_THE_STRIKE[:strike_reports - 2])),
    ])
    await poll_and_deliver(bot)
    strike = (await news.wait_messages(USER, 2))[1]
    assert strike.plain_text.startswith("🆕 New story")
    news.publish("/city.xml", "City Desk", [(theft, "https://city.example/1", ago(minutes=9))])
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/city.xml')}")
    await poll_and_deliver(bot)
    alert = (await news.wait_messages(USER, 3))[2]
    assert alert.plain_text.startswith("🆕 New story") and theft in alert.plain_text
    # The strike's next report from another outlet is still a development of the strike.
    news.publish("/gulf.xml", "Gulf Post", [("Chilean miners reject wage offer as copper strike drags on",
                                            "https://gulf.example/1", ago(minutes=5))])
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/gulf.xml')}")
    await poll_and_deliver(bot)
    development = (await news.wait_messages(USER, 4))[3]
    assert development.plain_text.startswith(f"📰 Development in {STRIKE}")



async def test_follow_with_a_number_follows_that_story_and_with_words_a_topic(news: BotWorld, bot: BotRuntime) -> None:
    news.publish("/levant.xml", "Levant Wire", [(STRIKE, "https://levant.example/cu", ago(minutes=5))])
    await poll_and_deliver(bot)
    [story] = await bot.adb.run(story_store.most_active_stories)
    [answer] = await say(news, USER, f"/follow {story.id}")
    assert answer.plain_text == f"Following story {story.id}: {STRIKE}"
    [answer] = await say(news, USER, f"/follow #{story.id}")
    assert answer.plain_text == f"Already following story {story.id}: {STRIKE}"
    [answer] = await say(news, USER, "/follow 12")
    assert answer.plain_text == "There is no story 12: /stories lists them."
    [answer] = await say(news, USER, "/follow copper 3")
    assert answer.plain_text.startswith("Following “copper 3”.")
    [listing] = await say(news, USER, "/following")
    assert listing.plain_text.splitlines()[1:3] == ["1. topic “copper 3”", f"2. story {story.id}: {STRIKE}"]


async def test_digests_go_only_to_chats_that_want_one_from_the_next_digest_time(
    news: BotWorld, bot: BotRuntime
) -> None:
    news.clock.now = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)  # after the default 08:00 UTC
    news.publish("/levant.xml", "Levant Wire", [(STRIKE, "https://levant.example/cu", news.clock.now)])
    await poll_and_deliver(bot)
    [welcome] = await say(news, USER, "/start")
    assert "once this chat follows something" in welcome.plain_text and "/digest on" in welcome.plain_text
    await say(news, ADMIN, "/start")
    assert await bot.digests.send_due() == 0  # nobody follows anything
    await say(news, USER, "/follow copper")
    news.clock.advance(minutes=1)
    assert await bot.digests.send_due() == 0  # 08:00 passed before the chat followed: the next one is owed

    news.clock.now = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert await bot.digests.send_due() == 1
    [digest] = (await news.wait_messages(USER, 3))[2:]
    assert "Your digest for Monday 30 March" in digest.plain_text and STRIKE in digest.plain_text
    assert news.api.messages(ADMIN)[1:] == []  # the admin's chat follows nothing: no digest

    # A digest asked for counts as the last one: two minutes later the daily one does not repeat it.
    news.clock.now = datetime(2026, 3, 31, 7, 58, tzinfo=UTC)
    news.publish("/levant.xml", "Levant Wire", [
        (STRIKE, "https://levant.example/cu", datetime(2026, 3, 29, 10, 0, tzinfo=UTC)),
        ("Copper strike: Chilean miners reject the latest wage offer", "https://levant.example/cu2",
         news.clock.now - timedelta(minutes=30)),
    ])
    await poll_and_deliver(bot)  # the same outlet again: an update, no alert
    news.clock.advance(minutes=1)
    [manual] = await say(news, USER, "/digest")
    assert "wage offer" in manual.plain_text
    news.clock.now = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert await bot.digests.send_due() == 0
    assert news.api.messages(USER)[-1].message_id == manual.message_id


async def test_a_story_keeps_its_title_and_a_live_blog_headline_never_becomes_it(
    news: BotWorld, bot: BotRuntime
) -> None:
    await say(news, USER, "/follow iran syria")
    first = "Iran begins evacuating military personnel from Syria"
    reports = [
        (first, "https://levant.example/1", ago(minutes=50)),
        ("Iran evacuating military personnel and commanders from Syria bases", "https://gulf.example/2",
         ago(minutes=40)),
        ("Iran confirms it is evacuating military personnel from Syria", "https://tehran.example/3", ago(minutes=30)),
        ("Iran Syria evacuation of military personnel live updates part 3", "https://city.example/4",
         ago(minutes=20)),
    ]
    for number, (outlet, report) in enumerate(zip(("levant", "gulf", "tehran", "city"), reports, strict=True)):
        news.publish(f"/{outlet}.xml", outlet.title(), [report])
        if number:
            await say(news, ADMIN, f"/addfeed {news.feeds.url(f'/{outlet}.xml')}")
        await poll_and_deliver(bot)
    alerts = news.api.messages(USER)[1:]
    assert alerts[0].plain_text.startswith("🆕 New story") and len(alerts) == 4
    # Every development names the story as the chat first knew it.
    assert all(alert.plain_text.startswith(f"📰 Development in {first}") for alert in alerts[1:])
    [story] = await bot.adb.run(story_store.most_active_stories)
    assert story.item_count == 4 and story.title == first
    [followed] = await say(news, USER, "/follow", reply_to_message_id=alerts[0].message_id)
    assert followed.plain_text == f"Following story {story.id}: {first}"
    [listing] = await say(news, USER, "/following")
    assert f"story {story.id}: {first}" in listing.plain_text
    [digest] = await say(news, USER, "/digest")
    assert f"★ {first}" in digest.plain_text


async def test_a_burst_names_each_story_with_its_own_buttons_and_a_reply_asks_which(
    news: BotWorld, bot: BotRuntime
) -> None:
    await say(news, USER, "/follow copper")
    await say(news, USER, "/follow iran")
    news.publish("/levant.xml", "Levant Wire", [
        ("Iran begins evacuating military personnel from Syria", "https://levant.example/1", ago(minutes=9)),
        (STRIKE, "https://levant.example/2", ago(minutes=8)),
    ])
    await poll_and_deliver(bot)
    [batch] = (await news.wait_messages(USER, 3))[2:]
    assert batch.plain_text.startswith("📰 2 new reports in 2 stories")
    assert "Story 1: Iran begins" in batch.plain_text and "Story 2: Copper prices" in batch.plain_text
    rows = [[button["callback_data"] for button in row] for row in batch.reply_markup["inline_keyboard"]]
    assert rows == [["timeline:1", "mute:1"], ["timeline:2", "mute:2"]]
    assert [b["text"] for b in batch.reply_markup["inline_keyboard"][1]] == ["Timeline 2", "Mute 2"]

    await bot.sender.settle()
    [answer] = await say(news, USER, "/follow", reply_to_message_id=batch.message_id)
    assert answer.plain_text.startswith("That message is about stories 1 and 2: which one?")
    # A timeline has no Timeline button, and Follow only where the chat does not follow the story yet.
    news.api.press_button(USER, batch.message_id, "timeline:2")
    [timeline] = (await news.wait_messages(USER, 5))[4:]
    assert [b["callback_data"] for row in timeline.reply_markup["inline_keyboard"] for b in row] == ["mute:2"]
    await say(news, USER, "/unfollow copper")
    [answer] = await say(news, ADMIN, "/follow chilean strike")
    assert answer.plain_text == ("Following “chilean strike”. 1 current story matches: its developments will be "
                                 "sent here too.")
    [timeline] = await say(news, USER, "/story 2")
    assert [b["callback_data"] for row in timeline.reply_markup["inline_keyboard"] for b in row] == [
        "follow:2", "mute:2"]


OPML = (b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline text="Levant" xmlUrl="%s"/></body></opml>')


async def test_in_a_group_only_an_admins_feed_list_is_answered(news: BotWorld, bot: BotRuntime) -> None:
    group = -1002
    opml = OPML % news.feeds.url("/levant.xml").encode()
    news.api.send_document(group, "holiday.jpg", b"\xff\xd8\xff\xe0 not really a photo", user_id=USER,
                           chat_type="group")
    news.api.send_document(group, "feeds.opml", opml, user_id=USER, chat_type="group")
    news.api.send_document(group, "minutes.pdf", b"%PDF-1.4", user_id=ADMIN, chat_type="group")
    news.api.send_document(group, "feeds.opml", opml, user_id=ADMIN, chat_type="group")
    [answer] = await news.wait_messages(group, 1)
    assert answer.plain_text.startswith("Imported") or "already" in answer.plain_text
    await say(news, group, "/help", user_id=USER, chat_type="group")
    assert len(news.api.messages(group)) == 2  # the admin's list and /help: the other files got no answer


async def test_a_topic_of_a_country_meets_its_adjective_and_demonym(news: BotWorld, bot: BotRuntime) -> None:
    await say(news, USER, "/follow iran")
    await say(news, ADMIN, "/follow french")
    news.publish("/levant.xml", "Levant Wire", [
        ("Iranian forces start evacuation from Syrian bases", "https://levant.example/1", ago(minutes=9)),
        ("France recalls its ambassador", "https://levant.example/2", ago(minutes=8)),
    ])
    await poll_and_deliver(bot)
    [alert] = (await news.wait_messages(USER, 2))[1:]
    assert "Iranian forces start evacuation" in alert.plain_text and "France" not in alert.plain_text
    [alert] = (await news.wait_messages(ADMIN, 2))[1:]
    assert "France recalls" in alert.plain_text


async def test_feed_errors_are_plain_and_say_what_was_assumed(news: BotWorld, bot: BotRuntime) -> None:
    [answer] = await say(news, ADMIN, "/addfeed javascript:alert(1)")
    assert answer.plain_text == "That is not a web address: send a feed's http:// or https:// address."
    plain_http = news.feeds.url("/levant.xml").removeprefix("http://")
    [answer] = await say(news, ADMIN, f"/addfeed {plain_http}")
    text = answer.plain_text
    assert text.startswith(f"Could not fetch https://{plain_http}")
    assert "SSL" not in text and "_ssl.c" not in text
    assert f"https:// was assumed: if the site is plain HTTP, send http://{plain_http}" in text
    [answer] = await say(news, ADMIN, "/removefeed abc")
    assert answer.plain_text == "Give a feed's number from the feed list, or its address."
    [answer] = await say(news, ADMIN, "/removefeed http://news.example/rss")
    assert answer.plain_text == "The feed http://news.example/rss is not in the pool."
    [answer] = await say(news, ADMIN, f"/addfeed {news.feeds.url('/levant.xml')}")
    assert answer.plain_text.startswith("The feed http://127.0.0.1")
    news.feeds.routes["/page.html"] = Route(body=b"<html><body>hello</body></html>", content_type="text/html")
    [answer] = await say(news, ADMIN, f"/addfeed {news.feeds.url('/page.html')}")
    assert answer.plain_text.startswith("http://127.0.0.1")  # an address keeps its case, first in a sentence


async def test_admins_hear_once_when_a_feed_fails_and_once_when_it_recovers(news: BotWorld, bot: BotRuntime) -> None:
    await say(news, ADMIN, "/start")
    news.feeds.routes["/levant.xml"] = Route(body=b"down", status=500, content_type="text/plain")
    for _ in range(5):  # the third failure in a row is told, the fourth and fifth are not
        await bot.service.poll(force=True)
    [failing] = (await news.wait_messages(ADMIN, 2))[1:]
    assert failing.plain_text.startswith("⚠️ Feed 1 (127.0.0.1) has failed 3 polls in a row: HTTP 500.")
    # Back, but with no entries in it: read, yet not "ok".
    news.feeds.routes["/levant.xml"] = Route(body=rss("Levant Wire", []))
    await bot.service.poll(force=True)
    [recovered] = (await news.wait_messages(ADMIN, 3))[2:]
    # At least the five forced polls failed (the bot's own schedule may have polled it too).
    assert re.fullmatch(r"✅ Feed 1 \(Levant Wire\) works again, after \d+ failed polls\.", recovered.plain_text)
    await bot.service.poll(force=True)
    [listing] = await say(news, ADMIN, "/feeds")
    assert " · empty · " in listing.plain_text and " ok " not in listing.plain_text
    assert len(news.api.messages(ADMIN)) == 4


async def test_muted_unmute_export_pages_and_long_timelines(news: BotWorld, bot: BotRuntime) -> None:
    await say(news, USER, "/follow copper")
    reports = [(f"Copper strike day {n}: Chilean miners hold the line at Escondida mine", f"https://l.example/{n}",
                ago(minutes=59 - n)) for n in range(40)]
    news.publish("/levant.xml", "Levant Wire", reports)
    await poll_and_deliver(bot)
    [story] = await bot.adb.run(story_store.most_active_stories)
    assert story.item_count == 40
    [timeline] = await say(news, USER, f"/story {story.id}")
    assert "day 39" in timeline.plain_text and "earlier reports not shown" in timeline.plain_text
    assert "day 1:" not in timeline.plain_text  # the oldest make way for the newest

    [answer] = await say(news, USER, f"/mute {story.id}")
    assert answer.plain_text.endswith(f". /unmute {story.id} to hear of it again.")
    [muted] = await say(news, USER, "/muted")
    assert muted.plain_text.startswith("Muted stories\n" + f"{story.id}. Copper strike day")
    [unmuted] = await say(news, USER, f"/unmute {story.id}")
    assert unmuted.plain_text.startswith(f"Unmuted story {story.id}:")
    [none] = await say(news, USER, "/muted")
    assert none.plain_text == "No story is muted in this chat."

    headlines = ["Volcano erupts in Iceland, flights grounded", "Fed holds interest rates steady",
                 "Apple unveils new iPhone", "Floods hit southern Brazil", "Elections in India enter final phase",
                 "Tesla recalls cars over software fault", "Wildfires spread in California",
                 "Nasa delays moon mission", "Gold hits record high", "UN warns of famine in Sudan",
                 "Storm batters Philippines"]
    unrelated = [(headline, f"https://o.example/{n}", ago(minutes=30)) for n, headline in enumerate(headlines)]
    news.publish("/other.xml", "Other Desk", unrelated)
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/other.xml')}")
    await poll_and_deliver(bot)
    [first] = await say(news, USER, "/stories")
    assert first.plain_text.endswith("More: /stories 2")
    [second] = await say(news, USER, "/stories 2")
    assert second.plain_text.startswith("Most active stories, page 2") and "More:" not in second.plain_text
    # Twelve stories: "Gold hits record high" is not a development of "Floods hit southern Brazil" for the one
    # verb they share.
    shown = [line for line in second.plain_text.splitlines() if re.match(r"\d+\. ", line)]
    assert len(shown) == 2 and first.plain_text.count(" · updated ") == 10
    assert not any(line.split(". ", 1)[1] in first.plain_text for line in shown)
    [past] = await say(news, USER, "/stories 9")
    assert past.plain_text == "There is no page 9: the list has 2 pages (/stories 2 for the last)."
    [past] = await say(news, USER, "/stories copper 2")
    assert past.plain_text == "There is no page 2: the list has 1 page (/stories copper for the last)."

    before = len(news.api.documents(ADMIN))
    news.api.send_message(ADMIN, "/export")
    await asyncio.to_thread(news.api.wait_until, lambda: len(news.api.documents(ADMIN)) > before, 10.0, "the file")
    exported = news.api.documents(ADMIN)[-1]
    assert exported.filename == "storywatch-feeds.opml" and b"/other.xml" in exported.content


async def test_admins_see_their_commands_in_help_and_in_their_menu(news: BotWorld, bot: BotRuntime) -> None:
    [user_help] = await say(news, USER, "/help")
    [admin_help] = await say(news, ADMIN, "/help")
    assert "/addfeed" not in user_help.plain_text and "For the bot's admins" in admin_help.plain_text
    everyone = {c["command"] for c in news.api.commands()}
    admin = {c["command"] for c in news.api.commands({"type": "chat", "chat_id": ADMIN})}
    assert "addfeed" not in everyone and {"feeds", "addfeed", "removefeed", "export"} <= admin
    assert everyone <= admin


async def test_quiet_hours_hold_alerts_until_they_end_but_not_a_contradiction(news: BotWorld, bot: BotRuntime) -> None:
    news.clock.now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    await say(news, USER, "/timezone Europe/Berlin")  # 00:00 there; the clocks go forward at 02:00
    [answer] = await say(news, USER, "/quiet 23:30-07:00")
    assert answer.plain_text.startswith("Quiet hours 23:30-07:00 (this chat's time)")
    await say(news, USER, "/follow iran")
    await say(news, USER, "/follow copper")
    news.publish("/levant.xml", "Levant Wire", [
        ("Iran begins evacuating military personnel from Syria", "https://levant.example/1", news.clock.now),
        (STRIKE, "https://levant.example/2", news.clock.now),
    ])
    await poll_and_deliver(bot)
    assert len(news.api.messages(USER)) == 4  # the four answers: no alert during the quiet hours
    news.clock.advance(minutes=20)
    news.publish("/tehran.xml", "Tehran Desk", [("Iran denies evacuating diplomats from Syria",
                                                 "https://tehran.example/1", news.clock.now)])
    await say(news, ADMIN, f"/addfeed {news.feeds.url('/tehran.xml')}")
    await poll_and_deliver(bot)
    [contradiction] = (await news.wait_messages(USER, 5))[4:]
    assert contradiction.plain_text.startswith("⚠️ Disputed")

    news.clock.now = datetime(2026, 3, 29, 4, 59, tzinfo=UTC)  # 06:59 in Berlin, summer time
    await bot.sender.drain()
    assert len(news.api.messages(USER)) == 5
    news.clock.now = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 there: the quiet hours end
    await bot.sender.drain()
    [together] = (await news.wait_messages(USER, 6))[5:]
    assert together.plain_text.startswith("📰 2 new reports in 2 stories")
    await bot.sender.drain()
    assert len(news.api.messages(USER)) == 6


async def test_any_chat_may_add_feeds_when_allowed_and_follow_an_outlet(news: BotWorld) -> None:
    settings = dataclasses.replace(news.settings, feeds=dataclasses.replace(
        news.settings.feeds, anyone_may_add=True, per_chat_limit=1))
    runtime = news.runtime(settings)
    await runtime.start()
    try:
        news.publish("/metals.xml", "Metals Daily", [])
        news.publish("/andes.xml", "Andes Times", [])
        [added] = await say(news, USER, f"/addfeed {news.feeds.url('/metals.xml')}")
        assert added.plain_text.startswith("Added feed 2: Metals Daily")
        [refused] = await say(news, USER, f"/addfeed {news.feeds.url('/andes.xml')}")
        assert refused.plain_text.startswith("This chat has added 1 feed, as many as it may")
        [refused] = await say(news, USER, "/removefeed 1")
        assert refused.plain_text == "This chat did not add a feed number 1."

        [answer] = await say(news, USER, "/follow outlet metals daily")
        assert answer.plain_text.startswith("Following the outlet Metals Daily")
        news.publish("/metals.xml", "Metals Daily", [
            ("Nickel output falls in Indonesia", "https://metals.example/1", ago(minutes=5))])
        news.publish("/levant.xml", "Levant Wire", [
            ("Iran begins evacuating military personnel from Syria", "https://levant.example/1", ago(minutes=5))])
        await poll_and_deliver(runtime)
        [alert] = (await news.wait_messages(USER, 5))[4:]
        assert alert.plain_text.startswith("🆕 New story") and "Nickel" in alert.plain_text
        [listing] = await say(news, USER, "/following")
        assert "outlet “Metals Daily”" in listing.plain_text
        [removed] = await say(news, USER, "/removefeed 2")
        assert removed.plain_text.startswith("Removed feed 2: Metals Daily")
    finally:
        await runtime.stop()


async def test_long_lists_come_in_pages(news: BotWorld, bot: BotRuntime) -> None:
    places = ["Accra", "Berlin", "Cairo", "Dakar", "Essen", "Fez", "Gdansk", "Hanoi", "Izmir", "Jakarta", "Kyiv",
              "Lagos", "Madrid", "Nairobi", "Oslo", "Paris", "Quito", "Rome", "Seoul", "Tunis", "Ulm", "Vilnius",
              "Warsaw", "Xian", "York", "Zagreb", "Lima", "Doha"]
    for place in places:
        await say(news, USER, f"/follow {place}")
    [first] = await say(news, USER, "/following")
    assert "25. topic “york”" in first.plain_text and "26." not in first.plain_text
    assert first.plain_text.endswith("Page 1 of 2. More: /following 2")
    [second] = await say(news, USER, "/following 2")
    assert "26. topic “zagreb”" in second.plain_text and "28. topic “doha”" in second.plain_text
    assert "“accra”" not in second.plain_text
    [answer] = await say(news, USER, "/unfollow 28")
    assert answer.plain_text == "No longer following the topic “doha”."
    [none] = await say(news, USER, "/following 3")
    assert none.plain_text == "There is no page 3: /following has 27 entries."
    [listing] = await say(news, ADMIN, "/feeds 2")
    assert listing.plain_text == "There is no page 2: the pool has 1 feed."
