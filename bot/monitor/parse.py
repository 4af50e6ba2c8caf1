"""Fetched bytes in, normalised items out. feedparser only ever sees bytes: it never fetches a URL."""

from __future__ import annotations

import asyncio
import calendar
import codecs
import contextlib
import ctypes
import functools
import importlib
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException

import feedparser
from feedparser.encodings import convert_to_utf8

from bot.monitor.model import Item
from bot.monitor.normalize import (
    MAX_SOURCE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    canonical_url,
    clean_text,
    dedup_key,
    guid_scope,
    sane_published,
    title_from_text,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# The most entries one fetched document may contribute. Real feeds carry tens, archives a few thousand; the
# size cap alone lets a 5 MB document of bare entries hand 150,000 items to the pipeline in one poll, minutes
# of clustering while the cycle waits. Beyond it the newest entries are kept and a warning says so.
MAX_ITEMS = 1000
# The most text a document's own XML entities may expand to. feedparser drops nested entity declarations
# (the "billion laughs") but keeps flat ones and expands them; expat's amplification guard only starts at
# 8 MiB of output and feedparser's fallback parser has none, so an 80 kB document declaring one 20,000-character
# entity and using it 10,000 times took 12 s and 800 MB to parse. Real feeds declare a few short ones, if any.
# A document past this is refused whole, nested declarations included: it is an attack, not a feed.
MAX_ENTITY_EXPANSION = 1_000_000
_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_DECLARATION = re.compile(rb"""<!ENTITY\s+([^\s%"'<>]+)\s+(?:"([^"]*)"|'([^']*)')""")
_ENTITY_USE = re.compile(rb"&([^\s&;<>\"'#%]+);")
# Deeper nesting than this is treated as expanding without bound (and keeps the count from recursing far).
_MAX_ENTITY_DEPTH = 32
# A character reference to what is not a character (a surrogate, past U+10FFFF): expat rejects it, and then
# feedparser's fallback parser raises ValueError or UnicodeEncodeError instead of reading the rest of the feed.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
# An attribute that may set a base URI (feedparser reads both `xml:base` and a plain `base`).
_BASE_ATTRIBUTE = re.compile(rb"base\s*=", re.IGNORECASE)
# An RSS <guid> or an Atom <id> (feedparser reads both alike): the start of its tag, and after the tag's ">" the
# start of its text. Two expressions joined by a search for the ">" (see `_identifiers`), not one.
_IDENTIFIER_TAG = re.compile(rb"<(?:[\w.-]+:)?(?:guid|id)\b", re.IGNORECASE)
_IDENTIFIER_TEXT = re.compile(rb"\s*(?:<!\[CDATA\[\s*)?([^<\s]*)", re.IGNORECASE)
_NOT_PERMALINK = re.compile(rb"""(?:^|\s)ispermalink\s*=\s*["']false["']""", re.IGNORECASE)
_URI_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:")


class NotAFeedError(ValueError):
    """The document is not an RSS or Atom feed. The message is the plain reason shown to users;
    `html_page` says it is a web page, which may name its feed in a <link rel="alternate">."""

    def __init__(self, reason: str, *, html_page: bool = False) -> None:
        super().__init__(reason)
        self.html_page = html_page


# Why an entry gave no item: it has no title and no text to name it by.
NO_TITLE_OR_TEXT = "no title or text"


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    version: str
    items: list[Item]
    skipped: int = 0  # entries with neither a title nor any text
    warnings: list[str] = field(default_factory=list)
    # Why entries of the document gave no item, reason -> how many: {"no title or text": 3}, and the entries
    # left out beyond `max_items`. What `ingest`, `poll` and `feeds list` report as skipped.
    skipped_reasons: dict[str, int] = field(default_factory=dict)


# Byte order marks of the encodings that are not ASCII-compatible, the four-byte ones first (UTF-32LE's begins
# with UTF-16LE's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def _read_by_bom(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A UTF-16 or UTF-32 document with a byte order mark, as UTF-8 (its XML declaration and the content type's
    charset saying so); any other document as it is.

    The mark says what the document is (XML 1.0, appendix F; the WHATWG encoding standard lets it override the
    header too), but feedparser believes the header first: served as `text/xml` (US-ASCII by RFC 3023) or with
    a wrong charset, a UTF-16 feed failed as "not XML". Characters the encoding cannot hold (a lone surrogate)
    become U+FFFD rather than losing the document.
    """
    marked = next(((bom, encoding) for bom, encoding in _WIDE_BOMS if content.startswith(bom)), None)
    if marked is None:
        return content, headers
    bom, encoding = marked
    text = content[len(bom) :].decode(encoding, errors="replace")
    if text.startswith("<?xml"):
        end = text.find("?>")
        text = _UTF8_DECLARATION + text[end + 2 :] if end != -1 else text
    headers = dict(headers)
    content_type = headers.get("content-type")
    if content_type:
        headers["content-type"] = content_type.split(";", 1)[0].strip() + "; charset=utf-8"
    return text.encode("utf-8", errors="replace"), headers


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


def _entity_expansion(data: bytes) -> int:
    """How many characters the internal entities the document declares would expand to, at most.

    `data` is the document as feedparser decodes it (`convert_to_utf8`), so that no encoding hides a
    declaration. External entities (SYSTEM, PUBLIC) are not counted: feedparser drops their declarations
    and its XML parser is told not to fetch them.
    """
    first_element = _FIRST_ELEMENT.search(data)
    head = data[: first_element.start()] if first_element else data
    declared = {name: double or single for name, double, single in _ENTITY_DECLARATION.findall(head)}
    if not declared:
        return 0
    sizes: dict[bytes, int] = {}

    def size(name: bytes, depth: int) -> int:
        if name not in sizes:
            if depth > _MAX_ENTITY_DEPTH:
                return MAX_ENTITY_EXPANSION + 1
            sizes[name] = 0  # a reference to itself expands to nothing (expat rejects it anyway)
            value = declared[name]
            uses = [use for use in _ENTITY_USE.findall(value) if use in declared]
            sizes[name] = len(value) + sum(size(use, depth + 1) for use in uses)
        return sizes[name]

    body = data[len(head) :]
    return sum(size(use, 0) for use in _ENTITY_USE.findall(body) if use in declared)


def _links_resolve_alike(data: bytes) -> bool:
    """Whether the links of a document (`data` decoded as feedparser decodes it) come out the same when
    canonical_url resolves them against the document's address as when feedparser does.

    Not when the document sets a base URI of its own, nor when it has a GUID or Atom id without a scheme
    ("story-17") that is not marked `isPermaLink="false"`: feedparser resolves those too, into the item's
    identity. Both are rare; then feedparser is given the address as before. Anything unclear (a damaged
    attribute) counts as a permalink.
    """
    if _BASE_ATTRIBUTE.search(data):
        return False
    return all(_NOT_PERMALINK.search(attributes) or _URI_SCHEME.match(text) for attributes, text in _identifiers(data))


def _identifiers(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    r"""The attributes and the start of the text of every RSS <guid> and Atom <id> in `data`, in order.

    What the one expression `<(?:[\w.-]+:)?(?:guid|id)\b([^>]*)>\s*(?:<!\[CDATA\[\s*)?([^<\s]*)` finds, in
    time linear in the document: that expression, on a tag that never closes, ran `[^>]*` to the end of the
    document from every later "<id" too, so a feed of "<id " repeated took 136 s at 512 kB. Once no ">" is left,
    no tag can close, and the search stops.
    """
    position = 0
    while (tag := _IDENTIFIER_TAG.search(data, position)) is not None:
        close = data.find(b">", tag.end())
        if close < 0:
            return
        text = _IDENTIFIER_TEXT.match(data, close + 1)
        assert text is not None  # every part of it may be empty
        yield data[tag.end() : close], text.group(1)
        position = text.end()


def _feedparser_parse(document: bytes, response_headers: dict[str, str]) -> feedparser.FeedParserDict:
    return feedparser.parse(
        document, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )


def _parse_resolving_links_ourselves(
    document: bytes, data: bytes, url: str | None, response_headers: dict[str, str]
) -> tuple[feedparser.FeedParserDict, str] | None:
    """feedparser's reading of the document without its address, and the address its relative links are to be
    resolved against (by canonical_url); None when the document must be read with the address, as before.

    Given the address (Content-Location), feedparser joins it with every element's base URI, a third of its
    time on a headline feed. The header is kept, empty: whether any header is given changes feedparser's
    choice of encoding. `data`: the document decoded as feedparser decodes it.
    """
    location = response_headers.get("content-location")
    if not location or not _links_resolve_alike(data):
        return None
    try:
        link_base = urljoin(url or "", location)
        parsed = _feedparser_parse(document, response_headers | {"content-location": ""})
    except ValueError:  # an address urljoin cannot read, or a document feedparser cannot: read it as before
        return None
    if _xml_problem(parsed) is not None:
        # Broken XML goes to feedparser's lenient parser, which reads damaged markup in ways the checks of
        # `_links_resolve_alike` cannot foresee.
        return None
    return parsed, link_base


def _xml_problem(parsed: feedparser.FeedParserDict) -> SAXException | None:
    """The XML error feedparser met, if any. Only broken XML counts; feedparser's other "bozo" notes (a wrong
    declared charset, a missing content type) describe documents it read correctly."""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    return problem if isinstance(problem, SAXException) else None


def _valid_charref(match: re.Match[bytes]) -> bytes:
    hex_digits, decimal_digits = match.groups()
    digits = (hex_digits or decimal_digits).lstrip(b"0") or b"0"
    if len(digits) <= 7:
        code = int(digits, 16 if hex_digits else 10)
        if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return match.group()
    return b"&#xFFFD;"


def parse_feed(
    content: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    scope: str | None,
    now: datetime,
    source: str | None = None,
    max_items: int | None = MAX_ITEMS,
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom document.

    `scope` keeps GUIDs and titles of different feeds apart (see `dedup_key`); None means the feed's own
    site link or title, for documents read from files rather than polled. `source` names the outlet when
    the caller knows better than the feed's own title. Raises NotAFeedError with a plain reason.
    A recoverable XML error (feedparser's `bozo`) is a warning: the entries it could read are kept.
    Of more than `max_items` entries only the newest are kept (None: all, for files the user chose).
    An entry without a title is named by its text (`title_from_text`); one with neither is left out and counted
    in `ParsedFeed.skipped_reasons` under `NO_TITLE_OR_TEXT`. A UTF-16 or UTF-32 document is read as its byte
    order mark says.
    """
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    content, response_headers = _read_by_bom(content, response_headers)
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise NotAFeedError("not a feed: the response was empty")
    if url:
        response_headers.setdefault("content-location", url)
    try:
        data = convert_to_utf8(response_headers, content, {})
        if _entity_expansion(data) > MAX_ENTITY_EXPANSION:
            raise NotAFeedError(
                f"refused: the document's XML entities would expand to over {MAX_ENTITY_EXPANSION:,} characters"
            )
        document = _CHARREF.sub(_valid_charref, content)
        own = _parse_resolving_links_ourselves(document, data, url, response_headers)
        parsed, link_base = own if own is not None else (_feedparser_parse(document, response_headers), url)
    except NotAFeedError:
        raise
    except ValueError as exc:
        # feedparser's decoding and its lenient parser raise on some broken documents (an encoding name with a
        # NUL in it, a bad character reference in UTF-16...): a document we cannot read, not a crash.
        raise NotAFeedError(f"not a feed: the document could not be read ({exc.__class__.__name__})") from None
    version = parsed.get("version") or ""
    problem = _xml_problem(parsed)
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
    site_url = canonical_url(channel.get("link"), base=link_base)
    outlet = source or feed_title or (urlsplit(url).hostname if url else None) or "unknown source"
    warnings = [_xml_error(problem)] if problem is not None else []
    scope = scope or f"site:{site_url or feed_title or outlet}"

    entries = parsed.entries
    skipped_reasons: dict[str, int] = {}
    if max_items is not None and len(entries) > max_items:
        # Stable, so entries of one time (undated ones: now) keep the document's order, usually newest first.
        newest = sorted(
            range(len(entries)), key=lambda i: sane_published(_entry_time(entries[i]), now), reverse=True
        )
        entries = [entries[i] for i in sorted(newest[:max_items])]
        warnings.append(f"kept the newest {max_items:,} of {len(parsed.entries):,} entries")
        skipped_reasons[f"over the {max_items:,}-entry limit"] = len(parsed.entries) - max_items

    items: list[Item] = []
    skipped = 0
    # Plain dict access for keys FeedParserDict does not map: its own `get` runs Python code for every access
    # and raises and catches KeyError for every missing one (a summary, in most headline feeds).
    field_of = dict.get
    for entry in entries:
        link = canonical_url(field_of(entry, "link"), base=link_base, keep_fragment=True)
        guid = (field_of(entry, "id") or "").strip()[:1000] or None
        summary = clean_text(field_of(entry, "summary"), MAX_SUMMARY_CHARS)
        title = clean_text(field_of(entry, "title"), MAX_TITLE_CHARS)
        if not title:
            # A post without a title (Mastodon, microblogs, some podcasts) is named by its text, as feed readers
            # do; only an entry with neither says nothing to report.
            text = summary or _content_text(entry)
            title = title_from_text(text)
            summary = summary or text
        if not title:
            skipped += 1
            continue
        items.append(
            Item(
                key=dedup_key(guid=guid, link=link, title=title, scope=scope),
                title=title,
                link=link,
                summary=summary,
                source=outlet,
                published=sane_published(_entry_time(entry), now),
                guid=guid,
                guid_scope=guid_scope(guid, scope),
            )
        )
    if skipped:
        skipped_reasons[NO_TITLE_OR_TEXT] = skipped
    return ParsedFeed(feed_title, site_url, version, items, skipped, warnings, skipped_reasons)


