"""The one place that opens the database: connection settings, schema migrations, and asyncio access."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.monitor.normalize import dedup_key, stable_hash

T = TypeVar("T")

# Long enough to ride out another process's write transaction (a second `storywatch` command, a backup).
BUSY_TIMEOUT_SECONDS = 30.0

migrations = Migrations("storywatch")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime | None) -> str | None:
    """Timestamps are stored as ISO 8601 UTC text, so that they sort and compare as strings."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def from_text(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def execute_many(db: Database, sql: str, rows: Iterable[Sequence[object]]) -> None:
    """One statement for many rows, in the caller's transaction (or in one of its own, committed).

    sqlite3's `executemany` outside a transaction would open one implicitly that nothing commits: sqlite-utils'
    `execute` guards against that for single statements, and this does it for batches.
    """
    if db.conn.in_transaction:
        db.conn.executemany(sql, rows)
    else:
        with db.atomic():
            db.conn.executemany(sql, rows)


@migrations()
def m001_initial_schema(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            title TEXT,
            site_url TEXT,
            etag TEXT,
            last_modified TEXT,
            added_at TEXT NOT NULL,
            last_polled_at TEXT,
            last_success_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_poll_at TEXT NOT NULL,
            last_error TEXT,
            items_seen INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX feeds_next_poll ON feeds (next_poll_at);

        -- One row per distinct report; `dedup_key` is the stable identity (GUID, canonical link or
        -- title hash), `link` is unique too so that two feeds carrying one article store it once
        -- (until m004: items with GUIDs of one feed may share a link).
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            dedup_key TEXT NOT NULL UNIQUE,
            feed_id INTEGER REFERENCES feeds(id) ON DELETE SET NULL,
            guid TEXT,
            link TEXT,
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL,
            published TEXT NOT NULL,
            first_seen TEXT NOT NULL
        );
        CREATE UNIQUE INDEX items_link ON items (link) WHERE link IS NOT NULL;
        CREATE INDEX items_published ON items (published);

        -- Every feed an item was seen in (the first one is items.feed_id).
        CREATE TABLE item_feeds (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (item_id, feed_id)
        );

        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            closed_at TEXT,
            item_count INTEGER NOT NULL DEFAULT 0,
            source_count INTEGER NOT NULL DEFAULT 0,
            terms TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX stories_last_seen ON stories (last_seen);
        CREATE INDEX stories_open ON stories (closed_at) WHERE closed_at IS NULL;

        -- An item belongs to at most one story; `score` and `shared_terms` say why it joined.
        CREATE TABLE story_items (
            item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            score REAL NOT NULL,
            shared_terms TEXT NOT NULL DEFAULT '[]',
            joined_at TEXT NOT NULL
        );
        CREATE INDEX story_items_story ON story_items (story_id);

        CREATE TABLE contradictions (
            id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            earlier_item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            later_item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            evidence TEXT NOT NULL,
            score REAL NOT NULL,
            detected_at TEXT NOT NULL,
            UNIQUE (earlier_item_id, later_item_id, kind)
        );
        CREATE INDEX contradictions_story ON contradictions (story_id);

        -- What happened, once: a new story, a development, a contradiction. Alerts fan out from these.
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('new_story', 'development', 'contradiction')),
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            contradiction_id INTEGER REFERENCES contradictions(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            UNIQUE (kind, item_id, contradiction_id)
        );

        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,           -- Telegram chat id
            type TEXT NOT NULL DEFAULT 'private',
            title TEXT,
            timezone TEXT,
            digest_time TEXT,                 -- "HH:MM" local; NULL means the configured default
            digest_enabled INTEGER NOT NULL DEFAULT 1,
            alert_mode TEXT NOT NULL DEFAULT 'default'
                CHECK (alert_mode IN ('default', 'all', 'contradictions', 'off')),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            deactivated_at TEXT
        );

        -- kind 'topic': follow words (query); 'story': follow one story; 'mute': silence one story.
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('topic', 'story', 'mute')),
            query TEXT,
            story_id INTEGER REFERENCES stories(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX subscriptions_unique
            ON subscriptions (chat_id, kind, coalesce(query, ''), coalesce(story_id, 0));

        -- One alert per chat and event; written in the same transaction as the event, marked sent only
        -- after Telegram confirmed it, so a crash re-sends nothing that was confirmed and loses nothing.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
            event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            message_id INTEGER,
            last_error TEXT,
            UNIQUE (chat_id, event_id)
        );
        CREATE INDEX outbox_pending ON outbox (status, next_attempt_at);
        CREATE INDEX outbox_chat_story ON outbox (chat_id, story_id);

        -- At most one digest per chat and local day, across restarts.
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
            local_date TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            created_at TEXT NOT NULL,
            sent_at TEXT,
            message_ids TEXT NOT NULL DEFAULT '[]',
            UNIQUE (chat_id, local_date)
        );
        """
    )


@migrations()
def m002_follows_and_topic_words(db: Database) -> None:
    db.executescript(
        """
        -- A story followed because a topic matched it: gone when the topic is unfollowed.
        ALTER TABLE subscriptions ADD COLUMN via INTEGER REFERENCES subscriptions(id) ON DELETE CASCADE;
        ALTER TABLE subscriptions ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX subscriptions_story ON subscriptions (story_id) WHERE story_id IS NOT NULL;

        -- A topic's words, stemmed: an event reaches a topic when it holds all of them, found through this
        -- index rather than by testing every topic of every chat.
        CREATE TABLE topic_words (
            word TEXT NOT NULL,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            PRIMARY KEY (word, subscription_id)
        ) WITHOUT ROWID;
        CREATE INDEX topic_words_subscription ON topic_words (subscription_id);

        CREATE INDEX outbox_message ON outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
        CREATE INDEX events_story ON events (story_id);
        """
    )


@migrations()
def m003_feed_last_read(db: Database) -> None:
    """What the last document read from each feed gave (NULL: none read since this column exists), and its
    entries that gave no item, as a JSON object of reason -> count: a feed whose entries are all skipped is not
    "ok". Statement by statement, not `executescript`, which would commit the migration's transaction first."""
    db.execute("ALTER TABLE feeds ADD COLUMN last_items INTEGER")
    db.execute("ALTER TABLE feeds ADD COLUMN last_skipped TEXT NOT NULL DEFAULT '{}'")


