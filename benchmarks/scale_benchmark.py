"""Scale benchmark: the running bot over 100,000 stored items in 10,000 open stories.

Run from the project root with the virtualenv active:

    python benchmarks/scale_benchmark.py                         # 100,000 items, 10,000 stories (a few minutes)
    python benchmarks/scale_benchmark.py --quick                 # 10,000 items, 1,000 stories, 20 requests each
    python benchmarks/scale_benchmark.py --db /tmp/scale.db      # build once, reuse on later runs
    python benchmarks/scale_benchmark.py --items 50000 --stories 5000 --requests 100 --json

What is measured (design.md, "Performance targets": 100,000 stored items, memory under 200 MB, `stories`
and `story` answering in under 100 ms)

    1. The database. `--items` generated reports forming `--stories` stories (see "The corpus") are pushed
       through the real `Pipeline.process` (store, cluster with the real `StoryClusterer`, detect
       contradictions, record events) in published order, 500 items per call (one transaction each), as
       `storywatch ingest` does, into a real SQLite file opened by `storage.db.open_database`. Nothing is
       written around the pipeline. Its rate (items/s) is printed. The build runs in a process of its own,
       which reports its memory (/proc/self/status) once every item has gone through the pipeline: what a
       bot that processed them live holds, with the generated corpus still in memory and after it is freed
       (the bot of (3) is the same database after a restart). The counts are then checked: items,
       distinct headlines, open stories (the clusterer decides how many stories the reports form: it must
       be at least 90 % of `--stories`), and a fresh `Pipeline` loading the file (`Pipeline._load`, what the
       bot does on its first poll) must hold as many open stories as the database. With `--db PATH` the
       file is kept and reused when its parameters match (they are kept in PATH.json); each run works on a
       copy, so the kept file never changes.
    2. Service level, in this process, on the copy: `StoryWatch.stories()` (what /stories calls) and
       `StoryWatch.story(id)` (what /story calls) through `AsyncDatabase` (its database thread), `--requests`
       times each after one warm-up call, for story ids drawn at random from the open stories, and
       `StoryWatch.stories(WORD)` (/stories WORD) for a word that few stories hold (a name of the newest
       report's story): fewer than 10 matches means a search of every open story's reports, the worst case of
       /stories. The storage functions alone (`most_active_stories`, `get_story`) and the rendering
       (`render_story_list`, `render_story`) are timed apart, so that database time, rendering and the
       Telegram round trip can be told apart. `/story` of the largest story (the most reports) has its own
       row: the worst case of /story. `--explain` prints EXPLAIN QUERY PLAN of the statements behind them.
    3. The running bot. `storywatch run` (`python -m bot --config ... run`) in a subprocess, with its own
       config: `telegram.base_url` points at `tests.fakebotapi.FakeBotAPI` running in this process, and one
       feed on a loopback HTTP server (`tests.feedserver.FeedServer`, `allow_private_addresses = true`) holds
       one new report of the most recent story, one minute after the newest stored report. The poll job runs
       at start: its first poll makes the pipeline load the clusterer's memory from the database (every
       membership, replayed); the benchmark waits until the new report is stored and checks that it joined
       the story it belongs to, which the clusterer can only do with the stories loaded. Then a user sends
       /start, one /stories (warm-up, shown apart), and `--requests` times /stories, /stories WORD and
       /story ID (same ids and word as in 2), one at a time, then /story of the largest story a few times.
       Each answer's latency is the time from the update being queued at the fake (the bot's long poll
       returns it at once) to the bot's sendMessage arriving there, both on the fake's clock
       (time.monotonic). Memory is read from /proc/<pid>/status of the bot's process: VmHWM (peak resident
       set, i.e. during the load) and VmRSS after the load and after the commands. A first bot on an empty
       database (no feeds; /start and /stories) gives the baseline: what the process costs before any data.

    Latencies are reported as median, 95th percentile (nearest rank) and maximum, in milliseconds. The
    targets are judged on the 95th percentiles through Telegram (all four rows) and on the peak RSS.

The corpus
    Reports are generated from word lists: each story has four invented names (made-up words of three
    syllables, each its own stem, distinct across the corpus) and a topic (one of 12 words); each report
    uses three of its names and one of 16 actions (a different one per report), in one of four headline
    shapes, with a one-sentence summary restating it (about 125 characters; `--summary-repeat 3` repeats the
    sentence, about 375 characters, as longer feed descriptions: that moves the memory figures but not the
    clustering, the words being the same). About 5 % of stories end with a report denying it
    (contradictions, so /story has some to show). Stories begin evenly over 10 days; a story's reports come
    within 20 hours (exponential, mean 3 h) from sources drawn from 48 outlets; story sizes vary from half
    to one and a half times the mean. All reports fall within the clusterer's 14-day quiet period, so every
    story is still open at the end. The general vocabulary is small on purpose: shared words are soon in
    many stories, so the clusterer stops using them to find candidates and the invented names decide; with a
    large general vocabulary (or boilerplate in summaries) the clusterer merges unrelated stories while the
    first few hundred stories are forming, and far fewer stories result. Even so, some stories merge in the
    first hours (with the defaults, about 450 of 10,000; the largest story printed, over a thousand reports,
    is such a merger): the printed count of open stories is what the clusterer made. This is a scale
    fixture, not a test of clustering quality (`storywatch eval` and benchmarks/quality_split.py do that).

Bounded and clean
    The bot subprocess is stopped with SIGTERM (what `storywatch run` handles) and killed if it has not
    exited after 20 s; every wait has a time limit; temporary files are in a TemporaryDirectory removed at
    the end. The exit status is 1 when a check fails or a target is missed, 2 on bad usage or when the bot
    does not start or load in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakebotapi and tests.feedserver

from bot.config import Settings  # noqa: E402
from bot.delivery.render import render_story, render_story_list, zone  # noqa: E402
from bot.monitor.fetch import Fetcher  # noqa: E402
from bot.monitor.model import Item  # noqa: E402
from bot.monitor.normalize import dedup_key  # noqa: E402
from bot.monitor.pipeline import Pipeline, tune_garbage_collector  # noqa: E402
from bot.monitor.terms import STOP_WORDS, stem  # noqa: E402
from bot.service import StoryWatch  # noqa: E402
from storage import stories as story_store  # noqa: E402
from storage.db import AsyncDatabase, open_database  # noqa: E402
from tests.fakebotapi import FakeBotAPI  # noqa: E402
from tests.feedserver import FeedServer, Route  # noqa: E402

TARGET_MB = 200.0
TARGET_MS = 100.0
MIN_STORY_SHARE = 0.8  # open stories formed, as a share of the stories generated
CHUNK = 500  # items per Pipeline.process call (one transaction), as `storywatch ingest` does
SPAN_DAYS = 10.0
STORY_HOURS = 20.0
TOKEN = "4242:SCALE-BENCHMARK"
USER = 777
START_SECONDS = 60.0
LOAD_SECONDS = 300.0
REPLY_SECONDS = 30.0

# ---------------------------------------------------------------------------------------------------------
# The corpus: generated headlines that form `stories` distinct stories
# ---------------------------------------------------------------------------------------------------------

_ONSETS = "bdfgklmnprtvz"
_VOWELS = "aeiou"
_CODAS = "bfgklmnprtvz"  # no "d" or "s": the stemmer would cut "-ed" and "-s"
_TOPICS = ("merger", "strike", "inquiry", "contract", "pipeline", "airport", "budget", "takeover", "mine",
           "refinery", "plant", "deal")
_ACTIONS = ("approves", "delays", "rejects", "backs", "suspends", "confirms", "defends", "criticises",
            "welcomes", "challenges", "investigates", "scraps", "revives", "expands", "restarts", "freezes")
_SOURCES = tuple(
    f"{prefix} {suffix}"
    for prefix in ("Daily", "Morning", "Evening", "Metro", "National", "Global", "City", "Coastal")
    for suffix in ("Herald", "Times", "Post", "Courier", "Gazette", "Wire")
)
_DENIAL_SHARE = 0.05


@dataclass(frozen=True)
class Corpus:
    items: list[Item]  # in published order
    stories: int


def headline(shape: int, denial: bool, who: str, action: str, what: str, where: str, whom: str, topic: str) -> str:
    """One report's headline of a generated story, in one of four shapes; a story's last report may deny it."""
    if denial:
        return f"{who} denies it {action} {what} in {where}"
    if shape == 0:
        return f"{who} {action} {what} {topic} in {where}"
    if shape == 1:
        return f"{where} {what}: {who} {action} {whom} {topic}"
    if shape == 2:
        return f"{whom} says {who} {action} {what} in {where}"
    return f"{who} and {whom} {action.removesuffix('s')} {what} {topic}"


def _names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct invented words of three syllables, each its own stem (so no two meet after stemming)."""
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(3)) + rng.choice(_CODAS)
        if word in seen or word in STOP_WORDS or stem(word) != word:
            continue
        seen.add(word)
        names.append(word.capitalize())
    return names


