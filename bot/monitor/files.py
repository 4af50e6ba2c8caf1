"""Reading items from files: RSS/Atom documents and JSON Lines, checked whole before anything is stored."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

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


# Items held in memory at once while sorting the items of an ingest: more are sorted in runs on disk and merged.
SORT_RUN_ITEMS = 20_000


def _jsonl_lines(path: Path, stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of a JSON Lines file, read a line at a time (a leading BOM dropped)."""
    offset = 0
    for number, raw in enumerate(stream, start=1):
        line = raw[3:] if number == 1 and raw.startswith(b"\xef\xbb\xbf") else raw
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{path}: not UTF-8 text (byte {offset + len(raw) - len(line) + exc.start})") from None
        offset += len(raw)
        yield number, text


def _jsonl_items(path: Path, lines: Iterable[tuple[int, str]], now: datetime) -> Iterator[Item]:
    for number, line in lines:
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
    and the parser's warnings (such as broken XML whose readable entries were kept). A file streamed through
    `sorted_items` keeps no items: `streamed` counts them."""

    path: Path
    items: list[Item]
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    streamed: int = 0

    @property
    def entries(self) -> int:
        return len(self.items) + self.streamed + sum(self.skipped_reasons.values())


def read_items(path: Path, now: datetime) -> list[Item]:
    """All items of one file (see `read_file`)."""
    return read_file(path, now).items


def read_file(path: Path, now: datetime) -> InputFile:
    """All items of one file, and what was skipped. JSON Lines is recognised by a .jsonl/.ndjson name or a
    leading '{'; its lines are all items or the file is refused.

    Raises BadInputError naming the file and what is wrong with it.
    """
    skipped: dict[str, int] = {}
    warnings: list[str] = []
    items = list(_file_items(path, now, skipped, warnings))
    return InputFile(path, items, skipped, warnings)


def iter_items(path: Path, now: datetime) -> Iterator[Item]:
    """The items of one file, one at a time (see `_file_items`)."""
    return _file_items(path, now, {}, [])


def _file_items(path: Path, now: datetime, skipped: dict[str, int], warnings: list[str]) -> Iterator[Item]:
    """The items of one file, one at a time: a JSON Lines file is read a line at a time, so its size does not
    matter; an RSS/Atom document is parsed whole (feedparser reads whole documents), and what it skipped and
    warned of is added to `skipped` and `warnings`.

    Raises BadInputError naming the file (and line) and what is wrong with it, when it gets there.
    """
    with _opened(path) as stream:
        head = stream.peek(64)[:64]
        if path.suffix.lower() in (".jsonl", ".ndjson") or head.lstrip().removeprefix(b"\xef\xbb\xbf")[:1] == b"{":
            yield from _jsonl_items(path, _jsonl_lines(path, stream), now)
            return
        content = stream.read()
    try:
        # A file the user chose to ingest is read whole; only polled feeds are capped.
        parsed = parse_feed(content, url=None, scope=None, now=now, max_items=None)
    except NotAFeedError as exc:
        raise BadInputError(f"{path}: {exc}") from None
    skipped.update(parsed.skipped_reasons)
    warnings.extend(parsed.warnings)
    yield from parsed.items


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise BadInputError(f"{path}: permission denied") from None
    with stream:
        yield stream  # type: ignore[misc]


@dataclass
class SortedItems:
    """The items of several files, checked and in published-time order (ties in the order read), ready to be
    taken once with `iter` (see `sorted_items`); `files` says what each file gave."""

    files: list[InputFile]
    count: int
    _runs: list[Path]
    _memory: list[tuple[datetime, int, Item]]

    def __iter__(self) -> Iterator[Item]:
        runs = [_read_run(path) for path in self._runs]
        for _, _, item in heapq.merge(*runs, iter(self._memory), key=_run_key):
            yield item


def _run_key(entry: tuple[datetime, int, Item]) -> tuple[datetime, int]:
    return entry[0], entry[1]


def _read_run(path: Path) -> Iterator[tuple[datetime, int, Item]]:
    with path.open("rb") as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return


@contextlib.contextmanager
def sorted_items(paths: Sequence[Path], now: datetime, *, run_items: int = SORT_RUN_ITEMS) -> Iterator[SortedItems]:
    """Every item of `paths`, read and checked whole before the caller gets any (a bad file raises
    BadInputError here, and nothing has been stored), then given in published-time order, in the order the
    items were read where times are equal: the order `Pipeline.process` would give them all at once.

    Memory does not grow with the input: items are sorted in runs of `run_items`, kept in temporary files that
    are merged as the caller takes the items, and removed when the context ends.
    """
    with tempfile.TemporaryDirectory(prefix="storywatch-ingest-") as folder:
        runs: list[Path] = []
        run: list[tuple[datetime, int, Item]] = []
        order = itertools.count()
        files: list[InputFile] = []
        for path in paths:
            skipped: dict[str, int] = {}
            warnings: list[str] = []
            count = 0
            for item in _file_items(path, now, skipped, warnings):
                run.append((item.published, next(order), item))
                count += 1
                if len(run) >= run_items:
                    runs.append(_write_run(Path(folder) / f"run-{len(runs)}", run))
                    run = []
            files.append(InputFile(path, [], skipped, warnings, streamed=count))
        run.sort(key=_run_key)
        yield SortedItems(files, next(order), runs, run)


def _write_run(path: Path, run: list[tuple[datetime, int, Item]]) -> Path:
    run.sort(key=_run_key)
    with path.open("wb") as stream:
        for entry in run:
            pickle.dump(entry, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return path
