"""The counts of terms no open story holds: compact, and the clusterer decides as if it kept them all."""

from __future__ import annotations

import pickle
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.monitor import cluster
from bot.monitor.cluster import ClusterSettings, StoryClusterer
from bot.monitor.coldterms import ColdTerms
from tests.test_fast_paths import state, synthetic_stream


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([f"t{n}" for n in range(40)] + ["a+b", "ünï"]), st.integers(0, 10**6)),
                max_size=300), st.integers(1, 9))
def test_cold_terms_give_the_last_count_put_as_a_dict_would(puts: list[tuple[str, int]], limit: int) -> None:
    cold, expected = ColdTerms(recent_limit=limit), {}
    for term, count in puts:
        cold.put(term, count)
        expected[term] = count
    for term in {t for t, _ in puts} | {"never", "t41"}:
        assert cold.get(term, -1) == expected.get(term, -1)
    assert pickle.loads(pickle.dumps(cold)) == cold


class _KeepingAll(cluster._StoryFrequencies):
    """What the clusterer did before: every term's count kept in the dict, whether or not a story holds it."""

    __slots__ = ()

    def cool(self, term: str) -> None:
        pass

    def heat(self, term: str) -> None:
        pass


def test_a_clusterer_with_closed_stories_terms_cold_assigns_as_one_keeping_them_all() -> None:
    # Stories close after six hours of quiet, and subjects come back after that: their terms are read back
    # from the cold counts, many times, with a small dict so that the sorted levels are used and merged.
    settings = ClusterSettings(close_after_hours=6.0)
    stream = synthetic_stream(60, 1500)
    stream = [(title, summary, source, at + timedelta(hours=2 * n // 50)) for n, (title, summary, source, at)
              in enumerate(stream)]
    cold, keeping = StoryClusterer(settings), StoryClusterer(settings)
    cold._sf.cold.recent_limit = 16
    keeping._sf = keeping._freq = _KeepingAll()
    for title, summary, source, at in stream:
        assert cold.assign(title, summary, source, at) == keeping.assign(title, summary, source, at)
    assert len(cold._sf.cold) > 100 and len(cold._sf.cold._levels) >= 2
    assert len(cold._sf) < len(keeping._sf)
    for term in keeping._sf:
        assert cold._sf.get(term) == keeping._sf[term]
    restored = pickle.loads(pickle.dumps(cold))
    assert state(restored) == state(cold)


def test_a_reopened_story_takes_its_terms_counts_back_from_the_cold_ones() -> None:
    from tests.test_cluster import BACKGROUND, FINED, LATE_DENIAL, T0

    stream = [(t, T0 + i * timedelta(minutes=5), "Wire") for i, t in enumerate(BACKGROUND)]
    stream += [(t, T0 + timedelta(hours=1) + i * timedelta(minutes=10), "Wire") for i, t in enumerate(FINED)]
    stream.append((LATE_DENIAL, T0 + timedelta(days=20), "Late Desk"))
    stream += [(t, T0 + timedelta(days=40) + i * timedelta(minutes=5), "Wire") for i, t in enumerate(FINED)]
    cold, keeping = StoryClusterer(), StoryClusterer()
    keeping._sf = keeping._freq = _KeepingAll()
    assignments = []
    for title, at, source in stream:
        assignments.append(cold.assign(title, "", source, at))
        assert assignments[-1] == keeping.assign(title, "", source, at)
    assert any(a.reopened for a in assignments)
    for term in keeping._sf:
        assert cold._sf.get(term) == keeping._sf[term]