def _sizes(rng: random.Random, items: int, stories: int) -> list[int]:
    """Story sizes averaging items / stories, from about half to one and a half times that, summing to `items`."""
    mean = items // stories
    sizes = [mean] * stories
    for k in range(items - mean * stories):
        sizes[k % stories] += 1
    spread = mean // 2
    low, high = max(1, mean - spread), mean + spread + 1
    for _ in range(stories):
        a, b = rng.randrange(stories), rng.randrange(stories)
        move = rng.randint(0, spread)
        if a != b and sizes[a] - move >= low and sizes[b] + move <= high:
            sizes[a] -= move
            sizes[b] += move
    return sizes


def make_corpus(items: int, stories: int, *, seed: int, end: datetime, summary_repeat: int = 1) -> Corpus:
    """Reports forming `stories` stories of about items / stories reports each, all published before `end`
    (see "The corpus" in the module doc); each summary is its sentence `summary_repeat` times."""
    rng = random.Random(seed)
    names = _names(rng, 4 * stories)
    sizes = _sizes(rng, items, stories)
    start = end - timedelta(days=SPAN_DAYS, hours=STORY_HOURS)
    step = SPAN_DAYS * 86400.0 / stories
    out: list[Item] = []
    for s in range(stories):
        who, where, what, whom = names[4 * s : 4 * s + 4]
        topic = rng.choice(_TOPICS)
        began = start + timedelta(seconds=s * step + rng.uniform(0, step))
        actions = rng.sample(_ACTIONS, min(sizes[s], len(_ACTIONS)))
        offsets = sorted(min(rng.expovariate(1 / 3.0), STORY_HOURS) for _ in range(sizes[s] - 1))
        deny = rng.random() < _DENIAL_SHARE and sizes[s] >= 3
        for k in range(sizes[s]):
            action = actions[k % len(actions)]
            published = (began + timedelta(hours=offsets[k - 1] if k else 0.0)).replace(microsecond=0)
            shape = rng.randrange(4) if k else 0
            title = headline(shape, deny and k == sizes[s] - 1, who, action, what, where, whom, topic)
            summary = " ".join([f"{who} {action} the {what} in {where}, {whom} said; {whom} and {who} have been "
                                f"at {where} over the {what} since then."] * summary_repeat)
            source = rng.choice(_SOURCES)
            link = f"https://{source.lower().replace(' ', '')}.example/news/{s}-{k}"
            key = dedup_key(guid=link, link=link, title=title, scope=source)
            out.append(Item(key=key, title=title, link=link, summary=summary, source=source, published=published,
                            guid=link))
    out.sort(key=lambda item: (item.published, item.key))
    return Corpus(out, stories)


