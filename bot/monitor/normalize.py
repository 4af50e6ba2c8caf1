"""Turning what feeds say into clean, comparable values: text, links, times and identity."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 2000
MAX_SOURCE_CHARS = 200
# Further ahead than this, a feed's date is a mistake (a bad clock, a wrong zone, year 9999), not news.
MAX_FUTURE = timedelta(days=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

# Query parameters that only say where a click came from; two links differing in them are one article.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|ocid|cmpid|"
    r"_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|rss|ref|ref_src|referrer|at_medium|at_campaign|"
    r"ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|taid|smid|wt\.mc_id|cid|spm)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
_SPACE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; drops script, style and the like wholesale."""

    _SKIP: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title"}
    )
    _BREAK: ClassVar[frozenset[str]] = frozenset(
        {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def clean_text(value: str | None, limit: int) -> str:
    """Plain text from a feed field that may hold HTML and entities: tags stripped, entities decoded,
    control characters removed, white space folded, cut to `limit` characters at a word boundary."""
    if not value:
        return ""
    if "<" in value or "&" in value:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        value = "".join(extractor.parts)
    value = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    value = _SPACE.sub(" ", value).strip()
    if len(value) > limit:
        cut = value[: limit - 1]
        space = cut.rfind(" ")
        value = (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
    return value


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The form of a link under which two copies of one article compare equal: absolute, lower-case
    scheme and host, no default port, no fragment, no tracking parameters, remaining parameters sorted.
    Returns None for anything that is not an http(s) URL."""
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query), doseq=True), ""))


def stable_hash(*parts: str) -> str:
    """128 bits of SHA-256: collisions are not a practical concern at any number of items."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:32]


def dedup_key(*, guid: str | None, link: str | None, title: str, scope: str) -> str:
    """The identity of an item: its GUID, else its canonical link, else a hash of its title.

    GUIDs and titles are only unique within one feed, so they are scoped by `scope` (the feed's URL or
    the outlet's name); a canonical link identifies an article everywhere.
    """
    if guid:
        guid = guid.strip()
        as_link = canonical_url(guid) if guid.startswith(("http://", "https://")) else None
        if as_link:
            return "link:" + stable_hash(as_link)
        return "guid:" + stable_hash(scope, guid)
    if link:
        return "link:" + stable_hash(link)
    return "title:" + stable_hash(scope, title.casefold())


def sane_published(candidate: datetime | None, first_seen: datetime) -> datetime:
    """A feed's date if it is believable, else the time we first saw the item."""
    if candidate is None:
        return first_seen
    if candidate.tzinfo is None:
        candidate = candidate.replace(tzinfo=UTC)
    candidate = candidate.astimezone(UTC)
    if candidate < EARLIEST or candidate > first_seen + MAX_FUTURE:
        return first_seen
    return candidate


def parse_iso_datetime(value: str) -> datetime:
    """ISO 8601 as written by people and tools ('Z' or an offset; naive means UTC). Raises ValueError."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
