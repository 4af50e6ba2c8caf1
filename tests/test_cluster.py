"""Story clustering on small hand-written streams."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from bot.monitor.cluster import Assignment, ClusterSettings, StoryClusterer, item_words
from bot.monitor.terms import is_plain_statement, is_roundup, normalize_headline, stem, tokenize

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
    # Another open story also says "strike", so the two reports share one signature word of the first story
    # ("Lufthansa"), not two: no second chance (see the signature tests below).
    background = [*BACKGROUND, "Dockworkers strike closes Rotterdam port"]

    def second_joins(gap: timedelta) -> bool:
        c = StoryClusterer()
        feed(c, background, T0, timedelta(minutes=5))
        a = c.assign(related[0], "", "Wire", T0 + timedelta(hours=1))
        b = c.assign(related[1], "", "Wire", T0 + timedelta(hours=1) + gap)
        return b.story_id == a.story_id

    assert second_joins(timedelta(minutes=30))
    assert not second_joins(timedelta(days=6))

    # A report that repeats the story's distinctive words still joins after the same gap.
    c = StoryClusterer()
    feed(c, background, T0, timedelta(minutes=5))
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
    vector = c._vector(item_words("Completely unrelated eclipse headline", "", "Wire"), "Wire")
    assert c._candidates(vector) == set()
    vector = c._vector(item_words("Another report on topic7", "", "Wire"), "Wire")
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


# --- Phrases, signatures, momentum, cold start ---------------------------------------------------------


def test_phrases_are_terms_of_their_own_but_never_shown() -> None:
    c = StoryClusterer()
    vector = c._vector(item_words("Batmobile stolen in Detroit", "", "Wire"), "Wire")
    # Neighbours once stop words are dropped, order ignored: "stolen Batmobile" is the same phrase.
    assert vector["batmobil+stolen"] == pytest.approx(ClusterSettings().phrase_weight)
    assert "detroit+stolen" in vector
    stolen = item_words("Stolen Batmobile found in Detroit", "", "Wire")
    assert c._vector(stolen, "Wire").keys() >= {"batmobil+stolen"}
    assert not any("+" in t for t in StoryClusterer(ClusterSettings(phrase_weight=0.0))._vector(
        item_words("Batmobile stolen in Detroit", "", "Wire"), "Wire"))
    # Summaries make no phrases; near-duplicate keys and the shared words shown are words only.
    summary_only = item_words("Batmobile", "stolen car found in Detroit", "Wire")
    assert not any("+" in t for t in c._vector(summary_only, "Wire"))
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    a = c.assign("Batmobile stolen from film set in Detroit", "", "Wire", T0 + timedelta(hours=1))
    b = c.assign("Batmobile stolen from Detroit film set, police say", "", "Wire", T0 + timedelta(hours=1, minutes=5))
    assert b.story_id == a.story_id
    assert b.shared_terms and not any("+" in t for t in b.shared_terms)
    assert not any("+" in rep for rep in c._stories[a.story_id].reps)


TRIDEVIL = [
    "Jasmine Tridevil says she had surgery to add a third breast",
    "Florida woman Jasmine Tridevil adds third breast to put off men",
    "Jasmine Tridevil: woman with third breast wants reality show",
]
TRIDEVIL_LATE = "Tampa police say Jasmine Tridevil's third breast was a prosthesis found in her luggage"


def test_a_late_report_naming_the_story_s_signature_words_joins_days_later() -> None:
    # Five days on, the report brings many words the story never used, so the time requirements alone turn
    # it away; but it names the story's signature words ("Jasmine Tridevil", "third breast": most of its
    # reports have them, no other story does), so it gets a second chance.
    def late(settings: ClusterSettings) -> tuple[int, Assignment]:
        c = StoryClusterer(settings)
        feed(c, BACKGROUND, T0 - timedelta(days=1), timedelta(minutes=5))
        claim = feed(c, TRIDEVIL, T0, timedelta(minutes=10))
        assert len({a.story_id for a in claim}) == 1
        return claim[0].story_id, c.assign(TRIDEVIL_LATE, "", "Wire", T0 + timedelta(days=5))

    story_id, joined = late(ClusterSettings())
    assert joined.story_id == story_id and not joined.is_new
    assert {"tridevil", "breast"} <= set(joined.shared_terms)
    story_id, alone = late(ClusterSettings(signature_relief=0.0))
    assert alone.is_new


KIM_ANKLES = [
    "Kim Jong-un broke both ankles, report claims",
    "North Korea's Kim Jong-un had surgery on broken ankles",
    "Kim Jong-un in hospital with two broken ankles",
]


def test_a_name_is_one_signature_however_many_words_it_has() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND, T0 - timedelta(days=1), timedelta(minutes=5))
    story = c._stories[feed(c, KIM_ANKLES, T0, timedelta(minutes=10))[0].story_id]
    # "Kim Jong-un" (three words the story always has together) is one signature; "broken ankles" another.
    assert c._signatures(item_words("Kim Jong-un seen with a walking stick", "", "Wire").keys, story) == 1
    assert c._signatures(item_words("Kim Jong-un's broken ankles: leader limps", "", "Wire").keys, story) == 2
    late = c.assign("Kim Jong-un seen in public with a walking stick", "", "Wire", T0 + timedelta(days=4))
    assert late.is_new  # only the subject in common, days later: a story of its own


def test_a_word_another_open_story_uses_is_no_signature() -> None:
    # Two open stories about Jasmine Tridevil: her name is a subject they share, not a signature of either.
    c = StoryClusterer()
    feed(c, BACKGROUND, T0 - timedelta(days=1), timedelta(minutes=5))
    story = c._stories[feed(c, TRIDEVIL, T0, timedelta(minutes=10))[0].story_id]
    headline = item_words(TRIDEVIL_LATE, "", "Wire").keys
    assert c._signatures(headline, story) == 2
    other = c.assign("Jasmine Tridevil signs reality TV deal with cable channel", "", "Wire", T0 + timedelta(days=2))
    assert other.is_new
    assert c._signatures(headline, story) == 1


# A burst of market reports, one story.
MARKET_BURST = [
    "Stocks fall on weak China trade data",
    "Wall Street slides as China exports slump",
    "Dow drops 150 points on China data",
    "US stocks lower after Chinese exports fall",
    "S&P 500 retreats from record on China worries",
    "Stocks slip as weak Chinese data weighs",
]


def test_a_report_during_a_burst_prefers_the_burst_s_story() -> None:
    # The item could join either story; the one receiving many reports right now wins, unless momentum is off.
    burst = MARKET_BURST

    def goes_to(settings: ClusterSettings) -> str:
        c = StoryClusterer(settings)
        feed(c, BACKGROUND, T0 - timedelta(days=1), timedelta(minutes=5))
        big = {a.story_id for a in feed(c, burst, T0, timedelta(minutes=2))}
        side = c.assign("Brent crude slumps as OPEC output rises", "", "Wire", T0 + timedelta(minutes=13))
        assert len(big) == 1 and side.is_new
        item = c.assign("Brent crude slumps on weak China data", "", "Wire", T0 + timedelta(minutes=14))
        return "burst" if item.story_id in big else "side" if item.story_id == side.story_id else "new"

    assert goes_to(ClusterSettings()) == "burst"
    assert goes_to(ClusterSettings(momentum=0.0)) == "side"


def test_momentum_fades_once_the_story_goes_quiet() -> None:
    c = StoryClusterer()
    story = c._stories[feed(c, KIM_ANKLES, T0, timedelta(minutes=1))[0].story_id]
    now = c._momentum(story, T0 + timedelta(minutes=3))
    assert now > 0.0
    assert c._momentum(story, T0 + timedelta(hours=3)) < now / 100


DEMO_START = [
    ("Iran begins evacuating military personnel from Syria",
     "Tehran has started pulling commanders and personnel out of Syria as a rebel offensive advances, "
     "regional officials said."),
    ("Copper prices climb to a two-year high on Chilean mine strike",
     "Copper rose for a fifth day as a strike halted output at one of Chile's largest mines."),
    ("City council approves new tram line to the airport",
     "The line will link the central station with the airport in 25 minutes."),
    ("Iran evacuating commanders and diplomats from Syria, officials say",
     "Diplomatic staff and their families are leaving by air and by road to Lebanon and Iraq."),
    ("Chilean copper mine strike enters second week, prices climb",
     "Union leaders said talks with the mine's owner had made no progress."),
    ("Airport tram line to open in 2027, council says", "Construction starts next spring."),
]
HAMA = ("Rebels take Hama as government forces pull back", "The city fell after days of fighting on its northern edge.")


def test_cold_start_keeps_a_weakly_related_report_out_of_the_first_stories() -> None:
    # With three stories, every word looks rare: "rebels" and "pull" (from the Iran story's summary) were
    # enough for the Hama offensive to join the Iran evacuation. Phrases alone no longer let it; the
    # cold-start threshold keeps it apart even without them.
    def hama_joins_iran(settings: ClusterSettings) -> bool:
        c = StoryClusterer(settings)
        ids = [c.assign(t, s, "Wire", T0 + timedelta(seconds=5 * i)).story_id for i, (t, s) in enumerate(DEMO_START)]
        return c.assign(*HAMA, "Wire", T0 + timedelta(seconds=30)).story_id == ids[0]

    assert not hama_joins_iran(ClusterSettings())
    assert not hama_joins_iran(ClusterSettings(phrase_weight=0.0))
    assert hama_joins_iran(ClusterSettings(phrase_weight=0.0, cold_start_threshold=0.0))
    # Once the clusterer has seen `cold_start_stories` stories, the threshold is the configured one.
    c = StoryClusterer()
    feed(c, [f"Alpha{i} beta{i} gamma{i}" for i in range(25)], T0, timedelta(minutes=1))
    assert c._join_threshold() == c.settings.join_threshold


def test_summary_boilerplate_does_not_merge_stories() -> None:
    # Every summary of a feed ends with the same sentence. From a feed's third summary on, that sentence is
    # recognised and ignored; before, it merged every story into the first one.
    feeds = {
        "Metro Herald": "Read more news and analysis from the Metro Herald online, every day.",
        "Coastal Times": "Read more news and analysis from the Coastal Times online, every day.",
        "Daily Wire": "Copyright Daily Wire. All rights reserved.",
    }
    stories = [
        ("Varondel", "harbour expansion"), ("Quistmar", "steel plant closure"), ("Belotrix", "airport runway"),
        ("Draskavi", "budget vote"), ("Holmekin", "bridge repairs"), ("Tivorask", "hospital merger"),
        ("Murendal", "tram contract"), ("Zelphine", "mine strike"), ("Karvosti", "refinery fire"),
        ("Lindquor", "school reform"), ("Pessarim", "water tariffs"), ("Ostravel", "rail tunnel"),
    ]
    actions = ["approves", "delays", "rejects"]

    def run(settings: ClusterSettings) -> dict[str, set[int]]:
        c = StoryClusterer(settings)
        when = T0 - timedelta(days=2)
        for source, tail in feeds.items():  # each feed's earlier reports
            for title in BACKGROUND[:2]:
                c.assign(title, f"{title}. {tail}", source, when)
                when += timedelta(hours=1)
        found: dict[str, set[int]] = {}
        when = T0
        for name, topic in stories:
            for action, (source, tail) in zip(actions, feeds.items(), strict=True):
                summary = f"{name} {action} the {topic} on Tuesday. {tail}"
                found.setdefault(name, set()).add(c.assign(f"{name} {action} {topic}", summary, source, when).story_id)
                when += timedelta(minutes=7)
        return found

    found = run(ClusterSettings())
    assert all(len(ids) == 1 for ids in found.values())
    assert len(set().union(*found.values())) == len(stories)
    assert len(set().union(*run(ClusterSettings(boilerplate_share=0.0)).values())) < len(stories) // 2


def test_norm_sums_match_a_full_recount() -> None:
    # The centroid norms are kept current from three sums (see `_story_sq_norm`); they must agree with the
    # plain sum over the story's terms at today's rarities, within the drift allowed for common words.
    c = StoryClusterer()
    feed(c, IRAN_HISTORY + BACKGROUND, T0 - timedelta(days=3), timedelta(hours=2))
    feed(c, TRIDEVIL + KIM_ANKLES + STREAM, T0, timedelta(minutes=3))
    for story in c._stories.values():
        exact = sum((count * c._idf(term)) ** 2 for term, count in story.counts.items())
        assert c._story_sq_norm(story) == pytest.approx(exact, rel=0.02)


def test_restore_replays_signatures_and_norms_exactly() -> None:
    rows = []
    never_stopped = StoryClusterer()
    for i, title in enumerate(BACKGROUND + TRIDEVIL + KIM_ANKLES):
        at = T0 + timedelta(minutes=10 * i)
        rows.append((never_stopped.assign(title, "", "Wire", at).story_id, title, "", "Wire", at))
    restored = StoryClusterer()
    restored.restore(rows)
    for story_id, story in never_stopped._stories.items():
        assert restored._stories[story_id].norm_sums == story.norm_sums
    later = T0 + timedelta(days=5)
    assert restored.assign(TRIDEVIL_LATE, "", "Wire", later) == never_stopped.assign(TRIDEVIL_LATE, "", "Wire", later)


def test_new_settings_are_validated() -> None:
    for bad in (
        {"phrase_weight": -0.1},
        {"phrase_weight": 1.5},
        {"signature_share": 0.0},
        {"signature_words": 0},
        {"signature_relief": 1.2},
        {"momentum": -0.01},
        {"momentum_hours": 0.0},
        {"cold_start_threshold": -0.1},
        {"boilerplate_share": 1.5},
        {"boilerplate_min_summaries": 0},
        {"quiet_paces": -1.0},
        {"pace_prior": 0.0},
        {"quiet_signatures": 0},
    ):
        with pytest.raises(ValueError):
            ClusterSettings(**bad)


# Other open stories that also say "stocks", so the word is a subject several stories share rather than a
# signature of the market burst.
OTHER_STOCKS = ["Asian stocks rise as yen weakens", "Tech stocks rally after chipmaker earnings beat"]
UKRAINE_MARKETS = [
    "US stocks lower on Ukraine worries",
    "Wall Street slides as Ukraine tensions rise",
    "Stocks fall as Ukraine crisis deepens",
    "Stocks slip as Ukraine fears weigh",
]


def _market_burst(settings: ClusterSettings) -> tuple[StoryClusterer, int]:
    c = StoryClusterer(settings)
    feed(c, BACKGROUND + OTHER_STOCKS, T0 - timedelta(days=1), timedelta(minutes=5))
    burst = feed(c, MARKET_BURST, T0, timedelta(seconds=5))
    assert len({a.story_id for a in burst}) == 1
    return c, burst[0].story_id


def test_a_burst_that_ran_its_course_is_not_reopened_by_a_new_event_on_its_subject() -> None:
    # Two hours after a burst of half a minute, a report of a new market move shares only the subject
    # ("stocks", "lower"): it starts its own story, and the rest of the new event's reports follow it
    # there. Without the rule the first report joins the old burst, resets its silence, and the whole new
    # event chains into the old story.
    c, old = _market_burst(ClusterSettings())
    new = feed(c, UKRAINE_MARKETS, T0 + timedelta(hours=2), timedelta(seconds=10))
    assert new[0].is_new
    assert {a.story_id for a in new} == {new[0].story_id}
    c, old = _market_burst(ClusterSettings(quiet_paces=0.0))
    chained = feed(c, UKRAINE_MARKETS, T0 + timedelta(hours=2), timedelta(seconds=10))
    assert {a.story_id for a in chained} == {old}


def test_a_report_naming_the_burst_s_signature_word_still_reopens_it() -> None:
    # The same silence, but the report names "China", which most of the burst's reports had and no other
    # open story has: it is a report of the burst's story, and joins it.
    c, old = _market_burst(ClusterSettings())
    story = c._stories[old]
    later = T0 + timedelta(hours=2)
    assert c._gone_quiet(story, later)
    joined = c.assign("Stocks slip again on weak China data as Ukraine fears grow", "", "Wire", later)
    assert joined.story_id == old and not joined.is_new


def test_a_story_goes_quiet_by_its_own_rhythm() -> None:
    c = StoryClusterer()
    feed(c, BACKGROUND + OTHER_STOCKS, T0 - timedelta(days=1), timedelta(minutes=5))
    burst = c._stories[feed(c, MARKET_BURST, T0, timedelta(seconds=5))[0].story_id]
    first = c.assign("Volcano erupts on Iceland's Reykjanes peninsula", "", "Wire", T0 + timedelta(minutes=1))
    slow = c._stories[feed(c, KIM_ANKLES, T0 + timedelta(minutes=2), timedelta(hours=3))[0].story_id]
    single = c._stories[first.story_id]
    assert (burst.size, slow.size, single.size) == (len(MARKET_BURST), len(KIM_ANKLES), 1)
    # Six reports in 25 seconds: pace (25 s + 2 x 1 h) / (5 + 2) intervals, quiet after four paces (~69 min).
    last = burst.last_seen
    assert not c._gone_quiet(burst, last + timedelta(minutes=60))
    assert c._gone_quiet(burst, last + timedelta(minutes=75))
    # A report every three hours: the same silence is nothing unusual.
    assert not c._gone_quiet(slow, slow.last_seen + timedelta(hours=2))
    assert c._gone_quiet(slow, slow.last_seen + timedelta(hours=9))
    # A first report has the default pace (`time_scale_hours`): quiet after four hours.
    assert not c._gone_quiet(single, single.last_seen + timedelta(hours=3.9))
    assert c._gone_quiet(single, single.last_seen + timedelta(hours=4.1))
    off = StoryClusterer(ClusterSettings(quiet_paces=0.0))
    story = off._stories[feed(off, MARKET_BURST, T0, timedelta(seconds=5))[0].story_id]
    assert not off._gone_quiet(story, T0 + timedelta(days=3))


def test_restore_replays_the_story_rhythm_exactly() -> None:
    rows = []
    never_stopped = StoryClusterer()
    titles = BACKGROUND + OTHER_STOCKS + MARKET_BURST
    times = [T0 - timedelta(days=1) + timedelta(minutes=5 * i) for i in range(len(BACKGROUND + OTHER_STOCKS))]
    times += [T0 + timedelta(seconds=5 * i) for i in range(len(MARKET_BURST))]
    for title, at in zip(titles, times, strict=True):
        rows.append((never_stopped.assign(title, "", "Wire", at).story_id, title, "", "Wire", at))
    restored = StoryClusterer()
    restored.restore(rows)
    later = [T0 + timedelta(hours=2, seconds=10 * i) for i in range(len(UKRAINE_MARKETS))]
    assert [restored.assign(t, "", "Wire", at) for t, at in zip(UKRAINE_MARKETS, later, strict=True)] == [
        never_stopped.assign(t, "", "Wire", at) for t, at in zip(UKRAINE_MARKETS, later, strict=True)
    ]


# A claim, and weeks later a denial that spells the name otherwise and shares little else with the reports.
FINED = [
    "Zubrowka distillery fined over vodka labels",
    "Regulator fines Zubrowka distillery over vodka labels",
    "Zubrowka fined for vodka labels",
]
LATE_DENIAL = "Zubrovka denies it was fined over labels"


def fined_then(late: str, days: float, settings: ClusterSettings | None = None) -> tuple[int, Assignment,
                                                                                         StoryClusterer]:
    c = StoryClusterer(settings)
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    [claim] = {a.story_id for a in feed(c, FINED, T0 + timedelta(hours=1), timedelta(minutes=10))}
    return claim, c.assign(late, "", "Late Desk", T0 + timedelta(days=days)), c


def test_a_denial_weeks_after_its_story_closed_opens_it_again() -> None:
    claim, denial, c = fined_then(LATE_DENIAL, 20)  # the story closed after 14 quiet days
    assert (denial.story_id, denial.is_new, denial.reopened) == (claim, False, True)
    assert "zubrowka" in denial.shared_terms  # the name, spelt otherwise
    assert c.is_open(claim)
    assert c.close_stale(T0 + timedelta(days=35)) == [claim]  # quiet again from the denial on


def test_a_closed_story_is_parked_and_opened_again_as_it_was() -> None:
    # Kept for `recall_days`, a closed story is parked as bytes: the story a denial opens again is the one that
    # closed, field for field, and the denial joins it as it would have joined it kept as objects.
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    [claim] = {a.story_id for a in feed(c, FINED, T0 + timedelta(hours=1), timedelta(minutes=10))}
    as_closed = copy.deepcopy(c._stories[claim])
    assert claim in c.close_stale(T0 + timedelta(days=15))
    assert claim not in c._stories and isinstance(c._recent[claim].data, bytes)
    assert c._recent[claim].story() == as_closed
    assert c.title_of(claim) == as_closed.title
    denial = c.assign(LATE_DENIAL, "", "Late Desk", T0 + timedelta(days=20))
    assert (denial.story_id, denial.reopened) == (claim, True)
    reopened = c._stories[claim]
    assert reopened.size == as_closed.size + 1 and reopened.first_seen == as_closed.first_seen
    assert claim not in c._recent


def test_a_late_denial_opens_the_closed_story_whose_claim_it_names_among_several_of_its_subject() -> None:
    # Closed stories of one subject are all candidates of a denial naming it; it opens the one whose claim it
    # names, and the others stay parked, as they closed.
    c = StoryClusterer()
    feed(c, BACKGROUND, T0, timedelta(minutes=5))
    others = [["Zubrowka distillery opens museum in Bialystok", "Zubrowka opens vodka museum in Bialystok"],
              ["Zubrowka distillery hires new chief brewer", "Zubrowka names new chief brewer at distillery"]]
    stories = []
    for n, titles in enumerate([*others, FINED], start=1):
        [story_id] = {a.story_id for a in feed(c, titles, T0 + timedelta(hours=3 * n), timedelta(minutes=10))}
        stories.append(story_id)
    *unnamed, claim = stories
    assert len(set(stories)) == 3 and set(stories) <= set(c.close_stale(T0 + timedelta(days=15)))
    parked_before = {story_id: c._recent[story_id].data for story_id in unnamed}
    assert all("zubrowka" in c._recent[story_id].claim for story_id in stories)
    denial = c.assign(LATE_DENIAL, "", "Late Desk", T0 + timedelta(days=20))
    assert (denial.story_id, denial.reopened) == (claim, True)
    assert {story_id: c._recent[story_id].data for story_id in unnamed} == parked_before


def test_the_second_lookup_is_for_denials_of_recent_claims_with_the_names_they_share() -> None:
    # Spelt otherwise, the name is the denial's one rare word in common with the claim: without it, no match.
    assert fined_then(LATE_DENIAL, 20, ClusterSettings(recall_fuzzy=100.0))[1].is_new
    assert fined_then(LATE_DENIAL, 31)[1].is_new  # closed more than `recall_days` ago
    assert fined_then(LATE_DENIAL, 20, ClusterSettings(recall_days=0))[1].is_new
    # A report that disputes nothing is no late denial: a new event of a closed story's subject is a new story.
    assert fined_then(FINED[0], 20)[1].is_new


def test_restore_replays_a_story_opened_again_exactly() -> None:
    _, denial, never_stopped = fined_then(LATE_DENIAL, 20)
    stream = [(t, T0 + i * timedelta(minutes=5), "Wire") for i, t in enumerate(BACKGROUND)]
    stream += [(t, T0 + timedelta(hours=1) + i * timedelta(minutes=10), "Wire") for i, t in enumerate(FINED)]
    stream.append((LATE_DENIAL, T0 + timedelta(days=20), "Late Desk"))
    replayed = StoryClusterer()
    built = StoryClusterer()
    stored = [(built.assign(t, "", source, at).story_id, t, "", source, at) for t, at, source in stream]
    replayed.restore(stored)
    assert replayed.is_open(denial.story_id)
    follow_up = ("Zubrowka distillery fined over vodka labels appeals the fine", T0 + timedelta(days=21))
    assert replayed.assign(follow_up[0], "", "Wire", follow_up[1]) == never_stopped.assign(
        follow_up[0], "", "Wire", follow_up[1])


def test_a_report_days_older_than_a_story_is_as_far_from_it_as_one_days_newer() -> None:
    # A poll cycle hands over each feed's reports of the last days, one feed after the other: a report can come
    # after a story it is days older than. It was as close to the story as a simultaneous one, and one shared
    # subject ("Apple Watch") was enough to join.
    c = StoryClusterer()
    for n in range(30):
        c.assign(f"Filler story number {n} about zz{n}x and qq{n}y", "", "Wire", T0 - timedelta(hours=1, minutes=n))
    first = c.assign("Apple Watch health features cut before launch", "", "Tech Wire", T0)
    assert c.assign("Apple Watch health sensors delayed, report says", "", "Gadget Post",
                    T0 + timedelta(minutes=5)).story_id == first.story_id
    older = c.assign("Apple Watch to cost as much as a car", "", "Old Feed", T0 - timedelta(days=3))
    assert older.is_new
    # Within the story's own span a report is as close as can be.
    inside = c.assign("Apple Watch health features cut, sensors delayed", "", "Late Feed", T0 + timedelta(minutes=2))
    assert inside.story_id == first.story_id


def test_a_report_older_than_a_story_is_as_far_from_it_as_one_that_much_newer() -> None:
    start = datetime(2024, 12, 6, tzinfo=UTC)
    for hours, joins in ((1, True), (-21 * 24, False), (-100, False)):
        clusterer = StoryClusterer()
        clusterer.assign("Iran begins evacuating military personnel from Syria", "", "Levant Wire", start)
        assignment = clusterer.assign("Iranian advisers leave Syria as Iran pulls personnel", "", "Archive",
                                      start + timedelta(hours=hours))
        assert assignment.is_new is not joins, hours


@pytest.mark.parametrize(
    ("headline", "roundup"),
    [
        ("Iran Syria evacuation live updates part 3", True),
        ("What we know about the Chilean mine strike", True),
        ("Live: Iran begins evacuation", True),
        ("Copper strike - live", True),
        ("Apple unveils its watch (2/3)", True),
        ("Iran begins evacuating military personnel from Syria", False),
        ("Live music returns to Santiago after the strike", False),
        ("Liverpool deliver a part-time coach", False),
    ],
)
def test_round_up_headlines_are_told_by_their_structure(headline: str, roundup: bool) -> None:
    assert is_roundup(headline) is roundup


def test_a_round_up_headline_gives_way_to_the_first_report_of_the_news() -> None:
    start = datetime(2024, 12, 6, tzinfo=UTC)
    clusterer = StoryClusterer()
    story = clusterer.assign("Chilean copper mine strike: live updates", "", "City Desk", start).story_id
    news = "Workers strike at Chilean copper mine, output halted"
    assert clusterer.assign(news, "", "Andes Times", start + timedelta(minutes=5)).story_id == story
    assert clusterer.title_of(story) == news
    clusterer.assign("Chilean copper mine strike live updates part 2: workers halt output", "", "City Desk",
                     start + timedelta(minutes=10))
    assert clusterer.title_of(story) == news


def test_a_lone_shared_figure_does_not_join_a_report_to_a_story_of_the_same_subject() -> None:
    start = datetime(2024, 12, 6, tzinfo=UTC)
    clusterer = StoryClusterer()
    others = ["Volcano erupts in Iceland, flights grounded", "Fed holds interest rates steady",
              "Apple unveils new iPhone", "Floods hit southern Brazil", "Elections in India enter final phase",
              "Tesla recalls cars over software fault", "Strike at German airports cancels flights",
              "Bank of England warns on inflation", "Wildfires spread in California", "Nasa delays moon mission",
              "Oil prices fall on demand fears", "Gold hits record high", "UN warns of famine in Sudan",
              "Japan election results", "Amazon workers strike in UK", "Storm batters Philippines",
              "Boeing 737 grounded after incident", "Bitcoin tops 100,000", "Chinese exports rise",
              "France pension protests", "Spain heatwave"]
    for minutes, headline in enumerate(others):
        clusterer.assign(headline, "", f"Outlet {minutes}", start + timedelta(minutes=minutes))
    strike = clusterer.assign("Copper prices climb to a two-year high on Chilean mine strike", "", "Metals Daily",
                              start + timedelta(hours=1)).story_id
    more = clusterer.assign("Copper up 3% as Chilean mine strike enters third day", "", "Andes Times",
                            start + timedelta(hours=2))
    assert more.story_id == strike
    theft = clusterer.assign("Copper theft: thieves strip 3 km of cable from rail line", "", "City Desk",
                             start + timedelta(hours=3))
    assert theft.is_new  # "copper" and "3" in common are two events of one subject
    # A figure shared beside the same word is evidence: the same fact reported again.
    again = clusterer.assign("Chilean strike: copper up 3% on supply fears", "", "Gulf Post",
                             start + timedelta(hours=4))
    assert again.story_id == strike


CHILEAN_STRIKE = ["Chilean mine strike: copper prices climb, miners walk out",
                  "Copper up 3% as Chilean mine strike enters third day",
                  "Chilean miners reject wage offer as copper strike drags on",
                  "Strike at Chilean copper mine enters fourth day",
                  "Copper climbs as Chilean strike halts output",
                  "Chile copper mine strike: union vows to continue",
                  "Copper prices at two-year high on Chilean mine strike",
                  "Chilean copper miners extend strike"]
ELSEWHERE = ["Volcano erupts in Iceland, flights grounded", "Fed holds interest rates steady",
             "Apple unveils new iPhone", "Floods hit southern Brazil", "Elections in India enter final phase",
             "Tesla recalls cars over software fault", "Strike at German airports cancels flights",
             "Bank of England warns on inflation", "Wildfires spread in California", "Nasa delays moon mission",
             "Oil prices fall on demand fears", "Gold hits record high", "UN warns of famine in Sudan",
             "Japan election results", "Amazon workers strike in UK", "Storm batters Philippines",
             "Boeing 737 grounded after incident", "Bitcoin tops 100,000", "Chinese exports rise"]


def _strike_then(headline: str, reports: int, settings: ClusterSettings | None = None) -> tuple[int, Assignment]:
    clusterer = StoryClusterer(settings or ClusterSettings())
    feed(clusterer, ELSEWHERE, T0, timedelta(minutes=1))
    strike = feed(clusterer, CHILEAN_STRIKE[:reports], T0 + timedelta(hours=1), timedelta(minutes=10))
    assert len({a.story_id for a in strike}) == 1
    return strike[0].story_id, clusterer.assign(headline, "", "City Desk",
                                                T0 + timedelta(hours=1, minutes=10 * reports + 5))


@pytest.mark.parametrize("reports", [1, 2, 4, 8])
@pytest.mark.parametrize("theft", ["Thieves steal copper wire", "Copper thieves cause rail delays",
                                   "Police arrest copper thieves"])
def test_a_short_report_sharing_one_common_word_is_not_a_development_of_a_story_of_any_size(
    theft: str, reports: int
) -> None:
    # "copper" written in lower case is a common word, a subject many events share: in a headline of four
    # words it is a quarter of the report, and of the strike's claim ("Chilean", "copper", "mine", "strike")
    # it names one word. The theft starts its own story however many reports the strike has.
    strike, assignment = _strike_then(theft, reports)
    assert assignment.is_new, assignment
    strike, without_rule = _strike_then(theft, reports, ClusterSettings(common_subject_coverage=0.0))
    assert without_rule.story_id == strike  # what the rule is for


@pytest.mark.parametrize("reports", [2, 4, 8])
@pytest.mark.parametrize("follow_up", ["Chile copper strike ends", "Miners end strike", "Copper strike: talks resume",
                                       "Chilean strike over"])
def test_short_reports_naming_more_of_a_strike_s_claim_still_join_it(follow_up: str, reports: int) -> None:
    strike, assignment = _strike_then(follow_up, reports)
    assert assignment.story_id == strike, assignment


def test_a_name_shared_alone_still_joins_its_story_where_a_common_word_does_not() -> None:
    # A name ("Crabzilla", capitalised even where the headline writes other words in lower case) is one event's:
    # a debunk naming nothing else of the story is still about it.
    clusterer = StoryClusterer()
    feed(clusterer, ELSEWHERE, T0, timedelta(minutes=1))
    story = feed(clusterer, ["Crabzilla: giant crab spotted off Kent coast in aerial photo",
                             "Giant crab Crabzilla spotted lurking off Kent coast",
                             "Is this a giant crab off the Kent coast? Crabzilla photo goes viral"],
                 T0 + timedelta(hours=1), timedelta(minutes=20))
    assert len({a.story_id for a in story}) == 1
    later = T0 + timedelta(hours=1, minutes=45)
    debunk = clusterer.assign("Five reasons Crabzilla is definitely not real", "", "Sceptic", later)
    assert debunk.story_id == story[0].story_id
    # "crab" in lower case is a common word: a catch of crabs is another event.
    catch = clusterer.assign("Fishermen land record crab haul", "", "Coast News", later + timedelta(minutes=1))
    assert catch.is_new, catch


def test_the_words_a_headline_writes_in_lower_case() -> None:
    from bot.monitor.terms import lowercase_words

    assert lowercase_words("Miners reject wage offer as copper strike drags on") == [
        "reject", "wage", "offer", "as", "copper", "strike", "drags", "on"]
    assert lowercase_words("Thieves Steal Copper Wire") == []  # title case says nothing of its words
    assert lowercase_words("the end of reading as you know it") == []  # nor does a headline without capitals
    assert "iphone" not in lowercase_words("This could be the next iPhone")  # a capital inside: a name
    assert lowercase_words("Montréal's café closes") == ["cafe", "closes"]


def test_a_summary_in_prose_tells_a_common_word_where_every_headline_is_in_title_case() -> None:
    # Title case capitalises every word, so a headline says nothing of "Copper"; the summary under it writes
    # "copper" as the common word it is.
    title_case = [" ".join(word[:1].upper() + word[1:] for word in headline.split()) for headline in CHILEAN_STRIKE]
    summary = "The copper wire was stolen overnight."

    def theft_after_strike(settings: ClusterSettings) -> tuple[int, Assignment]:
        clusterer = StoryClusterer(settings)
        feed(clusterer, ELSEWHERE, T0, timedelta(minutes=1))
        strike = feed(clusterer, title_case[:5], T0 + timedelta(hours=1), timedelta(minutes=10))
        assert len({a.story_id for a in strike}) == 1
        return strike[0].story_id, clusterer.assign("Thieves Steal Copper Wire", summary, "City Desk",
                                                    T0 + timedelta(hours=1, minutes=55))

    _, theft = theft_after_strike(ClusterSettings())
    assert theft.is_new, theft
    strike, without_rule = theft_after_strike(ClusterSettings(common_subject_coverage=0.0))
    assert without_rule.story_id == strike


@pytest.mark.parametrize(("report", "joins"), [
    ("Comcast says Tor users are welcome", True),  # capitalised inside a sentence: a name
    ("Comcast says tor users are welcome", False),  # lower case here too: a common word
    ("Tor users keep their Comcast service", False),  # a capital that begins the headline says nothing
])
def test_a_name_one_outlet_writes_in_lower_case_is_still_a_name_where_a_report_capitalises_it(
    report: str, joins: bool
) -> None:
    def assign(settings: ClusterSettings) -> bool:
        clusterer = StoryClusterer(settings)
        feed(clusterer, ELSEWHERE + BACKGROUND, T0, timedelta(minutes=1))
        story = clusterer.assign("Setting the record straight on tor", "", "Comcast blog", T0 + timedelta(hours=1))
        return clusterer.assign(report, "", "Tech Wire", T0 + timedelta(hours=1, minutes=5)).story_id == story.story_id

    assert assign(ClusterSettings()) is joins
    assert assign(ClusterSettings(common_subject_coverage=0.0))  # the case is all that decides


def test_the_words_a_sentence_capitalises() -> None:
    from bot.monitor.terms import capitalised_words

    assert capitalised_words("Comcast calls rumor that it disconnects Tor users wildly inaccurate") == ["tor"]
    assert capitalised_words("Thieves Steal Copper Wire") == []  # title case: no evidence
    assert capitalised_words("Isis fed her own SON to his mother") == []  # capitals are emphasis as often
    assert capitalised_words("Bodies found: Mexican students vanished. Police say") == []  # parts' first words
    assert capitalised_words("Miners in Chile reject offer") == ["chile"]
