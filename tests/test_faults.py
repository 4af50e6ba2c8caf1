"""Faults the real `storywatch run` process must survive: being killed (SIGKILL) at any moment and restarted,
again and again; its database locked by another process for a while.

The bot runs as a subprocess, as in production, talking to a fake Bot API server (tests/fakebotapi.py) and
to loopback feeds (tests/feedserver.py) in this process. Waits are on events the test observes (a request
reaching a server, a line from a helper process), each with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.monitor.alerts import topic_words
from bot.monitor.model import Item
from bot.monitor.pipeline import Pipeline
from storage import chats as chat_store
from storage.db import InstanceLock, open_database, utcnow
from tests.fakebotapi import FakeBotAPI, SentMessage
from tests.feedserver import FeedServer, Route, rss

REPO = Path(__file__).resolve().parents[1]
TOKEN = "4242:FAULTS-secret-token"

# Stories that share no words, each told by up to three outlets in their own words: the first report
# starts the story, each other outlet's is a development.
STORIES = [
    ("aleppo", ["Syrian army evacuates military personnel from Aleppo",
                "Military personnel leave Aleppo as Syrian army pulls out",
                "Aleppo evacuation: Syrian troops withdraw from the city"]),
    ("copper", ["Chilean mine strike lifts copper to two-year high",
                "Copper hits two-year high as Chilean miners strike",
                "Strike at Chilean mine sends copper price soaring"]),
    ("petrol", ["Tehran doubles petrol prices overnight",
                "Petrol prices in Tehran double without warning",
                "Drivers queue as Tehran petrol price doubles"]),
    ("cobalt", ["Zambian smelter fire halts cobalt output",
                "Cobalt output stops after fire at Zambian smelter",
                "Fire at smelter in Zambia cuts cobalt supply"]),
    ("missile", ["Pyongyang test fires long range ballistic missile",
                 "Ballistic missile launched by Pyongyang in long range test",
                 "Long range missile test fired from Pyongyang"]),
    ("lithium", ["Electric carmakers push lithium demand to record",
                 "Lithium demand hits record on electric carmaker orders",
                 "Record lithium demand driven by electric carmakers"]),
    ("volcano", ["Volcano erupts near Reykjavik closing Blue Lagoon",
                 "Blue Lagoon shut as volcano near Reykjavik erupts",
                 "Reykjavik volcano eruption forces Blue Lagoon closure"]),
    ("cables", ["Thieves cut railway signal cables across rural Wales",
                "Railway signal cables stolen across rural Wales",
                "Cable thieves halt trains in rural Wales"]),
    ("blockade", ["Peruvian farmers extend highway blockade into third week",
                  "Highway blockade by Peruvian farmers enters third week",
                  "Third week of farmer blockade on Peru highway"]),
    ("franc", ["Swiss central bank cuts rates and franc slides",
               "Franc slides after Swiss central bank rate cut",
               "Swiss franc falls as central bank lowers rates"]),
]
# Chats and the topics they follow, set up in the database before the bot first starts.
FOLLOWS = {
    101: [topic for topic, _ in STORIES[0::2]],
    102: [topic for topic, _ in STORIES[1::2]],
    103: [topic for topic, _ in STORIES],
}
# Feeds: path and the outlet's name.
FEEDS = [("/levant.xml", "Levant Wire"), ("/metals.xml", "Metals Daily"), ("/world.xml", "World Desk")]
# A message Telegram accepted this long before the kill and still not recorded as sent is not the documented
# window but a bug. Recording takes a millisecond on an idle machine; the database thread may first have to
# finish storing a poll's reports (one thread does all database work), and a loaded test machine stretches
# that to tens of milliseconds.
WINDOW_SECONDS = 1.0


# --------------------------------------------------------------------------------------------- helpers


class WatchedRoutes(dict[str, Route]):
    """The feed server's routes, telling the test about every request as it arrives."""

    def __init__(self, on_request: Callable[[str], None]) -> None:
        super().__init__()
        self.on_request = on_request

    def get(self, path: str, default: Route | None = None) -> Route | None:  # type: ignore[override]
        self.on_request(path)
        return super().get(path, default)