@migrations()
def m004_items_told_apart_by_guid(db: Database) -> None:
    """Two items may share a link: the posts of a live blog, the entries of an Atom feed with one `xml:base` link.
    A GUID now tells them apart among the items of its feed (`guid_scope`); links keep the fragments that name an
    entry and the generic parameters (`cid`, `ref`...) that canonical_url used to drop.

    Existing rows: where each GUID was given is recovered where its key proves it (a scoped GUID's key is the
    hash of its feed's or outlet's scope and the GUID), else from the feed (or the outlet of a file) that first
    carried a URL GUID; a key made from a URL GUID is made again under the new rules from the GUID as stored,
    exactly (the new form only keeps more, so no two keys meet). Links without a
    GUID cannot be made again (what was dropped is gone): `identity_upgrade` records the last item stored under
    the old rules and the latest time among them, and items dated up to then are also compared with those in
    the links' old form (storage.items), so that none seen before is reported again.
    """
    for statement in (
        "ALTER TABLE items ADD COLUMN guid_scope TEXT",
        "DROP INDEX items_link",
        "CREATE INDEX items_link ON items (link) WHERE link IS NOT NULL",
        "CREATE TABLE identity_upgrade (items_before INTEGER NOT NULL, dated_up_to TEXT)",
        """INSERT INTO identity_upgrade
           SELECT coalesce(max(id), 0), max(max(published), max(first_seen)) FROM items""",
    ):
        db.execute(statement)
    scopes: list[tuple[str, int]] = []
    keys: list[tuple[str, int]] = []
    rows = db.execute("SELECT id, dedup_key, guid, feed_id, source FROM items WHERE guid IS NOT NULL").fetchall()
    for item_id, key, guid, feed_id, source in rows:
        guid = guid.strip()
        candidates = ([f"feed:{feed_id}"] if feed_id is not None else []) + [f"source:{source}"]
        if key.startswith("link:"):
            scopes.append((stable_hash(candidates[0]), item_id))
            keys.append((dedup_key(guid=guid, link=None, title="", scope=""), item_id))
        elif key.startswith("guid:"):
            for scope in candidates:
                if key == "guid:" + stable_hash(scope, guid):
                    scopes.append((stable_hash(scope), item_id))
                    break
    execute_many(db, "UPDATE items SET guid_scope = ? WHERE id = ?", scopes)
    execute_many(db, "UPDATE OR IGNORE items SET dedup_key = ? WHERE id = ?", keys)


