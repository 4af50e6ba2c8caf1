"""Entries that give no item are counted with their reason, and every report of them words them alike."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.monitor.model import skipped_note
from bot.monitor.parse import parse_feed
from tests.test_cli import entries_rss

NOW = datetime(2024, 12, 6, 12, 0, tzinfo=UTC)


def test_skipped_note_words_one_reason_or_several() -> None:
    assert skipped_note({}) == "0 skipped"
    assert skipped_note({"no title": 0}) == "0 skipped"
    assert skipped_note({"no title": 3}) == "3 skipped: no title"
    assert skipped_note({"no title": 2, "over the 1,000-entry limit": 1500}) == (
        "1,502 skipped: 2 no title, 1,500 over the 1,000-entry limit")


def test_entries_beyond_the_cap_are_counted_as_skipped_with_the_reason() -> None:
    document = entries_rss(("Port reopens", "a"), (None, "b"), ("Rail strike ends", "c"), ("Dam holds", "d")).encode()
    parsed = parse_feed(document, scope="feed:1", now=NOW, max_items=3)
    assert len(parsed.items) == 2
    assert parsed.skipped_reasons == {"over the 3-entry limit": 1, "no title or text": 1}
