"""Stories, their members and their contradictions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bot.monitor.model import StoredItem
from bot.monitor.topics import topic_words
from storage.db import execute_many, from_text, to_text


class StoryNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Member:
    item: StoredItem
    score: float
    shared_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredContradiction:
    id: int
    story_id: int
    kind: str
    earlier: StoredItem
    later: StoredItem
    evidence: str
    score: float
    detected_at: datetime
    # The claim it disputes (the id of the first contradiction of its claim; None until the alert policy has
    # placed it) and whether it was confident enough to alert; a weaker one is "possibly disputed".
    claim_id: int | None = None
    confident: bool = True


@dataclass(frozen=True, slots=True)
class Story:
    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None
    item_count: int
    source_count: int
    contradiction_count: int
    disputed_count: int = 0  # claims confidently disputed: those a following chat was alerted about


@dataclass(frozen=True, slots=True)
class StoryTimeline:
    story: Story
    members: list[Member]
    contradictions: list[StoredContradiction]


_STORY_COLUMNS = """s.id, s.title, s.first_seen, s.last_seen, s.closed_at, s.item_count, s.source_count,
    (SELECT count(*) FROM contradictions c WHERE c.story_id = s.id) AS contradiction_count,
    (SELECT count(DISTINCT c.claim_id) FROM contradictions c WHERE c.story_id = s.id AND c.confident)
        AS disputed_count"""


def _story(row: dict) -> Story:
    return Story(
        id=row["id"],
        title=row["title"],
        first_seen=from_text(row["first_seen"]),
        last_seen=from_text(row["last_seen"]),
        closed_at=from_text(row["closed_at"]),
        item_count=row["item_count"],
        source_count=row["source_count"],
        contradiction_count=row["contradiction_count"],
        disputed_count=row["disputed_count"],
    )


def item_from_row(row: dict, prefix: str = "") -> StoredItem:
    return StoredItem(
        id=row[f"{prefix}id"],
        title=row[f"{prefix}title"],
        link=row[f"{prefix}link"],
        summary=row[f"{prefix}summary"],
        source=row[f"{prefix}source"],
        published=from_text(row[f"{prefix}published"]),
        guid=row[f"{prefix}guid"],
    )


def create_story(db: Database, story_id: int, title: str, first_seen: datetime) -> None:
    db.execute(
        "INSERT INTO stories (id, title, first_seen, last_seen) VALUES (?, ?, ?, ?)",
        [story_id, title, to_text(first_seen), to_text(first_seen)],
    )


def story_sources(db: Database, story_id: int) -> set[str]:
    """The sources of the story's reports."""
    rows = db.execute(
        "SELECT DISTINCT i.source FROM story_items m JOIN items i ON i.id = m.item_id WHERE m.story_id = ?",
        [story_id],
    )
    return {row[0] for row in rows}


class MemberWriter:
    """Memberships recorded during a pipeline transaction, written together by `write`.

    `add` puts an item in a story (the story's row must exist); `write` inserts all recorded memberships with
    one statement and brings each story's summary columns up to date with one UPDATE per story touched, rather
    than three statements per item. Until `write`, the database does not hold them: write before reading
    memberships back, and before the transaction ends.
    """

    def __init__(self, now: datetime) -> None:
        self._joined_at = to_text(now)
        self._rows: list[tuple[int, int, float, str, str | None]] = []
        # story id -> [title, items, new sources, latest published, earliest published]
        self._stories: dict[int, list] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self, story_id: int, item: StoredItem, *, score: float, shared_terms: Sequence[str], title: str,
        new_source: bool, dates_from: bool = True,
    ) -> None:
        """Put an item in a story; `new_source`: no earlier report of the story came from the item's source;
        `dates_from`: whether its published time may move the story's first time back (a late report's may
        not: the story did not run then as far as anyone here saw)."""
        self._rows.append((item.id, story_id, score, json.dumps(list(shared_terms)), self._joined_at))
        published = to_text(item.published)
        # The latest first time the story can have: a text that sorts after every timestamp.
        earliest = published if dates_from else "~"
        story = self._stories.get(story_id)
        if story is None:
            self._stories[story_id] = [title, 1, int(new_source), published, earliest]
        else:
            story[0] = title
            story[1] += 1
            story[2] += int(new_source)
            story[3] = max(story[3], published)
            story[4] = min(story[4], earliest)

    def write(self, db: Database) -> None:
        if not self._rows:
            return
        execute_many(
            db,
            "INSERT INTO story_items (item_id, story_id, score, shared_terms, joined_at) VALUES (?, ?, ?, ?, ?)",
            self._rows,
        )
        # Counted incrementally: a COUNT(DISTINCT) over all members on every insert grows with the story.
        execute_many(
            db,
            """UPDATE stories SET title = ?, item_count = item_count + ?, source_count = source_count + ?,
                   last_seen = max(last_seen, ?), first_seen = min(first_seen, ?)
               WHERE id = ?""",
            [(*values, story_id) for story_id, values in self._stories.items()],
        )
        self._rows = []
        self._stories = {}