@migrations()
def m005_contradiction_claims(db: Database) -> None:
    """The claim each contradiction disputes: the id of the first contradiction of its group (see
    `bot.monitor.alerts.claim_of`); a chat gets at most one alert per claim, however often it is restated or
    denied again. Rows from before have a claim of their own each. And whether it was confident enough to
    alert (`[contradictions] alert_min_score` when it was found); a weaker one is only shown in the story's
    timeline, as possibly disputed. Rows from before were all alerted. Statement by statement, as m003."""
    db.execute("ALTER TABLE contradictions ADD COLUMN claim_id INTEGER")
    db.execute("UPDATE contradictions SET claim_id = id")
    db.execute("ALTER TABLE contradictions ADD COLUMN confident INTEGER NOT NULL DEFAULT 1")


@migrations()
def m006_search_words(db: Database) -> None:
    """Each report's title words, reduced to the keys topic matching uses, in a full-text index that triggers
    keep current: `/stories WORD` finds "evacuating" for "evacuation" without scanning every report."""
    from storage.items import search_words  # the one definition of what is indexed; storage.items imports this module

    db.execute("ALTER TABLE items ADD COLUMN search_words TEXT NOT NULL DEFAULT ''")
    last_id = 0
    select = "SELECT id, title FROM items WHERE id > ? ORDER BY id LIMIT 10000"
    while chunk := db.execute(select, [last_id]).fetchall():
        rows = [(search_words(title), item_id) for item_id, title in chunk]
        db.conn.executemany("UPDATE items SET search_words = ? WHERE id = ?", rows)
        last_id = chunk[-1][0]
    # Keys keep decimal marks ("6.2", "09.03.2014"): one token each, not a phrase of numbers.
    db["items"].enable_fts(["search_words"], create_triggers=True, tokenize="unicode61 tokenchars '.,'")


@migrations()
def m007_clusterer_snapshot(db: Database) -> None:
    db.executescript(
        """
        -- The clusterer's memory, saved so that a restart need not replay every membership. `memberships` and
        -- `covers_item_id` stamp what it covers: every membership of an item up to that id, and that many of
        -- them. A snapshot that no longer matches the memberships, or another `version`, is not used.
        CREATE TABLE clusterer_snapshot (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version TEXT NOT NULL,
            covers_item_id INTEGER NOT NULL,
            memberships INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            state BLOB NOT NULL
        );
        """
    )


@migrations()
def m008_digest_asked_for_and_manual_digests(db: Database) -> None:
    # When the chat turned the daily digest on itself (/digest on, /digest at): NULL when it never did, and then
    # it gets one only while it follows something. And the last digest asked for with /digest, which counts as
    # the last digest. Statement by statement: `executescript` would commit the migration's transaction first.
    db.execute("ALTER TABLE chats ADD COLUMN digest_since TEXT")
    db.execute("ALTER TABLE chats ADD COLUMN manual_digest_at TEXT")


@migrations()
def m009_quiet_hours(db: Database) -> None:
    # A chat's quiet hours, "HH:MM" local (the end may be before the start: past midnight); NULL: none.
    db.execute("ALTER TABLE chats ADD COLUMN quiet_start TEXT")
    db.execute("ALTER TABLE chats ADD COLUMN quiet_end TEXT")


@migrations()
def m010_outlet_follows_and_feeds_added_by_chats(db: Database) -> None:
    # A chat that follows an outlet follows every story its reports are in; and the chat that added a feed,
    # when it was not one of the bot's admins (feeds.anyone_may_add).
    for statement in (
        """CREATE TABLE outlet_follows (
               id INTEGER PRIMARY KEY,
               chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
               source TEXT NOT NULL,
               created_at TEXT NOT NULL,
               UNIQUE (chat_id, source)
           )""",
        "CREATE INDEX outlet_follows_source ON outlet_follows (source)",
        "ALTER TABLE feeds ADD COLUMN added_by INTEGER",
    ):
        db.execute(statement)



