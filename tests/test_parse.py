"""Parsing real feed files: the formats we must read, and the broken documents the web serves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.monitor.parse import NotAFeedError, parse_feed
from tests.feedserver import feed_file

NOW = datetime(2024, 12, 8, 0, 0, tzinfo=UTC)


def parse(name: str, url: str | None = "https://levantwire.example/rss.xml", **kw: object):
    return parse_feed(feed_file(name), url=url, scope="feed:1", now=NOW, **kw)


def test_rss20() -> None:
    feed = parse("rss20.xml")
    assert feed.version == "rss20"
    assert feed.title == "Levant Wire"
    first, second, third = feed.items
    assert first.title == "Iran begins evacuating military personnel from Syria - Levant Wire"
    # Tracking parameters and the fragment go, the rest of the query stays.
    assert first.link == "https://levantwire.example/2024/12/iran-evacuates?id=7"
    assert (
        first.summary == "Iran has begun evacuating its military commanders and personnel from Syria, officials said."
    )
    assert first.published == datetime(2024, 12, 6, 9, 30, tzinfo=UTC)
    assert first.guid == "lw-2024-1206-001"
    assert first.source == "Levant Wire"
    # Entities decoded, relative link resolved against the feed's address, offset applied.
    assert second.title == "Rebels reach the outskirts of Homs & Hama"
    assert second.link == "https://levantwire.example/2024/12/rebels-homs"
    assert second.published == datetime(2024, 12, 6, 10, 0, tzinfo=UTC)
    # No GUID: the identity is the canonical link.
    assert third.key.startswith("link:")
    assert len({item.key for item in feed.items}) == 3


def test_rss10() -> None:
    feed = parse("rss10.rdf", url="https://oldwire.example/index.rdf")
    assert feed.version == "rss10"
    assert [item.title for item in feed.items] == [
        "Finance minister resigns after budget row",
        "Finance minister has not resigned, spokesman says",
    ]
    assert feed.items[1].published == datetime(2024, 12, 5, 8, 30, tzinfo=UTC)


def test_atom10() -> None:
    feed = parse("atom10.xml", url="https://tehrandesk.example/atom")
    assert feed.version == "atom10"
    assert feed.title == "Tehran Desk"
    denial, support = feed.items
    assert denial.summary == "The foreign ministry spokesman dismissed reports of an evacuation."
    assert support.title == "Tehran vows support for Damascus"
    # No <published>: the <updated> time is used.
    assert support.published == datetime(2024, 12, 7, 19, 0, tzinfo=UTC)


XML_BASE_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/desk/">
  <title>Tehran Desk</title>
  <link href="./"/>
  <entry><title>Spokesman denies evacuation</title><link href="2024/12/denial"/><id>tag:td,1</id></entry>
  <entry xml:base="https://mirror.example/wire/"><title>Tehran vows support</title><link href="support"/>
    <id>tag:td,2</id></entry>
  <entry xml:base="world/"><title>Iran recalls envoy</title><link href="envoy"/><id>tag:td,3</id></entry>
</feed>"""

UTF16_RELATIVE_RSS = """<?xml version="1.0" encoding="utf-16"?>
<rss version="2.0"><channel><title>Levant Wire</title><link>/</link>
<item><title>Rebels reach Homs</title><link>2024/12/homs?utm_source=rss</link></item>
<item><title>Oil steady</title><link>https://other.example/oil</link></item>
</channel></rss>""".encode("utf-16")


@pytest.mark.parametrize("headers", [None, {"Content-Location": "https://tehrandesk.example/feeds/atom"}])
def test_xml_base_is_honoured_relative_to_the_documents_address(headers: dict[str, str] | None) -> None:
    feed = parse_feed(
        XML_BASE_ATOM, url="https://tehrandesk.example/feeds/atom", headers=headers, scope="feed:1", now=NOW
    )
    assert feed.site_url == "https://tehrandesk.example/desk/"
    assert [item.link for item in feed.items] == [
        "https://tehrandesk.example/desk/2024/12/denial",
        "https://mirror.example/wire/support",
        "https://tehrandesk.example/desk/world/envoy",
    ]


@pytest.mark.parametrize(
    ("headers", "base"),
    [
        (None, "https://levantwire.example/news/"),
        ({"Content-Location": "/archive/"}, "https://levantwire.example/archive/"),
    ],
)
def test_relative_links_resolve_against_the_address_the_server_gives(headers: dict[str, str] | None, base: str) -> None:
    feed = parse_feed(
        UTF16_RELATIVE_RSS, url="https://levantwire.example/news/rss.xml", headers=headers, scope="feed:1", now=NOW
    )
    assert feed.site_url == "https://levantwire.example/"
    assert [item.link for item in feed.items] == [base + "2024/12/homs", "https://other.example/oil"]


