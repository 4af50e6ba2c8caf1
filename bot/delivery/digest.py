"""Daily digests: when each chat's is due (its own local time, daylight saving included), what it says,
and sending each one once per local day, across restarts and downtime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DigestSettings, parse_hhmm
from bot.delivery.render import Rendered, clip, esc, fit, linked, when, zone
from bot.wording import plural
from storage import digests as digest_store
from storage.chats import Chat
from storage.db import AsyncDatabase
from storage.digests import DigestStory

# A digest missed while the bot was down is still sent if the bot is back within this long of its time.
GRACE = timedelta(hours=6)
DIGEST_STORIES = 10
# With no digest before, "since the last digest" means the last day.
FIRST_DIGEST_SPAN = timedelta(days=1)


def due_at(local_date: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant of `at` on `local_date` in `tz`. A time that a daylight-saving jump skips (02:30 on the
    spring-forward night) falls due right after the jump, as zoneinfo resolves it."""
    return datetime.combine(local_date, at, tzinfo=tz)


def due_date(
    now: datetime, at: time, tz: ZoneInfo, settled: set[date], grace: timedelta = GRACE,
    since: datetime | None = None,
) -> date | None:
    """The local date whose digest is due now: its time has come, at most `grace` ago, and it was not sent.
    Yesterday is checked too, for a digest late in the evening that a restart after midnight still owes.
    `since`: when the chat began to get digests; a digest time before it is not owed (the first digest comes
    at the next digest time, not at once)."""
    today = now.astimezone(tz).date()
    for local_date in (today, today - timedelta(days=1)):
        moment = due_at(local_date, at, tz)
        if since is not None and moment < since:
            continue
        if local_date not in settled and moment <= now <= moment + grace:
            return local_date
    return None


def chat_schedule(chat: Chat, defaults: DigestSettings) -> tuple[time, ZoneInfo]:
    at = parse_hhmm(chat.digest_time or defaults.default_time) or parse_hhmm(defaults.default_time)
    return at, zone(chat.timezone or defaults.default_timezone)


def render_digest(stories: Sequence[DigestStory], tz: ZoneInfo, local_date: date) -> Rendered:
    heading = f"🗞 <b>Your digest for {local_date:%A} {local_date.day} {local_date:%B}</b>"
    if not stories:
        return Rendered(f"{heading}\n\nNo story moved since the last digest.")
    blocks = [heading]
    for number, story in enumerate(stories, start=1):
        star = "★ " if story.followed else ""
        change = f"+{plural(story.new_items, 'report')}"
        if story.new_sources:
            change += f", {plural(story.new_sources, 'new source')}"
        lines = [
            f"{number}. {star}<b>{esc(clip(story.title, 200))}</b>",
            f"{plural(story.source_count, 'source')} · {change} since the last digest · /story {story.id}",
            f"Latest: {esc(clip(story.latest.source, 60))}, {when(story.latest.published, tz)}: "
            f"{linked(story.latest)}",
        ]
        if story.contradiction is not None:
            c = story.contradiction
            lines.append(f"⚠️ Contradiction: {esc(clip(c.later.source, 60))} “{esc(clip(c.later.title, 150))}” "
                         f"vs {esc(clip(c.earlier.source, 60))} “{esc(clip(c.earlier.title, 150))}”")
        blocks.append("\n".join(lines))
    return Rendered(fit(blocks))


async def compose(adb: AsyncDatabase, chat: Chat, defaults: DigestSettings, now: datetime) -> Rendered:
    """The digest this chat would get now: the stories that moved since its last digest (a digest asked for
    with /digest counts)."""
    return render_digest(*await gather(adb, chat, defaults, now))


async def gather(
    adb: AsyncDatabase, chat: Chat, defaults: DigestSettings, now: datetime
) -> tuple[list[DigestStory], ZoneInfo, date]:
    """What `compose` renders: the stories, the chat's zone and its local date."""
    _, tz = chat_schedule(chat, defaults)
    since = await adb.run(digest_store.last_digest_at, chat.id) or now - FIRST_DIGEST_SPAN
    stories = await adb.run(digest_store.digest_stories, chat.id, since, limit=DIGEST_STORIES)
    return stories, tz, now.astimezone(tz).date()


def candidate_dates(now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    today = now.astimezone(tz).date()
    return today, today - timedelta(days=1)