class FeedRequests:
    """Counts feed requests; `wait(n)` blocks until n have arrived."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.count = 0

    def __call__(self, path: str) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait(self, count: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= count, timeout)


def write_config(
    path: Path, api: FakeBotAPI, db: Path, feed_urls: list[str], telegram: str = "", polling: str = ""
) -> Path:
    urls = ", ".join(f'"{url}"' for url in feed_urls)
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{api.base_url}"\n{telegram}'
        f'[storage]\npath = "{db}"\n'
        # The newsroom's reports are stamped from two hours before the wall clock on: still news here.
        f"[polling]\ninterval_seconds = 600\ntimeout_seconds = 5\nlate_margin_seconds = 86400\n{polling}"
        f"[feeds]\nurls = [{urls}]\nallow_private_addresses = true\n"
    )
    return path


class Processes:
    """Starts the processes of a test; whatever is still running when the test ends is killed."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, argv: list[str], cwd: Path, log: Path, *, talk: bool = False) -> subprocess.Popen[str]:
        """stderr goes to `log`; with `talk`, stdin and stdout are pipes (text), else closed."""
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
        pipe = subprocess.PIPE if talk else subprocess.DEVNULL
        with log.open("ab") as stderr:
            process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=pipe, stdout=pipe, stderr=stderr, text=True)
        self.started.append(process)
        return process

    def storywatch(self, config: Path, log: Path, *args: str) -> subprocess.Popen[str]:
        return self.start([sys.executable, "-m", "bot", "--config", str(config), *args], config.parent, log)

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream:
                    stream.close()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.kill_all()


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        with conn:  # commits a write
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


_HREF = re.compile(r'href="([^"]*)"')


def links_of(message: SentMessage) -> list[str]:
    """The reports an alert message tells about, by link. A dispute shows the earlier report too, first: only
    the later one is its news."""
    links = [unescape(link) for link in _HREF.findall(message.text)]
    return links[1:2] if message.text.startswith("⚠️ Disputed") else links


ALERT_HEADINGS = ("🆕", "📰", "⚠️")  # render_alert and render_batch; digests and command answers differ


def deliveries(api: FakeBotAPI) -> list[tuple[int, str, float, int]]:
    """Every report Telegram accepted an alert about: (chat, link, when, message id)."""
    return [
        (message.chat_id, link, message.at, message.message_id)
        for message in api.messages()
        if message.method == "sendMessage" and message.text.startswith(ALERT_HEADINGS)
        for link in links_of(message)
    ]


def outbox(db: Path) -> list[tuple[int, str, str]]:
    """(chat, link of the event's report, status) for every outbox row."""
    return [
        (chat, link, status)
        for chat, link, status in query(
            db, "SELECT o.chat_id, i.link, o.status FROM outbox o JOIN events e ON e.id = o.event_id "
                "JOIN items i ON i.id = e.item_id ORDER BY o.id")
    ]


def sends(api: FakeBotAPI) -> int:
    return sum(1 for message in api.messages() if message.method == "sendMessage")


def settled(api: FakeBotAPI) -> bool:
    """Every sendMessage that reached the fake has been answered (accepted or refused)."""
    sends = api.requests_for("sendMessage")
    answered = [m for m in api.messages() if m.method == "sendMessage"]
    refused = [e for e in api.errors if e.method == "sendMessage"]
    return len(sends) <= len(answered) + len(refused)


# ------------------------------------------------------------------------------------------- the world