# ---------------------------------------------------------------------------------------------------------
# Building (or reusing) the database
# ---------------------------------------------------------------------------------------------------------


def db_counts(db: Any) -> dict[str, int]:
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "items": one("SELECT count(*) FROM items"),
        "distinct_titles": one("SELECT count(DISTINCT title) FROM items"),
        "members": one("SELECT count(*) FROM story_items"),
        "stories": one("SELECT count(*) FROM stories"),
        "open_stories": one("SELECT count(*) FROM stories WHERE closed_at IS NULL"),
        "largest_story": one("SELECT coalesce(max(item_count), 0) FROM stories"),
        "avg_title_chars": round(one("SELECT coalesce(avg(length(title)), 0) FROM items")),
        "avg_summary_chars": round(one("SELECT coalesce(avg(length(summary)), 0) FROM items")),
        "contradictions": one("SELECT count(*) FROM contradictions"),
        "events": one("SELECT count(*) FROM events"),
    }


def _own_memory_mb() -> dict[str, float]:
    return memory_mb(os.getpid())


def _build_in_child(path: str, args: argparse.Namespace, results: Any) -> None:
    results.put(build_database(Path(path), args, lambda line: print(line, file=sys.stderr, flush=True), live=True))


def build_database_live(path: Path, args: argparse.Namespace, emit: Callable[[str], None]) -> dict[str, Any]:
    """`build_database` in a process of its own, which reports its memory: that of a pipeline that has just
    processed every item live, as a bot that has been running holds it (not one restarted on the database)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_build_in_child, args=(str(path), args, results))
    child.start()
    try:
        figures = results.get()
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    if child.exitcode not in (0, None):
        raise RuntimeError(f"building the database failed (exit code {child.exitcode})")
    return figures


def build_database(path: Path, args: argparse.Namespace, emit: Callable[[str], None], *,
                   live: bool = False) -> dict[str, Any]:
    """Generate the corpus and push it through `Pipeline.process` into a new database at `path`. `live`: also
    report this process's memory before the pipeline and after it processed everything, with and without
    the corpus."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    started = time.perf_counter()
    corpus = make_corpus(args.items, args.stories, seed=args.seed, end=end, summary_repeat=args.summary_repeat)
    generate_seconds = time.perf_counter() - started
    tune_garbage_collector()  # as `storywatch run` sets it
    before = _own_memory_mb() if live else None
    db = open_database(path)
    pipeline = Pipeline()
    started = time.perf_counter()
    cpu = time.process_time()
    done = 0
    for start in range(0, len(corpus.items), CHUNK):
        pipeline.process(db, corpus.items[start : start + CHUNK], now=datetime.now(UTC))
        done += len(corpus.items[start : start + CHUNK])
        if done % 20000 < CHUNK or done == len(corpus.items):
            emit(f"  built {done:,} of {len(corpus.items):,} items in {time.perf_counter() - started:.0f} s")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    items = len(corpus.items)
    memory = None
    if live:
        with_corpus = _own_memory_mb()
        corpus = None
        gc.collect()
        memory = {"before_pipeline": before, "after_with_corpus": with_corpus, "after": _own_memory_mb()}
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {
        "live_memory": memory,
        "method": f"Pipeline.process (store, cluster, detect, events), {CHUNK} items per transaction",
        "generate_seconds": round(generate_seconds, 2),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "items_per_second": round(items / seconds, 1),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def prepare_database(args: argparse.Namespace, work: Path, emit: Callable[[str], None]) -> tuple[Path, dict]:
    """The built database (kept at --db when given) and its build figures; returns a working copy's path."""
    params = {"items": args.items, "stories": args.stories, "seed": args.seed, "summary_repeat": args.summary_repeat}
    if args.db is not None:
        kept = Path(args.db).resolve()
        meta_path = kept.with_name(kept.name + ".json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() and kept.exists() else None
        if meta is not None and meta.get("params") != params:
            print(f"error: {kept} was built with {meta.get('params')}, not {params}: remove it or pass another --db",
                  file=sys.stderr)
            raise SystemExit(2)
        if meta is None:
            for leftover in (kept, kept.with_name(kept.name + "-wal"), kept.with_name(kept.name + "-shm")):
                leftover.unlink(missing_ok=True)
            emit(f"building {kept} ({args.items:,} items, {args.stories:,} stories)")
            build = build_database_live(kept, args, emit)
            meta = {"params": params, "build": build}
            meta_path.write_text(json.dumps(meta, indent=2))
        else:
            emit(f"reusing {kept} (built {meta['build']['built_at']})")
            meta["build"]["reused"] = True
    else:
        kept = work / "built.db"
        emit(f"building {args.items:,} items, {args.stories:,} stories")
        meta = {"params": params, "build": build_database_live(kept, args, emit)}
    copy = work / "bot.db"
    shutil.copyfile(kept, copy)
    meta["build"]["file_mb"] = round(kept.stat().st_size / 1e6, 1)
    return copy, meta["build"]


# ---------------------------------------------------------------------------------------------------------
# Timing helpers
# ---------------------------------------------------------------------------------------------------------


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def explain(db: Any, sql: str, params: Sequence[object]) -> list[str]:
    return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, list(params)).fetchall()]