def close_stories(db: Database, story_ids: Iterable[int], now: datetime) -> None:
    closed_at = to_text(now)
    execute_many(
        db, "UPDATE stories SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
        [(closed_at, story_id) for story_id in story_ids],
    )


def reopen_story(db: Database, story_id: int) -> None:
    """A closed story took a late report (a denial of its claim): it is open again."""
    db.execute("UPDATE stories SET closed_at = NULL WHERE id = ?", [story_id])


def memberships(db: Database, *, after_item_id: int = 0) -> Iterator[tuple[int, StoredItem]]:
    """(story id, item) for every item in a story (of an id past `after_item_id`), in published order, one at a
    time: what the clusterer replays to pick up where it left off (its word statistics cover all of history,
    not just the open stories), or where its snapshot left off."""
    if after_item_id:
        # The tail past a snapshot: found by item id (CROSS JOIN keeps that order of the tables), then sorted.
        # Left to itself, SQLite walks every item in published order to find the few past the snapshot.
        rows = db.query(
            """SELECT m.story_id, i.* FROM story_items m CROSS JOIN items i ON i.id = m.item_id
               WHERE m.item_id > ? ORDER BY i.published, i.id""",
            [after_item_id],
        )
    else:
        rows = db.query(
            """SELECT m.story_id, i.* FROM story_items m JOIN items i ON i.id = m.item_id
               ORDER BY i.published, i.id"""
        )
    for row in rows:
        yield row["story_id"], item_from_row(row)


def max_story_id(db: Database) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM stories").fetchone()[0]


def has_same_contradiction(db: Database, story_id: int, kind: str, earlier: StoredItem, later: StoredItem) -> bool:
    """Whether the story holds a contradiction of this kind between reports with the same outlets and headlines
    as these two (copies of one report under other links)."""
    row = db.execute(
        """SELECT 1 FROM contradictions c
           JOIN items e ON e.id = c.earlier_item_id JOIN items l ON l.id = c.later_item_id
           WHERE c.story_id = ? AND c.kind = ? AND e.source = ? AND e.title = ? AND l.source = ? AND l.title = ?
           LIMIT 1""",
        [story_id, kind, earlier.source, earlier.title, later.source, later.title],
    ).fetchone()
    return row is not None


