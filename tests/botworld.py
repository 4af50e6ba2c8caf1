"""The world the whole bot runs in for the end-to-end tests (test_bot_e2e.py, test_bot_news.py): the real PTB
Application against the fake Bot API server on 127.0.0.1, feeds from the loopback feed server, a real SQLite
file, and a clock the test owns. Each test file makes its world with `bot_world`, with the clock and polling
settings it needs."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

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
from bot.delivery.pacing import Limits, Pacer
from tests.fakebotapi import FakeBotAPI, SentMessage
from tests.feedserver import FeedServer, Route, rss

TOKEN = "4242:SECRET-TOKEN-never-logged"
ADMIN = 555
USER = 777
GROUP = -1001
# Fast limits, so that a test's handful of alerts is not paced over seconds; the pacing itself is tested
# on a virtual clock in test_pacing.py.
TEST_LIMITS = Limits(messages_per_second=1000, private_chat_interval=0.001, group_messages_per_minute=1000)

# A feed entry: (headline, link, when): a datetime, or a number of hours after the world's `epoch`.
Entry = tuple[str, str, "datetime | float"]


@dataclasses.dataclass
class BotWorld:
    api: FakeBotAPI
    feeds: FeedServer
    settings: Settings
    clock: Callable[[], datetime]
    epoch: datetime  # what an entry's hours count from

    @property
    def db_path(self) -> Path:
        return Path(self.settings.storage.path)

    def rss(self, title: str, entries: Sequence[Entry]) -> bytes:
        return rss(title, [(headline, link, when if isinstance(when, datetime) else
                            self.epoch + timedelta(hours=when)) for headline, link, when in entries])

    def publish(self, path: str, title: str, entries: Sequence[Entry]) -> None:
        self.feeds.routes[path] = Route(body=self.rss(title, entries))

    def runtime(self, settings: Settings | None = None, **kwargs: object) -> BotRuntime:
        """A bot on this world's clock and Telegram, not started."""
        return BotRuntime(settings or self.settings, clock=self.clock, pacer=Pacer(TEST_LIMITS), **kwargs)

    async def wait_messages(self, chat_id: int, count: int) -> list[SentMessage]:
        return await asyncio.to_thread(self.api.wait_for_messages, chat_id, count, 10.0)

    async def wait(self, predicate: Callable[[], bool], what: str) -> None:
        await asyncio.to_thread(self.api.wait_until, predicate, 10.0, what)


@contextlib.contextmanager
def bot_world(
    tmp_path: Path, feed_server: FeedServer, clock: Callable[[], datetime], *, epoch: datetime,
    polling: PollingSettings | None = None,
) -> Iterator[BotWorld]:
    """A world with one (empty) configured feed, /levant.xml, and ADMIN as the bot's admin."""
    api = FakeBotAPI(token=TOKEN).start()
    feed_server.routes["/levant.xml"] = Route(body=rss("Levant Wire", []))
    settings = Settings(
        telegram=TelegramSettings(token=Secret(TOKEN), base_url=api.base_url, admins=(ADMIN,)),
        storage=StorageSettings(path=str(tmp_path / "bot.db")),
        polling=polling or dataclasses.replace(PollingSettings(), timeout_seconds=5.0),
        feeds=FeedSettings(urls=(feed_server.url("/levant.xml"),), allow_private_addresses=True),
        digest=DigestSettings(),
    )
    try:
        yield BotWorld(api, feed_server, settings, clock, epoch)
    finally:
        api.stop()


async def say(world: BotWorld, chat_id: int, text: str, *, expect: int = 1, **kwargs: object) -> list[SentMessage]:
    """Send a message as a user and return the bot's `expect` answers."""
    before = len(world.api.messages(chat_id))
    world.api.send_message(chat_id, text, **kwargs)
    return (await world.wait_messages(chat_id, before + expect))[before:]
