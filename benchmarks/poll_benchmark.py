"""Poll-cycle benchmark: 1,000 feeds on a loopback HTTP server, polled by the project's real code.

Run from the project root with the virtualenv active:

    python benchmarks/poll_benchmark.py                 # 1,000 feeds x 20 items, max_concurrency 50
    python benchmarks/poll_benchmark.py --concurrency 100 --json

What is measured
    `bot.monitor.poll.poll_cycle(adb, fetcher, pipeline, polling, force=True)` with a real
    `bot.monitor.fetch.Fetcher` (httpx) and a real SQLite file opened by `storage.db.AsyncDatabase` in a
    temporary folder; the feeds are added with `storage.feeds.add_missing_feeds`. Nothing is mocked. One
    `Pipeline()` (store, cluster, detect) serves every cycle, as in the bot.

    * Cycle 1: every feed answers 200 with ~20 new items: parse (feedparser, on worker threads), store (and
      cluster and detect, with a Pipeline) and record each feed's validators. Printed: wall time, items
      stored, items/s, and the stories and contradictions that came out of them.
    * Cycle 2: the same feeds again; every request carries the ETag from cycle 1 and the server answers
      304 Not Modified. This is the design target ("1,000 feeds answering 304 Not Modified polled in one
      cycle in under 3 s on 2 cores"). It is run `--repeat` times (default 3) and the median is reported:
        - "new connections": a fresh Fetcher for each run, i.e. an empty connection pool. This is what the
          bot really sees, because the poll interval (600 s) is far longer than httpx's keep-alive expiry
          (5 s), so every cycle starts by opening its connections again. The target is judged on this.
          (It also counts creating the httpx client, about 20-30 ms, which the bot does once: slightly
          pessimistic.)
        - "warm connections": back-to-back runs on one Fetcher whose pool still holds the keep-alive
          connections; shown for comparison (it isolates the per-request cost).
    Wall time and the client process's CPU time (all its threads) are printed for each cycle.

The server
    A minimal asyncio HTTP/1.1 server (keep-alive, pipelining-safe) in a separate *process*, so its CPU
    is not charged to the client's process or its GIL; on a 2-core machine the server gets one core and
    the client the other. Every document, its gzip form, ETag and Last-Modified are built before the
    server starts listening, so a request is a dict look-up and one `transport.write`: the server stays
    far from being the bottleneck (its CPU time is printed so that can be checked). It serves 1,000
    distinct RSS 2.0 feeds of `--items` items with distinct, realistic headlines and summaries (events
    each reported by 1 to 8 feeds in their own words, see "Feed documents" below), answers 304 when
    If-None-Match matches the feed's ETag (or, without If-None-Match, when If-Modified-Since equals its
    Last-Modified), and sends gzip when the client accepts it, as real feed servers do (so the
    Fetcher's decoding is exercised too). It listens on loopback addresses only.

Hosts and per-host concurrency
    By default all feeds are served from one address, 127.0.0.1, so the Fetcher's per-host limit would
    otherwise cap the whole cycle at the default `per_host_concurrency` (2). The benchmark sets
    `per_host_concurrency` to ceil(max_concurrency / hosts), i.e. equal to `max_concurrency` with one
    host, so that `max_concurrency` is the limit being measured, as with 1,000 feeds spread over many
    sites. `--hosts N` serves the feeds from N loopback addresses (127.0.0.1 ... 127.0.0.N, one listening
    socket each, feed i on address i mod N) to exercise the per-host bookkeeping with a lower per-host
    limit; the results are the same within noise. One host is the default because it is the simplest
    set-up with no dependence on the machine's loopback configuration.

Bounded and clean
    The whole run is under `--timeout` seconds (default 600; each fetch also has the Fetcher's own
    20 s timeout); the server process exits when told to, when the benchmark's end of its pipe closes
    (the benchmark died), or after its own lifetime limit; it is joined, then terminated/killed if
    needed; it ignores Ctrl-C, and SIGTERM to the benchmark is handled like Ctrl-C. The database lives in
    a TemporaryDirectory that is removed at the end (also on a timeout or an interruption).

Checks
    After cycle 1 the database must hold feeds x items items with as many distinct headlines (and as many
    item_feeds rows) and every feed an ETag; every FeedPoll status must be "new" and the server must have
    answered one 200 per feed. The stories must be the events served (each report's link names its event):
    at most 1 % of stories may mix events, at most 5 % of events may be split over several stories, and no
    story may be larger than an event. After each cycle 2 run every status must be "not-modified", the server must
    have answered exactly that many 304s and nothing else, and no item may have been stored. The exit
    status is 1 when a check fails, 2 on a timeout or a server that does not start, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import email.utils
import functools
import gzip
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from bot.monitor.pipeline import Pipeline
from bot.monitor.poll import FeedPoll, poll_cycle
from storage import feeds as feed_store
from storage import items as item_store
from storage.db import AsyncDatabase

TARGET_304_SECONDS = 3.0
SERVER_START_SECONDS = 60.0

log = logging.getLogger("poll_benchmark")

# ---------------------------------------------------------------------------------------------------------
# Feed documents
# ---------------------------------------------------------------------------------------------------------
# Like real feeds, the documents report *events*: each event is covered by 1 to 8 different feeds within
# minutes, each with its own wording, so that the clustering after parsing sees stories of a few reports
# each, not one giant story (a corpus of look-alike headlines would make the pipeline's figures meaningless).
# Every headline is distinct. As in real news, every report of an event names what is its own (the town it
# happened in, an invented name no other event has, and often the person quoted); the subject and the action
# come from small lists that many events share, as "parliament" and "approves budget" do. Events once shared
# a place from a list of 30 as well: with nothing of their own in half of the headlines, the clustering
# chained them into a few dozen stories of thousands of reports, and the checks did not notice.

_SUBJECTS = (
    "Parliament", "Central bank", "City council", "Prime minister", "Health ministry", "Union leaders",
    "Supreme court", "Energy regulator", "Opposition leader", "Transport authority", "Chipmaker",
    "Climate scientists", "Teachers' union", "Port operator", "Football federation", "Space agency",
    "Election commission", "Police chief", "National airline", "Fire service", "Finance minister",
    "Water utility", "Farmers' group", "University board", "Defence ministry", "Housing agency",
    "Competition watchdog", "Rail operator", "Hospital trust", "Foreign minister",
)
_ACTIONS = (
    "approves emergency budget", "delays decision on tax reform", "rejects pay offer",
    "announces inquiry into delays", "warns of winter power shortages", "unveils plan to cut emissions",
    "suspends planned strike", "confirms record quarterly loss", "backs new housing targets",
    "faces questions over contract awards", "signs deal on grain exports", "orders review of safety rules",
    "raises forecast for growth", "cuts jobs as demand slows", "opens talks with unions",
    "wins appeal over data rules", "drops plan for new levy", "reports surge in applications",
    "extends drought measures", "calls for calm after protests", "pledges funds for flood defences",
    "names new chief executive", "lifts ban on night flights", "tightens checks at border crossings",
    "agrees to share intelligence", "expands free school meals", "postpones launch after fault",
    "fines operator over outages", "sets date for referendum", "admits errors in vote count",
    "restores service after cyberattack", "halts construction of new plant",
    "doubles spending on rail upgrades", "is cleared of wrongdoing", "is accused of misleading lawmakers",
    "agrees ceasefire terms", "moves to block takeover", "promises review of pensions",
    "denies claims of cover-up", "sets out plan for new stadium",
)
_PLACES = (
    "Lisbon", "Nairobi", "Santiago", "Warsaw", "Oslo", "Manila", "Toronto", "Accra", "Osaka", "Porto Alegre",
    "Tbilisi", "Hanoi", "Glasgow", "Cape Town", "Montevideo", "Bergen", "Lagos", "Krakow", "Quito", "Adelaide",
    "Seville", "Dhaka", "Tallinn", "Mombasa", "Valparaiso", "Gothenburg", "Cebu", "Halifax", "Kumasi", "Sapporo",
)
_FIRST_NAMES = (
    "Ana", "Tomasz", "Amara", "Kenji", "Lucia", "Omar", "Ingrid", "Rahul", "Chloe", "Diego", "Fatima", "Mikhail",
    "Grace", "Sipho", "Elena", "Yusuf", "Marta", "Hiro", "Nadia", "Pedro", "Aiko", "Kwame", "Sofia", "Lars",
)
_SYLLABLES = (
    "ka", "lo", "ven", "mar", "ti", "ros", "ban", "del", "ok", "ul", "ra", "sen", "dor", "mi", "fa", "gan",
    "ber", "zo", "lin", "tu", "wes", "ha", "quin", "ne",
)
_OUTLETS = (
    "Daily Courier", "Morning Herald", "Evening Standard-Post", "The Observer-Tribune", "Capital Times",
    "Coastal Gazette", "Valley Register", "Northern Echo", "Metro Ledger", "Harbour Chronicle",
)
_SECTIONS = ("World", "Politics", "Business", "Science", "Local", "Sport", "Technology", "Climate")
_COMBINATIONS = len(_SUBJECTS) * len(_ACTIONS) * len(_PLACES)  # 36,000 (subject, action, place) triples
_NAMES = len(_SYLLABLES) ** 3  # 13,824 surnames
_TOWNS = len(_SYLLABLES) ** 4  # 331,776 invented town names, one per event
_TOWN_SCRAMBLE = 104_723  # a prime not dividing _TOWNS
_SCRAMBLE = 7919  # a prime not dividing _NAMES: n -> n * _SCRAMBLE mod _NAMES is a permutation
MAX_REPORTS_PER_EVENT = 8


@dataclasses.dataclass(frozen=True)
class Event:
    subject: str
    action: str
    place: str
    person: str
    figure: int
    update: int  # > 0 only past the 36,000 distinct triples, to keep headlines distinct

    def headline(self, variant: int) -> str:
        """The headline of this event's `variant`-th report (0 to 7): each outlet words it its own way."""
        s, a, p = self.subject, self.action, self.place
        lower = s[0].lower() + s[1:]
        surname = self.person.split()[-1]
        text = (
            f"{s} {a} in {p}",
            f"{p}: {lower} {a}",
            f"{s} {a} in {p}, {surname} confirms",
            f"{surname}: {lower} in {p} {a}",
            f"{s} {a} in {p}; {self.figure:,} affected",
            f"What we know as {lower} in {p} {a}",
            f"{s} {a} in {p}, {self.person} says",
            f"Live: {lower} {a} in {p}",
        )[variant]
        return f"{text} (update {self.update})" if self.update else text

    def summary(self, variant: int) -> str:
        lower = self.subject[0].lower() + self.subject[1:]
        person, place, figure = self.person, self.place, f"{self.figure:,}"
        surname = person.split()[-1]
        return (
            f"{person} said {figure} people in {place} would be affected.",
            f"The {lower} expects the change to reach {figure} residents, according to {person}.",
            f"{figure} households in {place} are involved, {surname} told reporters.",
            f"According to {person}, about {figure} workers face changes.",
            f"{surname} put the number affected at {figure}.",
            f"Figures from the {lower} suggest {figure} families in {place} are concerned.",
            f"{person} gave no timetable but mentioned {figure} cases.",
            f"Up to {figure} people in {place} could see changes, {surname} warned.",
        )[variant]


