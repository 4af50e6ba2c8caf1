"""Store → cluster → detect through the real pipeline, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.monitor.contradiction import Analysis, TextAnalysis, analyze_text
from bot.monitor.files import read_items
from bot.monitor.model import Item
from bot.monitor.normalize import dedup_key
from bot.monitor.pipeline import Pipeline, prepare_items
from storage import stories as story_store
from storage.db import open_database

START = datetime(2024, 12, 6, 9, 30, tzinfo=UTC)


def report(title: str, source: str, hours: float) -> Item:
    link = f"https://{source.lower().replace(' ', '')}.example/{abs(hash(title))}"
    return Item(
        key=dedup_key(guid=None, link=link, title=title, scope=source), title=title, link=link, summary="",
        source=source, published=START + timedelta(hours=hours),
    )


EVACUATION = report("Iran begins evacuating military personnel from Syria", "Levant Wire", 0)
FOLLOW_UP = report("Iran evacuating commanders and diplomats from Syria, officials say", "Gulf Post", 2)
COPPER = report("Copper prices climb to a two-year high on Chilean mine strike", "Metals Daily", 3)
DENIAL = report("Iran denies evacuating diplomats from Syria", "Tehran Desk", 33)


def test_reports_become_stories_and_the_denial_is_a_contradiction(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline()
    first = pipeline.process(db, [COPPER, FOLLOW_UP, EVACUATION], now=START)
    assert len(first.new_items) == 3 and len(first.new_stories) == 2
    second = pipeline.process(db, [DENIAL], now=START)
    assert second.new_stories == [] and len(second.contradictions) == 1

    [found] = story_store.list_contradictions(db)
    assert found.kind == "denial"
    # The follow-up's "officials say" asserts the claim too (issue 15); the denial names the claim's first report.
    assert (found.earlier.title, found.later.title) == (EVACUATION.title, DENIAL.title)
    assert "evacuat" in found.evidence
    timeline = story_store.get_story(db, found.story_id)
    assert [m.item.title for m in timeline.members] == [EVACUATION.title, FOLLOW_UP.title, DENIAL.title]
    assert timeline.story.source_count == 3
    assert timeline.members[1].shared_terms  # why it joined is recorded
    copper = story_store.list_stories(db, query="copper")
    assert [s.item_count for s in copper] == [1]
    db.close()


def test_a_restarted_pipeline_continues_the_same_stories(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    Pipeline().process(db, [EVACUATION, FOLLOW_UP, COPPER], now=START)
    db.close()

    db = open_database(tmp_path / "sw.db")
    report_after_restart = Pipeline().process(db, [DENIAL], now=START)
    assert report_after_restart.new_stories == []
    assert len(report_after_restart.contradictions) == 1
    new_story = Pipeline().process(db, [report("Volcano erupts in Iceland, flights grounded", "Nordic", 40)], now=START)
    assert new_story.new_stories == [story_store.max_story_id(db)]
    assert story_store.max_story_id(db) == 3
    db.close()


def test_a_failed_transaction_leaves_database_and_memory_as_they_were(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)

    class Broken(Exception):
        pass

    def explode(_: int) -> None:
        raise Broken

    with pytest.raises(Broken):
        pipeline.process(db, [FOLLOW_UP, COPPER], now=START, progress=explode)
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 1
    # The same items again: the pipeline's memory must not remember the rolled-back stories.
    again = pipeline.process(db, [FOLLOW_UP, COPPER], now=START)
    assert len(again.new_stories) == 1
    assert story_store.max_story_id(db) == 2
    db.close()


def test_quiet_stories_close(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    much_later = START + timedelta(hours=pipeline.cluster_settings.close_after_hours + 1)
    late = Item(
        key="late", title=EVACUATION.title, link="https://late.example/1", summary="", source="Late",
        published=much_later,
    )
    result = pipeline.process(db, [late], now=much_later)
    assert result.new_stories == [2]
    assert [s.id for s in story_store.list_stories(db)] == [2]
    assert {s.id for s in story_store.list_stories(db, include_closed=True)} == {1, 2}
    db.close()


def test_labels_never_reach_the_pipeline() -> None:
    items = read_items(Path(__file__).parent / "data" / "labelled.jsonl", START)
    assert len(items) == 5
    for item in items:
        assert "GOLD-" not in repr(item) and "against" not in repr(item)


def test_reports_another_process_stored_meanwhile_are_seen(tmp_path: Path) -> None:
    # The bot's pipeline, and `storywatch ingest` beside it on a connection of its own.
    bot_db, ingest_db = open_database(tmp_path / "sw.db"), open_database(tmp_path / "sw.db")
    bot = Pipeline()
    bot.process(bot_db, [COPPER], now=START)
    ingested = Pipeline().process(ingest_db, [EVACUATION], now=START)
    # The bot's next report joins the story the other process started, under a story id that is free.
    later = bot.process(bot_db, [FOLLOW_UP], now=START)
    assert later.new_stories == []
    timeline = story_store.get_story(bot_db, ingested.new_stories[0])
    assert [m.item.title for m in timeline.members] == [EVACUATION.title, FOLLOW_UP.title]
    bot_db.close()
    ingest_db.close()


def test_a_late_denial_opens_its_closed_story_again_and_contradicts_the_claim(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION, FOLLOW_UP, COPPER], now=START)
    weeks_later = report("Tehran denies evacuating personnel from Syria", "Tehran Desk", 24 * 20)
    result = pipeline.process(db, [weeks_later], now=weeks_later.published)

    assert result.new_stories == []  # the evacuation story had closed after 14 quiet days
    [found] = story_store.list_contradictions(db)
    assert (found.kind, found.earlier.title, found.later.title) == ("denial", EVACUATION.title, weeks_later.title)
    timeline = story_store.get_story(db, found.story_id)
    assert timeline.story.closed_at is None and timeline.members[-1].item.title == weeks_later.title
    db.close()

    # After a restart the story is open, as the pipeline that never stopped has it.
    db = open_database(tmp_path / "sw.db")
    follow_up = report("Iran evacuating personnel from Syria resumes, officials say", "Gulf Post", 24 * 21)
    again = Pipeline().process(db, [follow_up], now=follow_up.published)
    assert again.new_stories == [] and story_store.story_members(db, [found.story_id])[found.story_id][-1].item.title \
        == follow_up.title


def test_a_late_report_joins_by_its_own_time_and_leaves_the_storys_dates(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline(late_after=timedelta(hours=1))
    seen = START + timedelta(hours=1)
    pipeline.process(db, [EVACUATION], now=seen)  # an hour old: still news
    # Seen a day after it was published, from before the story began (a feed back after an outage): same
    # story, but old news, and it does not move the live story's first time back.
    late = report("Iran evacuating military personnel from Syria, say officials", "Gulf Post", -3)
    # Of the same subject, but from three weeks before the story began: an older event (an hour after the
    # story's report it would join it).
    archive = report("Iranian advisers leave Syria as Iran pulls personnel", "Archive", -21 * 24)
    # The story is live: a report of it is news now.
    fresh = report("Iran evacuating military personnel from Syria bases, officials confirm", "Tehran Desk", 24.5)
    pipeline.process(db, [fresh], now=seen + timedelta(hours=24))
    pipeline.process(db, [late, archive], now=seen + timedelta(hours=24))
    story = next(s for s in story_store.list_stories(db) if s.item_count > 1)
    assert story.item_count >= 3 and story.first_seen == EVACUATION.published  # dates not pulled back
    events = db.execute("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").fetchall()
    assert events == [("development", 1), ("new_story", 1)]  # the late reports were neither
    db.close()


def _outcome(db) -> tuple[list, ...]:
    """Everything the pipeline decided, row by row: memberships with their scores, stories, contradictions, events."""
    return tuple(
        db.execute(sql).fetchall()
        for sql in (
            "SELECT item_id, story_id, score, shared_terms FROM story_items ORDER BY item_id",
            "SELECT id, title, item_count, source_count, closed_at FROM stories ORDER BY id",
            "SELECT story_id, earlier_item_id, later_item_id, kind, evidence, score FROM contradictions ORDER BY id",
            "SELECT kind, story_id, item_id, contradiction_id FROM events ORDER BY id",
        )
    )


def test_a_pipeline_keeping_little_of_quiet_stories_decides_exactly_the_same(tmp_path: Path) -> None:
    """Stories whose analyses, first report and sources were dropped are read back from the database when a
    report joins them, and nothing the pipeline decides changes; what it keeps stays within its bounds."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "emergent-dev.jsonl"
    items = read_items(path, START) if path.exists() else read_items(Path(__file__).parent / "data/labelled.jsonl",
                                                                     START)
    items.sort(key=lambda item: item.published)
    outcomes = []
    for kept in (None, 3):
        db = open_database(tmp_path / f"kept-{kept}.db")
        bounds = {} if kept is None else {"kept_reports": kept, "kept_founders": kept, "kept_sources": kept}
        pipeline = Pipeline(**bounds)
        for start in range(0, len(items), 40):
            pipeline.process(db, items[start : start + 40], now=START)
            if kept is not None:
                assert len(pipeline._founders) <= kept and len(pipeline._sources) <= kept
                assert len(pipeline._states) <= 1 or pipeline._analysed <= kept
        outcomes.append(_outcome(db))
        db.close()
    assert outcomes[0][2], "the stream must make contradictions for this to check them"
    assert outcomes[0] == outcomes[1]