@pytest.mark.parametrize(
    ("body", "guid", "link"),
    [
        # A permalink GUID without a scheme is resolved like a link, and so becomes the item's identity.
        (
            b'<rss version="2.0"><channel><title>Echo Wire</title><item><title>Minister resigns</title>'
            b"<guid>2024/12/resigns</guid></item></channel></rss>",
            "https://echo.example/feeds/2024/12/resigns",
            "https://echo.example/feeds/2024/12/resigns",
        ),
        # feedparser reads an Atom id as a permalink GUID.
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><entry><title>Minister resigns</title>'
            b'<id>story-17</id><link href="/news/17"/></entry></feed>',
            "https://echo.example/feeds/story-17",
            "https://echo.example/news/17",
        ),
        # Broken XML: the lenient parser does not see the damaged isPermaLink attribute.
        (
            b'<rss version="2.0"><channel><title>Echo Wire</title><item><title>Minister resigns</title>'
            b'<link>https://echo.example/a</link><guid\\ isPermaLink="false">echo-1</guid></item></channel></rss>',
            "https://echo.example/feeds/echo-1",
            "https://echo.example/a",
        ),
        # Not a permalink, or with a scheme of its own: left as it is.
        (
            b'<rss version="2.0"><channel><title>Echo Wire</title><item><title>Minister resigns</title>'
            b'<link>a</link><guid isPermaLink="false">echo-1</guid></item><item><title>Talks resume</title>'
            b"<link>b</link><guid>tag:echo.example,2024:2</guid></item></channel></rss>",
            "echo-1",
            "https://echo.example/feeds/a",
        ),
    ],
)
def test_identifiers_resolve_as_feedparser_resolves_them(body: bytes, guid: str, link: str) -> None:
    item = parse_feed(body, url="https://echo.example/feeds/rss.xml", scope="feed:1", now=NOW).items[0]
    assert (item.guid, item.link) == (guid, link)
    assert item.key.startswith("link:" if guid.startswith("https://") else "guid:")


def test_the_outlet_name_can_be_given() -> None:
    assert {item.source for item in parse("rss20.xml", source="LW").items} == {"LW"}


def test_truncated_xml_keeps_what_it_could_read_and_warns() -> None:
    feed = parse("truncated.xml")
    assert feed.items[0].title.startswith("Iran begins evacuating")
    assert all(item.title for item in feed.items)
    assert any(w.startswith("XML error at line") for w in feed.warnings)


def test_wrong_declared_encoding_still_reads_the_text() -> None:
    feed = parse("wrong-encoding.xml", url="https://cafe.example/rss")
    assert feed.items[0].title == "Président français en visite à Beyrouth"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not a feed: the response was empty"),
        (b"  \n ", "not a feed: the response was empty"),
        (feed_file("plain-page.html"), "not a feed: got an HTML page"),
        (b'{"items": []}', "not a feed: the response is not XML"),
        (b'<?xml version="1.0"?>\n<rss version="2.0"><chann', "XML error at line 2"),
        (b'<?xml version="1.0"?>\n<catalog><book>Dune</book></catalog>', "not a feed: no RSS or Atom elements"),
    ],
)
def test_documents_that_are_not_feeds(body: bytes, reason: str) -> None:
    with pytest.raises(NotAFeedError) as caught:
        parse_feed(body, url="https://example.com/feed", scope="feed:1", now=NOW)
    assert str(caught.value).startswith(reason)


def _rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def test_entries_with_neither_title_nor_text_are_skipped_with_their_reason() -> None:
    feed = parse_feed(
        _rss(
            "<item><link>https://a.example/1</link></item><item><title>  </title></item>"
            "<item><title>Kept</title></item>"
        ),
        url="https://a.example/rss",
        scope="feed:1",
        now=NOW,
    )
    assert [item.title for item in feed.items] == ["Kept"]
    assert feed.skipped == 2
    assert feed.skipped_reasons == {"no title or text": 2}


@pytest.mark.parametrize(
    "date",
    ["Sat, 00 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "not a date", "Mon, 01 Jan 1900 00:00:00 GMT"],
)
def test_unbelievable_dates_fall_back_to_first_seen(date: str) -> None:
    feed = parse_feed(_rss(f"<item><title>A</title><pubDate>{date}</pubDate></item>"), url=None, scope="s", now=NOW)
    assert feed.items[0].published == NOW


def test_items_without_date_are_dated_when_first_seen() -> None:
    feed = parse_feed(_rss("<item><title>A</title></item>"), url=None, scope="s", now=NOW)
    assert feed.items[0].published == NOW


def test_guid_identity_is_scoped_to_the_feed() -> None:
    doc = _rss("<item><title>A</title><guid isPermaLink='false'>42</guid></item>")
    one = parse_feed(doc, url=None, scope="feed:1", now=NOW).items[0]
    two = parse_feed(doc, url=None, scope="feed:2", now=NOW).items[0]
    assert one.key != two.key


def test_permalink_guid_is_an_identity_shared_across_feeds() -> None:
    doc = _rss("<item><title>A</title><guid>https://a.example/story?utm_source=x</guid></item>")
    one = parse_feed(doc, url=None, scope="feed:1", now=NOW).items[0]
    two = parse_feed(doc, url=None, scope="feed:2", now=NOW).items[0]
    assert one.key == two.key


def test_html_and_script_in_titles_become_plain_text() -> None:
    feed = parse_feed(
        _rss("<item><title>&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;claims</title></item>"),
        url=None,
        scope="s",
        now=NOW,
    )
    assert feed.items[0].title == "Bold & claims"
