"""The clusterer's snapshot: restored instead of replaying every membership, only when it is what the
database holds, and then with the same decisions as a replay."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from bot.monitor.files import read_items
from bot.monitor.pipeline import Pipeline
from storage import snapshots as snapshot_store
from storage.db import open_database
from tests.conftest import SHARED_DATA
from tests.test_fast_paths import state
from tests.test_pipeline import _outcome

NOW = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)


def stream() -> list:
    path = SHARED_DATA / "emergent-dev.jsonl"
    if not path.exists():
        path = Path(__file__).parent / "data" / "labelled.jsonl"
    return sorted(read_items(path, NOW), key=lambda item: item.published)


def process(pipeline: Pipeline, db, items: list) -> None:
    for start in range(0, len(items), 50):
        pipeline.process(db, items[start : start + 50], now=NOW)


def replayed(db) -> Pipeline:
    """A pipeline whose clusterer is rebuilt from every stored membership, as without a snapshot."""
    pipeline = Pipeline(snapshot_every=None)
    pipeline._snapshot_version = lambda: "no snapshot is of this version"  # type: ignore[method-assign]
    pipeline._load(db)
    return pipeline


def test_a_restored_snapshot_decides_as_a_replay_does(tmp_path: Path) -> None:
    items = stream()
    half = len(items) // 2
    db = open_database(tmp_path / "a.db")
    first = Pipeline(snapshot_every=None)
    process(first, db, items[:half])
    assert first.save_snapshot(db, NOW)
    db.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")

    db = open_database(tmp_path / "a.db")
    restored = Pipeline(snapshot_every=None)
    clusterer, covered = restored._restored(db)
    assert clusterer is not None and covered == db.execute("SELECT max(item_id) FROM story_items").fetchone()[0]
    other = open_database(tmp_path / "b.db")
    replay = replayed(other)
    assert state(restored._load(db)) == state(replay._load(other))
    # And the same decisions on what comes next: memberships, scores, titles, contradictions, events.
    process(restored, db, items[half:])
    process(replay, other, items[half:])
    assert _outcome(db) == _outcome(other)
    db.close()
    other.close()


def test_a_snapshot_behind_the_database_is_caught_up_by_replaying_the_rest(tmp_path: Path) -> None:
    items = stream()
    third = len(items) // 3
    db = open_database(tmp_path / "a.db")
    pipeline = Pipeline(snapshot_every=None)
    process(pipeline, db, items[:third])
    pipeline.save_snapshot(db, NOW)
    process(pipeline, db, items[third : 2 * third])  # stored, but the snapshot is not saved again (a crash)
    live = state(pipeline._load(db))
    restarted = Pipeline(snapshot_every=None)
    assert restarted._restored(db)[0] is not None
    assert state(restarted._load(db)) == live == state(replayed(db)._load(db))
    db.close()


def test_a_snapshot_that_no_longer_matches_the_database_is_not_used(tmp_path: Path) -> None:
    items = stream()
    half = len(items) // 2
    db = open_database(tmp_path / "a.db")
    pipeline = Pipeline(snapshot_every=None)
    process(pipeline, db, items[:half])
    pipeline.save_snapshot(db, NOW)
    snapshot_state = state(pipeline._load(db))
    # A story removed from the database (a restored backup, a hand edit): what the snapshot covers is gone.
    story_id = db.execute("SELECT story_id FROM story_items ORDER BY item_id DESC LIMIT 1").fetchone()[0]
    db.execute("DELETE FROM stories WHERE id = ?", [story_id])
    db.conn.commit()
    restarted = Pipeline(snapshot_every=None)
    assert restarted._restored(db) == (None, 0)
    assert state(restarted._load(db)) == state(replayed(db)._load(db)) != snapshot_state
    db.close()


def test_snapshots_are_saved_as_items_arrive_and_by_another_version_ignored(tmp_path: Path) -> None:
    items = stream()
    db = open_database(tmp_path / "a.db")
    process(Pipeline(snapshot_every=100), db, items[:250])
    saved = snapshot_store.load_snapshot(db)
    assert saved is not None and saved.memberships >= 200
    other_settings = Pipeline(snapshot_every=None, cluster_settings=Pipeline().cluster_settings.__class__(
        join_threshold=0.5))
    assert other_settings._restored(db) == (None, 0)
    db.close()


def test_a_snapshot_waits_for_as_many_new_items_as_there_are_open_stories(tmp_path: Path) -> None:
    # Saving one costs about as much as the open stories it holds: saved every `snapshot_every` items at any
    # size, it cost more per item the more stories were open.
    items = stream()[:300]
    db = open_database(tmp_path / "a.db")
    pipeline = Pipeline(snapshot_every=10)
    saves = []
    since = 0
    for start in range(0, len(items), 10):
        pipeline.process(db, items[start : start + 10], now=NOW)
        since += 10
        saved = snapshot_store.load_snapshot(db)
        if saved is not None and saved.memberships == start + 10:
            saves.append((since, pipeline._clusterer.open_story_count))
            since = 0
    assert len(saves) >= 3
    assert all(since >= max(10, open_stories) for since, open_stories in saves)
    assert any(since > 10 for since, _ in saves)  # more open stories than `snapshot_every`: later saves
    db.close()