def _content_text(entry: Mapping) -> str:
    """The plain text of an entry's first `<content>` (Atom, `content:encoded`), for an entry with no summary."""
    for content in dict.get(entry, "content") or []:
        text = clean_text(content.get("value"), MAX_SUMMARY_CHARS)
        if text:
            return text
    return ""


class ParserClosedError(RuntimeError):
    """The pool was closed (the bot is stopping) before or while parsing the document: no fault of the feed's."""


class ParsePool(Generic[T]):
    """`parse_feed` (or `function`, which takes `parse_feed`'s arguments) in worker processes, so that parsing
    runs on another core while the caller's thread stores and clusters what was parsed before.

    feedparser is pure Python and holds the GIL throughout: `asyncio.to_thread(parse_feed, ...)` only moves it
    off the event loop, onto the core that the database thread (clustering, contradiction analysis) needs too.
    A worker process gets a core of its own; the cost is pickling the document there and the items back (a
    couple of microseconds per item each way). `NotAFeedError` and the other exceptions come back as raised.
    `function` must be importable by name (module level), as pickle sends functions by name.

    Workers are started with "spawn": forking a process that runs threads (the event loop's, the database's)
    can copy a lock another thread holds. They die with the process that started them (see `_die_with_parent`).

    `timeout_seconds` bounds each document's parse (None: no bound): a parse still running then fails its
    document with "parsing took longer than N s", and the workers are replaced by new ones.
    """

    def __init__(
        self, workers: int = 1, function: Callable[..., T] = parse_feed, *, timeout_seconds: float | None = None
    ) -> None:
        self._function = function
        self._workers = workers
        self.timeout_seconds = timeout_seconds
        # `parse` hands a worker one document at a time, so that the time limit counts a document's own parsing,
        # not its wait behind others in the executor's queue.
        self._idle_workers = asyncio.Semaphore(workers)
        # Executors stopped because another document overran its time: their other documents were not at fault.
        self._stopped_for_time: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()
        self._warm: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()  # their workers have started
        self._closed = False
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # Workers start on the first submit, so a pool that never parses costs nothing.
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent, initargs=(os.getpid(),),
        )

    def submit(self, content: bytes, **kwargs: object) -> Future[T]:
        """Start parsing `content`; the arguments are `parse_feed`'s. No time limit: see `parse`."""
        return self._executor.submit(self._function, content, **kwargs)

    async def parse(self, content: bytes, **kwargs: object) -> T:
        """`function(content, **kwargs)` in a worker, awaited, within the time limit.

        A worker that dies (killed, out of memory) breaks the whole executor: every later call would fail. The
        document being parsed then fails as not a usable feed, the executor is replaced, and other feeds carry
        on. Documents parsed alongside it in the same executor fail the same way, once. Documents parsed
        alongside one that overran its time are parsed again by the new workers."""
        async with self._idle_workers:
            try:
                await self._started(self._executor)
                try:
                    return await self._parse_once(content, kwargs)
                except BrokenProcessPool:
                    return await self._parse_once(content, kwargs, again=True)
            except (BrokenProcessPool, NotAFeedError, RuntimeError) as exc:
                if self._closed:
                    raise ParserClosedError("the parser was stopped while reading this document") from None
                raise exc from None

    async def _started(self, executor: ProcessPoolExecutor) -> None:
        """Start `executor`'s workers and have them import `function`'s module, outside any document's time:
        a spawned worker imports the pipeline's modules first, which takes about a second."""
        if executor in self._warm:
            return
        self._warm.add(executor)
        loop = asyncio.get_running_loop()
        module = self._function.__module__
        await asyncio.gather(*(loop.run_in_executor(executor, importlib.import_module, module)
                               for _ in range(self._workers)), return_exceptions=True)

    async def _parse_once(self, content: bytes, kwargs: dict[str, object], *, again: bool = False) -> T:
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(executor, functools.partial(self._function, content, **kwargs)),
                self.timeout_seconds,
            )
        except TimeoutError:
            log.warning("a feed took longer than %g s to parse; its parser process is replaced", self.timeout_seconds)
            self._stopped_for_time.add(executor)
            self._replace(executor)
            raise NotAFeedError(f"parsing took longer than {self.timeout_seconds:g} s") from None
        except BrokenProcessPool:
            if executor in self._stopped_for_time and not again:
                raise  # parsed again by `parse`, in the new executor
            if self._executor is executor:
                log.error("the feed parser process stopped unexpectedly; starting a new one")
                self._replace(executor)
            raise NotAFeedError("the parser process stopped while reading this document") from None

    def _replace(self, executor: ProcessPoolExecutor) -> None:
        """New workers for later documents; `executor`'s workers are killed, failing what they were parsing."""
        if self._executor is executor:
            self._executor = self._new_executor()
        _kill_workers(executor)
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self, grace_seconds: float = 5.0) -> None:
        """Stop the workers: a parse under way gets `grace_seconds` to finish, then it is killed; it and any
        later `parse` raise ParserClosedError."""
        self._closed = True
        executor = self._executor
        # Taken before the shutdown, which drops the executor's list of its processes: read after it, the list
        # was empty, so the workers were neither waited for nor killed, and went on after `close` returned.
        processes = _worker_processes(executor)
        # The executor's own thread joins the workers too, and after `shutdown(wait=False)` no later shutdown
        # waits for it: when it reaps a worker first, the exit code is known only once it runs again, and a
        # worker looked alive (exit code unknown) to whoever asked in between.
        manager = getattr(executor, "_executor_manager_thread", None)
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace_seconds
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
        if manager is not None:
            manager.join(_MANAGER_JOIN_SECONDS)
        executor.shutdown(wait=True)

    def __enter__(self) -> ParsePool[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# How long `close` waits for the executor's thread once every worker has ended (it ends at once then).
_MANAGER_JOIN_SECONDS = 5.0


def _worker_processes(executor: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    # ProcessPoolExecutor has no public way to stop a busy worker (Python 3.14 adds terminate_workers()).
    return list((getattr(executor, "_processes", None) or {}).values())


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    for process in _worker_processes(executor):
        if process.is_alive():
            process.kill()


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """In a worker, as it starts: end when the process that started it ends, even by SIGKILL, which leaves it
    no chance to stop its workers. Otherwise the worker (and multiprocessing's resource tracker, which waits
    for every process holding its pipe) would run on forever, one more each time the bot is killed.

    On Linux the kernel kills the worker when its parent's thread that started it ends (prctl
    PR_SET_PDEATHSIG; workers are started from the thread that submits, the event loop's, which lives as
    long as the process). Elsewhere, and as a second guard, a thread notices the worker has a new parent.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="storywatch-parent-watch", daemon=True).start()