@dataclass
class Newsroom:
    """What the feeds have published so far."""

    feeds: FeedServer
    rng: random.Random
    entries: dict[str, list[tuple[str, str, datetime]]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)  # links
    told: set[tuple[int, int]] = field(default_factory=set)  # (feed, story) pairs already published
    clock: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))

    def __post_init__(self) -> None:
        for path, title in FEEDS:
            self.entries[path] = []
            self.feeds.routes[path] = Route(body=rss(title, []))

    def publish(self, count: int) -> None:
        """`count` new reports: developments of the stories so far, or the next story."""
        started = {story for _, story in self.told}
        frontier = min(len(STORIES) - 1, max(started, default=-1) + 1)
        choices = [(f, s) for f in range(len(FEEDS)) for s in range(frontier + 1) if (f, s) not in self.told]
        for feed, story in self.rng.sample(choices, min(count, len(choices))):
            self.told.add((feed, story))
            path, title = FEEDS[feed]
            host = title.lower().replace(" ", "-")
            link = f"https://{host}.example/story-{story}"
            self.clock += timedelta(minutes=1)
            self.entries[path].append((STORIES[story][1][feed], link, self.clock))
            self.feeds.routes[path] = Route(body=rss(title, self.entries[path]))
            self.published.append(link)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI(token=TOKEN).start()
    yield server
    server.stop()


def follow_topics(db_path: Path) -> None:
    db = open_database(db_path)
    try:
        now = utcnow()
        for chat_id, topics in FOLLOWS.items():
            chat_store.ensure_chat(db, chat_id, type="private", title=None, now=now)
            for topic in topics:
                chat_store.add_topic(db, chat_id, topic, topic_words(topic), now)
        # Alerts only: a digest falling due mid-test would be one more message to tell apart.
        db.execute("UPDATE chats SET digest_enabled = 0")
    finally:
        db.close()


# ------------------------------------------------------------------------------------------ SIGKILL


@dataclass
class Run:
    number: int
    mode: str
    started: float
    killed: float | None = None  # None: stopped cleanly
    in_window: int = 0  # alerts Telegram had accepted that the database did not record as sent
    ended: float = 0.0