def test_a_pipeline_making_its_stories_analyses_again_decides_exactly_the_same(tmp_path: Path) -> None:
    """Of the stories it keeps, the pipeline holds no analysis of the reports that deny nothing and tell no state or
    figure, nor of the first reports of one-report stories (kept without link or GUID), and only a tuple of names
    for their sources: analyses are made again when needed. With analyze_text's cache emptied before every batch,
    it decides what a pipeline given every item's text prepared ahead (as the parsing worker does) decides."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "emergent-dev.jsonl"
    items = read_items(path, START) if path.exists() else read_items(Path(__file__).parent / "data/labelled.jsonl",
                                                                     START)
    items.sort(key=lambda item: item.published)
    outcomes = []
    for remade in (False, True):
        db = open_database(tmp_path / f"remade-{remade}.db")
        pipeline = Pipeline()
        for start in range(0, len(items), 40):
            batch = items[start : start + 40]
            if remade:
                analyze_text.cache_clear()
            pipeline.process(db, batch, now=START, prepared=None if remade else prepare_items(batch))
        outcomes.append(_outcome(db))
        db.close()
        founders = list(pipeline._founders.values())
        assert founders and all(item.link is None and item.guid is None for item, _ in founders)
        # Prepared ahead, a founder keeps the analysis only of the few reports a later plain report may meet.
        analysed = sum(isinstance(kept, TextAnalysis) for _, kept in founders)
        assert analysed < len(founders) / 2 and (remade or all(kept is not None for _, kept in founders))
        assert all(isinstance(sources, tuple) for sources in pipeline._sources.values())
        kept = [report for state in pipeline._states.values() for report in state._reports]
        assert kept and sum(not isinstance(report, Analysis) for report in kept) > len(kept) / 2
    assert outcomes[0][2], "the stream must make contradictions for this to check them"
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("theft", ["Copper theft: thieves strip 3 km of cable from rail line",
                                   "Copper theft: thieves strip cable from rail line"])
def test_a_report_naming_only_a_strikes_subject_starts_its_own_story(tmp_path: Path, theft: str) -> None:
    # The strike is minutes old, so time asks for little; what keeps the theft out is that it shares one word
    # of the strike's claim ("copper"), and perhaps a figure, and none of the rest.
    db = open_database(tmp_path / "sw.db")
    pipeline = Pipeline()
    elsewhere = ["Volcano erupts in Iceland, flights grounded", "Fed holds interest rates steady",
                 "Floods hit southern Brazil", "Tesla recalls cars over software fault",
                 "Wildfires spread in California", "Nasa delays moon mission", "Gold hits record high",
                 "UN warns of famine in Sudan", "Storm batters Philippines", "Bitcoin tops 100,000"]
    pipeline.process(db, [report(title, f"Desk {n}", n / 60) for n, title in enumerate(elsewhere)], now=START)
    strike = pipeline.process(db, [COPPER, report("Copper up 3% as Chilean mine strike enters third day",
                                                  "Andes Times", 3.02)], now=START)
    [strike_id] = strike.new_stories
    after = pipeline.process(db, [report(theft, "City Desk", 3.05)], now=START)
    assert len(after.new_stories) == 1 and after.new_stories != [strike_id]
    # The strike's own follow-ups, even those that share few words with its first report, still join it.
    follow_ups = [report("Chilean miners reject wage offer as copper strike drags on", "Gulf Post", 3.1),
                  report("Strike at Chilean copper mine enters fourth day", "Metals Daily", 3.3)]
    assert pipeline.process(db, follow_ups, now=START).new_stories == []
    timeline = story_store.get_story(db, strike_id)
    assert len(timeline.members) == 4 and theft not in [m.item.title for m in timeline.members]
    db.close()
