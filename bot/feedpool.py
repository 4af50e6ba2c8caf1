"""Managing the shared feed pool: the operations behind `storywatch feeds …` and the bot's admin commands."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin

from bot.monitor.fetch import Fetcher, FetchError, FetchResult
from bot.monitor.normalize import canonical_url
from bot.monitor.opml import OpmlFeed, parse_opml, render_opml
from bot.monitor.parse import NotAFeedError, ParsedFeed, parse_feed
from storage import feeds as feed_store
from storage.db import AsyncDatabase
from storage.feeds import Feed

_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}


class FeedPoolError(ValueError):
    """A request about the pool that cannot be done; the message says why, in plain words."""


@dataclass(frozen=True)
class AddedFeed:
    feed: Feed
    items_available: int
    discovered_from: str | None = None  # the web page the feed's address was found on


@dataclass(frozen=True)
class OpmlImport:
    added: list[Feed]
    already_present: list[str]
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, why it was not added)


class _FeedLinkFinder(HTMLParser):
    """Finds <link rel="alternate" type="application/rss+xml" href="…"> in a web page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name: (value or "") for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        if "alternate" in rel and values.get("type", "").lower() in _FEED_TYPES and values.get("href"):
            self.links.append(values["href"])


def _feed_links(page: bytes, base: str) -> list[str]:
    finder = _FeedLinkFinder()
    finder.feed(page[:512_000].decode("utf-8", "replace"))
    return [urljoin(base, href) for href in finder.links]


# A scheme other than a web address's ("javascript:", "file:", "ftp://"), as distinct from a host and port
# typed without one ("example.com:8080/rss").
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)
NOT_A_WEB_ADDRESS = "that is not a web address: send a feed's http:// or https:// address"


def normalise_feed_url(url: str) -> str:
    """The canonical form of a feed address as typed; https:// is assumed when no scheme is given. An address
    of another kind is refused without repeating it (it may be a script)."""
    url = url.strip()
    if "://" not in url:
        if _OTHER_SCHEME.match(url):
            raise FeedPoolError(NOT_A_WEB_ADDRESS)
        url = "https://" + url
    elif not url.lower().startswith(("http://", "https://")):
        raise FeedPoolError(NOT_A_WEB_ADDRESS)
    canonical = canonical_url(url)
    if canonical is None:
        raise FeedPoolError(NOT_A_WEB_ADDRESS)
    return canonical


def _assumed_https(typed: str) -> bool:
    return "://" not in typed.strip()


async def _fetch(fetcher: Fetcher, url: str, *, assumed_https: bool = False) -> FetchResult:
    try:
        return await fetcher.fetch(url)
    except FetchError as exc:
        hint = (f" (https:// was assumed: if the site is plain HTTP, send http://{url.removeprefix('https://')})"
                if assumed_https else "")
        raise FeedPoolError(f"could not fetch {url}: {exc}{hint}") from None


async def _parse(result: FetchResult, now: datetime) -> ParsedFeed:
    return await asyncio.to_thread(
        parse_feed, result.content, url=result.url, headers=result.headers, scope="check", now=now
    )


async def add_checked_feed(adb: AsyncDatabase, fetcher: Fetcher, url: str, now: datetime) -> AddedFeed:
    """Add a feed after fetching it once to make sure it is one.

    A web page that announces its feed (<link rel="alternate">) is followed to that feed, as a user who
    pastes a site's address expects. Raises FeedPoolError with a plain reason.
    """
    assumed_https = _assumed_https(url)
    url = normalise_feed_url(url)
    discovered_from = None
    result = await _fetch(fetcher, url, assumed_https=assumed_https)
    try:
        parsed = await _parse(result, now)
    except NotAFeedError as exc:
        if not exc.html_page:
            raise FeedPoolError(f"{url} is {exc}") from None
        candidates = _feed_links(result.content, result.url)
        if not candidates:
            raise FeedPoolError(f"{url} is not a feed: it is a web page that names no RSS or Atom feed") from None
        discovered_from, url = url, normalise_feed_url(candidates[0])
        result = await _fetch(fetcher, url)
        try:
            parsed = await _parse(result, now)
        except NotAFeedError as inner:
            raise FeedPoolError(f"{url} (announced by {discovered_from}) is {inner}") from None
    try:
        feed = await adb.run(feed_store.add_feed, result.moved_to or url, now, parsed.title)
    except feed_store.FeedExistsError as exc:
        raise FeedPoolError(str(exc)) from None
    return AddedFeed(feed, len(parsed.items), discovered_from)


