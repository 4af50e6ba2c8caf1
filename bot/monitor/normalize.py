"""Turning what feeds say into clean, comparable values: text, links, times and identity."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 2000
MAX_SOURCE_CHARS = 200
# Further ahead than this, a feed's date is a mistake (a bad clock, a wrong zone, year 9999), not news.
MAX_FUTURE = timedelta(days=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

# Query parameters that only ever say where a click came from: names that one analytics or advertising vendor
# gave its parameter, which no site uses for its content, so two links differing in them are one article.
# Generic names are not here, however often they track: `cid`, `ref`, `rss`, `spm`, `ocid`, `smid` and the
# like select the article itself on some sites (`article.php?cid=101`), and dropping them made distinct
# articles one.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|at_medium|at_campaign|"
    r"ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|wt\.mc_id)$",
    re.IGNORECASE,
)
# What canonical_url dropped before items kept their fragments and the generic parameters above (storage
# migration m004): links stored then are in that form, and `legacy_link` recomputes it to recognise them.
_FORMER_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|ocid|cmpid|"
    r"_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|rss|ref|ref_src|referrer|at_medium|at_campaign|"
    r"ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|taid|smid|wt\.mc_id|cid|spm)$",
    re.IGNORECASE,
)
# Fragments of an item's link are kept when they name one entry among several on a page: a live blog's
# `#post-3`, a comment feed's `#comment-123` (the page is the same for all of them; only the fragment tells the
# reports apart when the feed gives no GUID). Dropped are the anchors that blog engines put on every post for a
# section of that same article (WordPress' `#more-17`, `#comments`, `#respond`, Disqus' `#disqus_thread`), and
# fragments of `name=value` pairs, which hold state for the page's scripts (`#xtor=RSS-3208` of AT Internet,
# `#ref=rss`), never an anchor: neither ever tells two articles apart, and keeping them would split one article
# carried by two feeds. A feed's own address never keeps one (HTTP does not send it).
_PAGE_SECTION_FRAGMENT = re.compile(
    r"(?:comments?|respond|reply|disqus_thread|more(?:-\d+)?|read-?more|continue(?:-reading)?|top|content|"
    r"main(?:-?content)?)",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# An absolute http(s) link with a host: joining it to a base could only take it apart and put it back together
# (urljoin's round trip drops a trailing ";" of empty parameters, and tabs and newlines, which urlsplit removes,
# could leave no host: hence none of those here). Most feeds' links; joining cost a third of canonicalising.
_ABSOLUTE = re.compile(r"https?://[^/?#;\t\r\n]+(?:[/?#][^;\t\r\n]*)?\Z")
# Characters a URL may not hold as they are (RFC 3986, section 2), and those that hide or reorder text: any
# other (Unicode category C*) or separator (Z*), such as C1 controls, non-breaking and zero-width spaces,
# right-to-left overrides, soft hyphens, lone surrogates. They are percent-encoded in the path, as browsers do,
# so that a stored link never carries a quote, an angle bracket, a space or an invisible character into
# whatever displays it; in a host name they mean the link is not a link. Other non-ASCII letters stay.
_URL_SUSPECTS = re.compile(r'[^\x21-\x7e]|["<>\\^`{|}]')
_NOT_IN_HOST = frozenset("'%/@[]?#")
# Also the bidirectional embeddings, overrides and isolates: left open in a title they reverse or reorder whatever
# is shown after it on the line (the outlet's name, say); right-to-left text reads correctly without them, and
# the marks (U+200E, U+200F) stay. And lone surrogates: a JSON "\ud800" makes one, and SQLite (any UTF-8
# encoder) refuses to store it.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_SPACE = re.compile(r"\s+")
# The longest title made from an entry's text, and where the first sentence of that text may end at the earliest.
TITLE_FROM_TEXT_CHARS = 120
_SHORTEST_SENTENCE = 12
_SENTENCE_END = re.compile(r"[.!?…](?=\s|\Z)")


# Markup is removed with regular expressions in which every construct either ends at its closing delimiter or
# is not markup at all, so the work is linear in the length of the text. html.parser was used before, but on
# a "<" that never closes it rescans to the end of the text from every later "<" (fixed only in Python
# 3.13.4): 5 kB of "<a " took a third of a second, and a feed's megabyte-long summary would have held its poll
# for hours. Elements whose content is not text (script, style...) are dropped whole. Left open, a script or a
# style hides the rest of the text, as in a browser (and as in feedparser's sanitiser), like an unterminated
# comment; any other such element left open is only its tag ("safe<object data=x> description" is "safe
# description"). Each element's closing tag is searched for at most once past the point where it was last
# missing, so many unclosed ones cost one scan of the text, not one each.
_SKIPPED_ELEMENTS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title"})
_RAW_TEXT_ELEMENTS = frozenset({"script", "style"})
_CLOSING_TAG = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _SKIPPED_ELEMENTS}
_BREAK_TAGS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section"})
_MARKUP = re.compile(
    r"<!--.*?(?P<comment_end>-->|\Z)"
    r"|<(?P<closing>/)?(?P<tag>[a-zA-Z][^\s/>]*+)[^>]*+>"
    r"|<[!?][^>]*+>",
    re.IGNORECASE | re.DOTALL,
)
# html.unescape turns a decimal character reference into an int, which for more than 4,300 digits raises
# ValueError (Python's guard against slow int parsing) instead of giving U+FFFD: shorten them first.
_LONG_CHARREF = re.compile(r"&#([0-9]{8,});?")


def _short_charref(match: re.Match[str]) -> str:
    digits = match.group(1).lstrip("0") or "0"
    # Above 7 digits the number is past U+10FFFF, which html.unescape would also make U+FFFD.
    return f"&#{digits};" if len(digits) <= 7 else "\ufffd"


def _strip_markup(value: str) -> str:
    """The text of an HTML fragment: tags dropped (block ones leave a space), entities decoded."""
    # A tag can only be complete up to the last ">": what follows is text. Matching only up to there keeps
    # a run of "<a" that never closes from being tried again and again against the rest of the text.
    end = value.rfind(">") + 1
    head, tail = value[:end], value[end:]
    parts: list[str] = []
    position = 0
    unclosed: set[str] = set()  # elements with no closing tag after the point where one was last looked for
    while (match := _MARKUP.search(head, position)) is not None:
        parts.append(head[position : match.start()])
        position = match.end()
        if match.group("comment_end") == "":
            tail = ""
            break
        tag = match.group("tag")
        if not tag:
            continue
        name = tag.lower()
        if name in _SKIPPED_ELEMENTS and not match.group("closing"):
            closing = None if name in unclosed else _CLOSING_TAG[name].search(head, position)
            if closing is not None:
                position = closing.end()
                continue
            unclosed.add(name)
            if name in _RAW_TEXT_ELEMENTS:
                tail = ""
                break
        elif name in _BREAK_TAGS:
            parts.append(" ")
    else:
        parts.append(head[position:])
    parts.append(tail)
    return html.unescape(_LONG_CHARREF.sub(_short_charref, "".join(parts)))


def clean_text(value: str | None, limit: int) -> str:
    """Plain text from a feed field that may hold HTML and entities: tags stripped, entities decoded,
    control characters removed, white space folded, cut to `limit` characters at a word boundary."""
    if not value:
        return ""
    if "<" in value or "&" in value:
        value = _strip_markup(value)
    value = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    return _shortened(_SPACE.sub(" ", value).strip(), limit)


def _shortened(value: str, limit: int) -> str:
    """`value` cut to `limit` characters at a word boundary, with an ellipsis, if it is longer."""
    if len(value) > limit:
        cut = value[: limit - 1]
        space = cut.rfind(" ")
        value = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:-–—") + "…"
    return value


def title_from_text(text: str, limit: int = TITLE_FROM_TEXT_CHARS) -> str:
    """A title for an entry that has none (a Mastodon post, a podcast episode), from its plain text as
    `clean_text` gives it: the first sentence, shortened at a word boundary with an ellipsis past `limit`
    characters, as feed readers show such posts. A full stop in the first few characters ("U.S.", "Dr.") is
    taken for an abbreviation, not the sentence's end."""
    for end in _SENTENCE_END.finditer(text, _SHORTEST_SENTENCE, limit):
        return text[: end.end()]
    return _shortened(text, limit)