# ---------------------------------------------------------------------------------------------------------
# 1 and 2: counts, the clusterer's load, service-level timings (this process)
# ---------------------------------------------------------------------------------------------------------


def check_database(path: Path, args: argparse.Namespace, checks: list[tuple[str, bool]]) -> dict[str, Any]:
    db = open_database(path)
    try:
        counts = db_counts(db)
        pipeline = Pipeline()
        started = time.perf_counter()
        clusterer = pipeline._load(db)  # what the bot's first poll does
        load_seconds = time.perf_counter() - started
        loaded_open = clusterer.open_story_count
    finally:
        db.close()
    checks += [
        (f"{args.items:,} items stored", counts["items"] == args.items),
        ("every headline distinct", counts["distinct_titles"] == args.items),
        ("every item in a story", counts["members"] == args.items),
        (f"open stories >= {MIN_STORY_SHARE:.0%} of {args.stories:,} generated",
         counts["open_stories"] >= MIN_STORY_SHARE * args.stories),
        ("a fresh Pipeline loads as many open stories as the database holds", loaded_open == counts["open_stories"]),
    ]
    return {**counts, "loaded_open_stories": loaded_open, "load_seconds_in_process": round(load_seconds, 2)}


def pick_story_ids(path: Path, count: int, seed: int) -> tuple[list[int], int, int, str]:
    """`count` random open story ids, the largest story's id and its size, and a word to search for: the first
    word of the newest report (a name of the latest story, so it matches few stories)."""
    db = sqlite3.connect(path)
    try:
        ids = [row[0] for row in db.execute("SELECT id FROM stories WHERE closed_at IS NULL ORDER BY id")]
        largest, size = db.execute("SELECT id, item_count FROM stories ORDER BY item_count DESC, id LIMIT 1").fetchone()
        word = db.execute("SELECT title FROM items ORDER BY published DESC, id DESC LIMIT 1").fetchone()[0].split()[0]
    finally:
        db.close()
    rng = random.Random(seed)
    return [rng.choice(ids) for _ in range(count)], largest, size, word


