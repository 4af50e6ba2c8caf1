"""Work over untrusted text grows linearly with it: a feed can only make the bot read it, not think about it for
hours. Growth is measured, not time: the CPU time of one input against that of an input eight times as long
(linear work gives about 8, quadratic work 64), each the best of a few runs so that a busy machine slows both."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.logs import mask_credentials
from bot.monitor.cluster import item_words
from bot.monitor.contradiction import analyze_text
from bot.monitor.normalize import canonical_url
from bot.monitor.parse import NotAFeedError, _identifiers, parse_feed
from bot.monitor.terms import normalize_headline, tokenize

NOW = datetime(2024, 12, 8, 12, 0, tzinfo=UTC)
GROWTH = 8
# Well above linear (8) and well below quadratic (64), for the noise of a shared machine.
MAX_RATIO = 24.0
ITEM = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title><description>'


def cpu_seconds(work: Callable[[], object]) -> float:
    """The least CPU time of three runs of `work`, each repeated until it has taken 20 ms."""
    best = float("inf")
    for _ in range(3):
        start, runs = time.process_time(), 0
        while True:
            work()
            runs += 1
            spent = time.process_time() - start
            if spent >= 0.02:
                break
        best = min(best, spent / runs)
    return best


def growth(function: Callable[[bytes | str], object], make: Callable[[int], bytes | str], size: int) -> float:
    small, large = make(size), make(size * GROWTH)
    return cpu_seconds(lambda: function(large)) / cpu_seconds(lambda: function(small))


def parse_or_refuse(document: bytes) -> None:
    with contextlib.suppress(NotAFeedError):
        parse_feed(document, url="https://wire.example/rss", scope="feed:1", now=NOW)


# Repeated fragments that open a construct and never close it: each later one could make a backtracking
# expression rescan the rest of the document.
HOSTILE_DOCUMENTS = {
    "<id ": b"", "<guid ": ITEM, "<x:id ": b"", "<a ": ITEM, "<a:": b"", "<": b"", "&#": ITEM, "&a": ITEM,
    '<!ENTITY a "': b"", "base ": ITEM, "<![CDATA[": ITEM,
}


@pytest.mark.parametrize("fragment", list(HOSTILE_DOCUMENTS))
def test_parsing_a_hostile_document_grows_linearly(fragment: str) -> None:
    head, unit = HOSTILE_DOCUMENTS[fragment], fragment.encode()
    ratio = growth(parse_or_refuse, lambda size: head + unit * (size // len(unit)), 8_000)
    assert ratio < MAX_RATIO, f"{fragment!r} repeated: {ratio:.1f} times the time for {GROWTH} times the text"


TEXT_FUNCTIONS: dict[str, Callable[[str], object]] = {
    "normalize_headline": lambda text: normalize_headline(text, text[:200]),
    "tokenize": tokenize,
    "item_words": lambda text: item_words(text, text, text[:200]),
    "analyze_text": lambda text: analyze_text(text, text),
    "canonical_url": lambda text: canonical_url("https://x.example/" + text + "?" + text.replace(" ", "&")),
    "mask_credentials": lambda text: mask_credentials(text + "@"),
}


@pytest.mark.parametrize("name", list(TEXT_FUNCTIONS))
# "ab Cd ": sentence case with a name in every sentence, where each capital asks what comes before it.
@pytest.mark.parametrize("unit", ["(", "- ", " -A", "U.S.", "1.1.", "...", "'s ", "a.b.", "a://", "http://u:p",
                                  "ab Cd "])
def test_reading_hostile_text_grows_linearly(name: str, unit: str) -> None:
    ratio = growth(TEXT_FUNCTIONS[name], lambda size: unit * (size // len(unit)), 500)
    assert ratio < MAX_RATIO, f"{name} of {unit!r} repeated: {ratio:.1f} times the time for {GROWTH} times the text"


# The expression `_identifiers` replaced, kept here as the definition of what it must find.
QUADRATIC_IDENTIFIER = re.compile(
    rb"<(?:[\w.-]+:)?(?:guid|id)\b([^>]*)>\s*(?:<!\[CDATA\[\s*)?([^<\s]*)", re.IGNORECASE
)
identifier_soup = st.lists(
    st.sampled_from([b"<", b">", b"id", b"ID", b"guid", b"x:", b"a.b-c:", b":", b" ", b"\n", b"<![CDATA[", b"]]>",
                     b"isPermaLink='false'", b'ispermalink="true"', b"http:", b"story-1", b"=", b"idx", b"</id>"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(identifier_soup)
def test_identifiers_are_what_the_expression_found(data: bytes) -> None:
    assert list(_identifiers(data)) == QUADRATIC_IDENTIFIER.findall(data)
