"""Fan-out benchmark: one contradiction to 10,000 chats, through the real sender and a fake Telegram server.

Run from the project root with the virtualenv active:

    python benchmarks/fanout_benchmark.py                # 10,000 private chats, 100 groups, 10 groups
    python benchmarks/fanout_benchmark.py --quick        # 1,000 private chats, same group scenarios
    python benchmarks/fanout_benchmark.py --chats 3000 --profile

What runs (nothing is mocked but time)
    A real SQLite file in a temporary folder (`storage.db.AsyncDatabase`), reports pushed through the real
    `Pipeline.process` (store, cluster, detect contradictions, record events, queue alerts), the real
    `bot.delivery.sender.Sender` with a real python-telegram-bot `Bot` talking HTTP to `tests.fakebotapi.FakeBotAPI`
    on 127.0.0.1, paced by the real `bot.delivery.pacing.Pacer` with Telegram's limits (30 messages/s overall,
    1/s per chat, 20/min per group).

    Time is virtual: the Pacer's clock returns virtual seconds and its sleep(d) moves virtual time on to
    (time of the call + d) at once (then yields to the event loop), so 10,000 messages paced at 30/s take
    333 virtual seconds but only as long as the real work. The fake server is given the same clock, so
    the arrival times it records are virtual: the send rate is read from the server's side. The sender's
    datetime clock (due times, sent_at) is the same virtual time.

    Virtual time stands still during the real work, so a request's recorded arrival can lag the slot the
    Pacer gave it while other concurrent senders (the Sender's `concurrency`, 8) take the next slots and
    move time on: arrivals jitter around their slots ("lag s", the worst lag, and "max/1s", the busiest
    second as the fake saw it, show it). The rate over a whole run of 10,000 messages is unaffected. When
    one sender sleeps long (a group waiting for its minute) it moves time on by that much for a request
    still in flight elsewhere, hence the large lag in the last row. The Pacer's own slots (recorded by a
    subclass) are exact; the group limit is checked on them. `--concurrency 1` gives exact arrivals (one
    request in flight at a time) for the private fan-out.

Scenarios
    1. private: `--chats` private chats (default 10,000) follow the topic "iran syria" (rows written in one
       transaction with `storage.chats.ensure_chat`/`add_topic` and `bot.monitor.alerts.topic_words`).
       a. "Iran begins evacuating military personnel from Syria" starts a story: every chat's topic
          matches, so the story is followed by all and N new-story alerts are queued. They are delivered
          first and reported as their own row ("new story"); they also give the contradiction alerts a
          message to reply to, as in real use.
       b. "Iran denies evacuating diplomats from Syria" (another outlet, 5 h later) joins the story and
          contradicts it: ONE contradiction event, N outbox rows. This is the issue's fan-out ("contradiction").
       Checks: every outbox row of the event is `sent` with the message id the fake gave for that chat; the
       fake received exactly N contradiction messages, to N distinct chats, each a reply to the chat's
       new-story alert; nothing was refused; the virtual rate is 30/s within 5 %.
    2. group burst: 100 groups follow the topic; 30 reports of the story from 30 outlets arrive in one
       poll (one new story, 29 developments): 3,000 alerts, which must become ONE message per group (the
       sender batches a chat's burst), within 4,096 characters. Checks: 100 messages, one per group, all
       3,000 rows sent with their group's message id.
    3. group contradictions (the 20-a-minute limit): 10 groups follow the topic "mayor"; after 25 claims of
       what mayors did have been delivered (one message per group: a burst), 25 denials from 25 outlets, one
       of each claim, arrive in one poll: 25 contradictions of 25 claims per group, which are never batched,
       so each group is owed 26 messages. One message a second per chat
       would allow 26 in 25 s; Telegram allows a group 20 a minute, so the 21st must wait until a minute
       after the 1st. Checks: no group gets more than 20 messages in any 60 s, every group's 21st message
       arrives >= 60 s after its 1st, all 250 contradiction rows are sent.

Cost
    For each row: real wall time and the process's CPU time (`time.process_time`, all threads) per message.
    The fake Telegram server runs in this process (a thread per keep-alive connection), so process CPU
    includes the server's work too (parsing the form and the HTML, building the answer); the per-thread CPU
    clocks (`time.pthread_getcpuclockid`) split it into the event loop thread (PTB, httpx, the Sender, the
    Pacer, rendering), the database thread (`storywatch-db`: the due-alert query and one UPDATE + commit per
    message), and the fake server's threads. "bot" = loop + db is the bot's own cost per message, to be
    compared with the 1/30 s = 33.3 ms a message is allowed at 30/s.

    Wall time per message is larger than the CPU per message: the three kinds of thread take turns holding
    the GIL, and every socket send/recv and every hand-over to the database thread gives it up and waits to
    get it back (the profile shows socket.send at about 1 ms a call). That waiting is an artefact of running
    the server in the same process; it is an upper bound for the bot alone. `--profile` adds a cProfile of
    the event loop thread for the contradiction fan-out (the database and server threads are not profiled):
    by own time, then the main steps of one send by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakebotapi

from telegram import Bot  # noqa: E402

from bot.delivery.pacing import Limits, Pacer  # noqa: E402
from bot.delivery.sender import Sender  # noqa: E402
from bot.monitor.alerts import topic_words  # noqa: E402
from bot.monitor.model import Item  # noqa: E402
from bot.monitor.pipeline import Pipeline  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage.db import AsyncDatabase  # noqa: E402
from tests.fakebotapi import FakeBotAPI, SentMessage, utf16_len  # noqa: E402

# The same reports as the delivery tests: an evacuation and its denial, developments from many outlets.
from tests.test_delivery import DENIAL, EVACUATION, NATO, START, developments, report  # noqa: E402

TOKEN = "4242:FANOUT-BENCHMARK"
TOPIC = "iran syria"
PRIVATE_BASE = 10_000_000  # private chat ids: PRIVATE_BASE + i
GROUP_BASE = -5000  # basic group ids: GROUP_BASE - i
TARGET_RATE = 30.0
RATE_TOLERANCE = 0.05
MESSAGE_BUDGET_MS = 1000 / TARGET_RATE
# ---------------------------------------------------------------------------------------------------------
# Virtual time and CPU accounting
# ---------------------------------------------------------------------------------------------------------


class VirtualClock:
    """Seconds that pass only when someone sleeps: sleep(d) moves time on to (time of the call + d) at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now = max(self.now, self.now + seconds)
        await asyncio.sleep(0)

    def datetime(self) -> datetime:
        return START + timedelta(seconds=self.now)


