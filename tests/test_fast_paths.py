"""The throughput work keeps behaviour: cached and batched paths give what the plain computations give."""

from __future__ import annotations

import copy
import gc
import heapq
import math
import pickle
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.cli import cli
from bot.monitor import cluster
from bot.monitor.cluster import (
    _FUZZY_CUTOFF,
    _MIN_FUZZY_KEY,
    ClusterSettings,
    StoryClusterer,
    _fuzzy_key,
    item_words,
)
from bot.monitor.model import Item
from bot.monitor.normalize import canonical_url
from bot.monitor.parse import NotAFeedError, ParsePool, parse_feed
from bot.monitor.pipeline import Pipeline, parse_and_prepare, prepare_items
from storage import feeds as feed_store
from storage import items as item_store
from storage import stories as story_store
from storage.db import open_database
from tests.test_pipeline import DENIAL, EVACUATION, FOLLOW_UP, START, report

T0 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

# Words of a synthetic stream: a few general ones shared by many stories, and names of each story's own.
GENERAL = ["police", "report", "video", "market", "deal", "talks", "price", "strike", "vote", "fire", "court"]


def synthetic_stream(stories: int, items: int, seed: int = 7) -> list[tuple[str, str, str, datetime]]:
    """Headlines about `stories` subjects (each with three names of its own) mixed with general words, in
    bursts: enough stories that candidates compete and that the collection grows past the norm refresh."""
    rng = random.Random(seed)
    names = [[f"{rng.choice('bdfgklmnprstvz')}{rng.choice('aeiou')}{n}x{k}" for k in range(3)] for n in range(stories)]
    stream = []
    at = T0
    for k in range(items):
        # Subjects come and go: the current one and a few before it get most reports.
        subject = (k * stories // items + stories - min(int(rng.expovariate(0.5)), 8)) % stories
        words = rng.sample(names[subject], rng.randint(2, 3)) + rng.sample(GENERAL, rng.randint(0, 2))
        rng.shuffle(words)
        at += timedelta(minutes=rng.randint(1, 40))
        stream.append((" ".join(words).capitalize(), "", f"Wire {rng.randint(1, 5)}", at))
    return stream


def state(c: StoryClusterer) -> tuple:
    """Everything a clusterer's future assignments depend on."""
    stories = {
        i: (list(s.counts.items()), s.norm_sums, s.norm_base, s.size, s.first_seen, s.last_seen, s.title, s.title_terms,
            s.title_plain, s.plain, s.reps)
        for i, s in c._stories.items()
    }
    postings = {term: {ids} if isinstance(ids, int) else set(ids) for term, ids in c._postings.items()}
    return (c._df, c._docs, dict(c._sf), c._sf.cold.as_dict(), c._story_count, postings, list(c._open), stories,
            {i: (p.last_seen, p.claim, p.story()) for i, p in c._recent.items()}, c.next_story_id, c._feed_words)


@pytest.mark.parametrize("story_idf", [True, False])
def test_the_idf_table_gives_the_formula(story_idf: bool) -> None:
    c = StoryClusterer(ClusterSettings(story_idf=story_idf))
    for title, summary, source, at in synthetic_stream(20, 120):
        c.assign(title, summary, source, at)
    n = c._story_count if story_idf else c._docs
    freq = c._sf if story_idf else c._df
    for term in [*freq, "neverseen"]:
        assert c._idf(term) == math.log((n + 1) / (freq.get(term, 0) + 1)) + 1.0


def test_ratio_of_fuzzy_keys_is_their_token_sort_ratio() -> None:
    # `_fuzzy_scores` calls `ratio` on keys that are already sorted words: that is what token_sort_ratio does.
    rng = random.Random(3)
    words = ["appl", "watch", "5,000", "6.2", "iran", "evacu", "2014", "a1", "b", "gold", "cost", "analyst"]
    for _ in range(3000):
        a = _fuzzy_key(dict.fromkeys(rng.sample(words, rng.randint(1, 8)), 1.0))
        b = _fuzzy_key(dict.fromkeys(rng.sample(words, rng.randint(1, 8)), 1.0))
        assert fuzz.ratio(a, b) == fuzz.token_sort_ratio(a, b)


def test_fuzzy_scores_are_those_of_one_call_per_representative() -> None:
    c = StoryClusterer()
    for title, summary, source, at in synthetic_stream(30, 300):
        c.assign(title, summary, source, at)
    stories = list(c._stories.values())
    for story in stories[:40]:
        for key in story.reps:
            expected = {}
            for other in stories:
                ratios = [fuzz.token_sort_ratio(key, rep, score_cutoff=_FUZZY_CUTOFF)
                          for rep in other.reps if len(rep) >= _MIN_FUZZY_KEY]
                best = max(ratios, default=0.0)
                if best and len(key) >= _MIN_FUZZY_KEY:
                    expected[other.id] = c.settings.fuzzy_weight * best / 100.0
            assert c._fuzzy_scores(key, stories) == expected


def test_candidates_are_the_stories_sharing_the_most_rare_weight() -> None:
    settings = ClusterSettings(max_candidates=5)
    c = StoryClusterer(settings)
    for title, summary, source, at in synthetic_stream(40, 400):
        c.assign(title, summary, source, at)
    checked = 0
    for title, summary, source, _ in synthetic_stream(40, 100, seed=8):
        vector = c._vector(item_words(title, summary, source), source)
        hits: dict[int, float] = {}
        used = 0
        for term in sorted(vector, key=c._idf, reverse=True):
            posting = c._postings.get(term)
            holders = {posting} if isinstance(posting, int) else posting
            if not holders or len(holders) > settings.max_postings:
                continue
            for story_id in holders:
                hits[story_id] = hits.get(story_id, 0.0) + c._idf(term)
            used += 1
            if used >= settings.query_terms:
                break
        checked += len(hits) > settings.max_candidates
        assert c._candidates(vector) == set(heapq.nlargest(settings.max_candidates, hits, key=hits.__getitem__))
    assert checked  # the cut to max_candidates was exercised


def test_similarities_are_cosines_against_each_story_centroid() -> None:
    # The centroid norms themselves are checked against a full recount in test_cluster.py.
    c = StoryClusterer()
    for title, summary, source, at in synthetic_stream(30, 300):
        c.assign(title, summary, source, at)
    vector = c._vector(item_words("Police video of the strike talks", "", "Wire 1"), "Wire 1")
    q = {t: w * c._idf(t) for t, w in vector.items()}
    q_norm = math.sqrt(sum(v * v for v in q.values()))
    stories = list(c._stories.values())
    scores = c._similarities({t: v * c._idf(t) for t, v in q.items()}, q_norm, stories)
    for story, score in zip(stories, scores, strict=True):
        dot = sum(v * c._idf(t) * story.counts.get(t, 0.0) for t, v in q.items())
        expected = min(1.0, dot / (q_norm * math.sqrt(c._story_sq_norm(story)))) if dot else 0.0
        assert score == pytest.approx(expected, rel=1e-12)
    assert any(scores)


def test_a_restored_clusterer_holds_the_same_state_and_assigns_the_same() -> None:
    # Long enough for norms to be recounted as the collection grows: a restored clusterer must recount the same.
    settings = ClusterSettings(close_after_hours=48)
    stream = synthetic_stream(60, 900)
    cut = 600
    live = StoryClusterer(settings, next_story_id=10)
    stored = [(live.assign(*row).story_id, *row) for row in stream[:cut]]
    restored = StoryClusterer(settings)
    restored.restore(reversed(stored))
    assert state(restored) == state(live)
    after = [live.assign(*row) for row in stream[cut:]]
    assert [restored.assign(*row) for row in stream[cut:]] == after
    assert any(not a.is_new for a in after) and any(a.is_new for a in after)


@pytest.mark.parametrize("held", [1, 7])
def test_packed_stories_assign_as_stories_held_as_dicts(monkeypatch: pytest.MonkeyPatch, held: int) -> None:
    # Only the stories used last keep their counts as dicts; the others are packed (terms and an array of
    # weights) and made dicts again when a report names their words. Holding few must change nothing: the same
    # assignments and titles, the same counts in the same order, also across a snapshot's pickle, and with
    # stories closing (parked packed) and opening again.
    settings = ClusterSettings(close_after_hours=48)
    stream = synthetic_stream(60, 900)
    everything = StoryClusterer(settings)
    expected = [everything.assign(*row) for row in stream]
    monkeypatch.setattr(cluster, "_HELD_STORIES", held)
    few = StoryClusterer(settings)
    got = [few.assign(*row) for row in stream[:500]]
    packed = [s for s in few._stories.values() if s.held is None]
    assert len(packed) >= len(few._stories) - held and packed
    restored = pickle.loads(pickle.dumps(few, protocol=pickle.HIGHEST_PROTOCOL))
    assert state(restored) == state(few)
    got += [restored.assign(*row) for row in stream[500:]]
    assert got == expected
    assert state(restored) == state(everything)
    assert len(restored._held) == held and any(s.held is None for s in restored._stories.values())


def test_a_packed_story_holds_its_counts_in_their_order() -> None:
    c = StoryClusterer()
    for row in synthetic_stream(5, 40):
        c.assign(*row)
    story = max(c._stories.values(), key=lambda s: len(s.counts))
    as_dict = list(story.counts.items())
    twin = copy.deepcopy(story)
    story.pack()
    assert story.held is None and list(story.counts.items()) == as_dict == list(story.count_items())
    assert list(story.term_order()) == [t for t, _ in as_dict]
    assert all(story.count(t) == v for t, v in as_dict)
    assert story == twin and pickle.loads(pickle.dumps(story)) == twin
    assert list(story.unpack().items()) == as_dict and story.weights is None


def _item(key: str, link: str | None, hour: int = 9) -> Item:
    return Item(key=key, title=f"Title {key}", link=link, summary="", source="S",
                published=START.replace(hour=hour))


def test_store_items_dedups_within_one_call_and_across_chunks(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    feed = feed_store.add_feed(db, "https://a.example/rss", START)
    items = [_item(f"k{n}", f"https://a.example/{n}") for n in range(1200)]
    items += [_item("k5", None), _item("other", "https://a.example/7"), _item("k1199", "https://a.example/new")]
    new = item_store.store_items(db, items, now=START, feed_id=feed.id)
    assert [i.id for i in new] == list(range(1, 1201))
    assert item_store.count_items(db) == 1200
    assert db.execute("SELECT count(*) FROM item_feeds").fetchone()[0] == 1200
    again = item_store.store_items(db, [_item("k3", None), _item("fresh", "https://a.example/9000")], now=START)
    assert [(i.id, i.link) for i in again] == [(1201, "https://a.example/9000")]
    db.close()


def test_story_columns_equal_what_the_memberships_say(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sw.db")
    stream = synthetic_stream(25, 240)
    items = [
        Item(key=f"k{n}", title=title, link=f"https://x.example/{n}", summary="", source=source, published=at)
        for n, (title, _, source, at) in enumerate(stream)
    ]
    Pipeline().process(db, items[:100], now=START)
    Pipeline().process(db, items[100:], now=START)  # a restart in between
    rows = db.execute(
        """SELECT s.item_count, s.source_count, s.first_seen, s.last_seen,
                  (SELECT count(*) FROM story_items m WHERE m.story_id = s.id),
                  (SELECT count(DISTINCT i.source) FROM story_items m JOIN items i ON i.id = m.item_id
                   WHERE m.story_id = s.id),
                  (SELECT min(i.published) FROM story_items m JOIN items i ON i.id = m.item_id WHERE m.story_id = s.id),
                  (SELECT max(i.published) FROM story_items m JOIN items i ON i.id = m.item_id WHERE m.story_id = s.id)
           FROM stories s"""
    ).fetchall()
    assert any(row[0] > 3 for row in rows)
    for item_count, source_count, first_seen, last_seen, members, sources, earliest, latest in rows:
        assert (item_count, source_count, first_seen, last_seen) == (members, sources, earliest, latest)
    # One development per report from a source new to its story, one new-story event per story.
    events = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    assert events["new_story"] == len(rows)
    assert events["new_story"] + events["development"] + events.get("contradiction", 0) >= sum(r[1] for r in rows)
    db.close()


def test_what_is_prepared_ahead_gives_the_same_stories_and_contradictions(tmp_path: Path) -> None:
    with_summary = replace(
        report("Tehran recalls advisers from Damascus - Reuters", "Wire", 40),
        summary="Iran is pulling military advisers out of Syria, officials said. Read more at wire.example",
    )
    batches = (
        [EVACUATION, FOLLOW_UP, report("Floods close roads in Bavaria", "Desk", 20)],
        [DENIAL, report("Iran has not evacuated Syria", "Desk", 34), with_summary],
    )
    found = []
    for ahead in (False, True):
        db = open_database(tmp_path / f"sw-{ahead}.db")
        pipeline = Pipeline()
        for batch in batches:
            pipeline.process(db, batch, now=START, prepared=prepare_items(batch) if ahead else None)
        contradictions = [(c.kind, c.earlier.title, c.later.title) for c in story_store.list_contradictions(db)]
        memberships = db.execute(
            "SELECT i.title, m.story_id, m.score, m.shared_terms, s.title FROM story_items m"
            " JOIN items i ON i.id = m.item_id JOIN stories s ON s.id = m.story_id ORDER BY i.id"
        ).fetchall()
        # What a worker made of the titles for the full-text index is what the main process would have.
        indexed = db.execute("SELECT title, search_words FROM items ORDER BY id").fetchall()
        found.append((contradictions, memberships, indexed))
        db.close()
    assert found[0] == found[1]
    contradictions, memberships, indexed = found[0]
    assert contradictions and len({row[1] for row in memberships}) >= 2
    assert all(words for _, words in indexed) and any("evacu" in words.split() for _, words in indexed)


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://w.example/</link>
<item><title>Iran begins evacuating military personnel from Syria</title><link>https://w.example/1</link></item>
</channel></rss>"""


def test_a_parse_pool_parses_in_another_process_and_raises_what_parse_feed_raises() -> None:
    kwargs = {"url": "https://w.example/rss", "scope": "feed:1", "now": START}
    with ParsePool() as pool:
        assert pool.submit(RSS, **kwargs).result() == parse_feed(RSS, **kwargs)
        with pytest.raises(NotAFeedError) as raised:
            pool.submit(b"<!doctype html><html><body>shop</body></html>", **kwargs).result()
        assert raised.value.html_page
    with ParsePool(function=parse_and_prepare) as pool:
        ready = pool.submit(RSS, **kwargs).result()
    assert ready.feed.items == parse_feed(RSS, **kwargs).items
    assert list(ready.prepared.values()) == list(prepare_items(ready.feed.items).values())


def test_prepared_items_come_back_whole_from_a_worker_process() -> None:
    items = [
        EVACUATION,
        DENIAL,
        report("Three killed in Lyon factory explosion", "Wire", 10),
        report("Border crossing still closed as talks stall", "Desk", 12),
        replace(report("Minister has not resigned, spokesman says", "Desk", 14), summary="Reports were false."),
    ]
    prepared = prepare_items(items)
    returned = pickle.loads(pickle.dumps(prepared, pickle.HIGHEST_PROTOCOL))
    assert returned == prepared
    texts = [(p.text, r.text) for p, r in zip(prepared.values(), returned.values(), strict=True)]
    assert any(text.claims for text, _ in texts) and any(text.figures for text, _ in texts)
    assert any(text.states for text, _ in texts)
    for text, back in texts:
        # Fields left out of the dataclass's equality must come back too.
        assert back.title == text.title
        assert [back.phrases.get(key) for key in text.keys] == [text.phrases.get(key) for key in text.keys]


URL_TEXT = st.text(alphabet=st.sampled_from(list("aZ09-._~:/?#[]@!$&'()*+,;=% \t\n\\\"<>^`{|}é\u00a0\u200b\uff03")))


@settings(max_examples=2000, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "//", ""]),
    rest=URL_TEXT,
    base=st.sampled_from([None, "", "https://wire.example/rss.xml", "http://wire.example/a/b?x=1", "https://h/;p"]),
)
def test_an_absolute_link_canonicalises_as_if_joined_to_the_base(scheme: str, rest: str, base: str | None) -> None:
    # canonical_url skips urljoin for absolute links: the result must be that of joining first.
    url = scheme + rest
    if not url:
        return
    try:
        joined = urljoin(base, url.strip()) if base else url
    except ValueError:
        return  # joining itself refuses the link (a host that normalises to a delimiter)
    if joined != joined.strip():
        return  # canonical_url(joined) would strip what joining exposed, which canonical_url(url) keeps
    assert canonical_url(url, base=base) == canonical_url(joined)


def test_the_storywatch_command_runs_the_cycle_collector_less_often(tmp_path: Path) -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "sw.db"), "stories"])
        assert result.exit_code == 0, result.output
        assert gc.get_threshold() == (100_000, 50, 100)
        assert gc.isenabled()
    finally:
        gc.set_threshold(*before)
