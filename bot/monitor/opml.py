"""OPML, the format feed readers exchange subscription lists in."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import quoteattr

# OPML never needs a DTD; refusing one outright rules out entity-expansion and external-entity attacks.
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class OpmlError(ValueError):
    pass


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None


def parse_opml(content: bytes) -> list[OpmlFeed]:
    """The feeds listed in an OPML document (nested folders included), in document order, each URL once."""
    if _DOCTYPE.search(content[:65536]):
        raise OpmlError("OPML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        line, _column = exc.position
        raise OpmlError(f"not valid OPML: XML error at line {line}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not an OPML document (its root element is <{root.tag}>)")
    found: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url.startswith(("http://", "https://")) and url not in found:
            title = (outline.get("title") or outline.get("text") or "").strip() or None
            found[url] = OpmlFeed(url, title)
    return list(found.values())


def render_opml(feeds: Iterable[OpmlFeed], now: datetime) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        "    <title>storywatch feeds</title>",
        f"    <dateCreated>{format_datetime(now)}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for feed in feeds:
        title = quoteattr(feed.title or feed.url)
        lines.append(f"    <outline type=\"rss\" text={title} title={title} xmlUrl={quoteattr(feed.url)}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