def add_contradiction(
    db: Database, story_id: int, earlier_id: int, later_id: int, *, kind: str, evidence: str, score: float,
    now: datetime,
) -> int | None:
    """Record a contradiction; returns its id, or None when this one was already recorded."""
    cursor = db.execute(
        """INSERT OR IGNORE INTO contradictions
               (story_id, earlier_item_id, later_item_id, kind, evidence, score, detected_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [story_id, earlier_id, later_id, kind, evidence, score, to_text(now)],
    )
    return cursor.lastrowid if cursor.rowcount else None


def set_claim(db: Database, contradiction_id: int, claim_id: int, *, confident: bool) -> None:
    """Record the claim a contradiction disputes and whether it alerts (the alert policy decides both)."""
    db.execute(
        "UPDATE contradictions SET claim_id = ?, confident = ? WHERE id = ?",
        [claim_id, int(confident), contradiction_id],
    )


def _word_filters(query: str | None) -> tuple[list[str], list[object]]:
    """SQL conditions for "every word of the query, in any of its forms, is a word of one of the story's
    reports' titles" (a story's title is one of them), through the full-text index of `items.search_words`.

    Words are matched as topics are (`/follow`): "evacuation" finds "evacuating", and stop words are left out.
    A query of stop words only matches nothing."""
    if not query:
        return [], []
    keys = topic_words(query)
    if not keys:
        return ["0"], []
    where = [
        "s.id IN (SELECT m.story_id FROM items_fts f JOIN story_items m ON m.item_id = f.rowid"
        " WHERE items_fts MATCH ?)"
        for _ in keys
    ]
    # A key holds letters, digits and decimal marks only, all of them token characters of the index: quoted,
    # it is one term.
    return where, [f'"{key}"' for key in keys]


def list_stories(
    db: Database, *, query: str | None = None, include_closed: bool = False, limit: int = 20
) -> list[Story]:
    """Stories, most recently active first (latest report first). `query` matches words of the title or of
    any report's title, all of them, case-insensitively."""
    where, params = _word_filters(query)
    if not include_closed:
        where.append("s.closed_at IS NULL")
    sql = f"SELECT {_STORY_COLUMNS} FROM stories s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.last_seen DESC, s.id DESC LIMIT ?"
    return [_story(row) for row in db.query(sql, [*params, limit])]


def most_active_stories(
    db: Database, *, query: str | None = None, limit: int = 10, window: timedelta = timedelta(hours=24)
) -> list[Story]:
    """Open stories that grew most in the last `window` of news (reports in that window, then sources),
    topped up with the most recently active ones. The window ends at the newest report, not at the clock,
    so a replayed archive ranks as it did at the time."""
    newest = from_text(db.execute("SELECT max(last_seen) FROM stories WHERE closed_at IS NULL").fetchone()[0])
    if newest is None:
        return []
    cutoff = to_text(newest - window)
    where, params = _word_filters(query)
    where += ["s.closed_at IS NULL", "s.last_seen >= ?"]
    # Ranked first, described after: the story columns count contradictions, and counted for each of the
    # thousands of stories of the last day they were most of the time of /stories.
    rows = db.query(
        f"""SELECT {_STORY_COLUMNS} FROM (
                SELECT s.id, s.source_count, s.last_seen,
                    (SELECT count(*) FROM story_items m JOIN items i ON i.id = m.item_id
                     WHERE m.story_id = s.id AND i.published >= ?) AS recent
                FROM stories s WHERE {" AND ".join(where)}
                ORDER BY recent DESC, s.source_count DESC, s.last_seen DESC LIMIT ?) AS ranked
            JOIN stories s ON s.id = ranked.id
            ORDER BY ranked.recent DESC, ranked.source_count DESC, ranked.last_seen DESC""",
        [cutoff, *params, cutoff, limit],
    )
    active = [_story(row) for row in rows]
    if len(active) < limit:
        seen = {story.id for story in active}
        active += [s for s in list_stories(db, query=query, limit=limit) if s.id not in seen][: limit - len(active)]
    return active