class RecordingPacer(Pacer):
    """The real Pacer, remembering the slot it gave each send, to compare with when the fake saw it arrive."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.slots: dict[int, list[float]] = {}

    def reserve(self, chat_id: int, *, is_group: bool) -> float:
        slot = super().reserve(chat_id, is_group=is_group)
        self.slots.setdefault(chat_id, []).append(slot)
        return slot


def thread_kind(thread: threading.Thread) -> str:
    if thread is threading.main_thread():
        return "loop"
    if thread.name.startswith("storywatch-db"):
        return "db"
    if "serve_forever" in thread.name or "process_request_thread" in thread.name:
        return "fake"
    return "other"


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each live thread of this process, with its kind."""
    found = {}
    for thread in threading.enumerate():
        if thread.ident is None:
            continue
        try:
            found[thread.ident] = (thread_kind(thread), time.clock_gettime(time.pthread_getcpuclockid(thread.ident)))
        except (OSError, ProcessLookupError):  # it ended meanwhile
            continue
    return found


@dataclass
class Row:
    name: str
    alerts: int
    messages: int
    virtual_seconds: float
    rate: float  # messages per virtual second, from the fake's arrival times
    busiest_second: int
    lag: float  # the most a message arrived after its slot, in virtual seconds
    wall: float
    cpu: float
    threads: dict[str, float] = field(default_factory=dict)

    def per_message_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(self.messages, 1)