@contextlib.contextmanager
def explained(log: Path, what: str) -> Iterator[None]:
    """A wait that fails says what the bot logged (a crash at start, say)."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{what}: {exc}\nbot log:\n{log.read_text()[-3000:]}") from None


def kill(process: subprocess.Popen[str]) -> float:
    process.send_signal(signal.SIGKILL)
    at = time.monotonic()
    process.wait(timeout=10)
    return at


def test_killed_at_random_moments_and_restarted_it_delivers_every_alert_once(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    rng = random.Random(20240607)
    requests = FeedRequests()
    feed_server.routes = WatchedRoutes(requests)
    newsroom = Newsroom(feed_server, rng)
    db = tmp_path / "bot.db"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url(path) for path, _ in FEEDS])
    log = tmp_path / "bot.log"
    follow_topics(db)

    runs: list[Run] = []
    sent_rows: Counter[tuple[int, str]] = Counter()
    windows: Counter[tuple[int, str]] = Counter()  # per (chat, report): deliveries the outbox did not record
    cycles = 10
    for number in range(cycles + 1):
        last = number == cycles
        newsroom.publish(rng.choice([1, 2, 2, 3]) if number else 2)
        if number:  # time passes between runs: every feed is due again
            query(db, "UPDATE feeds SET next_poll_at = '2000-01-01T00:00:00.000000Z'")
        sends_before = sends(api)
        requests_before = len(api.requests)
        feeds_before = requests.count
        mode = "clean" if last else rng.choice(["request", "feed", "accept", "accept", "timer"])
        process = processes.storywatch(config, log, "run")
        run = Run(number, mode, time.monotonic())
        runs.append(run)

        if mode == "request":  # right after the Nth call to Telegram: getMe, setMyCommands, deleteWebhook, ...
            nth = rng.randint(1, 4)
            with explained(log, f"run {number}"):
                api.wait_until(lambda n=requests_before + nth: len(api.requests) >= n, 15, f"request {nth}")
            run.killed = kill(process)
        elif mode == "feed":  # a moment after the Nth feed request: while parsing, storing, queueing
            nth = rng.randint(1, len(FEEDS))
            with explained(log, f"run {number}"):
                assert requests.wait(feeds_before + nth, 15), f"feed request {nth} never came"
            time.sleep(rng.uniform(0, 0.05))  # the random moment itself, not a synchronisation
            run.killed = kill(process)
        elif mode == "accept":  # as soon as Telegram accepted the Nth alert message: the documented window
            nth = rng.randint(1, 2)
            with contextlib.suppress(AssertionError):  # nothing (more) to send this time: killed anyway
                api.wait_until(lambda n=sends_before + nth: sends(api) >= n, 4, f"alert message {nth}")
            run.killed = kill(process)
        elif mode == "timer":
            time.sleep(rng.uniform(0.2, 1.5))  # a random moment, not a synchronisation
            run.killed = kill(process)
        else:
            wait_until_done(db, newsroom, process, log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0, log.read_text()

        run.ended = time.monotonic()
        # Every alert message the dead process had on the wire has been answered before looking.
        with contextlib.suppress(AssertionError):  # a request cut off mid-body, refused to a client that was gone
            api.wait_until(lambda: settled(api), 2, "in-flight sends answered")
        delivered = Counter((chat, link) for chat, link, _, _ in deliveries(api))
        rows = outbox(db)
        sent_now = Counter((chat, link) for chat, link, status in rows if status == "sent")
        pending_now = Counter((chat, link) for chat, link, status in rows if status == "pending")
        for key in delivered.keys() | sent_now.keys():
            unrecorded = delivered[key] - sent_now[key] - windows[key]
            assert unrecorded >= 0, f"run {number}: {key} marked sent {sent_now[key]} times, delivered less"
            assert unrecorded <= pending_now[key], f"run {number}: {key} delivered twice while recorded as sent"
            windows[key] += unrecorded
            run.in_window += unrecorded
        sent_rows = sent_now
        if not last:
            assert process.returncode == -signal.SIGKILL

    # The database survived: intact, every report stored once, every alert sent.
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    stored = Counter(link for (link,) in query(db, "SELECT link FROM items"))
    assert stored == Counter(newsroom.published)
    rows = outbox(db)
    assert rows and {status for _, _, status in rows} == {"sent"}, rows
    assert len(rows) >= 15, f"only {len(rows)} alerts: the test exercised too little"
    assert all(count == 1 for count in Counter((chat, link) for chat, link, _ in rows).values())

    # Telegram received each alert once, and twice only where a kill fell between Telegram accepting the
    # message and the database recording it: the window the design documents.
    delivered_at: dict[tuple[int, str], list[float]] = {}
    cut_off: set[tuple[int, int]] = set()  # messages delivered again after a kill: (chat, message id)
    gaps: list[float] = []  # from Telegram accepting such a message to the kill
    for chat, link, at, _ in deliveries(api):
        delivered_at.setdefault((chat, link), []).append(at)
    assert set(delivered_at) == set(sent_rows)
    kills = [run.killed for run in runs if run.killed is not None]
    for key, times in delivered_at.items():
        assert len(times) == 1 + windows[key], f"{key}: delivered {len(times)} times, {windows[key]} explained"
        for at in sorted(times)[:-1]:  # every delivery but the last was cut off by a kill right after it
            # The first kill after it (or, for a request the fake timed as it finished reading, just before).
            gap = min((killed_at - at for killed_at in kills if killed_at >= at - WINDOW_SECONDS),
                      key=abs, default=None)
            assert gap is not None and gap <= WINDOW_SECONDS, (key, at, kills)
            gaps.append(gap)
            cut_off |= {(c, m) for c, link, t, m in deliveries(api) if (c, link) == key and t == at}
    duplicates = sum(windows.values())
    report = ", ".join(f"{run.mode} {run.ended - run.started:.1f}s{' +' * run.in_window}" for run in runs)
    print(f"\n{len(kills)} kills, {len(rows)} alerts in {len({(c, m) for c, _, _, m in deliveries(api)})} messages; "
          f"{len(cut_off)} messages ({duplicates} alerts) delivered again after a kill cut them off between "
          f"Telegram accepting them and the outbox recording it, {max(gaps, default=0) * 1000:.1f} ms at most "
          f"before the kill. Runs (+ = an alert delivered again): {report}")


def wait_until_done(
    db: Path, newsroom: Newsroom, process: subprocess.Popen[str], log: Path, within: float = 15
) -> None:
    """The clean run has stored every report and sent every alert."""
    want = Counter(newsroom.published)

    def done() -> bool:
        stored = Counter(link for (link,) in query(db, "SELECT link FROM items"))
        return stored == want and query(db, "SELECT count(*) FROM outbox WHERE status != 'sent'")[0][0] == 0

    poll_until(done, within, "the last run finishing its work", log, process)


def poll_until(
    holds: Callable[[], object], within: float, what: str, log: Path, process: subprocess.Popen[str] | None = None,
) -> None:
    """Wait until `holds()` is true, looking every 20 ms, failing after `within` seconds or as soon as `process`
    ends. For what only another process's files, children or database show: no event tells when they change
    (what a test can wait on as an event, it does)."""
    deadline = time.monotonic() + within
    while not holds():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {within} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)


# ------------------------------------------------------------------------------------- a locked database


class Lines:
    """The lines a helper process prints, read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, wanted: str, timeout: float = 10) -> None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {wanted!r} from the helper within {timeout} s") from None
        assert line == wanted, f"expected {wanted!r} from the helper, got {line!r}"

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def lock_database(processes: Processes, db: Path, log: Path) -> Lines:
    """Another process takes the database's write lock; returns once it holds it."""
    locker = processes.start([sys.executable, str(REPO / "tests" / "faults_locker.py"), str(db)], db.parent, log,
                             talk=True)
    lines = Lines(locker)
    lines.expect("locked")
    return lines


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has the file open (Linux /proc)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False