def open_story_titles(db: Database, *, since: datetime, query: str | None = None) -> list[tuple[int, str]]:
    """(id, title) of the open stories with a report since `since`; with `query`, only those with a report
    whose title has every word of it in one of its forms (a story's title is one of its reports')."""
    where: list[str] = []
    params: list[object] = []
    if query:
        keys = topic_words(query)
        if not keys:
            return []
        # One match of all the words: of the reports with the commonest of them alone (thousands a day of
        # "approves"), the index gives only those that have the others too.
        where.append("s.id IN (SELECT m.story_id FROM items_fts f JOIN story_items m ON m.item_id = f.rowid"
                     " WHERE items_fts MATCH ?)")
        params.append(" ".join(f'"{key}"' for key in keys))
    where += ["s.closed_at IS NULL", "s.last_seen >= ?"]
    rows = db.execute(
        f"SELECT s.id, s.title FROM stories s WHERE {' AND '.join(where)} ORDER BY s.id", [*params, to_text(since)]
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def story_members(db: Database, story_ids: Sequence[int]) -> dict[int, list[Member]]:
    if not story_ids:
        return {}
    marks = ", ".join("?" for _ in story_ids)
    rows = db.query(
        f"""SELECT m.story_id, m.score, m.shared_terms, i.* FROM story_items m JOIN items i ON i.id = m.item_id
            WHERE m.story_id IN ({marks}) ORDER BY i.published, i.id""",
        list(story_ids),
    )
    members: dict[int, list[Member]] = {story_id: [] for story_id in story_ids}
    for row in rows:
        member = Member(item_from_row(row), row["score"], tuple(json.loads(row["shared_terms"])))
        members[row["story_id"]].append(member)
    return members


_CONTRADICTION_COLUMNS = """
    SELECT c.id AS cid, c.story_id, c.kind, c.evidence, c.score, c.detected_at, c.claim_id, c.confident,
           e.id AS e_id, e.title AS e_title, e.link AS e_link, e.summary AS e_summary,
           e.source AS e_source, e.published AS e_published, e.guid AS e_guid,
           l.id AS l_id, l.title AS l_title, l.link AS l_link, l.summary AS l_summary,
           l.source AS l_source, l.published AS l_published, l.guid AS l_guid"""
_CONTRADICTION_SQL = (
    _CONTRADICTION_COLUMNS
    + " FROM contradictions c JOIN items e ON e.id = c.earlier_item_id JOIN items l ON l.id = c.later_item_id"
)
# The newest first, found from the newest reports back (their index on published time, then each one's
# contradictions): sorting every contradiction ever recorded to show the newest 50 grew with all of history.
_NEWEST_CONTRADICTIONS_SQL = (
    _CONTRADICTION_COLUMNS
    + " FROM items l INDEXED BY items_published CROSS JOIN contradictions c ON c.later_item_id = l.id"
    " JOIN items e ON e.id = c.earlier_item_id"
)


def _contradiction(row: dict) -> StoredContradiction:
    return StoredContradiction(
        id=row["cid"], story_id=row["story_id"], kind=row["kind"], earlier=item_from_row(row, "e_"),
        later=item_from_row(row, "l_"), evidence=row["evidence"], score=row["score"],
        detected_at=from_text(row["detected_at"]), claim_id=row["claim_id"], confident=bool(row["confident"]),
    )


def list_contradictions(
    db: Database, *, story_id: int | None = None, limit: int | None = None
) -> list[StoredContradiction]:
    """Contradictions, newest first (by the later report's time)."""
    sql = _NEWEST_CONTRADICTIONS_SQL if story_id is None else _CONTRADICTION_SQL + " WHERE c.story_id = ?"
    params: list[object] = [] if story_id is None else [story_id]
    sql += " ORDER BY l.published DESC, c.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_contradiction(row) for row in db.query(sql, params)]


def contradictions_by_id(db: Database, contradiction_ids: Sequence[int]) -> dict[int, StoredContradiction]:
    if not contradiction_ids:
        return {}
    marks = ", ".join("?" for _ in contradiction_ids)
    rows = db.query(f"{_CONTRADICTION_SQL} WHERE c.id IN ({marks})", list(contradiction_ids))
    return {row["cid"]: _contradiction(row) for row in rows}


def get_story(db: Database, story_id: int) -> StoryTimeline:
    rows = list(db.query(f"SELECT {_STORY_COLUMNS} FROM stories s WHERE s.id = ?", [story_id]))
    if not rows:
        raise StoryNotFoundError(f"there is no story {story_id}")
    return StoryTimeline(
        _story(rows[0]), story_members(db, [story_id])[story_id], list_contradictions(db, story_id=story_id)
    )
