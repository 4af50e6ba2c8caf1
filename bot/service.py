"""What the bot's commands do, as plain async functions over the database: no Telegram here. Handlers parse
an update, call one of these, and render the answer; a `UserError` carries a plain sentence for the user."""

from __future__ import annotations

import asyncio
import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from bot import feedpool
from bot.config import Settings, parse_hhmm
from bot.delivery.digest import compose as compose_digest
from bot.delivery.render import Rendered
from bot.monitor.alerts import MAX_TOPIC_WORDS, topic_words
from bot.monitor.fetch import Fetcher
from bot.monitor.files import InputFile, SortedItems
from bot.monitor.pipeline import IngestTotals, Pipeline
from bot.monitor.poll import FeedPoll, Notify, parse_pool, poll_cycle
from bot.wording import plural
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import digests as digest_store
from storage import feeds as feed_store
from storage import stories as story_store
from storage.chats import Chat, Subscription
from storage.db import AsyncDatabase, utcnow
from storage.feeds import Feed
from storage.stories import Member, StoredContradiction, Story, StoryTimeline

MAX_TOPIC_CHARS = 100
# Pages of a list a chat may ask for (/stories 2): ten stories a page.
MAX_PAGES = 20
# A topic followed now also follows the open stories it matches that moved this recently.
RECENT_STORIES = timedelta(days=3)