async def service_level(path: Path, story_ids: list[int], largest: int, word: str, requests: int) -> dict[str, Any]:
    settings = Settings()
    adb = AsyncDatabase.open(path)
    fetcher = Fetcher(settings.polling)
    service = StoryWatch(settings, adb, fetcher)
    tz = zone("UTC")
    try:
        async def atimed(make: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
            times, result = [], None
            for _ in range(repeat):
                started = time.perf_counter()
                result = await make()
                times.append(time.perf_counter() - started)
            return times, result

        await service.stories()  # warm-up: the first query reads the pages from the file
        stories_times, found = await atimed(service.stories, requests)
        search_times, _ = await atimed(lambda: service.stories(word), requests)
        timelines = []
        story_times = []
        for story_id in story_ids:
            started = time.perf_counter()
            timelines.append(await service.story(story_id))
            story_times.append(time.perf_counter() - started)
        largest_times, largest_timeline = await atimed(lambda: service.story(largest), max(5, requests // 10))

        db = adb.db  # the database thread is idle now: the storage functions alone, and EXPLAIN
        sql_stories = timed(lambda: story_store.most_active_stories(db, limit=10), requests)
        sql_story = [timed(lambda sid=sid: story_store.get_story(db, sid), 1)[0] for sid in story_ids]
        render_list = timed(lambda: render_story_list(found, tz, heading="Most active stories"), requests)
        render_one = [timed(lambda t=t: render_story(t, tz), 1)[0] for t in timelines]
        render_largest = timed(lambda: render_story(largest_timeline, tz), max(5, requests // 10))
        return {
            "StoryWatch.stories": summary_ms(stories_times),
            "StoryWatch.stories(WORD)": summary_ms(search_times),
            "StoryWatch.story": summary_ms(story_times),
            "StoryWatch.story (largest)": summary_ms(largest_times),
            "most_active_stories (SQL)": summary_ms(sql_stories),
            "get_story (SQL)": summary_ms(sql_story),
            "render_story_list": summary_ms(render_list),
            "render_story": summary_ms(render_one),
            "render_story (largest)": summary_ms(render_largest),
            "stories_returned": len(found),
        }
    finally:
        await fetcher.aclose()
        adb.close()


def query_plans(path: Path, story_id: int) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of the statements behind /stories and /story."""
    db = open_database(path)
    try:
        newest = db.execute("SELECT max(last_seen) FROM stories WHERE closed_at IS NULL").fetchone()[0]
        cols = story_store._STORY_COLUMNS
        return {
            "newest open story": explain(db, "SELECT max(last_seen) FROM stories WHERE closed_at IS NULL", []),
            "most active": explain(
                db,
                f"""SELECT {cols}, (SELECT count(*) FROM story_items m JOIN items i ON i.id = m.item_id
                    WHERE m.story_id = s.id AND i.published >= ?) AS recent
                    FROM stories s WHERE s.closed_at IS NULL AND s.last_seen >= ?
                    ORDER BY recent DESC, s.source_count DESC, s.last_seen DESC LIMIT 10""",
                [newest, newest],
            ),
            "story members": explain(
                db,
                """SELECT m.story_id, m.score, m.shared_terms, i.* FROM story_items m JOIN items i ON i.id = m.item_id
                   WHERE m.story_id IN (?) ORDER BY i.published, i.id""",
                [story_id],
            ),
            "story contradictions": explain(
                db, story_store._CONTRADICTION_SQL + " WHERE c.story_id = ? ORDER BY l.published DESC, c.id DESC",
                [story_id],
            ),
        }
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------------------
# 3: the running bot, `storywatch run` in a subprocess, against the fake Telegram in this process
# ---------------------------------------------------------------------------------------------------------


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = round(int(value.split()[0]) / 1024, 1)  # kB -> MiB
    return fields


def rss_document(title: str, link: str, published: datetime) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Scale Wire</title>'
        f"<link>https://scale.example/</link><item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{format_datetime(published)}</pubDate></item></channel></rss>"
    ).encode()


def write_config(folder: Path, api: FakeBotAPI, db_path: Path, feed_url: str | None) -> Path:
    # The default digest time is put 12 hours away, so no digest is due while the benchmark runs.
    digest_at = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    urls = f'["{feed_url}"]' if feed_url else "[]"
    path = folder / f"config-{db_path.stem}.toml"
    path.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n\n'
        f'[storage]\npath = "{db_path}"\n\n'
        f"[feeds]\nurls = {urls}\nallow_private_addresses = true\n\n"
        f'[digest]\ndefault_time = "{digest_at}"\ndefault_timezone = "UTC"\n'
    )
    return path


class BotProcess:
    """`python -m bot --config PATH run`, stopped with SIGTERM (killed after 20 s)."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("STORYWATCH_TELEGRAM_TOKEN", None)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.exit_code = self.process.returncode
        self._log.close()


class BotFailed(RuntimeError):
    pass


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, bot: BotProcess) -> float:
    """Poll `predicate` every 20 ms; returns when it held (monotonic)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if not bot.alive():
            raise BotFailed(f"the bot exited while waiting for {what}:\n{bot.log_tail()}")
        if time.monotonic() > deadline:
            raise BotFailed(f"{what} did not happen within {timeout:g} s:\n{bot.log_tail()}")
        time.sleep(0.02)
    return time.monotonic()


def ask(api: FakeBotAPI, text: str) -> tuple[float, str]:
    """Send `text` as the user; return the latency of the bot's answer on the fake's clock, and the answer."""
    before = len(api.messages(USER))
    queued = time.monotonic()  # the fake's clock
    api.send_message(USER, text)
    answer = api.wait_for_messages(USER, before + 1, REPLY_SECONDS)[before]
    return answer.at - queued, answer.plain_text


def run_bot(
    folder: Path, db_path: Path, *, feed: FeedServer | None, story_ids: list[int], largest: int, word: str,
    requests: int, checks: list[tuple[str, bool]], label: str,
) -> dict[str, Any]:
    api = FakeBotAPI(token=TOKEN).start()
    bot: BotProcess | None = None
    try:
        expected_story = new_title = None
        feed_url = None
        if feed is not None:
            # One new report of the most recent story, a minute after the newest stored report.
            db = sqlite3.connect(db_path)
            title, published, expected_story, max_item = db.execute(
                """SELECT i.title, i.published, m.story_id, (SELECT max(id) FROM items)
                   FROM items i JOIN story_items m ON m.item_id = i.id ORDER BY i.published DESC, i.id DESC
                   LIMIT 1"""
            ).fetchone()
            db.close()
            new_title = f"{title}, officials confirm"
            when = datetime.fromisoformat(published.replace("Z", "+00:00")) + timedelta(minutes=1)
            link = f"https://scale.example/news/{time.time_ns()}"
            feed.routes["/scale.xml"] = Route(body=rss_document(new_title, link, when))
            feed_url = feed.url("/scale.xml")
        config = write_config(folder, api, db_path, feed_url)
        bot = BotProcess(config, folder / f"bot-{label}.log")
        up = wait_for(lambda: len(api.requests_for("getUpdates")) > 0, START_SECONDS, "the bot's first getUpdates",
                      bot)
        figures: dict[str, Any] = {"started_seconds": round(up - bot.started, 2)}
        if feed is not None:
            reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

            def stored() -> bool:
                return reader.execute("SELECT max(id) FROM items").fetchone()[0] > max_item

            loaded = wait_for(stored, LOAD_SECONDS, "the poll's new report", bot)
            joined = reader.execute(
                "SELECT m.story_id FROM items i JOIN story_items m ON m.item_id = i.id WHERE i.id > ?", [max_item]
            ).fetchall()
            reader.close()
            figures["loaded_seconds"] = round(loaded - bot.started, 2)
            figures["after_load"] = memory_mb(bot.pid)
            checks.append((f"{label}: the polled report joined its story {expected_story} (clusterer loaded)",
                           joined == [(expected_story,)]))
        latency, text = ask(api, "/start")
        first, text = ask(api, "/stories")
        figures["first_stories_ms"] = round(first * 1000, 1)
        if feed is not None:
            checks.append((f"{label}: /stories lists stories", text.startswith("Most active stories")))
            stories_lat = [ask(api, "/stories")[0] for _ in range(requests)]
            search = [ask(api, f"/stories {word}") for _ in range(requests)]
            checks.append((f"{label}: /stories {word} finds its story",
                           all(text.startswith("Stories about") for _, text in search)))
            story_lat, wrong = [], 0
            for story_id in story_ids:
                latency, text = ask(api, f"/story {story_id}")
                story_lat.append(latency)
                wrong += f"Story {story_id} ·" not in text
            largest_lat = [ask(api, f"/story {largest}")[0] for _ in range(max(5, requests // 10))]
            checks.append((f"{label}: every /story answer is that story's timeline", wrong == 0))
            figures["telegram"] = {
                "/stories": summary_ms(stories_lat),
                "/stories WORD": summary_ms([latency for latency, _ in search]),
                "/story ID": summary_ms(story_lat),
                "/story (largest)": summary_ms(largest_lat),
            }
            refused = [r for r in api.errors if r.method != "getUpdates"]
            checks.append((f"{label}: the fake refused nothing", not refused))
        figures["memory"] = memory_mb(bot.pid)
        bot.stop()
        figures["exit_code"] = bot.exit_code
        checks.append((f"{label}: the bot stopped cleanly on SIGTERM", bot.exit_code == 0))
        return figures
    finally:
        if bot is not None and bot.alive():
            bot.stop()
        api.stop()


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def _row(name: str, s: dict[str, float], target: float | None = None) -> str:
    verdict = "" if target is None else ("  OK" if s["p95_ms"] < target else "  OVER TARGET")
    return f"  {name:<44} {s['median_ms']:>9.1f} {s['p95_ms']:>9.1f} {s['max_ms']:>9.1f} {s['n']:>5}{verdict}"


def report(f: dict[str, Any], emit: Callable[[str], None] = print) -> None:
    m, b, d, bot, base, svc = f["machine"], f["build"], f["database"], f["bot"], f["baseline"], f["service"]
    emit(f"machine:  {m['usable_cpus']} usable cores (of {m['cpu_count']}), {m['platform']}, Python {m['python']}")
    how = "built earlier" if b.get("reused") else "built"
    emit(f"database: {d['items']:,} items, {f['config']['stories']:,} stories generated -> {d['open_stories']:,} open "
         f"stories (largest {d['largest_story']:,} items), {d['contradictions']:,} contradictions; "
         f"{b['file_mb']:.0f} MB file")
    emit(f"          titles {d['avg_title_chars']} characters on average, summaries {d['avg_summary_chars']}")
    emit(f"          {how} with {b['method']}: {b['seconds']:.1f} s, {b['items_per_second']:,.0f} items/s")
    emit(f"          a fresh Pipeline loads {d['loaded_open_stories']:,} open stories from it in "
         f"{d['load_seconds_in_process']:.1f} s")
    emit(f"bot:      storywatch run (subprocess): up in {bot['started_seconds']:.1f} s, clusterer loaded and the new "
         f"report stored {bot['loaded_seconds']:.1f} s after start")
    mem, after = bot["memory"], bot["after_load"]
    verdict = "OK" if mem["VmHWM"] < TARGET_MB else "OVER TARGET"
    emit(f"memory:   peak RSS (VmHWM) {mem['VmHWM']:.0f} MB, RSS after load {after['VmRSS']:.0f} MB, after the "
         f"commands {mem['VmRSS']:.0f} MB  (target < {TARGET_MB:.0f} MB: {verdict})")
    emit(f"          baseline, same bot on an empty database: peak {base['memory']['VmHWM']:.0f} MB, "
         f"RSS {base['memory']['VmRSS']:.0f} MB")
    live = b.get("live_memory")
    if live:
        emit(f"live:     the process that built it, after processing every item live: RSS "
             f"{live['after']['VmRSS']:.0f} MB "
             f"(peak {live['after']['VmHWM']:.0f} MB, with the generated corpus "
             f"{live['after_with_corpus']['VmRSS']:.0f} MB; {live['before_pipeline']['VmRSS']:.0f} MB before the "
             f"pipeline, corpus included)")
    emit(f"latency (ms){'':<36} {'median':>9} {'p95':>9} {'max':>9} {'n':>5}")
    t = bot["telegram"]
    emit(f"  via Telegram (update queued -> reply at the fake; first /stories after start: "
         f"{bot['first_stories_ms']:.0f} ms)")
    emit(_row("/stories", t["/stories"], TARGET_MS))
    emit(_row(f"/stories {f['search_word']} (few matches)", t["/stories WORD"], TARGET_MS))
    emit(_row("/story ID (random open stories)", t["/story ID"], TARGET_MS))
    emit(_row(f"/story {f['largest']['id']} (largest, {f['largest']['size']} items)", t["/story (largest)"],
              TARGET_MS))
    emit("  service level, in process (StoryWatch via AsyncDatabase; SQL alone; rendering)")
    for name in ("StoryWatch.stories", "StoryWatch.stories(WORD)", "StoryWatch.story", "StoryWatch.story (largest)",
                 "most_active_stories (SQL)", "get_story (SQL)", "render_story_list", "render_story",
                 "render_story (largest)"):
        emit(_row(name, svc[name]))
    if f.get("plans"):
        emit("query plans:")
        for name, plan in f["plans"].items():
            emit(f"  {name}: " + " | ".join(plan))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=None, help="stored items (default 100,000; --quick 10,000)")
    parser.add_argument("--stories", type=int, default=None, help="stories generated (default 10,000; --quick 1,000)")
    parser.add_argument("--requests", type=int, default=None, help="requests of each command (default 50; --quick 20)")
    parser.add_argument("--quick", action="store_true", help="10,000 items, 1,000 stories, 20 requests")
    parser.add_argument("--db", help="keep the built database at this path and reuse it on later runs")
    parser.add_argument("--seed", type=int, default=7, help="seed of the corpus and of the story ids asked for")
    parser.add_argument("--summary-repeat", type=int, default=1,
                        help="each summary is its sentence this many times (default 1: about 125 characters; "
                             "3: about 375, a longer feed description; the clustering is the same)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN QUERY PLAN of the queries")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    args.items = args.items or (10_000 if args.quick else 100_000)
    args.stories = args.stories or (1_000 if args.quick else 10_000)
    args.requests = args.requests or (20 if args.quick else 50)
    if min(args.items, args.stories, args.requests, args.summary_repeat) < 1:
        parser.error("--items, --stories, --requests and --summary-repeat must be at least 1")
    if args.items < 2 * args.stories:
        parser.error("--items must be at least twice --stories")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    emit = (lambda line: print(line, file=sys.stderr)) if args.json else print
    checks: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="storywatch-scale-") as tmp:
        work = Path(tmp)
        copy, build = prepare_database(args, work, emit)
        emit("checking the database and loading a Pipeline from it")
        database = check_database(copy, args, checks)
        story_ids, largest, largest_size, word = pick_story_ids(copy, args.requests, args.seed)
        emit("service-level timings")
        service = asyncio.run(service_level(copy, story_ids, largest, word, args.requests))
        plans = query_plans(copy, story_ids[0]) if args.explain else {}
        emit("running the bot (storywatch run) on an empty database, then on the built one")
        feed = FeedServer().start()
        try:
            baseline = run_bot(work, work / "empty.db", feed=None, story_ids=[], largest=0, word="", requests=0,
                               checks=checks, label="empty database")
            bot = run_bot(work, copy, feed=feed, story_ids=story_ids, largest=largest, word=word,
                          requests=args.requests, checks=checks, label="built database")
        except BotFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            feed.stop()
    figures = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "config": {"items": args.items, "stories": args.stories, "requests": args.requests, "seed": args.seed,
                   "summary_repeat": args.summary_repeat},
        "build": build,
        "database": database,
        "largest": {"id": largest, "size": largest_size},
        "search_word": word,
        "service": service,
        "bot": bot,
        "baseline": baseline,
        "plans": plans,
    }
    telegram = bot["telegram"]
    targets = [(f"peak RSS < {TARGET_MB:.0f} MB", bot["memory"]["VmHWM"] < TARGET_MB)] + [
        (f"{name} p95 < {TARGET_MS:.0f} ms", telegram[name]["p95_ms"] < TARGET_MS)
        for name in ("/stories", "/stories WORD", "/story ID", "/story (largest)")
    ]
    figures["checks"] = dict(checks)
    figures["targets"] = dict(targets)
    ok = all(passed for _, passed in checks + targets)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures)
        failed = [name for name, passed in checks if not passed]
        print(f"checks:   {len(checks)} " + ("all passed" if not failed else "FAILED: " + "; ".join(failed)))
        print("targets:  " + "; ".join(f"{name}: {'met' if met else 'MISSED'}" for name, met in targets))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