@migrations()
def m011_feed_health_notices(db: Database) -> None:
    # What the bot's admins are told of a feed's health (failing after N polls in a row, working again), one row
    # per admin, queued in the same transaction as the poll that decided it and sent from there like an alert,
    # so a crash in between loses nothing. The chat is an admin's private chat, which need not be in `chats`
    # (an admin may never have written to the bot); the feed may be removed before the notice goes out.
    for statement in (
        """CREATE TABLE notices (
               id INTEGER PRIMARY KEY,
               chat_id INTEGER NOT NULL,
               kind TEXT NOT NULL CHECK (kind IN ('feed_failing', 'feed_recovered')),
               feed_id INTEGER NOT NULL,
               feed_name TEXT NOT NULL,
               failures INTEGER NOT NULL,
               error TEXT,
               status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
               attempts INTEGER NOT NULL DEFAULT 0,
               next_attempt_at TEXT NOT NULL,
               created_at TEXT NOT NULL,
               sent_at TEXT,
               message_id INTEGER,
               last_error TEXT
           )""",
        "CREATE INDEX notices_pending ON notices (status, next_attempt_at)",
    ):
        db.execute(statement)


@migrations()
def m012_indexes_for_a_month_of_news(db: Database) -> None:
    # With 100,000 open stories and 1,000,000 reports (a month of a busy pool), these were full scans: the open
    # stories in order of their last report (/stories, /latest; the index on closed_at alone made SQLite
    # read and sort every open story), the reports first seen since the last digest, and the newest
    # contradictions (found from the newest reports back).
    for statement in (
        "DROP INDEX stories_open",
        "CREATE INDEX stories_open_last_seen ON stories (last_seen) WHERE closed_at IS NULL",
        "CREATE INDEX items_first_seen ON items (first_seen)",
        "CREATE INDEX contradictions_later ON contradictions (later_item_id)",
    ):
        db.execute(statement)


class _Database(Database):
    """sqlite-utils' Database, whose transactions take the write lock when they begin.

    `atomic()` upstream opens a deferred transaction (plain BEGIN). A deferred transaction that has read
    cannot wait for the write lock: when another process is writing, SQLite answers "database is locked" at
    once, without the busy timeout, and after that process commits the transaction's snapshot is stale and
    the write fails just the same. Every atomic() here reads and then writes (the pipeline, a poll, adding
    feeds, the migrations), so `storywatch ingest` or a poll failed at once whenever another process (a second
    command, a backup) held the lock. BEGIN IMMEDIATE waits up to BUSY_TIMEOUT_SECONDS for the lock instead.
    """

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:  # nested: upstream's savepoints
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise


class DatabaseRefusedError(ValueError):
    """A database file storywatch must not use: written by a newer version, another program's, or damaged.
    The message is one sentence that says what to do."""


def _damaged(path: str | Path, problem: str) -> DatabaseRefusedError:
    return DatabaseRefusedError(
        f"the database {path} is damaged (SQLite says: {problem}); restore a copy of it, or save what can "
        f"still be read into a new file with: sqlite3 {path} .recover | sqlite3 recovered.db"
    )


def check_integrity(db: Database, path: str | Path) -> None:
    """Refuse a damaged database (PRAGMA quick_check: every page and index entry readable and consistent, in
    time linear in its size), before the bot starts to work on it."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        details = [line for problem in problems for line in problem.splitlines() if not line.startswith("***")]
        raise _damaged(path, details[0] if details else "quick_check failed")


def _refuse_unknown(db: Database, path: str | Path) -> None:
    """A database of a newer storywatch (migrations this version does not know), or of another program (tables,
    and no storywatch migration): using either would go wrong later in ways hard to tell apart."""
    applied = {migration.name for migration in migrations.applied(db)}
    known = {migration.name for migration in migrations._migrations}  # sqlite-utils has no public list
    if applied - known:
        raise DatabaseRefusedError(
            f"this database was written by a newer storywatch ({path} has migrations this version does not "
            f"know: {', '.join(sorted(applied - known))}); upgrade storywatch to use it"
        )
    if not applied:
        tables = [name for name in db.table_names() if not name.startswith(("sqlite_", Migrations.migrations_table))]
        if tables:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise DatabaseRefusedError(
                f"{path} is not a storywatch database (it holds other tables: {shown}); give another path"
            )


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the database at `path`. Raises DatabaseRefusedError for a database
    of a newer storywatch, of another program, or one found damaged.

    The connection may be used from any one thread at a time (`check_same_thread=False`): the asyncio side
    confines it to a single worker thread through `AsyncDatabase`.
    """
    path = Path(path)
    if str(path) != ":memory:" and path.parent and not path.parent.exists():
        raise FileNotFoundError(f"the folder {path.parent} for the database does not exist")
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS)
    db = _Database(conn)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        _refuse_unknown(db, path)
        if str(path) != ":memory:":
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        if "malformed" in str(exc):
            raise _damaged(path, str(exc)) from None
        raise
    except DatabaseRefusedError:
        db.close()
        raise
    return db