def test_ingest_waits_for_a_database_another_process_has_locked(tmp_path: Path, processes: Processes) -> None:
    if not Path(f"/proc/{os.getpid()}/fd").is_dir():
        pytest.skip("needs /proc to see when the command has opened the database")
    db = tmp_path / "sw.db"
    open_database(db).close()
    log = tmp_path / "stderr.log"
    locker = lock_database(processes, db, log)

    ingest = processes.start(
        [sys.executable, "-m", "bot", "--db", str(db), "ingest", str(REPO / "tests" / "data" / "feeds" / "rss20.xml")],
        tmp_path, log, talk=True)
    poll_until(lambda: holds_open(ingest.pid, db), 15, "ingest opening the database", log, ingest)
    locker.say("hold 2")  # the lock stays two more seconds: storing three items takes milliseconds
    locker.expect("held")
    assert ingest.poll() is None, f"ingest gave up on the locked database: {log.read_text()}"
    locker.say("commit")
    locker.expect("released")

    out, _ = ingest.communicate(timeout=30)
    assert ingest.returncode == 0, log.read_text()
    assert out.startswith("Ingested 1 file: 3 entries, 3 new"), out
    assert query(db, "SELECT count(*) FROM items") == [(3,)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_the_bots_poll_waits_for_a_database_another_process_has_locked(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    db = tmp_path / "bot.db"
    log = tmp_path / "stderr.log"
    follow_topics(db)
    requested, answer = threading.Event(), threading.Event()

    def hold_the_answer(path: str) -> None:
        requested.set()
        answer.wait(15)

    feed_server.routes = WatchedRoutes(hold_the_answer)
    newsroom = Newsroom(feed_server, random.Random(1))
    newsroom.publish(1)
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url(path) for path, _ in FEEDS])
    bot = processes.storywatch(config, log, "run")

    # The feed answers only once another process holds the lock: the new report must wait to be stored.
    assert requested.wait(15), f"the bot never polled: {log.read_text()}"
    locker = lock_database(processes, db, log)
    answer.set()
    locker.say("hold 2")
    locker.expect("held")
    assert bot.poll() is None, log.read_text()
    assert [m for m in api.messages() if m.text.startswith(ALERT_HEADINGS)] == []
    locker.say("commit")
    locker.expect("released")

    # Stored after all, and alerted: to the chats following the story's topic.
    chats = {chat for chat, topics in FOLLOWS.items() if STORIES[0][0] in topics}  # the first story's topic
    api.wait_until(lambda: {m.chat_id for m in api.messages() if m.text.startswith(ALERT_HEADINGS)} == chats, 10,
                   "the alerts")
    assert query(db, "SELECT link FROM items") == [(newsroom.published[0],)]
    assert query(db, "SELECT consecutive_failures, last_error FROM feeds WHERE last_polled_at IS NOT NULL") == [
        (0, None)] * len(FEEDS)
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=15) == 0, log.read_text()
    assert "locked" not in log.read_text()