async def add_unchecked_feed(adb: AsyncDatabase, url: str, now: datetime) -> Feed:
    try:
        return await adb.run(feed_store.add_feed, normalise_feed_url(url), now)
    except feed_store.FeedExistsError as exc:
        raise FeedPoolError(str(exc)) from None


async def remove_feed(adb: AsyncDatabase, id_or_url: str) -> Feed:
    """Remove a feed by its number or its address. Its items and stories stay."""
    if id_or_url.strip().isdigit():
        try:
            return await adb.run(feed_store.remove_feed, int(id_or_url))
        except feed_store.FeedNotFoundError:
            raise FeedPoolError(f"there is no feed number {id_or_url.strip()} (see the feed list)") from None
    if "://" not in id_or_url and "." not in id_or_url:
        # Neither a number nor anything like an address ("abc"): not a host to look up.
        raise FeedPoolError("give a feed's number from the feed list, or its address")
    url = normalise_feed_url(id_or_url)
    feed = await adb.run(feed_store.get_feed_by_url, url)
    if feed is None:
        raise FeedPoolError(f"the feed {url} is not in the pool")
    return await adb.run(feed_store.remove_feed, feed.id)


def _listed_feeds(content: bytes) -> list[OpmlFeed]:
    """The feeds an OPML file lists; a file that is not OPML, or lists none, is a FeedPoolError."""
    try:
        listed = parse_opml(content)
    except ValueError as exc:
        raise FeedPoolError(str(exc)) from None
    if not listed:
        raise FeedPoolError("the OPML file lists no feeds (no <outline xmlUrl=…>)")
    return listed


async def import_opml(adb: AsyncDatabase, content: bytes, now: datetime) -> OpmlImport:
    """Add every feed an OPML file lists. They are not fetched here: the next poll checks each one."""
    listed = _listed_feeds(content)

    # Normalised as every other way into the pool is, so that one feed is one row whichever way it came; two
    # listed addresses of one feed are one entry, not one added and one "already there".
    entries: dict[str, str | None] = {}
    for entry in listed:
        entries.setdefault(normalise_feed_url(entry.url), entry.title)
    added, present = await adb.run(feed_store.add_missing_feeds, list(entries.items()), now)
    return OpmlImport(added, present)


# Feeds of an OPML file fetched at once while checking them.
OPML_CHECKS_AT_ONCE = 8


async def import_opml_checked(adb: AsyncDatabase, fetcher: Fetcher, content: bytes, now: datetime) -> OpmlImport:
    """Add the feeds an OPML file lists, each checked as `add_checked_feed` checks one (fetched once, and it
    must be a feed): those that fail are not added, and the result says why."""
    listed = _listed_feeds(content)
    added: list[Feed] = []
    present: list[str] = []
    failed: list[tuple[str, str]] = []
    slots = asyncio.Semaphore(OPML_CHECKS_AT_ONCE)

    canonical_urls: list[str] = []
    for entry in listed:
        try:
            canonical_urls.append(normalise_feed_url(entry.url))
        except FeedPoolError as exc:
            failed.append((entry.url[:200], str(exc)))

    async def check(canonical: str) -> None:
        if await adb.run(feed_store.get_feed_by_url, canonical) is not None:
            present.append(canonical)
            return
        async with slots:
            try:
                added.append((await add_checked_feed(adb, fetcher, canonical, now)).feed)
            except FeedPoolError as exc:
                reason = str(exc)
                if "already in the pool" in reason:
                    present.append(canonical)
                else:
                    failed.append((canonical, reason))

    await asyncio.gather(*(check(url) for url in dict.fromkeys(canonical_urls)))
    return OpmlImport(sorted(added, key=lambda feed: feed.id), present, failed)


async def export_opml(adb: AsyncDatabase, now: datetime) -> str:
    feeds = await adb.run(feed_store.list_feeds)
    return render_opml((OpmlFeed(feed.url, feed.title) for feed in feeds), now)