class DatabaseInUseError(RuntimeError):
    """Another running bot holds the database."""


class InstanceLock:
    """An OS lock on a file beside the database (`<database>.lock`) that one running bot holds: two bots on
    one database would both deliver every alert. The kernel releases it when the process ends, however it
    ends, so a crashed or killed bot never leaves it behind. Other commands (`poll`, `ingest`) take no part.

    The file also says whether the last bot stopped cleanly: a clean stop writes the database file's identity
    into it (inode, size, modification time, the size of its write-ahead log), and a start empties it.
    `stopped_cleanly` is true only when that identity still matches: no crash since, no other writer, no file
    copied over it. Only then may a start skip the integrity check, whose time grows with the file.
    """

    def __init__(self, database_path: str | Path) -> None:
        self.database_path = Path(database_path)
        self.path = Path(f"{database_path}.lock")
        self._file = open(self.path, "a+b")  # noqa: SIM115 - held for the bot's lifetime
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise DatabaseInUseError(
                f"another storywatch bot is already running on the database {database_path} "
                f"(it holds {self.path}); stop it first"
            ) from None
        self._file.seek(0)
        marker = self._file.read().decode("ascii", "replace")
        self.stopped_cleanly = bool(marker) and marker == self._clean_marker()
        self._write_marker("")  # a crash from here on leaves no marker, so the next start checks

    def _clean_marker(self) -> str:
        try:
            stat = self.database_path.stat()
        except FileNotFoundError:
            return ""
        wal = Path(f"{self.database_path}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        return f"stopped cleanly: inode {stat.st_ino} size {stat.st_size} mtime {stat.st_mtime_ns} wal {wal_size}\n"

    def _write_marker(self, marker: str) -> None:
        self._file.truncate(0)
        self._file.write(marker.encode("ascii"))
        self._file.flush()
        os.fsync(self._file.fileno())

    def release(self, clean: bool = False) -> None:
        """Let the database go; `clean` (after the database was closed) records that this bot stopped
        cleanly, so that the next start on the same unchanged file need not check it."""
        if self._file.closed:
            return
        if clean:
            self._write_marker(self._clean_marker())
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()


def backup_database(db: Database, target: str | Path) -> Path:
    """Copy the database to `target` with SQLite's online backup, safe while the bot writes: the copy is
    one consistent state, and writers are held up only for a moment per step. Written beside the target
    and renamed into place, so a failed backup never leaves half a file under the name asked for."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} exists already: choose a new file for the backup")
    if not target.parent.exists():
        raise FileNotFoundError(f"the folder {target.parent} for the backup does not exist")
    partial = target.with_name(target.name + ".partial")
    copy = sqlite3.connect(str(partial))
    try:
        with copy:
            db.conn.backup(copy, pages=1024)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
    partial.replace(target)
    return target


class AsyncDatabase:
    """Runs database work on one dedicated thread, so the event loop never blocks on SQLite.

    One thread owns the connection: calls are serialised in submission order, which is also what keeps
    sqlite3's per-connection state (transactions) consistent.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storywatch-db")

    @classmethod
    def open(cls, path: str | Path) -> AsyncDatabase:
        return cls(open_database(path))

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Call `fn(db, *args, **kwargs)` on the database thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, self.db, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.db.close()