def _unsafe_in_url(char: str) -> bool:
    return char.isascii() or unicodedata.category(char)[0] in "CZ"


def _percent_encoded(match: re.Match[str]) -> str:
    char = match.group()
    if not _unsafe_in_url(char):
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def canonical_url(url: str | None, base: str | None = None, *, keep_fragment: bool = False) -> str | None:
    """The form of a link under which two copies of one article compare equal: absolute, lower-case
    scheme and host, no default port, no tracking parameters, remaining parameters sorted, and no fragment,
    unless `keep_fragment` (an item's link: see `_PAGE_SECTION_FRAGMENT`) and the fragment names an entry.
    Returns None for anything that is not an http(s) URL."""
    if not url:
        return None
    url = url.strip()
    try:
        if base and not _ABSOLUTE.match(url):
            url = urljoin(base, url)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    hostname = parts.hostname
    if scheme not in _DEFAULT_PORTS or not hostname:
        return None
    host = hostname.lower().rstrip(".")
    if any(_unsafe_in_url(char) for char in _URL_SUSPECTS.findall(host)) or not _NOT_IN_HOST.isdisjoint(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # (Each of these properties parses the netloc again; without an "@" both are None.)
    if "@" in parts.netloc and (parts.username or parts.password):
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
        netloc = _URL_SUSPECTS.sub(_percent_encoded, netloc)
    query = ""
    if parts.query:
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
        query = urlencode(sorted(pairs), doseq=True)
    path = _URL_SUSPECTS.sub(_percent_encoded, parts.path) or "/"
    fragment = _entry_fragment(parts.fragment) if keep_fragment and parts.fragment else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _entry_fragment(fragment: str) -> str:
    """The fragment of an item's link if it tells entries of one page apart, else ""."""
    if "=" in fragment or _PAGE_SECTION_FRAGMENT.fullmatch(fragment):
        return ""
    return _URL_SUSPECTS.sub(_percent_encoded, fragment).replace("#", "%23")


def legacy_link(link: str) -> str:
    """`link` (a canonical link) as canonical_url made it before items kept fragments and generic parameters:
    the form in which the links and link keys of items stored before migration m004 are."""
    if "#" not in link and "?" not in link:
        return link
    parts = urlsplit(link)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if not _FORMER_TRACKING_PARAMS.match(k)], doseq=True)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def stable_hash(*parts: str) -> str:
    """128 bits of SHA-256: collisions are not a practical concern at any number of items."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:32]


def _guid_as_link(guid: str) -> str | None:
    return canonical_url(guid, keep_fragment=True) if guid.startswith(("http://", "https://")) else None


def dedup_key(*, guid: str | None, link: str | None, title: str, scope: str) -> str:
    """The identity of an item: its GUID, else its canonical link, else a hash of its title.

    GUIDs and titles are only unique within one feed, so they are scoped by `scope` (the feed's URL or
    the outlet's name); a canonical link identifies an article everywhere.
    """
    if guid:
        guid = guid.strip()
        as_link = _guid_as_link(guid)
        if as_link:
            return "link:" + stable_hash(as_link)
        return "guid:" + stable_hash(scope, guid)
    if link:
        return "link:" + stable_hash(link)
    return "title:" + stable_hash(scope, title.casefold())


def guid_scope(guid: str | None, scope: str) -> str | None:
    """Where an item's GUID was given (a hash of `scope`: one feed, or one outlet's file), None without a GUID.

    Two items with one link are one article unless both have GUIDs given by one feed, which then differ: the
    feed says they are two. A GUID says nothing about another feed's items, even one that is a URL (feeds of
    one site write their permalinks with parameters of their own), so across feeds the link decides."""
    if not guid or not guid.strip():
        return None
    return stable_hash(scope)


def legacy_links(link: str | None, guid: str | None) -> list[str]:
    """The item's link and its GUID, if that is a URL, in the form `canonical_url` gave them before migration
    m004 (see `legacy_link`), where that differs from their form now: how items stored before then, whose
    links are in that form, are recognised."""
    current = [link, _guid_as_link(guid.strip()) if guid else None]
    return list(dict.fromkeys(former for form in current if form and (former := legacy_link(form)) != form))


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
