"""Hostile and broken feeds through the real poll cycle: loopback HTTP server, real fetcher, parser, pipeline and
SQLite file. Each attack must end in bounded time and memory (bounded by the code's own limits), a bad feed is
marked failing with a plain reason, the well-behaved feed polled in the same cycle comes through untouched, and
nothing unsafe is stored."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import PollingSettings
from bot.monitor.fetch import Fetcher
from bot.monitor.normalize import MAX_SUMMARY_CHARS, MAX_TITLE_CHARS
from bot.monitor.parse import MAX_ITEMS, parse_feed
from bot.monitor.pipeline import Pipeline
from bot.monitor.poll import FeedPoll, poll_cycle
from storage import feeds as feed_store
from storage.db import AsyncDatabase, to_text
from tests.conftest import Clock
from tests.feedserver import FeedServer, feed_file

ENTITY_REFUSAL = "refused: the document's XML entities would expand to over 1,000,000 characters"
# What must never be stored: control characters (C0 but tab/newline/return, DEL, C1), zero-width and line
# separators, bidirectional overrides, embeddings and isolates, byte order marks, lone surrogates.
CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
SAFE_LINK = re.compile(r"https?://[^\s\"<>\\^`{|}]+")


def hostile(name: str) -> bytes:
    return feed_file(f"hostile/{name}")


def rss(items: str, title: str = "Hostile Wire") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://hostile.example/</link>{items}</channel></rss>"
    ).encode()


def stored_items(adb: AsyncDatabase) -> list[dict[str, str | None]]:
    cursor = adb.db.execute("SELECT title, summary, link, guid, source, published FROM items ORDER BY id")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assert_nothing_unsafe_stored(adb: AsyncDatabase) -> None:
    for item in stored_items(adb):
        assert item["title"], item
        assert len(item["title"]) <= MAX_TITLE_CHARS and len(item["summary"]) <= MAX_SUMMARY_CHARS
        for text in (item["title"], item["summary"], item["source"]):
            assert not CONTROL.search(text), text
            assert "<script" not in text.lower(), text
        assert item["link"] is None or SAFE_LINK.fullmatch(item["link"]), item["link"]


async def cycle(
    feed_server: FeedServer, adb: AsyncDatabase, fetcher: Fetcher, polling: PollingSettings, clock: Clock,
    **urls: str,
) -> dict[str, FeedPoll]:
    """One poll cycle over the given feeds and a well-behaved one, which must come through untouched."""
    control = feed_server.route("/control", feed_file("rss20.xml"))
    await adb.run(feed_store.add_missing_feeds, [(url, None) for url in [*urls.values(), control]], clock())
    results = {result.url: result for result in await poll_cycle(adb, fetcher, Pipeline(), polling, clock=clock)}
    assert results[control].status == "new", results[control]
    assert len(results[control].new_items) == 3
    return {name: results[url] for name, url in urls.items()}


async def assert_failed(adb: AsyncDatabase, result: FeedPoll, reason: str) -> None:
    assert (result.status, result.error) == ("failed", reason)
    [feed] = [feed for feed in await adb.run(feed_store.list_feeds) if feed.url == result.url]
    assert (feed.last_error, feed.consecutive_failures) == (reason, 1)


def entity_blowup(encoding: str = "utf-8") -> bytes:
    """One flat entity of 20,000 characters used 3,000 times: 120 MB of text from 80 kB. feedparser keeps flat
    entity declarations and expands them: parsing this took 380 MB before the expansion was limited."""
    uses = "&big;" * 3_000
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE rss [\n<!ENTITY big "{"a" * 20_000}">\n]>\n'
        f'<rss version="2.0"><channel><title>Blowup</title><item><title>T {uses}</title>'
        f"<description>{uses}</description></item></channel></rss>"
    ).encode(encoding)


async def test_entity_expansion_attacks_are_refused_in_bounded_memory(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    laughs = feed_server.route("/laughs", hostile("billion-laughs.xml"))
    blowup = feed_server.route("/blowup", entity_blowup())
    # In UTF-16 no byte-level look at the document would see the declaration: it is read as feedparser reads it.
    blowup16 = feed_server.route("/blowup16", entity_blowup("utf-16"), content_type="application/xml")
    assert len(entity_blowup("utf-16")) < polling.max_response_bytes

    tracemalloc.start()
    try:
        results = await cycle(feed_server, adb, fetcher, polling, clock, laughs=laughs, blowup=blowup,
                              blowup16=blowup16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000, f"peak {peak:,} bytes"
    for name in ("laughs", "blowup", "blowup16"):
        await assert_failed(adb, results[name], ENTITY_REFUSAL)
    assert {item["source"] for item in stored_items(adb)} == {"Levant Wire"}
    assert_nothing_unsafe_stored(adb)


def test_the_few_short_entities_a_real_feed_declares_still_work() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY wire "Levant Wire">\n<!ENTITY dash "&#8212;">\n]>\n'
        b'<rss version="2.0"><channel><title>&wire;</title><item><title>Talks resume &dash; &wire;</title>'
        b"</item></channel></rss>"
    )
    feed = parse_feed(doc, url=None, scope="s", now=datetime(2024, 12, 8, tzinfo=UTC))
    assert feed.title == "Levant Wire"
    assert feed.items[0].title == "Talks resume \u2014 Levant Wire"


async def test_external_entities_are_neither_fetched_nor_read(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    secret = "SECRET-ON-THE-FEED-SERVER"
    feed_server.route("/secret", secret.encode(), content_type="text/plain")
    feed_server.route("/evil.dtd", f'<!ENTITY leak "{secret}">'.encode(), content_type="application/xml-dtd")
    over_http = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{feed_server.url("/evil.dtd")}" [\n'
        f'<!ENTITY remote SYSTEM "{feed_server.url("/secret")}">\n]>\n'
        '<rss version="2.0"><channel><title>Remote Wire</title>'
        "<item><title>Remote: &remote; &leak;</title><link>https://remote.example/1</link></item>"
        "</channel></rss>"
    ).encode()
    results = await cycle(
        feed_server, adb, fetcher, polling, clock,
        file=feed_server.route("/file", hostile("xxe-file.xml")),
        parameter=feed_server.route("/parameter", hostile("xxe-parameter.xml")),
        http=feed_server.route("/http", over_http),
    )

    assert feed_server.requests_to("/secret") == [] and feed_server.requests_to("/evil.dtd") == []
    # The references stay unexpanded text; the rest of each feed is read.
    assert [item.title for item in results["file"].new_items] == ["Leaked: &passwd;", "Harbour reopens after storm"]
    assert [item.title for item in results["parameter"].new_items] == ["Leaked: &leak;"]
    assert [item.title for item in results["http"].new_items] == ["Remote: &remote; &leak;"]
    local_secrets = [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()]
    hostname = Path("/etc/hostname")
    if hostname.exists() and hostname.read_text().strip():
        local_secrets.append(hostname.read_text().strip())
    everything = " ".join(f"{item['title']} {item['summary']}" for item in stored_items(adb))
    assert secret not in everything
    assert "root:" not in everything
    assert not any(line in everything for line in local_secrets)
    assert_nothing_unsafe_stored(adb)


async def test_a_server_that_trickles_is_cut_off_at_the_fetch_timeout(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    # A byte every 0.2 s: each read succeeds within the read timeout, so only the deadline for the whole fetch
    # can stop it. The whole body would take over six minutes; the guard only keeps a regression from hanging.
    url = feed_server.route("/trickle", feed_file("rss20.xml"), trickle=0.2)
    async with asyncio.timeout(30):
        results = await cycle(feed_server, adb, fetcher, polling, clock, trickle=url)
    await assert_failed(adb, results["trickle"], "timed out after 1 s")


async def test_malformed_addresses_are_plain_failures(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    # These used to escape the fetcher as ValueError (from urlsplit) and became "internal error: ValueError".
    def moved_to(location: str) -> str:
        return feed_server.route(f"/to/{len(feed_server.routes)}", status=302, headers={"Location": location})

    results = await cycle(
        feed_server, adb, fetcher, polling, clock,
        port_out_of_range=moved_to("http://127.0.0.1:99999/rss"),
        not_http=moved_to("ftp://127.0.0.1/rss"),
        bad_port=moved_to("http://127.0.0.1:abc/rss"),
        backslashes=moved_to("http:\\\\127.0.0.1:1/rss"),  # httpx.InvalidURL, which is not an httpx.HTTPError
        # A feed address that was never checked (as from a configuration file).
        broken_literal="http://[::1/rss",
    )
    await assert_failed(adb, results["port_out_of_range"], "not a valid URL: 'http://127.0.0.1:99999/rss'")
    await assert_failed(adb, results["not_http"], "not an http(s) URL: ftp://127.0.0.1/rss")
    await assert_failed(adb, results["broken_literal"], "not a valid URL: 'http://[::1/rss'")
    # httpx itself reads the Location header, and says what is wrong with it.
    assert results["bad_port"].error.startswith("HTTP transport error: invalid literal for int()")
    await assert_failed(adb, results["backslashes"],
                        "not a valid URL: For absolute URLs, path must be empty or begin with '/'")


def many_items(count: int, *, start: datetime | None = None) -> bytes:
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    return rss("".join(
        f"<item><title>Report {n}</title><guid>r{n}</guid>"
        f"<pubDate>{(start + timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
        for n in range(count)
    ))


async def test_a_feed_of_100000_items_stops_at_the_size_cap(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    body = rss("".join(f"<item><title>Report {n}</title></item>" for n in range(100_000)))
    assert len(body) > 15 * polling.max_response_bytes
    # Compressed, it is a fifth of its size on the wire: the cap applies to what it decodes to.
    results = await cycle(
        feed_server, adb, fetcher, polling, clock,
        plain=feed_server.route("/plain", body), gzipped=feed_server.route("/gzipped", body, gzip=True),
    )
    for name in ("plain", "gzipped"):
        await assert_failed(adb, results[name], f"response too large: over {polling.max_response_bytes:,} bytes")
    assert len(stored_items(adb)) == 3


def test_only_the_newest_entries_of_an_overlong_feed_are_kept() -> None:
    # Oldest first, as some feeds are: keeping the first MAX_ITEMS would keep the stalest.
    now = datetime(2024, 12, 8, tzinfo=UTC)
    count = MAX_ITEMS + 100
    feed = parse_feed(many_items(count, start=now - timedelta(days=7)), url=None, scope="s", now=now)
    assert [item.title for item in feed.items] == [f"Report {n}" for n in range(100, count)]
    assert f"kept the newest {MAX_ITEMS:,} of {count:,} entries" in feed.warnings
    assert len(parse_feed(many_items(count), url=None, scope="s", now=now, max_items=None).items) == count


async def test_megabyte_titles_and_summaries_are_cut_when_stored(
    feed_server: FeedServer, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    megabyte = 1_000_000
    items = [
        ("Long words " * (megabyte // 11), "<p>Paragraph of <b>news</b>.</p>" * (megabyte // 32)),
        ("x" * megabyte, "y" * megabyte),
        # Unterminated tags: html.parser rescanned to the end of the text from each one, quadratic time.
        ("Unclosed <a " * 3_000, "<a " * 10_000 + ">text"),
    ]
    body = rss("".join(
        f"<item><title><![CDATA[{title}]]></title><description><![CDATA[{summary}]]></description>"
        f"<link>https://big.example/{n}</link></item>"
        for n, (title, summary) in enumerate(items)
    ))
    settings = dataclasses.replace(polling, max_response_bytes=8_000_000)
    async with Fetcher(settings, allow_private_addresses=True) as fetcher:
        results = await cycle(feed_server, adb, fetcher, settings, clock, big=feed_server.route("/big", body))
    assert results["big"].status == "new"
    big = [item for item in stored_items(adb) if item["link"].startswith("https://big.example/")]
    first, second, third = big
    assert first["title"] == ("Long words " * 50).strip()[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    assert len(first["summary"]) <= MAX_SUMMARY_CHARS and first["summary"].startswith("Paragraph of news. Paragraph")
    assert first["summary"].endswith("…")
    assert (second["title"], second["summary"]) == ("x" * (MAX_TITLE_CHARS - 1) + "…", "y" * 1999 + "…")
    assert third["title"].startswith("Unclosed <a Unclosed <a") and len(third["title"]) <= MAX_TITLE_CHARS
    assert third["summary"] == "text"  # one long tag, then text
    assert_nothing_unsafe_stored(adb)


async def test_control_characters_never_reach_the_database(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    results = await cycle(feed_server, adb, fetcher, polling, clock,
                          noisy=feed_server.route("/noisy", hostile("control-characters.xml")))
    noisy = results["noisy"]
    # Raw control characters are not XML: the lenient parser reads the feed, and the error is a warning.
    assert noisy.status == "new"
    assert any(warning.startswith("XML error at line") for warning in noisy.warnings)
    [feed] = [feed for feed in await adb.run(feed_store.list_feeds) if feed.url == noisy.url]
    assert feed.healthy and feed.title == "Noisy Wire"
    bell, tabs = (item for item in stored_items(adb) if item["link"].startswith("https://noisy.example/"))
    assert bell["title"] == "Bell and [31mred [0m terminal codes"
    assert bell["summary"].startswith("Zero width, line separator, BOM , DEL , C1")
    assert tabs["title"] == "Tabs and newlines folded, override and isolate"
    assert_nothing_unsafe_stored(adb)


async def test_unbelievable_dates_are_stored_as_the_time_first_seen(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    results = await cycle(feed_server, adb, fetcher, polling, clock,
                          dates=feed_server.route("/dates", hostile("bad-dates.xml")))
    published = {item.title: item.published for item in results["dates"].new_items}
    assert len(published) == 8
    assert published.pop("Good date report") == datetime(2024, 12, 6, 9, 30, tzinfo=UTC)
    assert set(published.values()) == {clock()}
    stored = {item["title"]: item["published"] for item in stored_items(adb)}
    assert {stored[title] for title in published} == {to_text(clock())}


async def test_duplicate_guids_are_stored_once_within_a_feed_and_across_polls(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    results = await cycle(feed_server, adb, fetcher, polling, clock,
                          echo=feed_server.route("/echo", hostile("duplicate-guids.xml")))
    # Within one document the earlier-published version of a GUID is the one kept.
    assert sorted(item.title for item in results["echo"].new_items) == [
        "Harbour reopens after storm", "Minister resigns after budget row"
    ]

    # The next poll says something else under the same GUID, and adds a new one: only the new one is stored,
    # and what was stored under the GUID stays as it was.
    feed_server.route("/echo", rss(
        "<item><title>Rewritten: minister stays</title><link>https://echo.example/d</link>"
        "<guid isPermaLink='false'>echo-1</guid></item>"
        "<item><title>Storm damage assessed</title><link>https://echo.example/e</link>"
        "<guid isPermaLink='false'>echo-3</guid></item>",
        title="Echo Wire",
    ))
    [again] = [result for result in await poll_cycle(adb, fetcher, Pipeline(), polling, force=True, clock=clock)
               if result.url.endswith("/echo")]
    assert [item.title for item in again.new_items] == ["Storm damage assessed"]
    echo = {item["guid"]: item["title"] for item in stored_items(adb) if item["guid"]
            and item["guid"].startswith("echo-")}
    assert echo == {
        "echo-1": "Minister resigns after budget row",
        "echo-2": "Harbour reopens after storm",
        "echo-3": "Storm damage assessed",
    }
    carried = adb.db.execute(
        "SELECT count(*) FROM item_feeds JOIN items ON items.id = item_id WHERE guid = 'echo-1'"
    ).fetchone()[0]
    assert carried == 1


async def test_markup_and_scripts_are_stored_as_plain_text(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    results = await cycle(feed_server, adb, fetcher, polling, clock,
                          markup=feed_server.route("/markup", hostile("html-and-scripts.xml")))
    markup = results["markup"]
    assert markup.skipped_reasons == {"no title or text": 1}  # its title was nothing but a script, and no text
    stored = {item["title"]: item for item in stored_items(adb) if item["source"] == "Markup Wire"}
    assert set(stored) == {"Rebels reach Homs", "Ceasefire holds in Idlib", "Aid convoy arrives"}
    assert stored["Rebels reach Homs"]["summary"] == "Fighting intensified. Residents fled."
    ceasefire = stored["Ceasefire holds in Idlib"]
    assert (ceasefire["summary"], ceasefire["link"]) == ("Talks resume & continue", None)  # no javascript: link
    convoy = stored["Aid convoy arrives"]
    assert convoy["summary"] == ""  # an unclosed script hides everything after it
    assert convoy["link"] == "https://markup.example/3%22%3E%3Cscript%3Ealert(3)%3C/script%3E"
    [feed] = [feed for feed in await adb.run(feed_store.list_feeds) if feed.url == markup.url]
    assert feed.title == "Markup Wire"
    everything = " ".join(f"{item['title']} {item['summary']}" for item in stored.values())
    for fragment in ("<", ">", "alert", "pwned", "evil.example", "cookie", "color", "frame text", "hidden note"):
        assert fragment not in everything
    assert_nothing_unsafe_stored(adb)


async def test_right_to_left_text_and_emoji_are_stored_intact(
    feed_server: FeedServer, fetcher: Fetcher, adb: AsyncDatabase, polling: PollingSettings, clock: Clock
) -> None:
    results = await cycle(feed_server, adb, fetcher, polling, clock,
                          east=feed_server.route("/east", hostile("rtl-emoji.xml")))
    assert results["east"].status == "new"
    stored = [(item["title"], item["summary"], item["source"]) for item in stored_items(adb)
              if item["link"].startswith("https://east.example/")]
    assert stored == [
        ("إيران تنفي إجلاء قواتها من سوريا 🚨", "قال المتحدث باسم الخارجية الإيرانية إن التقارير «كاذبة» 🇮🇷",
         "مراسل الشرق"),
        # The right-to-left mark and the zero-width joiners of the family emoji are part of the text.
        ('\u200fראש הממשלה: "אין הפסקת אש" 🕊️', "עדכון 👩\u200d👩\u200d👧\u200d👦 משפחות פונו 👍🏽", "مراسل الشرق"),
        ("Mixed: Beirut بيروت Tel Aviv תל אביב 🤝 ok", "", "مراسل الشرق"),
    ]
