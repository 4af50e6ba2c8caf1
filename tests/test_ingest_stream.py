"""`storywatch ingest` streams: items sorted in runs on disk and merged, processed a batch at a time, with the
same order and the same outcome as all of them processed at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.monitor.files import BadInputError, iter_items, read_items, sorted_items
from bot.monitor.pipeline import Pipeline
from storage.db import open_database
from tests.conftest import SHARED_DATA
from tests.test_pipeline import _outcome

NOW = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)
FEEDS = Path(__file__).parent / "data" / "feeds"


def inputs() -> list[Path]:
    shared = [SHARED_DATA / "emergent-dev.jsonl"] if (SHARED_DATA / "emergent-dev.jsonl").exists() else []
    return [*shared, FEEDS / "items.jsonl", FEEDS / "rss20.xml", FEEDS / "atom10.xml",
            Path(__file__).parent / "data" / "labelled.jsonl"]


def test_sorted_runs_merge_into_the_order_of_one_stable_sort(tmp_path: Path) -> None:
    paths = inputs()
    everything = [item for path in paths for item in read_items(path, NOW)]
    expected = sorted(everything, key=lambda item: item.published)
    with sorted_items(paths, NOW, run_items=7) as items:
        assert items.count == len(everything)
        assert len(items._memory) < 7 and len(items._runs) == len(everything) // 7  # the rest waits on disk
        assert list(items) == expected


def test_a_stream_processed_in_batches_decides_as_one_call_does(tmp_path: Path) -> None:
    paths = inputs()
    whole = open_database(tmp_path / "whole.db")
    Pipeline().process(whole, [item for path in paths for item in read_items(path, NOW)], now=NOW)
    streamed = open_database(tmp_path / "streamed.db")
    with sorted_items(paths, NOW, run_items=50) as items:
        totals = Pipeline().process_stream(streamed, items, now=NOW, batch=60)
    assert _outcome(whole) == _outcome(streamed)
    assert totals.received == totals.new_items == whole.execute("SELECT count(*) FROM items").fetchone()[0]
    assert totals.new_stories == whole.execute("SELECT count(*) FROM stories").fetchone()[0]
    assert streamed.execute("SELECT count(*) FROM clusterer_snapshot").fetchone()[0] == 1  # for the next start


def test_json_lines_are_read_a_line_at_a_time_and_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"title": "First", "published": "2024-12-06T10:00:00Z"}\n'
                     b'{"title": "Second"}\n{"title": "Bad \xff"}\n')
    stream = iter_items(path, NOW)
    assert next(stream).title == "First"  # given before the rest of the file is read
    assert next(stream).title == "Second"
    with pytest.raises(BadInputError, match=r"items.jsonl: not UTF-8 text \(byte 94\)"):
        next(stream)
    with pytest.raises(BadInputError, match="no such file"), sorted_items([tmp_path / "missing.jsonl"], NOW):
        pass