def busiest(times: list[float], window: float) -> int:
    """The most arrivals in any half-open window of `window` seconds."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window - 1e-6:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class World:
    """One scenario's database, fake Telegram, bot and sender, all on one virtual clock."""

    adb: AsyncDatabase
    api: FakeBotAPI
    bot: Bot
    sender: Sender
    clock: VirtualClock
    pipeline: Pipeline = field(default_factory=Pipeline)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, name: str, ok: bool) -> None:
        self.checks.append((name, bool(ok)))

    async def ingest(self, items: list[Item]) -> int:
        report_ = await self.adb.run(self.pipeline.process, items, now=self.clock.datetime())
        return report_.alerts_queued

    def lag(self, messages: list[SentMessage]) -> float:
        """How late the fake saw these messages arrive after the slots the Pacer gave them (a chat's n-th
        message went in its n-th slot: nothing here is sent twice)."""
        seen, mine = Counter(m.chat_id for m in self.api.messages()), Counter(m.chat_id for m in messages)
        index = {chat: seen[chat] - mine[chat] for chat in mine}  # these messages are each chat's latest
        worst = 0.0
        for m in messages:
            worst = max(worst, m.at - self.sender.pacer.slots[m.chat_id][index[m.chat_id]])
            index[m.chat_id] += 1
        return worst

    async def deliver(self, name: str, alerts: int, profile: cProfile.Profile | None = None) -> tuple[Row, list]:
        """Drain the outbox; the row of figures and the messages the fake received meanwhile."""
        before = len(self.api.messages())
        cpu_before, threads_before = time.process_time(), thread_cpu()
        wall_before = time.perf_counter()
        if profile is not None:
            profile.enable()
        sent = await self.sender.drain()
        if profile is not None:
            profile.disable()
        wall = time.perf_counter() - wall_before
        threads_after, cpu = thread_cpu(), time.process_time() - cpu_before
        by_kind: Counter[str] = Counter()
        for ident, (kind, used) in threads_after.items():
            by_kind[kind] += used - threads_before.get(ident, (kind, 0.0))[1]
        by_kind["unattributed"] = cpu - sum(by_kind.values())  # threads that ended during the run
        messages = self.api.messages()[before:]
        times = [m.at for m in messages]
        span = max(times) - min(times) if len(times) > 1 else 0.0
        row = Row(name, alerts, sent, span, (len(times) - 1) / span if span else 0.0, busiest(times, 1.0),
                  self.lag(messages), wall, cpu, dict(by_kind))
        self.check(f"{name}: the sender counted what the fake received", sent == len(messages))
        return row, messages


async def open_world(folder: Path, name: str, concurrency: int = 8) -> World:
    clock = VirtualClock()
    api = FakeBotAPI(token=TOKEN, clock=clock).start()
    adb = AsyncDatabase.open(folder / f"{name}.db")
    bot = Bot(TOKEN, base_url=api.base_url)
    await bot.initialize()
    pacer = RecordingPacer(Limits(), clock=clock, sleep=clock.sleep)
    sender = Sender(adb, bot, pacer=pacer, clock=clock.datetime, concurrency=concurrency)
    return World(adb, api, bot, sender, clock)


async def close_world(world: World) -> None:
    await world.bot.shutdown()
    world.adb.close()
    world.api.stop()


def add_followers(db, chat_ids: Iterable[int], chat_type: str, topic: str = TOPIC) -> None:
    """Chats following the topic, all in one transaction."""
    words = topic_words(topic)
    with db.atomic():
        for chat_id in chat_ids:
            chat_store.ensure_chat(db, chat_id, type=chat_type, title=None if chat_type == "private" else "Newsroom",
                                   now=START)
            chat_store.add_topic(db, chat_id, topic, words, START)


# Claims that a mayor did this and that, and a denial of each: distinct claims, so that a chat is owed one
# contradiction alert for each (a chat gets one alert per claim, however many outlets deny it).
MAYOR_CLAIMS = [
    ("resigns", "resigning"), ("bans cars from the old town", "banning cars from the old town"),
    ("closes the city zoo", "closing the city zoo"), ("sells the football stadium", "selling the football stadium"),
    ("cancels the summer festival", "cancelling the summer festival"), ("raises parking fees", "raising parking fees"),
    ("fires the police chief", "firing the police chief"), ("shuts the public library", "shutting the public library"),
    ("doubles bus fares", "doubling bus fares"), ("demolishes the old bridge", "demolishing the old bridge"),
    ("bans fireworks", "banning fireworks"), ("privatises water supply", "privatising water supply"),
    ("moves city hall to the harbour", "moving city hall to the harbour"),
    ("cuts school lunches", "cutting school lunches"), ("buys a private jet", "buying a private jet"),
    ("pardons a convicted developer", "pardoning a convicted developer"),
    ("renames the main square", "renaming the main square"), ("scraps the tram project", "scrapping the tram project"),
    ("hires his brother as adviser", "hiring his brother as adviser"),
    ("drains the botanical lake", "draining the botanical lake"), ("bans street music", "banning street music"),
    ("leases the castle to a casino", "leasing the castle to a casino"),
    ("freezes nurse salaries", "freezing nurse salaries"), ("sells the marathon rights", "selling the marathon rights"),
    ("bulldozes the skate park", "bulldozing the skate park"),
]


