from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.monitor.normalize import (
    canonical_url,
    clean_text,
    dedup_key,
    parse_iso_datetime,
    sane_published,
    stable_hash,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://Example.COM:443/a?utm_source=x&b=2&a=1#frag", "https://example.com/a?a=1&b=2"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=abc&gclid=1&id=3", "http://example.com:8080/x?id=3"),
        ("https://example.com/x?UTM_Campaign=y", "https://example.com/x"),
        ("ftp://example.com/x", None),
        ("javascript:alert(1)", None),
        ("", None),
        ("http://[::1]:99/x", "http://[::1]:99/x"),
        ("http://exa mple.com:abc/", None),
    ],
)
def test_canonical_url(raw: str, canonical: str | None) -> None:
    assert canonical_url(raw) == canonical


def test_relative_links_resolve_against_the_base() -> None:
    assert canonical_url("../b?x=1", base="https://example.com/feeds/a/rss") == "https://example.com/feeds/b?x=1"


def test_a_relative_link_that_cannot_be_joined_is_no_link() -> None:
    # urljoin raises on a bracket that opens no IPv6 host; a damaged feed must not stop on it.
    assert canonical_url("//[wire/story", base="https://example.com/feeds/a/rss") is None


def test_clean_text_strips_markup_and_controls() -> None:
    assert clean_text("<p>Hello&nbsp;<b>world</b></p><style>p{}</style>\x00\x07 !", 100) == "Hello world !"
    assert clean_text("A &amp; B &lt;C&gt;", 100) == "A & B <C>"
    assert clean_text(None, 100) == ""


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        # An element left open that is not a script or a style is only its tag (feedparser's own result).
        ('safe<object data="movie.swf"> description', "safe description"),
        ("a <iframe src=x> c", "a c"),
        ("a <title>t c", "a t c"),
        # Closed, such elements go with their content; a script or style left open hides the rest.
        ("a <object>fallback</object> c <OBJECT>x</Object > d", "a c d"),
        ("before <script>alert(1) and everything after", "before"),
        ("before <style>p { color: red } after", "before"),
        # Many open elements: every one is only its tag.
        ("<object> a <object> b <title> c <object>", "a b c"),
    ],
)
def test_clean_text_of_elements_left_open(markup: str, text: str) -> None:
    assert clean_text(markup, 500) == text


def test_clean_text_keeps_right_to_left_and_emoji() -> None:
    assert clean_text("إيران تنفي 🚨", 100) == "إيران تنفي 🚨"


def test_clean_text_cuts_long_text_at_a_word() -> None:
    text = clean_text("word " * 1000, 50)
    assert len(text) <= 50 and text.endswith("word…")


def test_stable_hash_is_128_bits_and_separates_parts() -> None:
    assert len(stable_hash("a")) == 32
    assert stable_hash("ab", "c") != stable_hash("a", "bc")


def test_dedup_key_prefers_guid_then_link_then_title() -> None:
    assert dedup_key(guid="g1", link="https://a/1", title="T", scope="f").startswith("guid:")
    assert dedup_key(guid=None, link="https://a/1", title="T", scope="f").startswith("link:")
    assert dedup_key(guid=None, link=None, title="T", scope="f").startswith("title:")
    assert dedup_key(guid=None, link=None, title="T", scope="f") == dedup_key(
        guid=None, link=None, title="t", scope="f"
    )
    assert dedup_key(guid=None, link=None, title="T", scope="f") != dedup_key(
        guid=None, link=None, title="T", scope="g"
    )


def test_sane_published() -> None:
    now = datetime(2024, 12, 8, tzinfo=UTC)
    assert sane_published(None, now) == now
    assert sane_published(now - timedelta(days=3), now) == now - timedelta(days=3)
    assert sane_published(now + timedelta(days=30), now) == now
    assert sane_published(datetime(2024, 12, 7, 12), now) == datetime(2024, 12, 7, 12, tzinfo=UTC)


def test_parse_iso_datetime() -> None:
    assert parse_iso_datetime("2014-08-01T22:39:49.491000Z") == datetime(2014, 8, 1, 22, 39, 49, 491000, tzinfo=UTC)
    assert parse_iso_datetime("2024-12-07T20:30:00+02:00") == datetime(2024, 12, 7, 18, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_iso_datetime("yesterday")