# --------------------------------------------------------------------------------- orphaned processes


def children_of(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("command", [["run"], ["poll"]])
def test_a_killed_bot_leaves_no_process_behind(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes, command: list[str]
) -> None:
    if not Path(f"/proc/{os.getpid()}/stat").is_file():
        pytest.skip("needs /proc to see the bot's processes")
    newsroom = Newsroom(feed_server, random.Random(3))
    newsroom.publish(1)
    db = tmp_path / "bot.db"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url(path) for path, _ in FEEDS])
    log = tmp_path / "bot.log"
    bot = processes.storywatch(config, log, *command)
    # The parse worker starts with the first feed to parse, beside multiprocessing's resource tracker.
    poll_until(lambda: len(children_of(bot.pid)) >= 2 and query_ok(db), 20, "the bot starting its parse worker",
               log, bot)
    children = children_of(bot.pid)
    kill(bot)
    poll_until(lambda: not any(alive(pid) for pid in children), 15, f"the killed bot's children {children} ending",
               log)


def query_ok(db: Path) -> bool:
    """Whether the bot has stored the first report, so that its worker has parsed."""
    with contextlib.suppress(sqlite3.Error):
        return bool(query(db, "SELECT count(*) FROM items")[0][0])
    return False


# ------------------------------------------------------------------------------- one bot per database


def test_a_second_bot_on_the_same_database_is_refused_and_a_crash_releases_it(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    newsroom = Newsroom(feed_server, random.Random(5))
    newsroom.publish(2)
    db = tmp_path / "bot.db"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url(path) for path, _ in FEEDS])
    log = tmp_path / "bot.log"
    first = processes.storywatch(config, log, "run")
    with explained(log, "the first bot"):
        api.wait_until(lambda: bool(api.requests_for("getUpdates")), 20, "the first bot polling Telegram")

    second_log = tmp_path / "second.log"
    second = processes.storywatch(config, second_log, "run")
    assert second.wait(timeout=30) == 2
    refusal = second_log.read_text()
    assert refusal == (f"Error: another storywatch bot is already running on the database {db} "
                       f"(it holds {db}.lock); stop it first.\n")
    assert first.poll() is None

    # The other commands work beside the running bot.
    for args in (["ingest", str(REPO / "tests" / "data" / "feeds" / "rss20.xml")], ["poll", "--once", "--force"]):
        command = processes.storywatch(config, tmp_path / "command.log", *args)
        assert command.wait(timeout=60) == 0, (tmp_path / "command.log").read_text()
    assert query(db, "SELECT count(*) FROM items")[0][0] == 3 + len(newsroom.published)
    assert query(db, "PRAGMA integrity_check") == [("ok",)]

    # A killed bot holds nothing: the next one starts.
    kill(first)
    polls_before = len(api.requests_for("getUpdates"))
    third = processes.storywatch(config, log, "run")
    with explained(log, "the bot after the kill"):
        api.wait_until(lambda: len(api.requests_for("getUpdates")) > polls_before, 20, "the next bot polling")
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=20) == 0, log.read_text()



# --------------------------------------------------------------------------------- feed health notices


