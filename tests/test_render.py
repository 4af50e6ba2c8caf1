"""Messages as Telegram will show them: feed text escaped, within the length limit, with a plain twin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.delivery.render import (
    MAX_MESSAGE_CHARS,
    Rendered,
    fit,
    render_alert,
    render_batch,
    render_feeds,
    render_story,
)
from bot.monitor.model import StoredItem
from storage import feeds as feed_store
from storage.alerts import PendingAlert
from storage.db import open_database
from storage.stories import Member, StoredContradiction, Story, StoryTimeline
from tests.fakebotapi import parse_html

WHEN = datetime(2024, 12, 6, 9, 30, tzinfo=UTC)


def alert(title: str, *, kind: str = "new_story", source: str = "Levant <Wire> & Co", number: int = 1,
          story: int = 1, zone: str | None = None) -> PendingAlert:
    item = StoredItem(number, title, f"https://example.com/a?x=1&y={number}", "", source, WHEN)
    return PendingAlert(number, 42, "private", zone, kind, story, title, 2, item, None, 0, None)


def test_feed_text_is_escaped_and_the_plain_twin_reads_the_same() -> None:
    rendered = render_alert(alert("Stocks <b>soar</b> & bonds fall"))
    assert "&lt;b&gt;soar&lt;/b&gt; &amp; bonds" in rendered.html
    assert "Levant &lt;Wire&gt; &amp; Co" in rendered.html
    assert 'href="https://example.com/a?x=1&amp;y=1"' in rendered.html
    assert "Stocks <b>soar</b> & bonds fall (https://example.com/a?x=1&y=1)" in rendered.plain
    assert [b.data for b in rendered.buttons] == ["timeline:1", "mute:1"]  # followed already: no Follow


def test_times_are_shown_in_the_chats_zone() -> None:
    assert "6 Dec 10:30 CET" in render_alert(alert("Vote delayed", zone="Europe/Berlin")).html
    assert "6 Dec 09:30 UTC" in render_alert(alert("Vote delayed", zone="Not/AZone")).html


def test_a_burst_becomes_one_message_within_the_limit() -> None:
    burst = [alert(f"Report number {n} " + "x" * 250, kind="development", number=n, story=n % 3) for n in range(50)]
    rendered = render_batch(burst)
    assert rendered.html.startswith("📰 <b>50 new reports</b> in 3 stories")
    assert len(rendered.plain) <= MAX_MESSAGE_CHARS
    assert "more" in rendered.plain.splitlines()[-1]


def test_fit_drops_whole_blocks_and_counts_them() -> None:
    blocks = [f"<b>block {n}</b> " + "y" * 1000 for n in range(10)]
    text = fit(blocks)
    assert text.endswith("… and 6 more")
    assert text.count("<b>") == text.count("</b>") == 4
    assert Rendered(text).plain.count("block") == 4


def test_the_feed_list_says_which_feeds_gave_nothing_and_why(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    untitled = feed_store.add_feed(db, "https://micro.example/rss", WHEN)
    read = feed_store.add_feed(db, "https://wire.example/rss", WHEN)
    feed_store.add_feed(db, "https://new.example/rss", WHEN)
    feed_store.record_success(db, untitled.id, now=WHEN, next_poll_at=WHEN, etag=None, last_modified=None,
                              items=0, skipped={"no title": 3})
    feed_store.record_success(db, read.id, now=WHEN, next_poll_at=WHEN, etag=None, last_modified=None, items=2,
                              skipped={"no title": 1})
    # A 304 afterwards leaves what the last document read gave.
    feed_store.record_success(db, untitled.id, now=WHEN, next_poll_at=WHEN, etag=None, last_modified=None)
    lines = render_feeds(feed_store.list_feeds(db), ZoneInfo("UTC")).plain.splitlines()
    db.close()
    assert "1. micro.example · all skipped (3 skipped: no title) · last read" in lines[1]
    assert "2. wire.example · ok (1 skipped: no title) · last read" in lines[3]
    assert "3. new.example · not read yet · last read never" in lines[5]


def item(number: int, title: str, source: str) -> StoredItem:
    return StoredItem(number, title, f"https://{source.lower()}.example/{number}", "", source,
                      WHEN + timedelta(hours=number))


def test_a_timeline_names_each_disputed_claim_once_and_the_weaker_ones_apart() -> None:
    claims = [item(n, f"Mayor Alpha closes library number {n} <b>&", "Ledger") for n in range(1, 7)]
    denials = [item(10 + n, f"Mayor Alpha denies closing library {n}", "Courier") for n in range(1, 7)]
    restated = item(20, "Mayor Alpha denies closing the first library at all", "Herald")
    contradictions = [
        StoredContradiction(n, 1, "denial", claims[n - 1], denials[n - 1], "denial of 'closing'", score, WHEN,
                            claim_id=n, confident=n == 1)
        for n, score in zip(range(1, 7), [0.9, 0.6, 0.6, 0.6, 0.6, 0.6], strict=True)
    ] + [StoredContradiction(7, 1, "denial", claims[0], restated, "denial of 'closing'", 0.9, WHEN, claim_id=1)]
    members = [Member(report, 0.5, ()) for report in [*claims, *denials, restated]]
    story = Story(1, "Mayor Alpha closes libraries", WHEN, WHEN + timedelta(hours=20), None, len(members), 3, 7, 1)

    rendered = render_story(StoryTimeline(story, members, contradictions), ZoneInfo("UTC"))
    text, _ = parse_html(rendered.html)  # Telegram's HTML rules: the fake refuses what Telegram would
    disputed, possibly = text.split("❔ Possibly disputed")
    assert disputed.count("— reported by Ledger (") == 1  # the claim once, however often it was denied
    assert "denied by Courier (6 Dec 20:30 UTC)" in disputed and "<b>&" in disputed
    assert possibly.count("— reported by Ledger (") == 3 and "… and 2 more claims" in possibly
    reports = text.split("more claims")[1]
    assert reports.count("⚠️ ") == 2 and reports.count("❔ ") == 5  # each denying report marked as judged
