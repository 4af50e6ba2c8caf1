"""Reports: stored once each, however many feeds carry them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlite_utils import Database

from bot.monitor.model import Item, StoredItem
from bot.monitor.normalize import legacy_links
from bot.monitor.topics import topic_words
from storage.db import execute_many, from_text, to_text

# Items looked up and inserted per statement: well under SQLite's oldest limit of 999 bound parameters.
_CHUNK = 500


def search_words(title: str) -> str:
    """What the full-text index holds of a report (`items.search_words`): its title's words, each reduced to
    the key that topic matching gives all its forms ("evacuating", "evacuation" -> "evacu")."""
    return " ".join(topic_words(title))


def _known_ids(db: Database, keys: Sequence[str]) -> dict[str, int]:
    """Deduplication key -> item id, for the keys some stored item has."""
    if not keys:
        return {}
    marks = ", ".join("?" for _ in keys)
    return dict(db.execute(f"SELECT dedup_key, id FROM items WHERE dedup_key IN ({marks})", list(keys)).fetchall())


# (item id, guid_scope) of the items stored under one link, oldest first.
Carriers = dict[str, list[tuple[int, str | None]]]


def _by_link(db: Database, links: Sequence[str], *, up_to_id: int | None = None) -> Carriers:
    """The stored items of each link (of items up to `up_to_id`, if given)."""
    found: Carriers = {}
    if not links:
        return found
    marks = ", ".join("?" for _ in links)
    bound = "" if up_to_id is None else " AND id <= ?"
    rows = db.execute(
        f"SELECT link, id, guid_scope FROM items WHERE link IN ({marks}){bound} ORDER BY id",
        [*links, *([] if up_to_id is None else [up_to_id])],
    ).fetchall()
    for link, item_id, scope in rows:
        found.setdefault(link, []).append((item_id, scope))
    return found


def _same_article(carriers: list[tuple[int, str | None]] | None, guid_scope: str | None) -> int | None:
    """The first stored item under the new item's link that is the same article: any, unless both have GUIDs
    given by one feed, which then differ (the keys did not match): the feed says they are two reports that share
    a page, such as the posts of a live blog or the entries of one `xml:base` link."""
    for item_id, scope in carriers or ():
        if guid_scope is None or scope is None or scope != guid_scope:
            return item_id
    return None


def legacy_boundary(db: Database) -> tuple[int, datetime | None]:
    """The largest item id stored before migration m004, when links lost their fragments and some generic
    parameters (0 for a database made since), and the latest time among those items: one dated later is new."""
    row = db.execute("SELECT items_before, dated_up_to FROM identity_upgrade").fetchone()
    return (row[0], from_text(row[1])) if row else (0, None)


def store_items(
    db: Database, items: Iterable[Item], *, now: datetime, feed_id: int | None = None,
    known_ids: list[int] | None = None, indexed: Mapping[str, str] | None = None,
) -> list[StoredItem]:
    """Store the items not seen before, in one transaction; return the new ones in the order given.

    An item is already known when its deduplication key is (an item given earlier in the same call included), or
    when an item stored under its canonical link is the same article (see `_same_article`); then only the fact
    that this feed carries it too is recorded, and the id of the stored item it matched is appended to
    `known_ids` if given (so that the caller can tell a duplicate within its input from an item stored before).
    Items stored before migration m004 are also looked up by the form their links had then (`legacy_links`),
    for items dated before the upgrade, so that an upgrade reports none of them again. `indexed`: title ->
    `search_words(title)`, made ahead for some titles (by a parsing worker); the others are made here.

    Written a chunk at a time: one lookup of the chunk's keys, one of its links and one insert per table, rather
    than four statements per item. The new rows get their ids explicitly, the ones SQLite would have chosen
    (one past the largest, in order): the transaction holds the write lock, so nobody else can take them.
    """
    new: list[StoredItem] = []
    seen_at = to_text(now)
    indexed = indexed or {}
    ordered = list(items)
    with db.atomic():
        legacy_id, legacy_until = legacy_boundary(db)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            by_key = _known_ids(db, list(dict.fromkeys(item.key for item in chunk)))
            by_link = _by_link(db, list(dict.fromkeys(item.link for item in chunk if item.link)))
            former: dict[int, list[str]] = {}
            if legacy_id and legacy_until is not None:
                former = {index: forms for index, item in enumerate(chunk)
                          if item.key not in by_key and item.published <= legacy_until
                          and (forms := legacy_links(item.link, item.guid))}
            by_former_link = _by_link(
                db, list(dict.fromkeys(form for forms in former.values() for form in forms)), up_to_id=legacy_id
            )
            next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0]
            rows: list[tuple[object, ...]] = []
            carried: list[tuple[int, int, str]] = []
            for index, item in enumerate(chunk):
                item_id = by_key.get(item.key)
                if item_id is None and item.link:
                    item_id = _same_article(by_link.get(item.link), item.guid_scope)
                for form in former.get(index, ()) if item_id is None else ():
                    item_id = _same_article(by_former_link.get(form), item.guid_scope)
                    if item_id is not None:
                        break
                if item_id is None:
                    item_id, next_id = next_id, next_id + 1
                    rows.append((item_id, item.key, feed_id, item.guid, item.guid_scope, item.link, item.title,
                                 item.summary, item.source, to_text(item.published), seen_at,
                                 indexed[item.title] if item.title in indexed else search_words(item.title)))
                    by_key[item.key] = item_id
                    if item.link:
                        by_link.setdefault(item.link, []).append((item_id, item.guid_scope))
                    new.append(StoredItem(item_id, item.title, item.link, item.summary, item.source, item.published,
                                          item.guid))
                elif known_ids is not None:
                    known_ids.append(item_id)
                if feed_id is not None:
                    carried.append((item_id, feed_id, seen_at))
            if rows:
                execute_many(
                    db,
                    """INSERT INTO items (id, dedup_key, feed_id, guid, guid_scope, link, title, summary, source,
                                          published, first_seen, search_words)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    rows,
                )
            if carried:
                execute_many(
                    db, "INSERT OR IGNORE INTO item_feeds (item_id, feed_id, seen_at) VALUES (?, ?, ?)", carried
                )
    return new


def max_item_id(db: Database) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]


def count_items(db: Database) -> int:
    return db.execute("SELECT count(*) FROM items").fetchone()[0]