def mayor_reports(count: int) -> tuple[list[Item], list[Item]]:
    """`count` claims about mayors, from one outlet each, and a denial of each, six hours later."""
    claims = [report(f"Mayor {NATO[i].title()} {did}", f"Claim{i} Wire", 0.01 * i)
              for i, (did, _) in enumerate(MAYOR_CLAIMS[:count])]
    denied = [report(f"Mayor {NATO[i].title()} denies {doing}", f"Denial{i} Desk", 6 + 0.01 * i)
              for i, (_, doing) in enumerate(MAYOR_CLAIMS[:count])]
    return claims, denied


def outbox(db, kind: str) -> list[tuple]:
    return db.execute(
        """SELECT o.chat_id, o.status, o.message_id, o.attempts FROM outbox o JOIN events e ON e.id = o.event_id
           WHERE e.kind = ? ORDER BY o.id""", [kind]).fetchall()


def refused(api: FakeBotAPI) -> int:
    return sum(1 for r in api.errors if r.method == "sendMessage")


# ---------------------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------------------


async def private_fanout(
    folder: Path, chats: int, concurrency: int, profile: cProfile.Profile | None
) -> tuple[list[Row], World, dict]:
    world = await open_world(folder, "private", concurrency)
    chat_ids = [PRIVATE_BASE + i for i in range(chats)]
    started = time.perf_counter()
    await world.adb.run(add_followers, chat_ids, "private")
    setup = time.perf_counter() - started

    started = time.perf_counter()
    queued = await world.ingest([EVACUATION])
    queue_new = time.perf_counter() - started
    world.check("new story: one alert per chat queued", queued == chats)
    new_row, new_messages = await world.deliver("new story", queued)
    first_alert = {m.chat_id: m.message_id for m in new_messages}

    started = time.perf_counter()
    queued = await world.ingest([DENIAL])
    queue_contradiction = time.perf_counter() - started
    world.check("contradiction: one event queues one alert per chat", queued == chats)
    row, messages = await world.deliver("contradiction", queued, profile)

    rows = await world.adb.run(outbox, "contradiction")
    by_chat = {m.chat_id: m for m in messages}
    world.check("contradiction: every outbox row sent once",
                len(rows) == chats and all(status == "sent" and attempts == 1 for _, status, _, attempts in rows))
    world.check("contradiction: each row holds the message id the fake gave its chat",
                all(chat_id in by_chat and by_chat[chat_id].message_id == message_id for chat_id, _, message_id, _
                    in rows))
    world.check("contradiction: the fake received exactly N messages to N distinct chats",
                len(messages) == chats and set(by_chat) == set(chat_ids))
    world.check("contradiction: each message has both reports and replies to the chat's new-story alert",
                all(EVACUATION.title in m.plain_text and DENIAL.title in m.plain_text
                    and m.reply_to_message_id == first_alert.get(m.chat_id) for m in messages))
    world.check("no send refused", refused(world.api) == 0)
    for r in (new_row, row):
        if r.messages > 300:  # below that, the pacer's start and the jitter weigh too much
            world.check(f"{r.name}: virtual rate 30/s within 5 %", abs(r.rate - TARGET_RATE) <= TARGET_RATE * 0.05)
    timings = {"setup": setup, "queue_new": queue_new, "queue_contradiction": queue_contradiction}
    await close_world(world)
    return [new_row, row], world, timings


