"""The command line and the bot are two skins over one service (bot/service.py): the same case, driven through
`storywatch` as a user runs it and through the bot as an admin uses it in Telegram, gives the same pool."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import BotRuntime
from bot.config import (
    DigestSettings,
    FeedSettings,
    PollingSettings,
    Secret,
    Settings,
    StorageSettings,
    TelegramSettings,
)
from bot.delivery.pacing import Pacer
from tests.botworld import ADMIN, TEST_LIMITS, TOKEN
from tests.conftest import Clock
from tests.fakebotapi import FakeBotAPI
from tests.feedserver import FeedServer, Route
from tests.test_cli import storywatch

EMPTY_FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet Wire</title>'
              b"<link>https://quiet.example/</link></channel></rss>")


def pool(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT url FROM feeds ORDER BY id")]


@dataclasses.dataclass
class Skins:
    tmp_path: Path
    feeds: FeedServer
    api: FakeBotAPI
    configured: tuple[str, ...] = ()

    @property
    def db_path(self) -> Path:
        return self.tmp_path / "sw.db"  # where tests.test_cli.storywatch keeps its database

    def config_file(self) -> Path:
        path = self.tmp_path / "config.toml"
        urls = ", ".join(f'"{url}"' for url in self.configured)
        path.write_text(f"[feeds]\nallow_private_addresses = true\nurls = [{urls}]\n[polling]\ntimeout_seconds = 2\n")
        return path

    def settings(self) -> Settings:
        return Settings(
            telegram=TelegramSettings(token=Secret(TOKEN), base_url=self.api.base_url, admins=(ADMIN,)),
            storage=StorageSettings(path=str(self.db_path)),
            polling=dataclasses.replace(PollingSettings(), timeout_seconds=2.0),
            feeds=FeedSettings(urls=self.configured, allow_private_addresses=True),
            digest=DigestSettings(),
        )

    # The command line

    def cli_start(self) -> None:
        result = storywatch("poll", "--once", cwd=self.tmp_path, config=self.config_file())
        assert result.returncode == 0, result.stderr

    def cli(self, *args: str) -> str:
        """What the command says: its output, or its error."""
        result = storywatch("feeds", *args, cwd=self.tmp_path, config=self.config_file())
        return result.stdout if result.returncode == 0 else result.stderr

    # The bot, as an admin uses it in Telegram

    async def bot_session(self, *commands: str | bytes) -> list[str]:
        """Start the bot (which adds the configured feeds and polls), send the commands (or OPML files) as the
        admin, stop it; the bot's answers. Its clock is pinned: nothing in it depends on the time of day."""
        runtime = BotRuntime(self.settings(), pacer=Pacer(TEST_LIMITS), clock=Clock())
        await runtime.start()
        try:
            answers = []
            for text in commands:
                before = len(self.api.messages(ADMIN))
                if isinstance(text, bytes):  # a file sent to the bot
                    self.api.send_document(ADMIN, "feeds.opml", text, user_id=ADMIN)
                else:
                    self.api.send_message(ADMIN, text)
                [answer] = (await asyncio.to_thread(self.api.wait_for_messages, ADMIN, before + 1, 10.0))[before:]
                answers.append(answer.plain_text)
            return answers
        finally:
            await runtime.stop()


@pytest.fixture
def skins(tmp_path: Path, feed_server: FeedServer) -> Iterator[Skins]:
    api = FakeBotAPI(token=TOKEN).start()
    yield Skins(tmp_path, feed_server, api)
    api.stop()


@pytest.mark.parametrize("skin", ["cli", "bot"])
async def test_a_configured_feed_joins_the_pool_under_its_normalised_address(skins: Skins, skin: str) -> None:
    skins.feeds.routes["/Feed.xml"] = Route(body=EMPTY_FEED)
    url = skins.feeds.url("/Feed.xml?id=1").replace("127.0.0.1", "localhost")
    skins.configured = (url.replace("localhost", "LocalHost") + "&utm_source=x",)
    if skin == "cli":
        await asyncio.to_thread(skins.cli_start)
    else:
        await skins.bot_session()
    assert pool(skins.db_path) == [url]


async def test_the_command_line_and_the_bot_share_one_configured_feed(skins: Skins) -> None:
    """The bug: `poll` added the configured address as written and the bot its normalised form, two feeds."""
    skins.feeds.routes["/rss"] = Route(body=EMPTY_FEED)
    skins.configured = (skins.feeds.url("/rss?utm_source=x"),)
    await asyncio.to_thread(skins.cli_start)
    await skins.bot_session()
    await asyncio.to_thread(skins.cli_start)
    assert pool(skins.db_path) == [skins.feeds.url("/rss")]


@pytest.mark.parametrize("skin", ["cli", "bot"])
async def test_adding_and_removing_feeds_gives_the_same_pool_both_ways(skins: Skins, skin: str) -> None:
    skins.feeds.routes["/a.xml"] = Route(body=EMPTY_FEED)
    skins.feeds.routes["/b.xml"] = Route(body=EMPTY_FEED)
    a, b = skins.feeds.url("/a.xml"), skins.feeds.url("/b.xml")
    tracked_a, tracked_b = a + "?utm_source=newsletter&fbclid=1", b + "?utm_medium=rss"
    if skin == "cli":
        answers = [await asyncio.to_thread(skins.cli, *args) for args in
                   (("add", tracked_a), ("add", a), ("add", tracked_b), ("remove", tracked_b))]
    else:
        answers = await skins.bot_session(f"/addfeed {tracked_a}", f"/addfeed {a}", f"/addfeed {tracked_b}",
                                          f"/removefeed {tracked_b}")
    added, again, other, removed = (answer.lower() for answer in answers)
    assert added.startswith("added feed 1: quiet wire")
    assert f"the feed {a} is already in the pool" in again
    assert other.startswith("added feed 2: quiet wire")
    assert removed.startswith("removed feed 2:")
    assert pool(skins.db_path) == [a]


@pytest.mark.parametrize("skin", ["cli", "bot"])
async def test_an_opml_import_gives_the_same_pool_both_ways(skins: Skins, skin: str) -> None:
    known, wire = skins.feeds.url("/known.xml"), skins.feeds.url("/wire.xml")
    # Each listed feed is checked as when added alone (issue 17): the unreachable one is not added.
    listed = [known + "?utm_campaign=x", wire + "?utm_source=opml", wire, "http://unreachable.invalid/rss"]
    opml = ('<?xml version="1.0"?><opml version="2.0"><body>'
            + "".join(f'<outline text="x" xmlUrl="{url.replace("&", "&amp;")}"/>' for url in listed)
            + "</body></opml>").encode()
    skins.feeds.routes["/known.xml"] = Route(body=EMPTY_FEED)
    skins.feeds.routes["/wire.xml"] = Route(body=EMPTY_FEED)
    skins.configured = (known,)
    if skin == "cli":
        path = skins.tmp_path / "feeds.opml"
        path.write_bytes(opml)
        await asyncio.to_thread(skins.cli_start)
        result = await asyncio.to_thread(storywatch, "feeds", "import-opml", str(path), cwd=skins.tmp_path,
                                         config=skins.config_file())
        assert result.stdout.startswith("Imported 1 feed from ") and result.stdout.endswith("; 1 was already there.\n")
        assert result.stderr.startswith("Not added: http://unreachable.invalid/rss: could not fetch")
    else:
        [answer] = await skins.bot_session(opml)
        assert answer.startswith("Imported 1 new feed (1 was already in the pool).\nNot added, 1 feed")
        assert "http://unreachable.invalid/rss: could not fetch" in answer
    assert pool(skins.db_path) == [known, wire]
