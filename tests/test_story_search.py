"""`/stories WORD` and `stories --query`: the full-text index of report titles, its forms and its upkeep."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.monitor.files import read_items
from bot.monitor.model import Item
from bot.monitor.pipeline import Pipeline
from bot.monitor.topics import topic_words
from storage import stories as story_store
from storage.db import migrations, open_database
from tests.conftest import SHARED_DATA

NOW = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)


def report(n: int, title: str, minutes: int = 0, source: str = "Wire") -> Item:
    return Item(key=f"k{n}", title=title, link=f"https://news.example/{n}", summary="", source=source,
                published=NOW + timedelta(minutes=minutes))


def found(db, query: str) -> list[int]:
    return sorted(s.id for s in story_store.list_stories(db, query=query, include_closed=True, limit=10**6))


def test_a_word_finds_the_stories_holding_any_of_its_forms(db_path: Path) -> None:
    db = open_database(db_path)
    Pipeline().process(db, [
        report(1, "Iran begins evacuating military personnel from Syria"),
        report(2, "Copper prices climb on Chilean mine strike", minutes=5),
    ], now=NOW)
    iran = story_store.list_stories(db, query="iran")[0].id
    assert found(db, "evacuation") == found(db, "EVACUATE") == found(db, "evacuated syria") == [iran]
    assert found(db, "evacuation copper") == []
    # Whole words, not substrings: "ran" was a match of "Iran" for the LIKE scan this replaces.
    assert found(db, "ran") == []
    assert found(db, "the") == []  # stop words only: nothing to match, as /follow refuses them
    db.close()


def test_reports_stored_later_are_found(db_path: Path) -> None:
    db = open_database(db_path)
    pipeline = Pipeline()
    pipeline.process(db, [report(1, "Copper prices climb on Chilean mine strike")], now=NOW)
    assert found(db, "volcano") == []
    pipeline.process(db, [report(2, "Volcano erupts on Iceland's Reykjanes peninsula", minutes=30)], now=NOW)
    assert found(db, "volcanoes") == [story_store.list_stories(db, query="reykjanes")[0].id]
    assert found(db, "erupting reykjanes") != []
    db.close()


def test_an_existing_database_gets_its_index_when_opened(db_path: Path) -> None:
    from sqlite_utils import Database

    db = Database(db_path)
    migrations.apply(db, stop_before="m006_search_words")  # the schema as it was before the index
    at = "2024-12-06T12:00:00.000000Z"
    db.execute("INSERT INTO stories (id, title, first_seen, last_seen) VALUES (1, 'Iran begins evacuating', ?, ?)",
               [at, at])
    db.execute("""INSERT INTO items (id, dedup_key, title, source, published, first_seen)
                  VALUES (1, 'k1', 'Iran begins evacuating military personnel', 'Wire', ?, ?)""", [at, at])
    db.execute("INSERT INTO story_items (item_id, story_id, score, joined_at) VALUES (1, 1, 0.0, ?)", [at])
    db.conn.commit()
    db.close()
    db = open_database(db_path)
    assert migrations.pending(db) == []
    assert found(db, "evacuation") == [1]
    Pipeline().process(db, [report(2, "Iran evacuation of Syria personnel goes on", minutes=1)], now=NOW)
    assert found(db, "evacuation personnel") == [1]
    db.close()


def test_search_on_real_headlines_matches_a_scan_of_every_report(tmp_path: Path) -> None:
    """On the UCI sample: what the index finds is exactly what a scan of every report's words finds, and it
    finds every story the substring scan it replaces found where the word occurs whole."""
    path = SHARED_DATA / "uci-sample.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent: the search is checked on real headlines only where ../shared/data is present")
    db = open_database(tmp_path / "uci.db")
    Pipeline().process(db, read_items(path, NOW), now=NOW)
    members = story_store.story_members(db, [row[0] for row in db.execute("SELECT id FROM stories")])
    words_of = {story_id: {key for m in ms for key in topic_words(m.item.title)} for story_id, ms in members.items()}
    titles_of = {story_id: [m.item.title for m in ms] for story_id, ms in members.items()}
    counts = Counter(word for ms in members.values() for m in ms for word in set(topic_words(m.item.title)))
    by_frequency = [word for word, _ in counts.most_common()]
    # Common words, middling ones and rare ones, and pairs of them: keys, which are words' forms themselves.
    queries = by_frequency[:30] + by_frequency[200:230] + by_frequency[-30:]
    queries += [f"{a} {b}" for a, b in zip(by_frequency[:20], by_frequency[5:25], strict=True)]
    for query in queries:
        keys = topic_words(query)
        expected = sorted(story_id for story_id, words in words_of.items() if set(keys) <= words)
        assert found(db, query) == expected, query
    for word in ("apple", "malaysia", "fed", "ukraine", "russia", "microsoft", "gm", "recall", "obama", "google"):
        whole = re.compile(rf"\b{word}\b", re.IGNORECASE)
        like = {story_id for story_id, titles in titles_of.items() if any(whole.search(t) for t in titles)}
        assert like, word
        assert like <= set(found(db, word)), word
    db.close()