def test_a_feed_health_notice_survives_a_crash_before_it_is_sent_and_goes_out_once(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    admin = 900
    feed_server.routes["/levant.xml"] = Route(body=b"down", status=500, content_type="text/plain")
    db = tmp_path / "bot.db"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url("/levant.xml")],
                          telegram=f"admins = [{admin}]\n", polling="tell_admins_after_failures = 1\n")
    log = tmp_path / "bot.log"

    def notices() -> list[str]:
        return [m.plain_text for m in api.messages(admin) if m.plain_text.startswith(("⚠️ Feed", "✅ Feed"))]

    def stop(bot: subprocess.Popen[str]) -> None:
        # At once: a stop lets the message on its way be answered and recorded, so it is not sent again.
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=20) == 0, log.read_text()

    # The first poll fails, which is the failure the admin hears of. Telegram refuses the notice (a 500), and
    # the bot is killed before its retry: the notice was decided and is not delivered.
    api.fail("sendMessage", chat_id=admin, status=500)
    bot = processes.storywatch(config, log, "run")
    with explained(log, "the first run"):
        api.wait_until(lambda: any(e.method == "sendMessage" for e in api.errors), 20, "the refused notice")
    kill(bot)
    assert notices() == []
    assert query(db, "SELECT kind, status FROM notices") == [("feed_failing", "pending")]

    # Restarted, the bot sends it; the feed, still failing and not due, is not told again.
    bot = processes.storywatch(config, log, "run")
    with explained(log, "the restarted run"):
        api.wait_until(lambda: len(notices()) == 1, 20, "the notice after the restart")
    stop(bot)
    assert notices()[0].startswith("⚠️ Feed 1 (127.0.0.1) has failed 1 poll in a row: HTTP 500.")

    # The feed is back: its recovery is told once, and a restart after it sends nothing again.
    feed_server.routes["/levant.xml"] = Route(body=rss("Levant Wire", []))
    query(db, "UPDATE feeds SET next_poll_at = '2000-01-01T00:00:00.000000Z'")
    for run in range(2):
        polls_before = len(api.requests_for("getUpdates"))
        bot = processes.storywatch(config, log, "run")
        with explained(log, f"recovery run {run}"):
            if run == 0:
                api.wait_until(lambda: len(notices()) == 2, 20, "the recovery notice")
            api.wait_until(lambda n=polls_before: len(api.requests_for("getUpdates")) > n, 20, "the bot polling")
        stop(bot)
    assert notices()[1] == "✅ Feed 1 (Levant Wire) works again, after 1 failed poll."
    assert len(notices()) == 2
    assert query(db, "SELECT kind, status FROM notices ORDER BY id") == [
        ("feed_failing", "sent"), ("feed_recovered", "sent")]

# ------------------------------------------------------------------------------------ a slow Telegram


def slow_telegram_run(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes, *, answer_after: float,
    send_timeout: float | None = None,
) -> tuple[Counter[tuple[int, str]], str]:
    """One story's alerts through a Telegram that accepts each message at once and answers `answer_after`
    seconds later; returns how often each (chat, report) was delivered, and the bot's log."""
    newsroom = Newsroom(feed_server, random.Random(7))
    newsroom.publish(1)
    db = tmp_path / "bot.db"
    telegram = "" if send_timeout is None else f"send_timeout_seconds = {send_timeout}\n"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url(path) for path, _ in FEEDS], telegram)
    log = tmp_path / "bot.log"
    follow_topics(db)
    followers = sum(1 for topics in FOLLOWS.values() if STORIES[0][0] in topics)  # the first story's
    api.delay("sendMessage", answer_after, times=followers)  # each chat's first message is answered late
    bot = processes.storywatch(config, log, "run")
    wait_until_done(db, newsroom, bot, log, within=60)
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=20) == 0, log.read_text()
    return Counter((chat, link) for chat, link, _, _ in deliveries(api)), log.read_text()


