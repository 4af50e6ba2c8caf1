"""A month of a busy feed pool, live: 1,000,000 items through the real pipeline, then a restart on the database.

Run from the project root with the virtualenv active (the full run takes most of an hour on a loaded core):

    python benchmarks/month_benchmark.py --work /tmp/month                 # 1,000,000 items over 30 days
    python benchmarks/month_benchmark.py --work /tmp/month --items 100000 --days 3   # a smaller pool
    python benchmarks/month_benchmark.py --work /tmp/month --phase restart # again on the database built

What scale_benchmark.py does not: its 100,000 items all fall inside the 14-day close window (every story
stays open) and its memory is mostly read after a restart. Here the corpus is what a busy pool produces in
`--days` days: stories beginning evenly over the span, most of a few reports (1 + an exponential of mean
`--mean-extra`, at most 60), each within 20 hours, so that stories close (14 days after their last report,
the default `close_after_hours`) all along the run, as they do in a bot that has been running.

Phases, each in a process of its own (`--phase all` runs them one after the other):

    generate  the corpus, streamed in published order to WORK/corpus.jsonl (the names and words of
              scale_benchmark.py's corpus; a name is never reused, so no two stories are alike by accident).
    build     the live process: a new SQLite file WORK/month.db (`storage.db.open_database`) and one
              `Pipeline` (configured as `storywatch run` configures it) processing the corpus read line by
              line, 500 items per `Pipeline.process` call, each call seen a minute after its newest report
              (the corpus's own clock, as a poller sees news). Every 10,000 items it records the CPU time
              (time.process_time) and wall time of those items, with and without the clusterer's snapshot
              saves among them (timed apart), its resident set (VmRSS, VmHWM from /proc/self/status) and the
              clusterer's open and recently closed stories: the per-item cost in the windows ending at
              10,000, 100,000 and 1,000,000 items is of the same run. At the end the snapshot is saved, as
              the bot does when it stops.
    restart   the bot started again on that file: `AsyncDatabase` (migrations), the integrity check
              `storywatch run` makes first, then `StoryWatch`, whose pipeline restores the clusterer from the
              snapshot (`Pipeline._load`, what the first poll does; its time is the start-up), and the
              resident set after it. Then every command that reads the database, through
              `StoryWatch` as the handlers and the CLI call it, `--requests` times each after a warm-up:
              /stories, /stories WORD (a name of the newest story), /stories 5 (a page), /story ID (random
              stories, open and closed), /story of the largest, /latest, /following, /feeds, /muted, a digest,
              contradictions --json (the CLI's default limit of 50), /follow TOPIC (writes). `--replay`
              also times the replay of every membership (what start-up costs without a snapshot).

Figures are written to WORK/build.json, WORK/restart.json and printed. CPU times are the honest figures on
a shared machine: wall times include waiting for the other processes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.scale_benchmark import _ACTIONS, _SOURCES, _TOPICS, _names, headline, memory_mb  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.monitor.model import Item  # noqa: E402
from bot.monitor.normalize import dedup_key  # noqa: E402
from bot.monitor.pipeline import Pipeline, tune_garbage_collector  # noqa: E402
from bot.service import StoryWatch  # noqa: E402
from storage.db import AsyncDatabase, InstanceLock, check_integrity, open_database  # noqa: E402

CHUNK = 500
WINDOW = 10_000
STORY_HOURS = 20.0
DENIAL_SHARE = 0.05
MAX_SIZE = 60
TARGET_MB = 250.0
TARGET_START_S = 2.0
TARGET_MS = 100.0


def own_memory() -> dict[str, float]:
    return memory_mb(os.getpid())


# ---------------------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------------------


def story_sizes(rng: random.Random, items: int, mean_extra: float) -> list[int]:
    sizes: list[int] = []
    total = 0
    while total < items:
        size = min(MAX_SIZE, 1 + int(rng.expovariate(1 / mean_extra)), items - total)
        sizes.append(size)
        total += size
    return sizes


def stream_corpus(items: int, days: float, mean_extra: float, seed: int, end: datetime) -> Iterator[dict]:
    """The corpus in published order, made a story at a time: a story's reports wait in a heap until every
    story beginning before them has been made."""
    rng = random.Random(seed)
    sizes = story_sizes(rng, items, mean_extra)
    names = _names(rng, 4 * len(sizes))
    start = end - timedelta(days=days, hours=STORY_HOURS)
    step = days * 86400.0 / len(sizes)
    pending: list[tuple[datetime, int, dict]] = []
    seq = 0
    for s, size in enumerate(sizes):
        began = (start + timedelta(seconds=s * step + rng.uniform(0, step))).replace(microsecond=0)
        while pending and pending[0][0] < began:
            yield heapq.heappop(pending)[2]
        who, where, what, whom = names[4 * s : 4 * s + 4]
        names[4 * s : 4 * s + 4] = ["", "", "", ""]  # a name is used by one story only: let it go
        topic = rng.choice(_TOPICS)
        actions = rng.sample(_ACTIONS, min(size, len(_ACTIONS)))
        offsets = sorted(min(rng.expovariate(1 / 3.0), STORY_HOURS) for _ in range(size - 1))
        deny = rng.random() < DENIAL_SHARE and size >= 3
        for k in range(size):
            action = actions[k % len(actions)]
            published = (began + timedelta(hours=offsets[k - 1] if k else 0.0)).replace(microsecond=0)
            shape = rng.randrange(4) if k else 0
            title = headline(shape, deny and k == size - 1, who, action, what, where, whom, topic)
            summary = (f"{who} {action} the {what} in {where}, {whom} said; {whom} and {who} have been at {where} "
                       f"over the {what} since then.")
            source = rng.choice(_SOURCES)
            link = f"https://{source.lower().replace(' ', '')}.example/news/{s}-{k}"
            heapq.heappush(pending, (published, seq, {"title": title, "link": link, "summary": summary,
                                                      "source": source, "published": published.isoformat()}))
            seq += 1
    while pending:
        yield heapq.heappop(pending)[2]


def generate(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    started = time.perf_counter()
    count = 0
    with open(work / "corpus.jsonl", "w") as out:
        for row in stream_corpus(args.items, args.days, args.mean_extra, args.seed, end):
            out.write(json.dumps(row) + "\n")
            count += 1
    return {"items": count, "seconds": round(time.perf_counter() - started, 1), "end": end.isoformat()}


# ---------------------------------------------------------------------------------------------------------
# build: the live process
# ---------------------------------------------------------------------------------------------------------


def read_corpus(path: Path) -> Iterator[Item]:
    with open(path) as lines:
        for line in lines:
            row = json.loads(line)
            link = row["link"]
            yield Item(key=dedup_key(guid=link, link=link, title=row["title"], scope=row["source"]),
                       title=row["title"], link=link, summary=row["summary"], source=row["source"],
                       published=datetime.fromisoformat(row["published"]), guid=link)


def build(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db_path = work / "month.db"
    for leftover in (db_path, work / "month.db-wal", work / "month.db-shm"):
        leftover.unlink(missing_ok=True)
    tune_garbage_collector()  # as `storywatch run` sets it
    db = open_database(db_path)
    lock = InstanceLock(db_path)  # held as the bot holds it, and released as its clean stop does
    # As `storywatch run` configures it, on the corpus's own clock: each batch is seen a minute after its newest
    # report was published, as a poller that reads every feed every few minutes sees it.
    pipeline = Pipeline.configured(Settings())
    windows: list[dict[str, Any]] = []
    # The snapshot saves, timed apart: (items done, wall s, CPU s) of each.
    saves: list[tuple[int, float, float]] = []
    save = pipeline.save_snapshot

    def timed_save(db: Any, now: datetime) -> bool:
        wall, cpu = time.perf_counter(), time.process_time()
        saved = save(db, now)
        saves.append((done, time.perf_counter() - wall, time.process_time() - cpu))
        return saved

    pipeline.save_snapshot = timed_save  # type: ignore[method-assign]
    before = own_memory()
    done = 0
    chunk: list[Item] = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    w_wall, w_cpu, w_done = wall0, cpu0, 0

    def flush() -> None:
        nonlocal done, w_wall, w_cpu, w_done
        pipeline.process(db, chunk, now=chunk[-1].published + timedelta(minutes=1))
        done += len(chunk)
        chunk.clear()
        if done - w_done >= WINDOW:
            wall, cpu = time.perf_counter(), time.process_time()
            clusterer = pipeline._clusterer
            saved = [(w, c) for at, w, c in saves if at >= w_done]  # `at`: items done before the save's batch
            saved_wall, saved_cpu = sum(w for w, _ in saved), sum(c for _, c in saved)
            windows.append({
                "items": done,
                "cpu_ms_per_item": round((cpu - w_cpu) * 1000 / (done - w_done), 4),
                "wall_ms_per_item": round((wall - w_wall) * 1000 / (done - w_done), 4),
                "snapshot_saves": len(saved),
                "cpu_ms_per_item_without_saves": round((cpu - w_cpu - saved_cpu) * 1000 / (done - w_done), 4),
                "wall_ms_per_item_without_saves": round((wall - w_wall - saved_wall) * 1000 / (done - w_done), 4),
                "snapshot_cpu_seconds": round(saved_cpu, 2),
                **own_memory(),
                "open_stories": clusterer.open_story_count,
                "recently_closed": len(clusterer._recent),
            })
            w_wall, w_cpu, w_done = wall, cpu, done
            if done % 50_000 < CHUNK:
                last = windows[-1]
                print(f"  {done:,} items, {wall - wall0:.0f} s: {last['cpu_ms_per_item']:.3f} ms CPU/item, "
                      f"RSS {last['VmRSS']:.0f} MB (peak {last['VmHWM']:.0f}), {last['open_stories']:,} open, "
                      f"{last['recently_closed']:,} recently closed", file=sys.stderr, flush=True)

    for item in read_corpus(work / "corpus.jsonl"):
        chunk.append(item)
        if len(chunk) == CHUNK:
            flush()
    if chunk:
        flush()
    seconds, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    after = own_memory()
    started = time.perf_counter()
    save(db, datetime.now(UTC))  # as the bot does when it stops
    snapshot_seconds = time.perf_counter() - started
    after_snapshot = own_memory()
    gc.collect()
    after_collect = own_memory()
    clusterer = pipeline._clusterer
    counts = {name: db.execute(sql).fetchone()[0] for name, sql in {
        "items": "SELECT count(*) FROM items",
        "stories": "SELECT count(*) FROM stories",
        "open_stories": "SELECT count(*) FROM stories WHERE closed_at IS NULL",
        "contradictions": "SELECT count(*) FROM contradictions",
        "snapshot_bytes": "SELECT coalesce(sum(length(state)), 0) FROM clusterer_snapshot",
    }.items()}
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    lock.release(clean=True)
    return {
        "items": done, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
        "memory": {"before": before, "after": after, "after_snapshot_saved": after_snapshot,
                   "after_gc_collect": after_collect},
        "snapshot_save_seconds": round(snapshot_seconds, 2),
        "snapshot_saves": [{"items": at, "seconds": round(w, 2), "cpu_seconds": round(c, 2)} for at, w, c in saves],
        "clusterer_open_stories": clusterer.open_story_count,
        "counts": counts,
        "file_mb": round(db_path.stat().st_size / 1e6, 1),
        "windows": windows,
    }


# ---------------------------------------------------------------------------------------------------------
# restart: start-up and every command
# ---------------------------------------------------------------------------------------------------------


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(p95 * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2)}


async def restart(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    tune_garbage_collector()
    base = own_memory()
    settings = Settings()
    started, cpu = time.perf_counter(), time.process_time()
    adb = AsyncDatabase.open(work / "month.db")  # what `storywatch run` opens: migrations, the integrity check
    figures: dict[str, Any] = {"memory_before_load": base, "open_seconds": round(time.perf_counter() - started, 2),
                               "open_cpu_seconds": round(time.process_time() - cpu, 2)}
    service = StoryWatch(settings, adb)
    lock = InstanceLock(work / "month.db")
    try:
        # `storywatch run` skips the check after its own clean stop (as the build phase ends); it is timed
        # all the same, as the start-up after a crash.
        figures["stopped_cleanly"] = lock.stopped_cleanly
        started, cpu = time.perf_counter(), time.process_time()
        await adb.run(check_integrity, work / "month.db")
        figures["integrity_check_seconds"] = round(time.perf_counter() - started, 2)
        figures["integrity_check_cpu_seconds"] = round(time.process_time() - cpu, 2)
        started, cpu = time.perf_counter(), time.process_time()
        clusterer = await adb.run(service.pipeline._load)
        figures["startup_seconds"] = round(time.perf_counter() - started, 2)
        figures["startup_cpu_seconds"] = round(time.process_time() - cpu, 2)
        figures["open_stories"] = clusterer.open_story_count
        figures["memory_after_load"] = own_memory()
        db = adb.db
        open_ids = [row[0] for row in db.execute("SELECT id FROM stories WHERE closed_at IS NULL")]
        all_max = db.execute("SELECT max(id) FROM stories").fetchone()[0]
        largest = db.execute("SELECT id FROM stories ORDER BY item_count DESC, id LIMIT 1").fetchone()[0]
        word = db.execute("SELECT title FROM items ORDER BY published DESC, id DESC LIMIT 1").fetchone()[0].split()[0]
        rng = random.Random(args.seed)
        story_ids = [rng.choice(open_ids) if k % 2 else rng.randint(1, all_max) for k in range(args.requests)]
        chat_id = 4242
        await service.start_chat(chat_id, "private", None)
        for story_id in story_ids[:5]:
            await service.follow_story(chat_id, story_id)
        await service.follow_topic(chat_id, word)

        async def timed(name: str, make: Callable[[int], Any], repeat: int = args.requests) -> None:
            await make(0)  # warm-up: the first query reads its pages from the file
            times = []
            for k in range(repeat):
                started = time.perf_counter()
                await make(k)
                times.append(time.perf_counter() - started)
            figures.setdefault("commands", {})[name] = summary_ms(times)

        topic_words = [f"{word} {action}" for action in ("approves", "delays", "rejects", "backs")]
        await timed("/stories", lambda k: service.stories())
        await timed(f"/stories {word}", lambda k: service.stories(word))
        await timed("/stories 5 (a page)", lambda k: service.stories_page(None, 5))
        await timed("/story ID (random, open and closed)", lambda k: service.story(story_ids[k]))
        await timed("/story (largest)", lambda k: service.story(largest), max(5, args.requests // 5))
        await timed("/latest", lambda k: service.latest_stories())
        await timed("/latest (closed too)", lambda k: service.latest_stories(include_closed=True))
        await timed("/following", lambda k: service.following(chat_id))
        await timed("/muted", lambda k: service.muted(chat_id))
        await timed("/feeds", lambda k: service.feeds())
        await timed("/digest (compose)", lambda k: service.digest_now(chat_id), max(5, args.requests // 5))
        await timed("contradictions --json (limit 50)", lambda k: service.contradictions(limit=50))
        await timed("/follow TOPIC (writes)", lambda k: service.follow_topic(chat_id, topic_words[k % 4]),
                    max(4, args.requests // 5))
        figures["memory_after_commands"] = own_memory()
        figures["search_word"] = word
        figures["largest_story"] = largest
        if args.replay:
            fresh = Pipeline()
            fresh._restored = lambda db: (None, 0)  # type: ignore[method-assign]
            started, cpu = time.perf_counter(), time.process_time()
            await adb.run(fresh._load)
            figures["replay_seconds"] = round(time.perf_counter() - started, 2)
            figures["replay_cpu_seconds"] = round(time.process_time() - cpu, 2)
    finally:
        if service.parse_pool is not None:
            service.parse_pool.close()
        await service.fetcher.aclose()
        adb.close()
        lock.release()  # the commands wrote to it: the next start checks
    return figures


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def report(work: Path) -> bool:
    b = json.loads((work / "build.json").read_text())
    r = json.loads((work / "restart.json").read_text())
    ok = True
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} now, {platform.platform()}, "
          f"Python {platform.python_version()}")
    c = b["counts"]
    print(f"built: {b['items']:,} items in {b['seconds']:,.0f} s ({b['cpu_seconds']:,.0f} s CPU), "
          f"{c['stories']:,} stories ({c['open_stories']:,} open at the end), {c['contradictions']:,} contradictions; "
          f"file {b['file_mb']:,.0f} MB, snapshot {c['snapshot_bytes'] / 1e6:.0f} MB")
    print("per-item cost in the same run (window of the last 10,000 items; 'saves' left out: the CPU of the")
    print("snapshot saves in the window), memory of the live process:")
    print(f"  {'items':>9} {'CPU ms':>8} {'w/o saves':>9} {'wall ms':>8} {'RSS MB':>7} {'peak MB':>8} {'open':>8} "
          f"{'closed<30d':>10}")
    marks = {10_000, 100_000, 300_000, 500_000, 1_000_000, b["items"]}
    for w in b["windows"]:
        if w["items"] in marks or w is b["windows"][-1]:
            print(f"  {w['items']:>9,} {w['cpu_ms_per_item']:>8.3f} {w.get('cpu_ms_per_item_without_saves', 0):>9.3f} "
                  f"{w['wall_ms_per_item']:>8.3f} {w['VmRSS']:>7.0f} {w['VmHWM']:>8.0f} {w['open_stories']:>8,} "
                  f"{w['recently_closed']:>10,}")
    windows = b["windows"]
    tenth = max(1, len(windows) // 10)
    print("  the run's tenths, CPU ms per item (with saves / without): " + ", ".join(
        f"{statistics.mean(w['cpu_ms_per_item'] for w in part):.3f}/"
        f"{statistics.mean(w.get('cpu_ms_per_item_without_saves', 0) for w in part):.3f}"
        for part in (windows[k : k + tenth] for k in range(0, len(windows), tenth))))
    saves = b.get("snapshot_saves", [])
    if saves:
        print(f"  snapshot saves: {len(saves)}, CPU {sum(x['cpu_seconds'] for x in saves):.0f} s in all; the last "
              f"at {saves[-1]['items']:,} items took {saves[-1]['cpu_seconds']:.1f} s CPU")
    m = b["memory"]
    live_ok = m["after"]["VmHWM"] < TARGET_MB
    ok &= live_ok
    print(f"live process at the end: RSS {m['after']['VmRSS']:.0f} MB, peak {m['after']['VmHWM']:.0f} MB "
          f"(target < {TARGET_MB:.0f}: {'met' if live_ok else 'MISSED'}); {m['before']['VmRSS']:.0f} MB before "
          f"the pipeline; after saving the snapshot peak {m['after_snapshot_saved']['VmHWM']:.0f} MB")
    start_ok = r["startup_seconds"] < TARGET_START_S
    restart_ok = r["memory_after_commands"]["VmHWM"] <= m["after"]["VmHWM"]
    ok &= start_ok and restart_ok
    skipped = "skipped by `storywatch run`: the build stopped cleanly" if r.get("stopped_cleanly") else (
        "made by `storywatch run`: no clean stop recorded")
    print(f"restart: the database opened (and migrated) in {r['open_seconds']:.2f} s; its integrity check "
          f"(PRAGMA quick_check, {skipped}; what a start after a crash costs) takes "
          f"{r.get('integrity_check_seconds', 0):.2f} s ({r.get('integrity_check_cpu_seconds', 0):.2f} s CPU)")
    print(f"         clusterer restored in {r['startup_seconds']:.2f} s ({r['startup_cpu_seconds']:.2f} s CPU; "
          f"target < {TARGET_START_S:.0f} s: {'met' if start_ok else 'MISSED'}), {r['open_stories']:,} open stories; "
          f"RSS {r['memory_after_load']['VmRSS']:.0f} MB after it, peak {r['memory_after_commands']['VmHWM']:.0f} "
          f"MB after the commands ({'same or less than live' if restart_ok else 'MORE than live'})")
    if "replay_seconds" in r:
        print(f"         without the snapshot (replay of every membership): {r['replay_seconds']:.1f} s "
              f"({r['replay_cpu_seconds']:.1f} s CPU)")
    print(f"commands at {b['items']:,} items (StoryWatch, in process), ms:{'':<18}{'median':>8} {'p95':>8} {'max':>8}")
    for name, s in r["commands"].items():
        met = s["p95_ms"] < TARGET_MS
        ok &= met
        print(f"  {name:<46} {s['median_ms']:>8.1f} {s['p95_ms']:>8.1f} {s['max_ms']:>8.1f}"
              f"{'' if met else '  OVER TARGET'}")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="folder for the corpus, the database and the figures")
    parser.add_argument("--phase", choices=("all", "generate", "build", "restart", "report"), default="all")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30.0, help="the span the stories begin over")
    parser.add_argument("--mean-extra", type=float, default=3.0,
                        help="a story has 1 + an exponential of this mean reports (at most 60)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replay", action="store_true", help="also time start-up without the snapshot")
    args = parser.parse_args(argv)
    if args.items < 1 or args.days <= 0 or args.mean_extra <= 0 or args.requests < 5:
        parser.error("--items >= 1, --days > 0, --mean-extra > 0 and --requests >= 5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.phase == "generate":
        (work / "generate.json").write_text(json.dumps(generate(args, work), indent=2))
    elif args.phase == "build":
        (work / "build.json").write_text(json.dumps(build(args, work), indent=2))
    elif args.phase == "restart":
        (work / "restart.json").write_text(json.dumps(asyncio.run(restart(args, work)), indent=2))
    elif args.phase == "report":
        return 0 if report(work) else 1
    else:
        passed = [a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("--phase")]
        for phase in ("generate", "build", "restart"):
            print(f"{phase} ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, __file__, *passed, "--phase", phase], check=True)
        return 0 if report(work) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
