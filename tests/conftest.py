from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from storage.db import AsyncDatabase
from tests.feedserver import FeedServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def polling() -> PollingSettings:
    """Limits small enough that the tests of each limit run in a moment."""
    return dataclasses.replace(
        PollingSettings(), timeout_seconds=1.0, max_response_bytes=200_000, max_redirects=3, interval_seconds=600
    )


@pytest.fixture
async def fetcher(polling: PollingSettings) -> AsyncIterator[Fetcher]:
    async with Fetcher(polling, allow_private_addresses=True) as client:
        yield client


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "storywatch.db"


@pytest.fixture
async def adb(db_path: Path) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase.open(db_path)
    yield database
    database.close()


class Clock:
    """A clock the test moves by hand, so that schedules and backoff are checked without waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 12, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()