def test_a_message_telegram_answers_slowly_is_delivered_once(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    # Slower than PTB's default read timeout (5 s), which gave up and sent the message again.
    delivered, log = slow_telegram_run(tmp_path, api, feed_server, processes, answer_after=6.0)
    assert delivered and set(delivered.values()) == {1}, delivered
    assert "timed out" not in log


def test_only_an_answer_slower_than_the_send_timeout_can_deliver_twice(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    # The remaining window: an answer later than telegram.send_timeout_seconds. The send is taken as possibly
    # delivered, sent again after a pause, and counted in the log.
    delivered, log = slow_telegram_run(tmp_path, api, feed_server, processes, answer_after=3.0, send_timeout=1)
    assert delivered and set(delivered.values()) == {2}, delivered
    assert "Telegram may have delivered it; sending it again in 10 s" in log
    assert f"({len(delivered)} timed-out sends since start)" in log


# ----------------------------------------------------------------------------------- a damaged database


def test_the_bot_refuses_a_damaged_database_saying_how_to_recover(
    tmp_path: Path, api: FakeBotAPI, processes: Processes
) -> None:
    db = tmp_path / "bot.db"
    database = open_database(db)
    published = datetime(2024, 12, 6, 10, 0, tzinfo=UTC)
    items = [Item(key=f"link:{n}", title=f"Report {n} on subject {n % 97} in place {n % 31}",
                  link=f"https://wire.example/{n}", summary="", source="Wire", published=published)
             for n in range(2000)]
    Pipeline().process(database, items, now=published)
    database.close()
    config = write_config(tmp_path / "config.toml", api, db, [])
    log = tmp_path / "bot.log"
    # Stopped cleanly first: the start after a clean stop skips the check, but not once the file has changed.
    clean = processes.storywatch(config, tmp_path / "clean.log", "run")
    with explained(tmp_path / "clean.log", "the bot before the damage"):
        api.wait_until(lambda: bool(api.requests_for("getUpdates")), 20, "the bot polling Telegram")
    clean.send_signal(signal.SIGTERM)
    assert clean.wait(timeout=20) == 0, (tmp_path / "clean.log").read_text()
    lock = InstanceLock(db)
    assert lock.stopped_cleanly, "the bot's stop was not recorded as clean"
    lock.release(clean=True)
    # A page near the end of the file (items and their indexes) overwritten, as a failing disk might.
    data = bytearray(db.read_bytes())
    page = len(data) // 4096 - 5
    data[page * 4096 + 20 : page * 4096 + 600] = b"\x5a" * 580
    db.write_bytes(bytes(data))

    bot = processes.storywatch(config, log, "run")
    assert bot.wait(timeout=60) == 2, log.read_text()
    refusal = log.read_text()
    assert refusal.startswith(f"Error: the database {db} is damaged (SQLite says: On tree page "), refusal
    assert refusal.endswith(f"restore a copy of it, or save what can still be read into a new file with: "
                            f"sqlite3 {db} .recover | sqlite3 recovered.db.\n")
    assert refusal.count("\n") == 1
    assert api.requests_for("sendMessage") == []


def test_sigterm_stops_the_bot_while_a_feed_is_still_parsing(
    tmp_path: Path, api: FakeBotAPI, feed_server: FeedServer, processes: Processes
) -> None:
    if not Path(f"/proc/{os.getpid()}/stat").is_file():
        pytest.skip("needs /proc to see the bot's processes")
    # Five megabytes of "<id ": feedparser's own lenient parser takes about 20 s on it, within a time limit of
    # ten minutes. Stopping used to wait for the parse to end.
    feed_server.routes["/slow.xml"] = Route(body=b"<id " * 1_250_000)
    db = tmp_path / "bot.db"
    config = write_config(tmp_path / "config.toml", api, db, [feed_server.url("/slow.xml")],
                          polling="parse_timeout_seconds = 600\n")
    log = tmp_path / "bot.log"
    bot = processes.storywatch(config, log, "run")
    with explained(log, "the bot"):
        api.wait_until(lambda: bool(api.requests_for("getUpdates")), 20, "the bot polling Telegram")
    poll_until(lambda: feed_server.requests_to("/slow.xml") and len(children_of(bot.pid)) >= 2, 20,
               "the feed fetched and handed to a worker", log, bot)
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=15) == 0, log.read_text()
    # Not the feed's fault: nothing is recorded against it, and it is polled again at the next start.
    assert query(db, "SELECT consecutive_failures, last_error, last_polled_at FROM feeds") == [(0, None, None)]
