"""Fetched bytes in, normalised items out. feedparser only ever sees bytes: it never fetches a URL."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.sax import SAXException

import feedparser

from bot.monitor.model import Item
from bot.monitor.normalize import (
    MAX_SOURCE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    canonical_url,
    clean_text,
    dedup_key,
    sane_published,
)

log = logging.getLogger(__name__)


class NotAFeedError(ValueError):
    """The document is not an RSS or Atom feed. The message is the plain reason shown to users;
    `html_page` says it is a web page, which may name its feed in a <link rel="alternate">."""

    def __init__(self, reason: str, *, html_page: bool = False) -> None:
        super().__init__(reason)
        self.html_page = html_page


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    version: str
    items: list[Item]
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)


def _xml_error(exc: BaseException) -> str:
    line = getattr(exc, "getLineNumber", None)
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    return f"XML error at line {line()}: {message}" if line else f"XML error: {message}"


def _looks_like_html(head: bytes) -> bool:
    head = head.lower()
    return b"<!doctype html" in head or b"<html" in head


def _entry_time(entry: Mapping) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # Plain dict access: FeedParserDict.get maps missing keys onto others with a DeprecationWarning.
        parsed = dict.get(entry, key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def parse_feed(
    content: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    scope: str | None,
    now: datetime,
    source: str | None = None,
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom document.

    `scope` keeps GUIDs and titles of different feeds apart (see `dedup_key`); None means the feed's own
    site link or title, for documents read from files rather than polled. `source` names the outlet when
    the caller knows better than the feed's own title. Raises NotAFeedError with a plain reason.
    A recoverable XML error (feedparser's `bozo`) is a warning: the entries it could read are kept.
    """
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise NotAFeedError("not a feed: the response was empty")
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if url:
        response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(
        content, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = parsed.get("version") or ""
    # Only broken XML counts; feedparser's other "bozo" notes (a wrong declared charset, a missing
    # content type) describe documents it read correctly.
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not isinstance(problem, SAXException):
        problem = None
    if not version:
        if _looks_like_html(stripped[:2048]):
            raise NotAFeedError("not a feed: got an HTML page", html_page=True)
        if not stripped.startswith(b"<"):
            raise NotAFeedError(f"not a feed: the response is not XML (it starts with {stripped[:12]!r})")
        if problem is not None and not parsed.entries:
            raise NotAFeedError(_xml_error(problem))
        raise NotAFeedError("not a feed: no RSS or Atom elements found")
    if problem is not None and not parsed.entries:
        raise NotAFeedError(_xml_error(problem))

    channel = parsed.get("feed", {})
    feed_title = clean_text(channel.get("title"), MAX_SOURCE_CHARS) or None
    site_url = canonical_url(channel.get("link"), base=url)
    outlet = source or feed_title or (urlsplit(url).hostname if url else None) or "unknown source"
    warnings = [_xml_error(problem)] if problem is not None else []
    scope = scope or f"site:{site_url or feed_title or outlet}"

    items: list[Item] = []
    skipped = 0
    for entry in parsed.entries:
        title = clean_text(entry.get("title"), MAX_TITLE_CHARS)
        if not title:
            skipped += 1
            continue
        link = canonical_url(entry.get("link"), base=url)
        guid = (entry.get("id") or "").strip()[:1000] or None
        items.append(
            Item(
                key=dedup_key(guid=guid, link=link, title=title, scope=scope),
                title=title,
                link=link,
                summary=clean_text(entry.get("summary"), MAX_SUMMARY_CHARS),
                source=outlet,
                published=sane_published(_entry_time(entry), now),
                guid=guid,
            )
        )
    if skipped:
        warnings.append(f"skipped {skipped} entries without a title")
    return ParsedFeed(feed_title, site_url, version, items, skipped, warnings)