class UserError(ValueError):
    """A request that cannot be done; the message says why and what to send instead. `reason` is the plain
    reason alone, for a skin that words its own hint (the command line)."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


def _refused(exc: feedpool.FeedPoolError) -> UserError:
    return UserError(_sentence(str(exc)), reason=str(exc))


@dataclass(frozen=True)
class Ingested:
    """What `StoryWatch.ingest` did with some files: what each gave and what the pipeline made of it."""

    files: list[InputFile]
    report: IngestTotals

    @property
    def entries(self) -> int:
        return sum(file.entries for file in self.files)

    @property
    def skipped_reasons(self) -> dict[str, int]:
        return dict(sum((Counter(file.skipped_reasons) for file in self.files), Counter()))


@dataclass(frozen=True)
class TopicFollowed:
    subscription_id: int
    query: str
    is_new: bool
    matching_stories: int


@dataclass(frozen=True)
class StoryFollowed:
    story: Story
    is_new: bool


class StoryWatch:
    """Every operation of storywatch, for both of its skins: the Telegram handlers and the command line.

    Without a `fetcher` it makes its own, as configured, and closes it in `close`.
    """

    def __init__(
        self,
        settings: Settings,
        adb: AsyncDatabase,
        fetcher: Fetcher | None = None,
        pipeline: Pipeline | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_alerts: Callable[[], object] = lambda: None,
    ) -> None:
        self.settings = settings
        self.adb = adb
        self._owns_fetcher = fetcher is None
        self.fetcher = fetcher or Fetcher(
            settings.polling, allow_private_addresses=settings.feeds.allow_private_addresses
        )
        self.pipeline = pipeline or Pipeline.configured(settings)
        self.clock = clock
        self.on_alerts = on_alerts
        self.parse_pool = parse_pool(settings.polling)

    async def close(self) -> None:
        """Stop the parser processes, after the parse under way (and the fetcher this made), and save the
        clusterer's memory so that the next start restores it rather than replaying every story."""
        if self.parse_pool is not None:
            await asyncio.to_thread(self.parse_pool.close)
        if self._owns_fetcher:
            await self.fetcher.aclose()
        await self.adb.run(self.pipeline.save_snapshot, self.clock())

    # Feeds and polling

    async def add_configured_feeds(self) -> list[Feed]:
        """The feeds named in the configuration join the pool (once)."""
        entries = [(feedpool.normalise_feed_url(url), None) for url in self.settings.feeds.urls]
        added, _ = await self.adb.run(feed_store.add_missing_feeds, entries, self.clock())
        return added

    async def poll(self, *, force: bool = False) -> list[FeedPoll]:
        """One poll cycle; the sender hears when alerts were queued, or notices for the admins: once per change
        of a feed's health, a feed that has now failed `polling.tell_admins_after_failures` polls in a row and
        one that works again after that."""
        notify = Notify(self.settings.telegram.admins, self.settings.polling.tell_admins_after_failures)
        polls = await poll_cycle(self.adb, self.fetcher, self.pipeline, self.settings.polling, force=force,
                                 clock=self.clock, pool=self.parse_pool, notify=notify)
        if any(poll.new_items or poll.notified for poll in polls):
            self.on_alerts()
        return polls

    async def next_poll_due(self) -> datetime | None:
        """When the next feed is due (None: no feeds)."""
        return await self.adb.run(feed_store.next_due_time)

    async def feeds(self) -> list[Feed]:
        return await self.adb.run(feed_store.list_feeds)

    async def add_feed(self, url: str, *, check: bool = True) -> feedpool.AddedFeed:
        """Add a feed after fetching it once to make sure it is one (see `feedpool.add_checked_feed`); with
        `check=False` without fetching it (then `items_available` is 0: the next poll reads it)."""
        try:
            if not check:
                return feedpool.AddedFeed(await feedpool.add_unchecked_feed(self.adb, url, self.clock()), 0)
            return await feedpool.add_checked_feed(self.adb, self.fetcher, url, self.clock())
        except feedpool.FeedPoolError as exc:
            raise _refused(exc) from None

    async def add_chat_feed(self, chat_id: int, url: str) -> feedpool.AddedFeed:
        """A feed added by a chat that is not an admin's (`feeds.anyone_may_add`), within its limit."""
        limit = self.settings.feeds.per_chat_limit
        if await self.adb.run(feed_store.feeds_added_by, chat_id) >= limit:
            raise UserError(f"This chat has added {plural(limit, 'feed')}, as many as it may: "
                            "/removefeed one of them first.")
        added = await self.add_feed(url)
        await self.adb.run(feed_store.set_added_by, added.feed.id, chat_id)
        return added

    async def remove_chat_feed(self, chat_id: int, number: str) -> Feed:
        """A feed this chat added, removed by it."""
        if not number.strip().isdigit():
            raise UserError("Send /removefeed and the number the bot gave the feed you added.")
        feed = next((f for f in await self.feeds() if f.id == int(number)), None)
        if feed is None or feed.added_by != chat_id:
            raise UserError(f"This chat did not add a feed number {number.strip()}.")
        return await self.remove_feed(number)

    async def remove_feed(self, number_or_url: str) -> Feed:
        try:
            return await feedpool.remove_feed(self.adb, number_or_url)
        except feedpool.FeedPoolError as exc:
            raise _refused(exc) from None

    async def import_opml(self, content: bytes) -> feedpool.OpmlImport:
        try:
            return await feedpool.import_opml_checked(self.adb, self.fetcher, content, self.clock())
        except feedpool.FeedPoolError as exc:
            raise _refused(exc) from None

    async def export_opml(self) -> str:
        return await feedpool.export_opml(self.adb, self.clock())

    # Files

    async def ingest(self, items: SortedItems, *, progress: Callable[[int], object] | None = None) -> Ingested:
        """The files' items (`files.sorted_items`: read, checked and ordered), exactly as if polled, in
        published-time order, a batch per transaction (`Pipeline.process_stream`)."""
        report = await self.adb.run(self.pipeline.process_stream, items, now=self.clock(), progress=progress)
        if report.alerts_queued:
            self.on_alerts()
        return Ingested(list(items.files), report)

    # Chats

    async def start_chat(self, chat_id: int, chat_type: str, title: str | None) -> Chat:
        return await self.adb.run(chat_store.ensure_chat, chat_id, type=chat_type, title=title, now=self.clock())

    async def chat(self, chat_id: int) -> Chat | None:
        return await self.adb.run(chat_store.find_chat, chat_id)

    async def set_alerts(self, chat_id: int, mode: str) -> None:
        mode = mode.strip().lower()
        if mode not in chat_store.ALERT_MODES:
            raise UserError("Send /alerts all, /alerts contradictions or /alerts off.")
        await self.adb.run(chat_store.set_alert_mode, chat_id, mode)

    async def set_quiet(self, chat_id: int, text: str) -> tuple[str, str] | None:
        """`23:00-07:00` or `off`; returns the quiet hours now set, None when off."""
        words = text.strip().lower()
        if words == "off":
            await self.adb.run(chat_store.set_quiet_hours, chat_id, None, None)
            return None
        start, _, end = words.replace(" ", "").partition("-")
        begin, finish = parse_hhmm(start), parse_hhmm(end)
        if begin is None or finish is None or begin == finish:
            raise UserError("Send /quiet 23:00-07:00 (24-hour times, the chat's zone), or /quiet off.")
        hours = (begin.strftime("%H:%M"), finish.strftime("%H:%M"))
        await self.adb.run(chat_store.set_quiet_hours, chat_id, *hours)
        return hours

    # Digests and time zone

    async def set_digest(self, chat_id: int, text: str) -> str | None:
        """`at HH:MM`, `off` or `on`; returns the time the digest now goes out at, None when off."""
        words = text.lower().split()
        if words == ["off"]:
            await self.adb.run(digest_store.set_digest, chat_id, enabled=False, now=self.clock())
            return None
        if words == ["on"]:
            await self.adb.run(digest_store.set_digest, chat_id, enabled=True, now=self.clock())
            chat = await self.chat(chat_id)
            return chat.digest_time if chat and chat.digest_time else self.settings.digest.default_time
        if len(words) == 2 and words[0] == "at" and parse_hhmm(words[1]) is not None:
            at = parse_hhmm(words[1]).strftime("%H:%M")
            await self.adb.run(digest_store.set_digest, chat_id, enabled=True, at=at, now=self.clock())
            return at
        raise UserError("Send /digest at 08:00 (24-hour time), /digest off, /digest on, or /digest for one now.")

    async def set_timezone(self, chat_id: int, name: str) -> str:
        name = name.strip()
        zone_name = _known_zone(name)
        if zone_name is None:
            close = difflib.get_close_matches(name.replace(" ", "_"), sorted(available_timezones()), n=3, cutoff=0.6)
            hint = f" Did you mean {_one_of(close)}?" if close else ""
            raise UserError(f"“{name[:60]}” is not a time zone name. Send an IANA name such as /timezone "
                            f"Europe/Berlin or /timezone America/New_York.{hint}")
        await self.adb.run(digest_store.set_timezone, chat_id, zone_name)
        return zone_name

    async def digest_now(self, chat_id: int) -> Rendered:
        chat = await self.chat(chat_id)
        if chat is None:
            chat = await self.adb.run(chat_store.get_chat, chat_id)
        now = self.clock()
        rendered = await compose_digest(self.adb, chat, self.settings.digest, now)
        # It counts as the last digest: the next one, at the chat's time, tells only what moved after it.
        await self.adb.run(digest_store.record_manual_digest, chat_id, now)
        return rendered

    # Following

    async def follow_topic(self, chat_id: int, text: str) -> TopicFollowed:
        query = " ".join(text.split())
        if not query:
            raise UserError("Send /follow and the words of a topic, for example /follow iran syria, or a story's "
                            "number from /stories, for example /follow 12.")
        if len(query) > MAX_TOPIC_CHARS:
            raise UserError(f"That topic is too long: send at most {MAX_TOPIC_CHARS} characters.")
        words = topic_words(query)
        if not words:
            raise UserError("Those words are too common to follow: send names or key words, such as /follow iran.")
        if len(words) > MAX_TOPIC_WORDS:
            raise UserError(f"A topic matches reports that hold all its words: send at most {MAX_TOPIC_WORDS}.")
        now = self.clock()

        def follow(db) -> TopicFollowed:
            with db.atomic():
                subscription_id, is_new = chat_store.add_topic(db, chat_id, query.lower(), words, now)
                matching = 0
                for story_id, title in story_store.open_story_titles(db, since=now - RECENT_STORIES, query=query):
                    if set(words) <= set(topic_words(title)):
                        matching += chat_store.follow_story(db, chat_id, story_id, now, via=subscription_id)
            return TopicFollowed(subscription_id, query.lower(), is_new, matching)

        return await self.adb.run(follow)

    async def follow_story(self, chat_id: int, story_id: int) -> StoryFollowed:
        story = await self.story(story_id)
        is_new = await self.adb.run(chat_store.follow_story, chat_id, story_id, self.clock())
        return StoryFollowed(story.story, is_new)

    async def stories_of_message(self, chat_id: int, message_id: int) -> list[int]:
        return await self.adb.run(alert_store.stories_of_message, chat_id, message_id)

    async def follows_story(self, chat_id: int, story_id: int) -> bool:
        return await self.adb.run(chat_store.follows_story, chat_id, story_id)

    async def following(self, chat_id: int) -> list[Subscription]:
        """What the chat follows, as /following numbers it: topics, stories, mutes, then outlets."""
        entries = await self.adb.run(chat_store.subscriptions, chat_id)
        outlets = await self.adb.run(chat_store.followed_outlets, chat_id)
        created = self.clock()
        return entries + [Subscription(0, chat_id, "outlet", source, None, None, None, created) for source in outlets]

    async def unfollow(self, chat_id: int, target: str) -> Subscription:
        """Stop following the n-th entry of /following, or the topic with these words."""
        target = " ".join(target.split()).lower()
        if not target:
            raise UserError("Send /unfollow and a number from /following, or the words of a topic.")
        entries = await self.following(chat_id)
        if target.isdigit():
            index = int(target)
            if not 1 <= index <= len(entries):
                raise UserError(f"There is no number {index} in /following (it has {len(entries)}).")
            chosen = entries[index - 1]
        else:
            matches = [entry for entry in entries
                       if entry.kind in ("topic", "outlet") and (entry.query or "").lower() == target]
            if not matches:
                raise UserError(f"This chat does not follow the topic “{target}”: see /following.")
            chosen = matches[0]
        if chosen.kind == "outlet":
            await self.adb.run(chat_store.unfollow_outlet, chat_id, chosen.query)
            return chosen
        return await self.adb.run(chat_store.remove_subscription, chat_id, chosen.id)

    async def mute(self, chat_id: int, story_id: int) -> StoryFollowed:
        story = await self.story(story_id)
        is_new = await self.adb.run(chat_store.mute_story, chat_id, story_id, self.clock())
        return StoryFollowed(story.story, is_new)

    async def follow_outlet(self, chat_id: int, name: str) -> tuple[str, bool]:
        """Follow an outlet of the pool by its name (any case); returns its name and whether it is new."""
        sources = await self.adb.run(feed_store.sources)
        wanted = " ".join(name.split()).lower()
        match = next((source for source in sources if source.lower() == wanted), None)
        if match is None:
            known = ", ".join(sources[:20]) or "none yet"
            raise UserError(f"No outlet of the feed pool is called “{name[:80]}”. The outlets: {known}.")
        return match, await self.adb.run(chat_store.follow_outlet, chat_id, match, self.clock())

    async def unmute(self, chat_id: int, story_id: int) -> StoryFollowed:
        story = await self.story(story_id)
        was_muted = await self.adb.run(chat_store.unmute_story, chat_id, story_id)
        if not was_muted:
            raise UserError(f"Story {story_id} is not muted here: /muted lists the muted ones.")
        return StoryFollowed(story.story, True)

    async def muted(self, chat_id: int) -> list[Subscription]:
        return [entry for entry in await self.following(chat_id) if entry.kind == "mute"]

    # Reading stories

    async def stories(self, query: str | None = None, *, limit: int = 10) -> list[Story]:
        if query is not None and len(query) > MAX_TOPIC_CHARS:
            raise UserError(f"Send at most {MAX_TOPIC_CHARS} characters of search words.")
        return await self.adb.run(story_store.most_active_stories, query=query or None, limit=limit)

    async def latest_stories(
        self, query: str | None = None, *, include_closed: bool = False, limit: int = 20
    ) -> list[Story]:
        """Stories, most recently active first (`stories` ranks the open ones by how much they grow)."""
        if query is not None and len(query) > MAX_TOPIC_CHARS:
            raise UserError(f"Send at most {MAX_TOPIC_CHARS} characters of search words.")
        return await self.adb.run(story_store.list_stories, query=query or None, include_closed=include_closed,
                                  limit=limit)

    async def story_members(self, story_ids: Sequence[int]) -> dict[int, list[Member]]:
        return await self.adb.run(story_store.story_members, story_ids)

    async def stories_page(self, query: str | None, page: int, size: int = 10) -> tuple[list[Story], bool, int]:
        """One page of `stories`, whether a next page has any, and how many pages there are up to this one (the
        last page, for a page past the end)."""
        if not 1 <= page <= MAX_PAGES:
            raise UserError(f"Pages go from 1 to {MAX_PAGES}: send /stories 2 for the second.")
        found = await self.stories(query, limit=size * page + 1)
        pages = min(page, -(-len(found) // size))
        return found[size * (page - 1): size * page], len(found) > size * page and page < MAX_PAGES, pages

    async def story(self, story_id: int) -> StoryTimeline:
        try:
            return await self.adb.run(story_store.get_story, story_id)
        except story_store.StoryNotFoundError as exc:
            raise UserError(f"There is no story {story_id}: /stories lists them.", reason=str(exc)) from None

    async def contradictions(self, *, limit: int | None = None) -> list[StoredContradiction]:
        """Contradictions found, newest first."""
        return await self.adb.run(story_store.list_contradictions, limit=limit)


def _known_zone(name: str) -> str | None:
    """The canonical spelling of an IANA zone name, whatever its case ("europe/berlin" -> "Europe/Berlin")."""
    if not name or len(name) > 60:
        return None
    by_folded = {zone_name.lower(): zone_name for zone_name in available_timezones()}
    return by_folded.get(name.lower().replace(" ", "_"))


def _one_of(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _sentence(text: str) -> str:
    """A reason as a sentence: capitalised, unless it begins with an address ("http://…" stays as typed)."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    if "://" in first or "." in first:
        return text + "."
    return text[:1].upper() + text[1:] + "."