async def group_burst(folder: Path, groups: int, reports: int) -> tuple[list[Row], World]:
    world = await open_world(folder, "group-burst")
    group_ids = [GROUP_BASE - i for i in range(groups)]
    await world.adb.run(add_followers, group_ids, "group")
    queued = await world.ingest([EVACUATION, *developments(reports - 1)])
    world.check(f"group burst: {reports} alerts per group queued", queued == groups * reports)
    row, messages = await world.deliver(f"{groups} groups x {reports} burst", queued)
    rows = await world.adb.run(
        lambda db: db.execute("SELECT chat_id, status, message_id FROM outbox ORDER BY id").fetchall())
    per_chat = Counter(m.chat_id for m in messages)
    by_chat = {m.chat_id: m.message_id for m in messages}
    world.check("group burst: one message per group", per_chat == Counter(group_ids))
    world.check("group burst: every row sent with its group's one message id",
                all(status == "sent" and message_id == by_chat.get(chat_id) for chat_id, status, message_id in rows))
    world.check("group burst: each message within 4,096 characters",
                all(utf16_len(m.plain_text) <= 4096 for m in messages))
    world.check("group burst: each message counts the whole burst",
                all(f"{reports} new reports" in m.plain_text for m in messages))
    world.check("no send refused", refused(world.api) == 0)
    await close_world(world)
    return [row], world


def per_group_windows(times: dict[int, list[float]]) -> tuple[int, float]:
    """(most messages to one group in any 60 s, least time between a group's 1st and 21st message)."""
    most = max(busiest(t, 60.0) for t in times.values())
    gap = min((sorted(t)[20] - min(t)) if len(t) > 20 else float("inf") for t in times.values())
    return most, gap


async def group_contradictions(folder: Path, groups: int, count: int) -> tuple[list[Row], World]:
    world = await open_world(folder, "group-contradictions")
    group_ids = [GROUP_BASE - i for i in range(groups)]
    await world.adb.run(add_followers, group_ids, "group", "mayor")
    before = len(world.api.messages())
    claims, denied = mayor_reports(count)
    await world.ingest(claims)
    await world.deliver("first reports", groups)
    queued = await world.ingest(denied)
    world.check(f"group contradictions: {count} contradictions per group queued", queued == groups * count)
    row, _ = await world.deliver(f"{groups} groups x {count} contradictions", queued)
    arrivals: dict[int, list[float]] = {}
    for m in world.api.messages()[before:]:
        arrivals.setdefault(m.chat_id, []).append(m.at)
    slots = {chat: world.sender.pacer.slots[chat] for chat in group_ids}
    most, gap = per_group_windows(slots)
    rows = await world.adb.run(outbox, "contradiction")
    world.check("group contradictions: every row sent, one message each",
                all(status == "sent" for _, status, _, _ in rows) and len({(c, m) for c, _, m, _ in rows}) == len(rows)
                and len(rows) == groups * count and row.messages == len(rows))
    world.check(f"group contradictions: each group sent {count + 1} messages",
                all(len(t) == count + 1 for t in arrivals.values()))
    world.check("group contradictions: no group given more than 20 slots in any 60 s", most <= 20)
    world.check("group contradictions: each group's 21st slot >= 60 s after its 1st", gap >= 60.0 - 1e-6)
    world.check("no send refused", refused(world.api) == 0)
    world.group_window = (most, gap, *per_group_windows(arrivals))  # type: ignore[attr-defined]
    await close_world(world)
    return [row], world


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = (f"{'delivery':<28} {'alerts':>7} {'msgs':>6} {'virt s':>8} {'msg/s':>6} {'max/1s':>6} {'lag s':>5} "
            f"{'wall s':>7} {'wall ms/msg':>11} {'cpu ms/msg':>10} {'bot ms/msg':>10} {'fake ms/msg':>11}")
    lines = [head, "-" * len(head)]
    for r in rows:
        bot_cpu = r.threads.get("loop", 0.0) + r.threads.get("db", 0.0)
        lines.append(
            f"{r.name:<28} {r.alerts:>7} {r.messages:>6} {r.virtual_seconds:>8.1f} {r.rate:>6.2f} "
            f"{r.busiest_second:>6} {r.lag:>5.2f} {r.wall:>7.2f} {r.per_message_ms(r.wall):>11.2f} "
            f"{r.per_message_ms(r.cpu):>10.2f} "
            f"{r.per_message_ms(bot_cpu):>10.2f} {r.per_message_ms(r.threads.get('fake', 0.0)):>11.2f}")
    return "\n".join(lines)


