"""The queries rewritten for a month of news (issue 18) give what the plain queries they replaced give.

Each reference below is the statement as it was before (a scan that is correct and slow at 1,000,000
reports), run on the same database: a generated pool of many small stories, some denied (contradictions),
processed in batches seen at different times (so that "first seen" differs from report to report), some
stories closed, a chat that follows and mutes some.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.monitor.model import Item
from bot.monitor.normalize import dedup_key
from bot.monitor.pipeline import Pipeline
from bot.monitor.topics import topic_words
from storage import chats as chat_store
from storage import digests as digest_store
from storage import stories as story_store
from storage.db import from_text, open_database, to_text

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
SOURCES = [f"{town} {paper}" for town in ("Metro", "Coastal", "City") for paper in ("Herald", "Post", "Wire")]
ACTIONS = ["approves", "delays", "rejects", "backs", "suspends", "confirms", "defends", "scraps"]


def invented(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice("bdfgklmnprtvz") + rng.choice("aeiou") for _ in range(3)) + rng.choice("lmnr"))
    return sorted(names)


def pool(stories: int = 160, seed: int = 5) -> list[Item]:
    rng = random.Random(seed)
    names = invented(rng, 3 * stories)
    items = []
    for s in range(stories):
        who, what, where = (name.capitalize() for name in names[3 * s : 3 * s + 3])
        began = T0 + timedelta(hours=s * 0.6)
        size = 1 + min(int(rng.expovariate(1 / 2.0)), 6)
        for k in range(size):
            action = ACTIONS[(s + k) % len(ACTIONS)]
            title = (f"{who} denies it {action} {what} deal in {where}" if k == size - 1 and size >= 3 and s % 4 == 0
                     else f"{who} {action} {what} deal in {where}")
            source = rng.choice(SOURCES)
            link = f"https://{source.replace(' ', '').lower()}.example/{s}/{k}"
            items.append(Item(key=dedup_key(guid=link, link=link, title=title, scope=source), title=title, link=link,
                              summary=f"{who} {action} the {what} deal.", source=source, guid=link,
                              published=began + timedelta(minutes=rng.randint(0, 600))))
    return sorted(items, key=lambda item: item.published)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path: Path = tmp_path_factory.mktemp("scale") / "pool.db"
    db = open_database(path)
    pipeline = Pipeline(snapshot_every=None)
    items = pool()
    for start in range(0, len(items), 40):  # each batch seen an hour after its newest report
        batch = items[start : start + 40]
        pipeline.process(db, batch, now=batch[-1].published + timedelta(hours=1))
    story_store.close_stories(db, [row[0] for row in db.execute("SELECT id FROM stories WHERE id % 7 = 0")],
                              T0 + timedelta(days=5))
    chat_store.ensure_chat(db, 1, type="private", title=None, now=T0)
    for story_id in (3, 11, 40):
        chat_store.follow_story(db, 1, story_id, T0)
    for story_id in (12, 41):
        chat_store.mute_story(db, 1, story_id, T0)
    yield db
    db.close()


# The statements as they were before issue 18's rewrite.
OLD_DIGEST = """WITH fresh AS (
       SELECT m.story_id, i.id AS item_id, i.source, i.published FROM story_items m
       JOIN items i ON i.id = m.item_id WHERE i.first_seen >= :since)
   SELECT s.id, s.title, s.source_count, s.item_count,
          EXISTS (SELECT 1 FROM subscriptions f WHERE f.chat_id = :chat AND f.kind = 'story'
                  AND f.story_id = s.id) AS followed,
          (SELECT count(*) FROM fresh WHERE fresh.story_id = s.id) AS new_items,
          (SELECT count(DISTINCT source) FROM fresh WHERE fresh.story_id = s.id AND source NOT IN (
               SELECT i.source FROM story_items m JOIN items i ON i.id = m.item_id
               WHERE m.story_id = s.id AND i.first_seen < :since)) AS new_sources,
          (SELECT item_id FROM fresh WHERE fresh.story_id = s.id
           ORDER BY published DESC, item_id DESC LIMIT 1) AS latest_id,
          (SELECT c.id FROM contradictions c WHERE c.story_id = s.id AND c.detected_at >= :since
             AND c.confident ORDER BY c.id DESC LIMIT 1) AS contradiction_id
   FROM stories s
   WHERE s.id IN (SELECT story_id FROM fresh)
     AND NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.chat_id = :chat AND x.kind = 'mute'
                     AND x.story_id = s.id)
   ORDER BY followed DESC, new_sources DESC, new_items DESC, s.source_count DESC, s.id DESC
   LIMIT :limit"""

OLD_MOST_ACTIVE = """SELECT s.id, (SELECT count(*) FROM story_items m JOIN items i ON i.id = m.item_id
        WHERE m.story_id = s.id AND i.published >= ?) AS recent
    FROM stories s WHERE s.closed_at IS NULL AND s.last_seen >= ?
    ORDER BY recent DESC, s.source_count DESC, s.last_seen DESC LIMIT ?"""


def test_the_pool_has_what_the_queries_tell_apart(db: Database) -> None:
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) FROM stories") > 100
    assert one("SELECT count(*) FROM contradictions") >= 5
    assert one("SELECT count(DISTINCT first_seen) FROM items") > 5
    assert one("SELECT count(*) FROM stories WHERE closed_at IS NOT NULL") > 5


@pytest.mark.parametrize("hours", [0, 12, 30, 60, 90])
def test_the_digest_tells_the_stories_the_plain_query_told(db: Database, hours: int) -> None:
    since = T0 + timedelta(hours=hours)
    for limit in (10, 1000):
        old = [dict(row) for row in db.query(OLD_DIGEST, {"since": to_text(since), "chat": 1, "limit": limit})]
        new = digest_store.digest_stories(db, 1, since, limit=limit)
        assert [(s.id, s.followed, s.new_items, s.new_sources, s.latest.id,
                 s.contradiction.id if s.contradiction else None) for s in new] == [
            (r["id"], bool(r["followed"]), r["new_items"], r["new_sources"], r["latest_id"], r["contradiction_id"])
            for r in old]
        assert new  # every `since` here has stories that moved after it


def test_stories_rank_as_the_plain_query_ranked(db: Database) -> None:
    newest = from_text(db.execute("SELECT max(last_seen) FROM stories WHERE closed_at IS NULL").fetchone()[0])
    for hours in (6, 24, 72):
        cutoff = to_text(newest - timedelta(hours=hours))
        for limit in (3, 10, 500):
            old = [row[0] for row in db.execute(OLD_MOST_ACTIVE, [cutoff, cutoff, limit])]
            new = story_store.most_active_stories(db, limit=limit, window=timedelta(hours=hours))
            assert [s.id for s in new][: len(old)] == old
    latest = story_store.list_stories(db, limit=500)
    assert [s.id for s in latest] == [row[0] for row in db.execute(
        "SELECT id FROM stories WHERE closed_at IS NULL ORDER BY last_seen DESC, id DESC LIMIT 500")]


def test_the_newest_contradictions_are_those_of_all_sorted(db: Database) -> None:
    every = story_store.list_contradictions(db)
    reference = sorted(every, key=lambda c: (c.later.published, c.id), reverse=True)
    for limit in (1, 3, 50, None):
        assert [c.id for c in story_store.list_contradictions(db, limit=limit)] == [c.id for c in reference][:limit]


def test_a_topic_finds_through_the_index_the_stories_a_scan_of_titles_finds(db: Database) -> None:
    since = T0
    every = story_store.open_story_titles(db, since=since)
    titles = [title for _, title in every]
    queries = {titles[k].split()[0] for k in range(0, len(titles), 9)} | {"deal", "approves deal", "nothing here"}
    for query in sorted(queries):
        words = set(topic_words(query))
        scanned = [(i, t) for i, t in every if words <= set(topic_words(t))]
        found = [(i, t) for i, t in story_store.open_story_titles(db, since=since, query=query)
                 if words <= set(topic_words(t))]
        assert found == scanned
