"""The demo itself: the bundled newsroom on loopback, polled by the real APScheduler, fetcher and pipeline,
alerts delivered by the real sender to a chat in the terminal, then that chat's digest and a summary."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlite_utils import Database

from bot.config import FeedSettings, PollingSettings, Settings, StorageSettings
from bot.delivery.digest import compose
from bot.delivery.pacing import Limits, Pacer
from bot.delivery.sender import Sender
from bot.demo.console import ConsoleChat
from bot.demo.newsroom import Newsroom, load_timeline
from bot.monitor.fetch import Fetcher
from bot.service import StoryWatch
from bot.wording import plural
from storage import alerts as alert_store
from storage import chats as chat_store
from storage.db import AsyncDatabase, utcnow

DEMO_CHAT = 1
POLLS_PER_RUN = 20  # the feeds are polled this many times while the reports come out


@dataclass(frozen=True)
class DemoSummary:
    seconds: float
    polls: int
    reports: int
    stories: int
    contradictions: int
    messages: int

    def __str__(self) -> str:
        return (
            f"Demo finished in {self.seconds:.0f} s: the feeds were polled {self.polls} times; "
            f"{plural(self.reports, 'report')} became {plural(self.stories, 'story', 'stories')} with "
            f"{plural(self.contradictions, 'contradiction')}; the chat got {plural(self.messages, 'message')}."
        )


async def run_demo(out: TextIO, *, seconds: float = 60.0, db_path: Path | None = None) -> DemoSummary:
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if db_path is None:
            db_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storywatch-demo-"))) / "demo.db"
        newsroom = Newsroom(load_timeline(), seconds).start()
        stack.callback(newsroom.stop)
        return await _run(out, newsroom, seconds, db_path, started)


async def _run(out: TextIO, newsroom: Newsroom, seconds: float, db_path: Path, started: float) -> DemoSummary:
    timeline = newsroom.timeline
    poll_every = seconds / POLLS_PER_RUN
    settings = Settings(
        storage=StorageSettings(path=str(db_path)),
        # Every feed is due at every tick: the scheduler's interval is the demo's polling rate.
        polling=PollingSettings(interval_seconds=0, timeout_seconds=10.0),
        feeds=FeedSettings(urls=tuple(newsroom.url(feed) for feed in timeline.feeds), allow_private_addresses=True),
    )
    # Telegram's limits, scaled with a shortened demo so that it still ends on time.
    scale = min(1.0, seconds / 60.0)
    pacer = Pacer(Limits(private_chat_interval=1.0 * scale, group_messages_per_minute=20))
    adb = AsyncDatabase.open(db_path)
    chat = ConsoleChat(out, color=out.isatty())
    fetcher = Fetcher(settings.polling, allow_private_addresses=True)
    sender = Sender(adb, chat, pacer=pacer)  # type: ignore[arg-type]  # the console chat stands in for the Bot
    service = StoryWatch(settings, adb, fetcher, on_alerts=sender.wake)
    polls = 0
    finished = asyncio.Event()

    async def poll() -> None:
        nonlocal polls
        after_last_release = newsroom.progress >= 1.0
        results = await service.poll()
        polls += 1
        new = sum(len(result.new_items) for result in results)
        failed = [result for result in results if result.status == "failed"]
        if new or failed:
            note = f"· poll {polls}: {plural(new, 'new report')} from {plural(len(results), 'feed')}"
            note += f", {len(failed)} failed ({failed[0].error})" if failed else ""
            print(note, file=out, flush=True)
        if after_last_release and not failed:
            finished.set()

    try:
        await service.add_configured_feeds()
        await adb.run(chat_store.ensure_chat, DEMO_CHAT, type="private", title="You", now=utcnow())
        print(f"storywatch demo: {len(timeline.feeds)} invented outlets publish {len(timeline.reports)} reports "
              f"over {seconds:.0f} s on {newsroom.url('…')}.\nAlerts arrive below as a Telegram chat shows them.",
              file=out)
        for topic in timeline.follow:
            print(f"\n> /follow {topic}", file=out)
            followed = await service.follow_topic(DEMO_CHAT, topic)
            await chat.send_message(DEMO_CHAT, f"Following “{followed.query}”.")

        scheduler = AsyncIOScheduler()
        scheduler.add_job(poll, "interval", seconds=poll_every, next_run_time=utcnow(), coalesce=True,
                          max_instances=1, misfire_grace_time=None)
        sender_task = asyncio.create_task(sender.run())
        scheduler.start()
        try:
            try:
                await asyncio.wait_for(finished.wait(), timeout=seconds * 2 + 60)
            except TimeoutError:
                print("· the sample feeds did not all answer in time; ending with what arrived", file=out)
            await _drain_all(adb, sender)
        finally:
            scheduler.shutdown(wait=False)
            sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender_task

        print("\n> /digest", file=out)
        digest = await compose(adb, await adb.run(chat_store.get_chat, DEMO_CHAT), settings.digest, utcnow())
        await chat.send_message(DEMO_CHAT, digest.html, parse_mode="HTML")
        counts = await adb.run(_counts)
    finally:
        await service.close()
        await fetcher.aclose()
        adb.close()
    summary = DemoSummary(time.monotonic() - started, polls, *counts, len(chat.messages))
    print(f"\n{summary}", file=out, flush=True)
    return summary


async def _drain_all(adb: AsyncDatabase, sender: Sender) -> None:
    """Until every alert queued is delivered (the pacer may hold the last ones back for a moment)."""
    while (await adb.run(alert_store.outbox_counts)).get("pending"):
        if not await sender.drain():
            break  # what is left waits for a retry time: a demo does not wait for it


def _counts(db: Database) -> tuple[int, int, int]:
    return tuple(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                 for table in ("items", "stories", "contradictions"))