def split(row: Row) -> str:
    parts = ", ".join(f"{kind} {row.per_message_ms(row.threads.get(kind, 0.0)):.2f}"
                      for kind in ("loop", "db", "fake", "other", "unattributed"))
    return f"  {row.name}: CPU ms per message by thread: {parts}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=10_000, help="private chats following the topic (default 10000)")
    parser.add_argument("--groups", type=int, default=100, help="groups in the burst scenario (default 100)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="the Sender's concurrency in the private fan-out (default 8, as in the bot)")
    parser.add_argument("--quick", action="store_true", help="1,000 private chats unless --chats is given")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the event loop thread during the contradiction fan-out")
    args = parser.parse_args(argv)
    if args.quick and "--chats" not in " ".join(argv or sys.argv[1:]):
        args.chats = 1000
    if args.chats < 1 or args.groups < 1 or args.concurrency < 1:
        parser.error("--chats, --groups and --concurrency must be at least 1")
    return args


async def run(args: argparse.Namespace, folder: Path) -> tuple[list[Row], list[World], dict, str]:
    profile = cProfile.Profile() if args.profile else None
    rows, worlds = [], []
    private_rows, world, timings = await private_fanout(folder, args.chats, args.concurrency, profile)
    rows += private_rows
    worlds.append(world)
    for scenario in (group_burst(folder, args.groups, 30), group_contradictions(folder, 10, 25)):
        more, world = await scenario
        rows += more
        worlds.append(world)
    profiled = ""
    if profile is not None:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(14)
        # Where the time of one send goes, by the project's and the libraries' main steps.
        stats.sort_stats("cumulative").print_stats(
            r"sender.py.*(_deliver|send_rendered)|pacing.py.*wait_turn|db.py.*\(run\)|render.py.*render_alert"
            r"|_bot.py.*\((send_message|_post)\)|_httpxrequest.py.*do_request|_message.py.*de_json")
        profiled = out.getvalue()
    return rows, worlds, timings, profiled


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storywatch-fanout-") as folder:
        rows, worlds, timings, profiled = asyncio.run(run(args, Path(folder)))
    total = time.perf_counter() - started
    import platform

    print(f"fan-out benchmark: {args.chats} private chats; Python {platform.python_version()}, "
          f"{sys.platform}, {__import__('os').cpu_count()} CPUs")
    print(f"setup: {args.chats} chats + topics in one transaction {timings['setup']:.2f} s; "
          f"Pipeline.process queued the new-story alerts in {timings['queue_new']:.2f} s and the contradiction's "
          f"in {timings['queue_contradiction']:.2f} s")
    print()
    print(table(rows))
    print()
    for row in rows:
        print(split(row))
    most, gap, seen_most, seen_gap = worlds[2].group_window  # type: ignore[attr-defined]
    print(f"  10 groups x 25 contradictions: most messages to one group in any 60 s: {most} by the Pacer's slots, "
          f"{seen_most} as the fake saw them arrive; least time from a group's 1st to its 21st message: {gap:.2f} s "
          f"(slots), {seen_gap:.2f} s (arrivals)")
    contradiction = rows[1]
    bot_ms = contradiction.per_message_ms(contradiction.threads.get("loop", 0.0) + contradiction.threads.get("db", 0.0))
    print(f"contradiction fan-out: {contradiction.rate:.2f} msg/s virtual (target {TARGET_RATE:g} ± 5 %); bot CPU "
          f"{bot_ms:.2f} ms/msg, wall {contradiction.per_message_ms(contradiction.wall):.2f} ms/msg, "
          f"against {MESSAGE_BUDGET_MS:.1f} ms allowed per message")
    if profiled:
        print("\nprofile of the event loop thread (contradiction fan-out), by own time:")
        print(profiled)
    checks = [c for world in worlds for c in world.checks]
    failed = [name for name, ok in checks if not ok]
    print(f"checks: {len(checks)} {'all passed' if not failed else 'FAILED: ' + '; '.join(failed)}")
    print(f"total wall time {total:.1f} s")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
