"""Reading items from files: RSS/Atom documents and JSON Lines, checked whole before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.monitor.model import Item
from bot.monitor.normalize import (
    MAX_SOURCE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    canonical_url,
    clean_text,
    dedup_key,
    guid_scope,
    parse_iso_datetime,
    title_from_text,
)
from bot.monitor.parse import NotAFeedError, parse_feed

# Keys of the data sets' labels: the pipeline must never read them (design.md), so they are dropped here.
LABEL_KEYS = frozenset({"story", "stance"})


class BadInputError(ValueError):
    """A file that cannot be ingested. The message names the file (and line) and the reason."""


def _jsonl_items(path: Path, text: str, now: datetime) -> Iterator[Item]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{where}: not valid JSON ({exc.msg})") from None
        except ValueError:  # a number of more than 4,300 digits, which Python refuses to convert
            raise BadInputError(f"{where}: a number in it is too long") from None
        if not isinstance(record, dict):
            raise BadInputError(f"{where}: expected a JSON object")
        for key in LABEL_KEYS:
            record.pop(key, None)
        title = clean_text(record.get("title") if isinstance(record.get("title"), str) else None, MAX_TITLE_CHARS)
        summary = clean_text(record.get("summary") if isinstance(record.get("summary"), str) else None,
                             MAX_SUMMARY_CHARS)
        title = title or title_from_text(summary)
        if not title:
            raise BadInputError(f"{where}: the item has no title, nor a summary to name it by")
        published_text = record.get("published")
        if published_text is None:
            published = now
        else:
            try:
                published = parse_iso_datetime(str(published_text))
            except ValueError:
                raise BadInputError(
                    f"{where}: published time {published_text!r} is not ISO 8601 (such as 2024-12-06T10:00:00Z)"
                ) from None
        source = clean_text(str(record.get("source") or path.stem), MAX_SOURCE_CHARS)
        raw_link = record.get("link")
        link = canonical_url(raw_link, keep_fragment=True) if isinstance(raw_link, str) else None
        if raw_link and link is None:
            raise BadInputError(f"{where}: link {raw_link!r} is not an http(s) URL")
        guid = str(record["id"]) if record.get("id") is not None else None
        scope = f"source:{source}"
        yield Item(
            key=dedup_key(guid=guid, link=link, title=title, scope=scope),
            title=title,
            link=link,
            summary=summary,
            source=source,
            published=published,
            guid=guid,
            guid_scope=guid_scope(guid, scope),
        )


@dataclass(frozen=True)
class InputFile:
    """What one file gave: its items, the entries that gave none and why (see `ParsedFeed.skipped_reasons`),
    and the parser's warnings (such as broken XML whose readable entries were kept)."""

    path: Path
    items: list[Item]
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return len(self.items) + sum(self.skipped_reasons.values())


def read_items(path: Path, now: datetime) -> list[Item]:
    """All items of one file (see `read_file`)."""
    return read_file(path, now).items


def read_file(path: Path, now: datetime) -> InputFile:
    """All items of one file, and what was skipped. JSON Lines is recognised by a .jsonl/.ndjson name or a
    leading '{'; its lines are all items or the file is refused.

    Raises BadInputError naming the file and what is wrong with it.
    """
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise BadInputError(f"{path}: permission denied") from None
    if path.suffix.lower() in (".jsonl", ".ndjson") or content.lstrip()[:1] == b"{":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        return InputFile(path, list(_jsonl_items(path, text, now)))
    try:
        # A file the user chose to ingest is read whole; only polled feeds are capped.
        parsed = parse_feed(content, url=None, scope=None, now=now, max_items=None)
    except NotAFeedError as exc:
        raise BadInputError(f"{path}: {exc}") from None
    return InputFile(path, parsed.items, dict(parsed.skipped_reasons), list(parsed.warnings))