@functools.cache
def _triples() -> list[int]:
    """The (subject, action, place) triples in a fixed random order, so that events close in number differ."""
    return random.Random(7).sample(range(_COMBINATIONS), _COMBINATIONS)


def event(number: int) -> Event:
    k = _triples()[number % _COMBINATIONS]
    subject, k = _SUBJECTS[k % len(_SUBJECTS)], k // len(_SUBJECTS)
    action, place = _ACTIONS[k % len(_ACTIONS)], _PLACES[k // len(_ACTIONS)]
    n = number * _SCRAMBLE % _NAMES
    surname = "".join(_SYLLABLES[n // len(_SYLLABLES) ** i % len(_SYLLABLES)] for i in range(3)).capitalize()
    person = f"{_FIRST_NAMES[number % len(_FIRST_NAMES)]} {surname}"
    figure = 500 + (number * 104_729) % 99_500
    t = number * _TOWN_SCRAMBLE % _TOWNS
    town = "".join(_SYLLABLES[t // len(_SYLLABLES) ** i % len(_SYLLABLES)] for i in range(4)).capitalize()
    # The town is the event's own; the region (a real place from a short list) is shared with many events.
    return Event(subject, action, f"{town} near {place}", person, figure, number // _COMBINATIONS)


def _slug(text: str) -> str:
    return "-".join("".join(c for c in word if c.isalnum()) for word in text.lower().split())


def feed_path(feed: int) -> str:
    return f"/feeds/{feed:05d}.xml"


def assign_reports(feeds: int, items: int, seed: int = 20240611) -> tuple[list[list[tuple[int, int]]], int]:
    """Which report each feed's items are: `table[feed][j] = (event number, variant)`, and the number of events.

    Item j of every feed belongs to time slot j (j = 0 is the newest). In each slot the feeds, in a shuffled
    order, are cut into events of 1 to 8 reports: an event's reports come from different feeds, minutes apart.
    """
    rng = random.Random(seed)
    table = [[(0, 0)] * items for _ in range(feeds)]
    number = 0
    for j in range(items):
        order = list(range(feeds))
        rng.shuffle(order)
        start = 0
        while start < feeds:
            size = rng.randint(1, MAX_REPORTS_PER_EVENT)
            for variant, feed in enumerate(order[start : start + size]):
                table[feed][j] = (number, variant)
            start += size
            number += 1
    return table, number


def feed_document(feed: int, reports: list[tuple[int, int]], now: datetime) -> bytes:
    """An RSS 2.0 document of the given reports, newest first."""
    outlet = f"{_OUTLETS[feed % len(_OUTLETS)]} {feed // len(_OUTLETS) + 1}"
    section = _SECTIONS[feed % len(_SECTIONS)]
    site = f"https://news{feed:05d}.example"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n',
        f"<title>{escape(outlet)}: {section}</title>\n<link>{site}/</link>\n",
        f"<description>{section} news from {escape(outlet)}</description>\n<language>en</language>\n",
        f"<lastBuildDate>{email.utils.format_datetime(now, usegmt=True)}</lastBuildDate>\n",
    ]
    for j, (number, variant) in enumerate(reports):
        story = event(number)
        title = story.headline(variant)
        published = now - timedelta(minutes=45 * j + 3 * variant + number % 5)
        link = f"{site}/{published:%Y/%m/%d}/{_slug(title)}-{number}-{variant}"
        parts.append(
            f"<item>\n<title>{escape(title)}</title>\n<link>{link}</link>\n"
            f'<guid isPermaLink="true">{link}</guid>\n'
            f"<pubDate>{email.utils.format_datetime(published, usegmt=True)}</pubDate>\n"
            f"<description>{escape(story.summary(variant))}</description>\n</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode()

# ---------------------------------------------------------------------------------------------------------
# The server (runs in its own process)
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Document:
    identity: bytes
    gzipped: bytes
    etag: bytes
    last_modified: bytes


class _Stats:
    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def snapshot(self) -> dict[str, Any]:
        return {"status_counts": {str(k): v for k, v in self.counts.items()}, "cpu_seconds": time.process_time()}


class _HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive for GET/HEAD of prebuilt documents. Requests with bodies are refused."""

    MAX_HEAD = 64 * 1024

    def __init__(self, documents: dict[bytes, _Document], stats: _Stats) -> None:
        self.documents = documents
        self.stats = stats
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > self.MAX_HEAD:
                    self._send(431, b"", keep_alive=False)
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            self._handle(head)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _send(self, status: int, extra_headers: bytes, body: bytes = b"", *, keep_alive: bool = True,
              head_only: bool = False) -> None:
        assert self.transport is not None
        self.stats.counts[status] += 1
        reason = {200: b"OK", 304: b"Not Modified", 400: b"Bad Request", 404: b"Not Found",
                  405: b"Method Not Allowed", 431: b"Request Header Fields Too Large"}[status]
        lines = [b"HTTP/1.1 %d %s\r\nDate: %s\r\nServer: storywatch-bench\r\n" % (status, reason, _http_date()),
                 extra_headers]
        if status != 304:
            lines.append(b"Content-Length: %d\r\n" % len(body))
        if not keep_alive:
            lines.append(b"Connection: close\r\n")
        lines.append(b"\r\n")
        if not head_only and status != 304:
            lines.append(body)
        self.transport.write(b"".join(lines))
        if not keep_alive:
            self.transport.close()

    def _handle(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].split(b" ", 2)
        except ValueError:
            self._send(400, b"", keep_alive=False)
            return
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = version == b"HTTP/1.1" and headers.get(b"connection", b"").lower() != b"close"
        if b"content-length" in headers or b"transfer-encoding" in headers:
            self._send(400, b"", keep_alive=False)  # GET and HEAD only: we never read request bodies
            return
        if method not in (b"GET", b"HEAD"):
            self._send(405, b"Allow: GET, HEAD\r\n", keep_alive=keep_alive)
            return
        document = self.documents.get(target.split(b"?", 1)[0])
        if document is None:
            self._send(404, b"Content-Type: text/plain\r\n", b"not found\n", keep_alive=keep_alive)
            return
        validators = b"ETag: %s\r\nLast-Modified: %s\r\nCache-Control: max-age=300\r\n" % (
            document.etag, document.last_modified)
        if_none_match = headers.get(b"if-none-match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
            not_modified = b"*" in tags or document.etag in tags
        else:
            not_modified = headers.get(b"if-modified-since") == document.last_modified
        if not_modified:
            self._send(304, validators, keep_alive=keep_alive)
            return
        gzip_ok = b"gzip" in headers.get(b"accept-encoding", b"").lower()
        body = document.gzipped if gzip_ok else document.identity
        extra = b"Content-Type: application/rss+xml; charset=utf-8\r\nVary: Accept-Encoding\r\n" + validators
        if gzip_ok:
            extra += b"Content-Encoding: gzip\r\n"
        self._send(200, extra, body, keep_alive=keep_alive, head_only=method == b"HEAD")


_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def _build_documents(feeds: int, items: int) -> tuple[dict[bytes, _Document], int]:
    now = datetime.now(UTC).replace(microsecond=0)
    last_modified = email.utils.format_datetime(now, usegmt=True).encode()
    table, events = assign_reports(feeds, items)
    documents = {}
    for feed in range(feeds):
        body = feed_document(feed, table[feed], now)
        documents[feed_path(feed).encode()] = _Document(
            identity=body, gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag=b'"f%05d-%08x"' % (feed, zlib.crc32(body)), last_modified=last_modified,
        )
    return documents, events


async def _serve_async(hosts: list[str], feeds: int, items: int, control: Connection, lifetime: float) -> None:
    loop = asyncio.get_running_loop()
    stats = _Stats()
    documents, events = _build_documents(feeds, items)
    servers = []
    addresses = []
    for host in hosts:
        server = await loop.create_server(lambda: _HttpProtocol(documents, stats), host, 0, backlog=4096)
        servers.append(server)
        addresses.append(server.sockets[0].getsockname()[:2])
    sizes = [len(d.identity) for d in documents.values()]
    gz_sizes = [len(d.gzipped) for d in documents.values()]
    control.send(("ready", {"addresses": addresses, "document_bytes": sum(sizes),
                            "gzip_bytes": sum(gz_sizes), "events": events}))

    # The pipe is read on a daemon thread, so a blocked recv() never keeps this process alive.
    stop = asyncio.Event()

    def reader() -> None:
        try:
            while True:
                command = control.recv()
                if command == "stats":
                    control.send(stats.snapshot())
                elif command == "stop":
                    break
        except (EOFError, OSError):
            pass  # the benchmark is gone: stop too
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=reader, name="control", daemon=True).start()
    try:
        async with asyncio.timeout(lifetime):
            await stop.wait()
    except TimeoutError:
        pass
    for server in servers:
        server.close()


def serve(hosts: list[str], feeds: int, items: int, control: Connection, lifetime: float) -> None:
    """Entry point of the server process. Ctrl-C reaches the whole process group: the benchmark, not the server,
    decides when to stop, so the server ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve_async(hosts, feeds, items, control, lifetime))


class FeedServer:
    """The server process, seen from the benchmark."""

    def __init__(self, hosts: list[str], feeds: int, items: int, lifetime: float) -> None:
        context = multiprocessing.get_context("spawn")  # no inherited threads, locks or open database
        self._control, child_end = context.Pipe()
        self._process = context.Process(
            target=serve, args=(hosts, feeds, items, child_end, lifetime), name="feed-server", daemon=True
        )
        self._process.start()
        child_end.close()
        if not self._control.poll(SERVER_START_SECONDS):
            self.close()
            raise RuntimeError(f"the feed server did not start within {SERVER_START_SECONDS:g} s")
        try:
            _, info = self._control.recv()
        except EOFError:
            self.close()
            raise RuntimeError(f"the feed server exited at start (exit code {self._process.exitcode})") from None
        self.addresses: list[tuple[str, int]] = [tuple(a) for a in info["addresses"]]
        self.document_bytes: int = info["document_bytes"]
        self.gzip_bytes: int = info["gzip_bytes"]
        self.events: int = info["events"]

    def url(self, feed: int) -> str:
        host, port = self.addresses[feed % len(self.addresses)]
        return f"http://{host}:{port}{feed_path(feed)}"

    def stats(self) -> dict[str, Any]:
        self._control.send("stats")
        if not self._control.poll(10):
            raise RuntimeError("the feed server did not answer")
        return self._control.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._control.send("stop")
        self._control.close()
        self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


# ---------------------------------------------------------------------------------------------------------
# The benchmark (client side)
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class CycleResult:
    seconds: float
    cpu_seconds: float
    statuses: dict[str, int]
    polls: list[FeedPoll]


async def cycle(adb: AsyncDatabase, fetcher: Fetcher, pipeline: Pipeline, polling: PollingSettings) -> list[FeedPoll]:
    """One forced poll cycle of every feed, through the project's own `poll_cycle`."""
    return await poll_cycle(adb, fetcher, pipeline, polling, force=True)


async def timed_cycle(
    adb: AsyncDatabase, fetcher: Fetcher, pipeline: Pipeline, polling: PollingSettings
) -> CycleResult:
    cpu, start = time.process_time(), time.perf_counter()
    polls = await cycle(adb, fetcher, pipeline, polling)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return CycleResult(seconds, cpu, dict(Counter(p.status for p in polls)), polls)


def _status_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    b, a = before["status_counts"], after["status_counts"]
    return {k: a[k] - b.get(k, 0) for k in sorted(a) if a[k] != b.get(k, 0)}


def _db_counts(db: Any) -> dict[str, int]:
    return {
        "items": item_store.count_items(db),
        "item_feeds": db.execute("SELECT count(*) FROM item_feeds").fetchone()[0],
        "feeds": db.execute("SELECT count(*) FROM feeds").fetchone()[0],
        "feeds_with_etag": db.execute("SELECT count(*) FROM feeds WHERE etag IS NOT NULL").fetchone()[0],
        "feeds_failing": db.execute("SELECT count(*) FROM feeds WHERE consecutive_failures > 0").fetchone()[0],
        "stories": db.execute("SELECT count(*) FROM stories").fetchone()[0],
        "contradictions": db.execute("SELECT count(*) FROM contradictions").fetchone()[0],
        "distinct_titles": db.execute("SELECT count(DISTINCT title) FROM items").fetchone()[0],
    }


_EVENT_OF_LINK = re.compile(r"-(\d+)-\d+$")


def _story_check(db: Any) -> dict[str, int]:
    """How the stories of cycle 1 match the events served (each link ends in its event's number): stories
    holding reports of several events, events whose reports went to several stories, the largest story."""
    events_of: dict[int, set[int]] = {}
    stories_of: dict[int, set[int]] = {}
    for story_id, link in db.execute("SELECT m.story_id, i.link FROM story_items m JOIN items i ON i.id = m.item_id"):
        number = int(_EVENT_OF_LINK.search(link).group(1))
        events_of.setdefault(story_id, set()).add(number)
        stories_of.setdefault(number, set()).add(story_id)
    sizes = Counter(story_id for story_id, _ in db.execute("SELECT story_id, item_id FROM story_items"))
    return {
        "stories": len(events_of),
        "events": len(stories_of),
        "mixed_stories": sum(len(events) > 1 for events in events_of.values()),
        "split_events": sum(len(stories) > 1 for stories in stories_of.values()),
        "largest_story": max(sizes.values(), default=0),
    }


async def run_benchmark(args: argparse.Namespace, server: FeedServer, folder: Path,
                        checks: list[tuple[str, bool]]) -> dict[str, Any]:
    hosts = len(server.addresses)
    polling = dataclasses.replace(
        PollingSettings(),
        max_concurrency=args.concurrency,
        per_host_concurrency=math.ceil(args.concurrency / hosts),
    )
    expected_items = args.feeds * args.items
    pipeline = Pipeline()  # shared by all cycles, as in the bot
    adb = AsyncDatabase.open(folder / "bench.db")
    try:
        urls = [(server.url(feed), None) for feed in range(args.feeds)]
        added, present = await adb.run(feed_store.add_missing_feeds, urls, datetime.now(UTC))
        checks.append((f"{args.feeds} feeds added", len(added) == args.feeds and not present))

        # Cycle 1: full content.
        before = server.stats()
        async with Fetcher(polling, allow_private_addresses=True) as fetcher:
            first = await timed_cycle(adb, fetcher, pipeline, polling)
        served1 = _status_delta(before, server.stats())
        counts = await adb.run(_db_counts)
        new_items = sum(len(p.new_items) for p in first.polls)
        checks += [
            (f"cycle 1: all {args.feeds} polls 'new'", first.statuses == {"new": args.feeds}),
            (f"cycle 1: server answered {args.feeds} x 200", served1 == {"200": args.feeds}),
            (f"cycle 1: database holds {expected_items} items", counts["items"] == expected_items),
            ("cycle 1: polls returned as many new items as stored", new_items == counts["items"]),
            (f"cycle 1: {expected_items} item_feeds rows", counts["item_feeds"] == expected_items),
            ("cycle 1: every headline distinct", counts["distinct_titles"] == expected_items),
            ("cycle 1: every feed has an ETag and no failure",
             counts["feeds_with_etag"] == args.feeds and counts["feeds_failing"] == 0),
        ]
        # The stories must be the events: a few reports each, never a chain of events sharing general words.
        stories = await adb.run(_story_check)
        checks += [
            ("cycle 1: stories hold one event each (at most 1 % mixed)",
             stories["mixed_stories"] <= 0.01 * stories["stories"]),
            ("cycle 1: events are one story each (at most 5 % split)",
             stories["split_events"] <= 0.05 * stories["events"]),
            (f"cycle 1: no story larger than an event ({MAX_REPORTS_PER_EVENT} reports)",
             stories["largest_story"] <= MAX_REPORTS_PER_EVENT),
        ]
        failures = [p for p in first.polls if p.status == "failed"]
        if failures:
            log.warning("cycle 1: %d failed polls, e.g. %s: %s", len(failures), failures[0].url, failures[0].error)
        stored_after_cycle1 = counts["items"]

        async def not_modified_run(fetcher: Fetcher, label: str) -> CycleResult:
            before = server.stats()
            result = await timed_cycle(adb, fetcher, pipeline, polling)
            served = _status_delta(before, server.stats())
            checks.append((f"{label}: all {args.feeds} polls 'not-modified'",
                           result.statuses == {"not-modified": args.feeds}))
            checks.append((f"{label}: server answered {args.feeds} x 304", served == {"304": args.feeds}))
            return result

        # Cycle 2, as in production: the keep-alive connections expired during the poll interval.
        cold = []
        for n in range(args.repeat):
            async with Fetcher(polling, allow_private_addresses=True) as fetcher:
                cold.append(await not_modified_run(fetcher, f"cycle 2 run {n + 1} (new connections)"))
        # Cycle 2 back to back on one Fetcher: warm keep-alive connections.
        warm = []
        async with Fetcher(polling, allow_private_addresses=True) as fetcher:
            await cycle(adb, fetcher, pipeline, polling)  # opens the connections
            for n in range(args.repeat):
                warm.append(await not_modified_run(fetcher, f"cycle 2 run {n + 1} (warm connections)"))
        after = await adb.run(_db_counts)
        checks.append(("cycle 2 stored no items", after["items"] == stored_after_cycle1))
        server_stats = server.stats()
    finally:
        adb.close()

    def summary(runs: list[CycleResult]) -> dict[str, Any]:
        return {
            "runs_seconds": [round(r.seconds, 4) for r in runs],
            "runs_cpu_seconds": [round(r.cpu_seconds, 4) for r in runs],
            "median_seconds": round(statistics.median(r.seconds for r in runs), 4),
            "median_cpu_seconds": round(statistics.median(r.cpu_seconds for r in runs), 4),
            "feeds_per_second": round(args.feeds / statistics.median(r.seconds for r in runs), 1),
            "statuses": dict(sum((Counter(r.statuses) for r in runs), Counter())),
        }

    cold_summary = summary(cold)
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "config": {
            "feeds": args.feeds,
            "items_per_feed": args.items,
            "max_concurrency": polling.max_concurrency,
            "per_host_concurrency": polling.per_host_concurrency,
            "hosts": [f"{h}:{p}" for h, p in server.addresses],
            "timeout_seconds": polling.timeout_seconds,
            "repeat": args.repeat,
            "pipeline": "Pipeline (store, cluster, detect)",
            "document_bytes": server.document_bytes,
            "gzip_bytes": server.gzip_bytes,
        },
        "cycle1": {
            "seconds": round(first.seconds, 4),
            "cpu_seconds": round(first.cpu_seconds, 4),
            "items_stored": counts["items"],
            "stories": counts["stories"],
            "events_served": server.events,
            "contradictions": counts["contradictions"],
            "story_check": stories,
            "items_per_second": round(counts["items"] / first.seconds, 1),
            "statuses": first.statuses,
        },
        "cycle2_new_connections": cold_summary,
        "cycle2_warm_connections": summary(warm),
        "target_304_seconds": TARGET_304_SECONDS,
        "meets_304_target": cold_summary["median_seconds"] < TARGET_304_SECONDS,
        "server": {
            "status_counts": server_stats["status_counts"],
            "cpu_seconds": round(server_stats["cpu_seconds"], 3),
        },
    }


def _runs(summary: dict[str, Any]) -> str:
    return " / ".join(f"{s:.2f}" for s in summary["runs_seconds"])


def report(figures: dict[str, Any], emit: Callable[[str], None] = print) -> None:
    m, c, one = figures["machine"], figures["config"], figures["cycle1"]
    cold, warm = figures["cycle2_new_connections"], figures["cycle2_warm_connections"]
    emit(f"machine: {m['usable_cpus']} usable cores (of {m['cpu_count']}), {m['platform']}, "
         f"Python {m['python']}")
    emit(f"config:  {c['feeds']} feeds x {c['items_per_feed']} items, max_concurrency={c['max_concurrency']}, "
         f"per_host_concurrency={c['per_host_concurrency']}, after parsing: {c['pipeline']}")
    emit(f"server:  {', '.join(c['hosts'])} in a separate process, {c['document_bytes'] / 1e6:.1f} MB of RSS "
         f"({c['gzip_bytes'] / 1e6:.1f} MB gzipped)")
    emit(f"cycle 1 (200, full content):       {one['seconds']:.2f} s  (client CPU {one['cpu_seconds']:.2f} s), "
         f"{one['items_stored']} items stored, {one['items_per_second']:.0f} items/s")
    check = one["story_check"]
    emit(f"         {one['stories']} stories from {one['events_served']} events served, "
         f"{one['contradictions']} contradictions; {check['mixed_stories']} stories mix events, "
         f"{check['split_events']} events split, largest story {check['largest_story']} reports")
    verdict = "OK" if figures["meets_304_target"] else "OVER TARGET"
    emit(f"cycle 2 (304, new connections):    median {cold['median_seconds']:.2f} s  "
         f"(client CPU {cold['median_cpu_seconds']:.2f} s; runs {_runs(cold)} s; "
         f"{cold['feeds_per_second']:.0f} feeds/s)  target < {figures['target_304_seconds']:g} s: {verdict}")
    emit(f"cycle 2 (304, warm connections):   median {warm['median_seconds']:.2f} s  "
         f"(client CPU {warm['median_cpu_seconds']:.2f} s; runs {_runs(warm)} s; "
         f"{warm['feeds_per_second']:.0f} feeds/s)")
    s = figures["server"]
    answered = ", ".join(f"{v} x {k}" for k, v in sorted(s["status_counts"].items()))
    emit(f"server:  answered {answered}; server CPU {s['cpu_seconds']:.2f} s in total")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000, help="number of feeds (default 1000)")
    parser.add_argument("--items", type=int, default=20, help="items per feed (default 20)")
    parser.add_argument("--concurrency", type=int, default=50, help="polling.max_concurrency (default 50)")
    parser.add_argument("--hosts", type=int, default=1,
                        help="loopback addresses to spread the feeds over, 127.0.0.1 up (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 304 cycle (default 3)")
    parser.add_argument("--timeout", type=float, default=600.0, help="limit for the whole run in s (default 600)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    for name in ("feeds", "items", "concurrency", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 1 <= args.hosts <= 254:
        parser.error("--hosts must be between 1 and 254")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def _interrupted(signum: int, frame: object) -> None:
    # Treat SIGTERM as Ctrl-C, which asyncio.run turns into cancelling the benchmark: the clean-up still runs.
    signal.raise_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    hosts = [f"127.0.0.{n}" for n in range(1, args.hosts + 1)]
    checks: list[tuple[str, bool]] = []
    deadline = time.monotonic() + args.timeout
    try:
        server = FeedServer(hosts, args.feeds, args.items, lifetime=args.timeout + 30)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="storywatch-poll-bench-") as folder:

            async def bounded() -> dict[str, Any]:
                async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
                    return await run_benchmark(args, server, Path(folder), checks)

            try:
                figures = asyncio.run(bounded())
            except TimeoutError:
                print(f"error: the benchmark did not finish within --timeout {args.timeout:g} s", file=sys.stderr)
                return 2
            except KeyboardInterrupt:
                print("interrupted", file=sys.stderr)
                return 130
    finally:
        server.close()
    figures["checks"] = {name: ok for name, ok in checks}
    all_ok = all(ok for _, ok in checks)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures)
        failed = [name for name, ok in checks if not ok]
        emit_checks = "all passed" if all_ok else "FAILED: " + "; ".join(failed)
        print(f"checks:  {len(checks)} {emit_checks}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
