"""Properties of parse_feed over generated documents: whatever the bytes, it either returns items fit to store or
raises its documented NotAFeedError; and the text of well-formed feeds comes through as written."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.monitor.normalize import (
    EARLIEST,
    MAX_FUTURE,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
)
from bot.monitor.parse import NotAFeedError, ParsedFeed, parse_feed
from tests.feedserver import feed_file

NOW = datetime(2024, 12, 8, 12, 0, tzinfo=UTC)
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
LINK = re.compile(r"https?://[^\s\"<>\\^`{|}]+")


def safe_link(link: str) -> bool:
    """An http(s) URL with nothing that could break out of an attribute, hide, or reorder the text around it."""
    return bool(LINK.fullmatch(link)) and all(
        unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp") for char in link
    )


def parse_or_refuse(content: bytes, headers: dict[str, str] | None = None) -> ParsedFeed | None:
    """The property every document must have: items fit to store, or NotAFeedError with a plain reason."""
    try:
        feed = parse_feed(content, url="https://wire.example/rss", headers=headers, scope="feed:1", now=NOW)
    except NotAFeedError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    for item in feed.items:
        assert item.title and item.title == item.title.strip()
        assert len(item.title) <= MAX_TITLE_CHARS and len(item.summary) <= MAX_SUMMARY_CHARS
        for text in (item.title, item.summary, item.source):
            assert not CONTROL.search(text), text
            text.encode("utf-8")  # storable: no lone surrogates
        assert item.link is None or safe_link(item.link), item.link
        assert item.published.tzinfo is not None and EARLIEST <= item.published <= NOW + MAX_FUTURE
        assert item.key.startswith(("guid:", "link:", "title:"))
    return feed


# Text of any script, with the characters a feed uses to attack or confuse: controls, markup, entities,
# right-to-left marks and overrides, emoji with joiners. (No lone surrogates: no UTF-8 document can hold one.)
any_text = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["<", ">", "&", ";", "#", '"', "'", "\x00", "\x1b", "\u200f", "\u202e", "\u200d", "🚨"]),
        st.sampled_from(["<script>", "</script>", "<b>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;",
                         "&#xD800;", "&#x110000;", "&#99999999999;", "&nbsp;", "&lol;"]),
    ),
    max_size=16,
).map("".join)
# Text as people write it, in any script: what must come through unchanged (bar white space and NFC).
plain_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
                  exclude_characters="<&"),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip())
links = st.one_of(
    st.builds(
        "{}://{}.example/{}".format,
        st.sampled_from(["http", "https", "HTTPS", "javascript", "ftp", "file"]),
        st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    ),
    any_text,
)
dates = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)).map(
        lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    ),
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()),
    st.sampled_from(["Sat, 00 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "2024-13-45T25:61:61Z",
                     "Tue, 01 Jan 99999999999 00:00:00 GMT", "", "yesterday"]),
    any_text,
)


# What XML 1.0 allows in a document; the rest makes it ill-formed (and read by feedparser's lenient parser).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def element(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"


def xml_only(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strategy.map(lambda value: NOT_XML.sub("", value))


def entries_of(draw: st.DrawFn, text: st.SearchStrategy[str]) -> list[tuple[str | None, ...]]:
    """Title (from `text`), link, summary, date and id of up to 5 entries. With a title strategy other than
    `any_text` the document is meant to be well-formed: what XML does not allow is left out of every field."""
    wellformed = text is not any_text
    other, link, date = (xml_only(s) if wellformed else s for s in (any_text, links, dates))
    return draw(st.lists(
        st.tuples(st.none() | text, st.none() | link, st.none() | other, st.none() | date, st.none() | other),
        max_size=5,
    ))


# An entry's title and summary, as written into a generated document.
Entry = tuple[str | None, str | None]


@st.composite
def rss_documents(draw: st.DrawFn, text: st.SearchStrategy[str] = any_text) -> tuple[bytes, list[Entry]]:
    entries = entries_of(draw, text)
    items = "".join(
        f"<item>{element('title', title)}{element('link', link)}{element('description', summary)}"
        f"{element('pubDate', date)}{element('guid', guid)}</item>"
        for title, link, summary, date, guid in entries
    )
    channel = draw(any_text if text is any_text else xml_only(any_text))
    document = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{element("title", channel)}'
    return (document + f"{items}</channel></rss>").encode("utf-8", "replace"), [entry[:3:2] for entry in entries]


@st.composite
def atom_documents(draw: st.DrawFn, text: st.SearchStrategy[str] = any_text) -> tuple[bytes, list[Entry]]:
    entries = entries_of(draw, text)
    items = "".join(
        f"<entry>{element('title', title)}"
        + ("" if link is None else f"<link rel='alternate' href={quoteattr(link)}/>")
        + f"{element('summary', summary)}{element('updated', date)}{element('id', entry_id)}</entry>"
        for title, link, summary, date, entry_id in entries
    )
    document = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
    return (document + f"{items}</feed>").encode("utf-8", "replace"), [entry[:3:2] for entry in entries]


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_parse_or_are_refused(content: bytes) -> None:
    parse_or_refuse(content)


@FAST
@given(st.binary(max_size=512), st.sampled_from([b"", b'<?xml version="1.0"?>', b"\xef\xbb\xbf", b"\xff\xfe"]))
def test_random_bytes_inside_a_feed_parse_or_are_refused(noise: bytes, prolog: bytes) -> None:
    content = prolog + b'<rss version="2.0"><channel><title>T</title><item><title>A' + noise + b"</title></item>"
    parse_or_refuse(content)


@FAST
@given(st.data())
def test_damaged_real_feeds_parse_or_are_refused(data: st.DataObject) -> None:
    content = bytearray(feed_file(data.draw(st.sampled_from(["rss20.xml", "atom10.xml", "rss10.rdf"]))))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(content)))
        cut = data.draw(st.integers(0, 40))
        content[at : at + cut] = data.draw(st.binary(max_size=16))
    parse_or_refuse(bytes(content), headers=data.draw(st.sampled_from([
        {}, {"Content-Type": "text/xml"}, {"Content-Type": "application/rss+xml; charset=iso-8859-1"},
        {"Content-Type": "text/html; charset=utf-16"},
    ])))


@FAST
@given(st.one_of(rss_documents(), atom_documents()))
def test_generated_feeds_parse_or_are_refused(document: tuple[bytes, list[str | None]]) -> None:
    content, _entries = document
    parse_or_refuse(content)


def as_stored(title: str) -> str:
    """A title as it should be stored: white space folded, NFC. Also feedparser's own repair of UTF-8 that was
    read as Latin-1 ("Ã©" becomes "é"), which can make an invisible character, taken out like any other."""
    with contextlib.suppress(UnicodeError):
        title = title.encode("iso-8859-1").decode("utf-8")
    return unicodedata.normalize("NFC", " ".join(CONTROL.sub(" ", title).split()))


@FAST
@given(st.one_of(rss_documents(plain_text), atom_documents(plain_text)))
def test_plain_titles_of_well_formed_feeds_come_through_as_written(document: tuple[bytes, list[Entry]]) -> None:
    content, entries = document
    feed = parse_or_refuse(content)
    assert feed is not None
    # Every entry with a title is kept, in the document's order, its title unchanged; one without is named by
    # its summary (feedparser reads a summary as HTML, so its exact text is not foreseen here) or skipped; an
    # entry with a title is never skipped.
    titled = [as_stored(title or "") for title, _summary in entries]
    assert len(feed.items) + feed.skipped == len(entries)
    assert feed.skipped <= titled.count("")
    remaining = iter(item.title for item in feed.items)
    assert all(title in remaining for title in titled if title)  # in order, each once
    assert all(item.title for item in feed.items)


@FAST
@given(st.integers(0, 10**6), st.booleans())
def test_any_numeric_character_reference_is_read(number: int, hexadecimal: bool) -> None:
    reference = f"&#x{number:X};" if hexadecimal else f"&#{number};"
    content = f'<rss version="2.0"><channel><item><title>A {reference} B</title></item></channel></rss>'.encode()
    feed = parse_or_refuse(content)
    assert feed is not None and feed.items[0].title.startswith("A")


def test_published_times_never_pass_the_future_limit() -> None:
    later = (NOW + MAX_FUTURE + timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    content = f'<rss version="2.0"><channel><item><title>A</title><pubDate>{later}</pubDate></item></channel></rss>'
    assert parse_feed(content.encode(), url=None, scope="s", now=NOW).items[0].published == NOW
