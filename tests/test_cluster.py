"""Story clustering on small hand-written streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.monitor.cluster import Assignment, ClusterSettings, StoryClusterer
from bot.monitor.terms import is_plain_statement, normalize_headline, stem, tokenize

T0 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

# Unrelated stories of the same days, so word statistics are not those of an empty collection.
BACKGROUND = [
    "Fed holds interest rates steady as inflation cools",
    "Heatwave grips southern Europe as temperatures pass 40C",
    "Apple unveils new iPad Pro at developer conference",
    "Tesla recalls 100,000 cars over seat belt fault",
    "Champions League final: Real Madrid beat Dortmund",
    "Wildfires force thousands to flee homes in California",
]


def feed(clusterer: StoryClusterer, titles: list[str], start: datetime, step: timedelta) -> list[Assignment]:
    return [clusterer.assign(t, "", "Wire", start + i * step) for i, t in enumerate(titles)]


def test_two_iran_stories_in_the_same_week_stay_apart() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    evacuation = feed(
        c,
        [
            "Iran evacuates embassy staff from Baghdad",
            "Iran orders evacuation of its Baghdad embassy - Reuters",
            "Tehran evacuates diplomats as Baghdad embassy staff leave Iraq",
        ],
        T0 + timedelta(hours=1),
        timedelta(minutes=10),
    )
    nuclear = feed(
        c,
        [
            "Iran and world powers resume nuclear talks in Vienna",
            "Nuclear talks with Iran resume in Vienna | BBC News",
        ],
        T0 + timedelta(days=2),
        timedelta(minutes=10),
    )
    assert len({a.story_id for a in evacuation}) == 1
    assert len({a.story_id for a in nuclear}) == 1
    assert evacuation[0].story_id != nuclear[0].story_id
    assert nuclear[0].is_new


# Earlier Iran news: it teaches the clusterer that "Iran" alone is common to many stories.
IRAN_HISTORY = [
    "Iran president visits China for trade talks",
    "Iran oil exports hit five-year high",
    "Iran football team qualifies for World Cup",
    "Earthquake strikes southern Iran",
    "Iran bans Western fashion in schools",
]


def test_iran_stories_stay_apart_even_when_interleaved_within_an_hour() -> None:
    # No help from time here: only the rarer words tell the stories apart; "Iran" is shared by both, and
    # after a few weeks of Iran news it weighs little.
    c = StoryClusterer()
    feed(c, IRAN_HISTORY, T0 - timedelta(days=20), timedelta(days=3))
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    titles = [
        ("evac", "Iran evacuates embassy staff from Baghdad"),
        ("nuke", "Iran and world powers resume nuclear talks in Vienna"),
        ("evac", "Iran orders evacuation of Baghdad embassy"),
        ("nuke", "Nuclear talks with Iran resume in Vienna"),
    ]
    got = {}
    for i, (label, title) in enumerate(titles):
        got.setdefault(label, set()).add(c.assign(title, "", "Wire", T0 + timedelta(minutes=60 + i)).story_id)
    assert len(got["evac"]) == 1
    assert len(got["nuke"]) == 1
    assert got["evac"] != got["nuke"]


def test_denial_joins_the_story_it_denies() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    first = c.assign("Putin to attend G20 summit in Brisbane", "", "Wire", T0 + timedelta(hours=1))
    denial = c.assign("Putin will not attend G20 summit, Kremlin says", "", "Wire", T0 + timedelta(hours=5))
    assert first.is_new
    assert not denial.is_new
    assert denial.story_id == first.story_id
    # The negation is not what tied them: it is not a clustering term at all.
    assert "not" not in denial.shared_terms
    assert {"putin", "summit"} <= set(denial.shared_terms)


def test_source_suffixes_are_stripped() -> None:
    assert normalize_headline("Iran evacuates Baghdad embassy - Reuters", "Reuters") == "Iran evacuates Baghdad embassy"
    assert normalize_headline("Iran evacuates Baghdad embassy | BBC News") == "Iran evacuates Baghdad embassy"
    assert normalize_headline("BREAKING: Iran evacuates Baghdad embassy -CNN") == "Iran evacuates Baghdad embassy"
    assert normalize_headline("Bank Austria may sell Ukraine unit (1)") == "Bank Austria may sell Ukraine unit"
    # A dash followed by words that say something is content, not an outlet.
    kept = "Man saved from bear attack - thanks to his Justin Bieber ringtone"
    assert normalize_headline(kept) == kept
    kept = "China app store photo goes viral - But Is It Real?"
    assert normalize_headline(kept) == kept


def test_suffix_and_case_variants_are_the_same_headline_to_the_clusterer() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    a = c.assign("Iran evacuates Baghdad embassy - Reuters", "", "Reuters", T0 + timedelta(hours=1))
    b = c.assign("IRAN EVACUATES BAGHDAD EMBASSY | The Guardian", "", "The Guardian", T0 + timedelta(hours=30))
    assert b.story_id == a.story_id
    assert b.score == pytest.approx(1.0, abs=0.01)
    assert not {"reuters", "guardian"} & set(b.shared_terms)
    assert c.title_of(a.story_id) == "Iran evacuates Baghdad embassy"


def test_tokenize_and_stem() -> None:
    assert tokenize("Apple's on-hold music didn't change in Montréal") == [
        "apple",
        "on",
        "hold",
        "music",
        "didnt",
        "change",
        "in",
        "montreal",
    ]
    assert tokenize("U.S. stocks fall", {"fall"}) == ["usa", "stocks"]
    assert len({stem(w) for w in ("beheads", "beheaded", "beheading", "behead")}) == 1
    assert stem("congress") == "congress"
    for forms in (("kill", "killed", "kills", "killing"), ("fly", "flies", "flying"), ("stop", "stopped")):
        assert len({stem(w) for w in forms}) == 1, forms


def test_story_closes_after_quiet_period() -> None:
    c = StoryClusterer(ClusterSettings(close_after_hours=24))
    first = c.assign("Volcano erupts on Iceland's Reykjanes peninsula", "", "Wire", T0)
    assert c.close_stale(T0 + timedelta(hours=23)) == []
    assert c.is_open(first.story_id)
    # The same headline after the quiet period cannot join: the story is closed.
    again = c.assign("Volcano erupts on Iceland's Reykjanes peninsula", "", "Wire", T0 + timedelta(hours=25))
    assert again.is_new
    assert again.story_id != first.story_id
    assert not c.is_open(first.story_id)
    assert c.title_of(first.story_id) == "Volcano erupts on Iceland's Reykjanes peninsula"
    assert c.close_stale(T0 + timedelta(hours=50)) == [again.story_id]
    assert c.open_story_count == 0


def test_story_that_keeps_receiving_items_stays_open() -> None:
    c = StoryClusterer(ClusterSettings(close_after_hours=48))
    ids = {
        c.assign(
            f"Volcano on Reykjanes peninsula erupts again, day {day}", "", "Wire", T0 + timedelta(days=day)
        ).story_id
        for day in range(10)
    }
    assert len(ids) == 1


def test_far_apart_items_need_stronger_evidence() -> None:
    related = ("Strike shuts Lufthansa hubs in Frankfurt", "Lufthansa pilots strike over pensions")

    def second_joins(gap: timedelta) -> bool:
        c = StoryClusterer()
        feed(c, BACKGROUND, T0, timedelta(minutes=5))
        a = c.assign(related[0], "", "Wire", T0 + timedelta(hours=1))
        b = c.assign(related[1], "", "Wire", T0 + timedelta(hours=1) + gap)
        return b.story_id == a.story_id

    assert second_joins(timedelta(minutes=30))
    assert not second_joins(timedelta(days=6))

    # A report that repeats the story's distinctive words still joins after the same gap.
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    a = c.assign(related[0], "", "Wire", T0 + timedelta(hours=1))
    b = c.assign("Lufthansa strike shuts Frankfurt hub", "", "Wire", T0 + timedelta(days=6))
    assert b.story_id == a.story_id


def test_assignment_records_score_and_shared_terms() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    first = c.assign("ISIS beheads American journalist James Foley", "", "Wire", T0 + timedelta(hours=1))
    assert first == Assignment(first.story_id, True, 0.0, ())
    second = c.assign("James Foley beheaded in Islamic State video", "", "Wire", T0 + timedelta(hours=2))
    assert second.story_id == first.story_id
    assert not second.is_new
    assert 0.0 < second.score <= 1.0
    assert {"james", "foley", "beheads"} <= set(second.shared_terms)
    assert "video" not in second.shared_terms  # only in the new item, so not shared


def test_summary_is_used_when_present() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    a = c.assign("Markets brace for central bank decision", "", "Wire", T0 + timedelta(hours=1))
    summary = "The Bank of Japan is expected to end negative interest rates on Tuesday."
    b = c.assign("Markets brace for central bank decision", summary, "Wire", T0 + timedelta(hours=1))
    d = c.assign("What a weekend", summary, "Wire", T0 + timedelta(hours=2))
    assert b.story_id == a.story_id
    # Only the summary links the vague headline to the story.
    assert d.story_id == a.story_id
    assert "japan" in d.shared_terms


def test_title_follows_the_story() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    opener = "Gunfire heard near Ottawa's Parliament Hill, police ask people to stay away from windows"
    first = c.assign(opener, "", "Wire", T0 + timedelta(hours=1))
    assert c.title_of(first.story_id) == opener
    for i, title in enumerate(
        [
            "Soldier shot at Ottawa war memorial",
            "Soldier shot at war memorial in Ottawa, gunman at Parliament",
            "Ottawa shooting: soldier shot at war memorial",
            "Soldier shot at National War Memorial in Ottawa",
        ]
    ):
        assert c.assign(title, "", "Wire", T0 + timedelta(hours=1, minutes=5 * (i + 1))).story_id == first.story_id
    title = c.title_of(first.story_id)
    assert title != opener
    assert "soldier" in title.lower() and "memorial" in title.lower()


def test_title_is_a_report_of_the_claim_not_its_denial_while_most_reports_state_it() -> None:
    c = StoryClusterer()
    rows = []

    def add(title: str, when: datetime) -> int:
        story_id = c.assign(title, "", "Wire", when).story_id
        rows.append((story_id, title, "", "Wire", when))
        return story_id

    for i, title in enumerate(BACKGROUND):
        add(title, T0 + timedelta(minutes=5 * i))
    claim = [
        "Iran begins evacuating diplomats from Syria",
        # The denial repeats the claim's words and is the most central headline so far...
        "Iran denies evacuating diplomats and embassy staff from Syria",
        "Iran evacuating embassy staff and diplomats from Syria",
    ]
    story = {add(t, T0 + timedelta(hours=1, minutes=10 * i)) for i, t in enumerate(claim)}
    assert len(story) == 1
    story_id = story.pop()
    # ...but a story mostly made of reports of the claim is titled by one of them.
    assert c.title_of(story_id) in (claim[0], claim[2])
    for i, title in enumerate(
        [
            "Tehran denies it is evacuating diplomats and embassy staff from Syria",
            "Iran denies reports of evacuating embassy staff and diplomats from Syria",
        ]
    ):
        assert add(title, T0 + timedelta(hours=2, minutes=i)) == story_id
    # A restarted clusterer agrees on the title.
    restored = StoryClusterer()
    restored.restore(rows)
    assert restored.title_of(story_id) == c.title_of(story_id)


def test_plain_statements() -> None:
    assert is_plain_statement("Iran begins evacuating diplomats from Syria")
    assert not is_plain_statement("Iran denies evacuating diplomats from Syria")
    assert not is_plain_statement("No, Banksy has not been arrested")
    assert not is_plain_statement("Was the Batmobile stolen in Detroit?")
    assert not is_plain_statement("Three-breasted woman is a hoax")


STREAM = [
    *BACKGROUND,
    "Iran evacuates embassy staff from Baghdad",
    "Putin to attend G20 summit in Brisbane",
    "Iran orders evacuation of Baghdad embassy",
    "Putin will not attend G20 summit, Kremlin says",
    "Volcano erupts on Iceland's Reykjanes peninsula",
    "Iceland volcano eruption forces Grindavik evacuation",
    "Nuclear talks with Iran resume in Vienna",
    "Kremlin: Putin skips G20 summit in Brisbane",
    "Reykjanes volcano erupts again, lava reaches Grindavik",
    "Iran and world powers resume nuclear talks in Vienna",
]


def test_restore_gives_the_same_assignments_as_a_clusterer_that_never_stopped() -> None:
    settings = ClusterSettings(close_after_hours=10)
    times = [T0 + timedelta(hours=i) for i in range(len(STREAM))]
    never_stopped = StoryClusterer(settings, next_story_id=100)
    expected = [never_stopped.assign(t, "", "Wire", at) for t, at in zip(STREAM, times, strict=True)]

    cut = 11
    before = StoryClusterer(settings, next_story_id=100)
    stored = [
        (before.assign(t, "", "Wire", at).story_id, t, "", "Wire", at)
        for t, at in zip(STREAM[:cut], times[:cut], strict=True)
    ]
    # A fresh process: only what the database holds (memberships in any order) is available.
    restored = StoryClusterer(settings)
    restored.restore(reversed(stored))
    assert restored.next_story_id == before.next_story_id
    after = [restored.assign(t, "", "Wire", at) for t, at in zip(STREAM[cut:], times[cut:], strict=True)]
    assert after == expected[cut:]
    for a in after:
        assert restored.title_of(a.story_id) == never_stopped.title_of(a.story_id)
    # The stream is not trivial: something joined and something started after the restart.
    assert any(a.is_new for a in after) and any(not a.is_new for a in after)


def test_story_ids_increase_from_the_seed() -> None:
    c = StoryClusterer(next_story_id=41)
    ids = [a.story_id for a in feed(c, BACKGROUND, T0, timedelta(minutes=5))]
    assert ids == list(range(41, 41 + len(BACKGROUND)))
    assert c.next_story_id == 41 + len(BACKGROUND)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="join_threshold"):
        ClusterSettings(join_threshold=0.0)
    with pytest.raises(ValueError, match="close_after_hours"):
        ClusterSettings(close_after_hours=0)


def test_candidates_come_from_the_index_not_a_scan() -> None:
    # Many open stories that share no word with the item must not be scored at all.
    c = StoryClusterer()
    for i in range(300):
        c.assign(f"Story number{i} about topic{i}", "", "Wire", T0 + timedelta(seconds=i))
    vector = c._vector("Completely unrelated eclipse headline", "", "Wire")
    assert c._candidates(vector) == set()
    vector = c._vector("Another report on topic7", "", "Wire")
    assert len(c._candidates(vector)) == 1


# Earlier Apple Watch news on other days: the subject itself is not new to the clusterer.
WATCH_HISTORY = [
    "Apple Watch launch event set for March 9",
    "Apple Watch apps: developers get WatchKit tools",
]


def test_two_apple_watch_claims_on_one_day_stay_apart_while_reports_of_each_claim_join() -> None:
    # Different claims about one subject share only "Apple Watch": an hour after the first claim's burst,
    # the second claim is mostly words the first story never used, so it starts its own story; the
    # second claim's follow-up reports then join it, not the first.
    c = StoryClusterer()
    feed(c, BACKGROUND + WATCH_HISTORY, T0 - timedelta(days=2), timedelta(hours=3))
    health = feed(
        c,
        [
            "Apple cut health features from Apple Watch at the last minute",
            "Health sensors cut from Apple Watch: erratic readings, report says",
            "Apple Watch loses health features after sensors proved erratic",
        ],
        T0,
        timedelta(minutes=2),
    )
    price = feed(
        c,
        [
            "Gold Apple Watch Edition could cost 5,000, analyst says",
            "Analyst: gold Apple Watch Edition to cost 5,000",
            "Apple Watch Edition in gold may cost as much as 5,000",
        ],
        T0 + timedelta(hours=1),
        timedelta(minutes=2),
    )
    assert len({a.story_id for a in health}) == 1
    assert len({a.story_id for a in price}) == 1
    assert price[0].is_new
    assert health[0].story_id != price[0].story_id


def test_a_report_of_the_same_claim_hours_later_still_joins() -> None:
    # The coverage requirement grows with the gap, but a report made of the story's own words meets it.
    c = StoryClusterer()
    feed(c, BACKGROUND + WATCH_HISTORY, T0 - timedelta(days=2), timedelta(hours=3))
    first = feed(
        c,
        ["Gold Apple Watch Edition could cost 5,000, analyst says", "Analyst: gold Apple Watch Edition to cost 5,000"],
        T0,
        timedelta(minutes=2),
    )
    later = c.assign("Apple Watch Edition in gold to cost 5,000", "", "Wire", T0 + timedelta(hours=6))
    assert first[1].story_id == first[0].story_id
    assert later.story_id == first[0].story_id and not later.is_new


def test_coverage_needed_grows_with_the_gap() -> None:
    settings = ClusterSettings()
    c = StoryClusterer(settings)
    a = c.assign("Gold Apple Watch Edition could cost 5,000", "", "Wire", T0)
    story = c._stories[a.story_id]
    needs = [c._coverage_needed(story, T0 + timedelta(hours=h)) for h in (0, 0.25, 1, 6, 72, 200)]
    assert needs[0] == pytest.approx(settings.min_coverage)
    assert needs == sorted(needs)
    assert needs[-1] == pytest.approx(settings.min_coverage + settings.coverage_penalty)
    assert needs[-2] == needs[-1]
    off = StoryClusterer(ClusterSettings(coverage_penalty=0.0))
    b = off.assign("Gold Apple Watch Edition could cost 5,000", "", "Wire", T0)
    assert off._coverage_needed(off._stories[b.story_id], T0 + timedelta(days=2)) == off.settings.min_coverage


def test_coverage_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        ClusterSettings(coverage_penalty=-0.1)
    with pytest.raises(ValueError):
        ClusterSettings(min_coverage=0.5, coverage_penalty=0.5)
    with pytest.raises(ValueError):
        ClusterSettings(coverage_scale_hours=0.0)
