from __future__ import annotations

import dataclasses
import time
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


# A daylight-saving change day (Europe's clocks go forward at 01:00 UTC), in the evening UTC: more than the
# digest's catch-up window after the default 08:00 digest, so no digest falls due while a test runs, whatever
# the wall clock says.
PINNED_NOW = datetime(2024, 3, 31, 20, 30, tzinfo=UTC)


class RunningClock:
    """A clock pinned to a fixed instant that then runs with real elapsed time, for a bot whose timers and
    pacing need time to pass: the date and the time of day are the test's, never the machine's."""

    def __init__(self, start: datetime = PINNED_NOW) -> None:
        self._start = start
        self._started = time.monotonic()
        self._offset = timedelta()

    def __call__(self) -> datetime:
        return self._start + self._offset + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)
