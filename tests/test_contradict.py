"""Contradiction detection on hand-written headlines: every kind, and the cases that must stay quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from bot.monitor.contradict import ContradictionSettings, analyze, detect, event_key
from bot.monitor.model import StoredItem

_ids = count(1)
_T0 = datetime(2024, 12, 6, 8, 0, tzinfo=UTC)


def item(title: str, source: str = "", summary: str = "") -> StoredItem:
    n = next(_ids)
    return StoredItem(
        id=n,
        title=title,
        link=None,
        summary=summary,
        source=source or f"outlet-{n}",
        published=_T0 + timedelta(minutes=n),
    )


def kinds(new: StoredItem, *earlier: StoredItem) -> set[str]:
    return {c.kind for c in detect(new, earlier)}


# The seeds, paraphrased: a report that Iran began evacuating, then Tehran's denial.
EVACUATION = "Iran starts evacuating military staff and diplomats from Syria as rebels advance"
EVACUATION_DENIED = "Tehran denies evacuating its embassy staff from Syria"


def test_denial_of_the_seed_event_names_the_event() -> None:
    earlier = item(EVACUATION, summary="Commanders and embassy staff left by plane, officials said.")
    later = item(EVACUATION_DENIED)
    found = detect(later, [earlier])
    assert [c.kind for c in found] == ["denial"]
    c = found[0]
    assert c.earlier is earlier and c.later is later
    assert "'evacuating'" in c.evidence and "denies evacuating" in c.evidence
    assert 0.0 < c.score <= 1.0


def test_nominal_and_verbal_forms_of_an_event_meet() -> None:
    assert event_key("evacuation") == event_key("evacuating") == event_key("evacuate") == event_key("evacuated")
    assert event_key("expansion") == event_key("expand")
    assert event_key("killed") == event_key("kill")
    assert event_key("died") == event_key("dead") == event_key("death")
    assert event_key("flies") == event_key("fly")
    assert event_key("evacuation") != event_key("election")
    earlier = item("Iran begins evacuation of its personnel from Syria")
    assert kinds(item("Iran denies evacuating personnel from Syria"), earlier) == {"denial"}


@pytest.mark.parametrize(
    "denial",
    [
        "Iranian foreign ministry calls reports of Syria evacuation false",
        "Reports that Iran is evacuating Syria are not true, says ministry",
        "Tehran says reports of Syria evacuation are baseless",
        "Iran dismissed reports it is evacuating personnel from Syria",
        "Iran has no plans to evacuate personnel from Syria, spokesman says",
        "Iran rejects claims it is evacuating personnel from Syria",
        "No, Iran is not evacuating its personnel from Syria",
        "Iran Syria evacuation story is a hoax",
    ],
)
def test_denial_wordings(denial: str) -> None:
    found = kinds(item(denial), item(EVACUATION))
    assert found and found <= {"denial", "negation"}


def test_denial_wordings_are_each_seen_as_denials() -> None:
    # Without an earlier assertion, none of them contradicts anything: the wording alone is not enough.
    assert kinds(item("Iran rejects claims it is evacuating personnel from Syria")) == set()
    assert (
        kinds(
            item("Iran rejects claims it is evacuating personnel from Syria"),
            item("Oil prices climb as markets open in Asia"),
        )
        == set()
    )


def test_negation_of_the_asserted_event() -> None:
    earlier = item("Finance minister Alex Brandt resigns over budget row")
    found = detect(item("Finance minister Alex Brandt has not resigned, government says"), [earlier])
    assert [c.kind for c in found] == ["negation"]
    assert "'resigns'" in found[0].evidence or "'resign" in found[0].evidence


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Channel tunnel reopens after three-day closure", "Channel tunnel remains closed as strike goes on"),
        ("President Ruiz will attend Lisbon climate summit", "President Ruiz will not travel to Lisbon summit"),
        ("President Ruiz will attend Lisbon climate summit", "President Ruiz to skip Lisbon climate summit"),
        ("Acme and Globex agree to merge in $4bn deal", "Acme and Globex call off merger talks"),
        ("Kidnapped aid worker Jane Moss released in Mali", "Aid worker Jane Moss still held by kidnappers in Mali"),
        ("Climber Tom Ede dead after fall on Eiger", "Climber Tom Ede found alive after fall on Eiger"),
        ("Missing hiker Ana Lopes found in Cairngorms", "Hiker Ana Lopes still missing in Cairngorms"),
    ],
)
def test_opposite_states(first: str, second: str) -> None:
    found = detect(item(second), [item(first)])
    assert "opposite" in {c.kind for c in found} or {"negation", "denial"} & {c.kind for c in found}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Channel tunnel closed after fire", "Channel tunnel reopens after fire"),
        ("Aid worker Jane Moss held by kidnappers in Mali", "Aid worker Jane Moss released in Mali"),
        ("Hiker Ana Lopes missing in Cairngorms", "Hiker Ana Lopes found in Cairngorms"),
        ("Climber Tom Ede alive but injured after fall on Eiger", "Climber Tom Ede dies in hospital after Eiger fall"),
        ("Missing soldiers found at border", "Three soldiers missing from base found trying to cross border"),
    ],
)
def test_a_state_moving_on_is_a_development(first: str, second: str) -> None:
    assert kinds(item(second), item(first)) == set()


def test_conflicting_figures() -> None:
    killed = item("Three killed in Lyon factory explosion")
    assert "figures" in kinds(item("No one was killed in Lyon factory explosion, police say"), killed)
    # Also a reversal of the earlier negation; the figures must be among the reasons.
    nobody = item("No one killed in Lyon factory explosion")
    assert "figures" in kinds(item("Three killed in Lyon factory explosion"), nobody)
    found = detect(item("Carmaker Voss to cut 2,000 jobs in Germany"), [item("Carmaker Voss to cut 10,000 jobs")])
    assert [c.kind for c in found] == ["figures"]
    assert "2,000" in found[0].evidence and "10,000" in found[0].evidence


@pytest.mark.parametrize(
    "update",
    [
        "Lyon factory explosion death toll climbs to 7",
        "Lyon factory explosion: death toll rises to seven",
        "At least seven killed in Lyon factory explosion",
        "Seven people killed in Lyon factory explosion",
    ],
)
def test_a_rising_toll_is_a_development(update: str) -> None:
    assert kinds(item(update), item("Three killed in Lyon factory explosion")) == set()


def test_a_falling_toll_conflicts() -> None:
    assert kinds(item("Two killed in Lyon factory explosion"), item("Nine killed in Lyon factory explosion")) == {
        "figures"
    }


def test_reversal_of_a_denial() -> None:
    denial = item("Twitter denies plans for mass layoffs")
    found = detect(item("Twitter begins mass layoffs across offices"), [denial])
    assert [c.kind for c in found] == ["reversal"]
    assert "layoffs" in found[0].evidence
    assert found[0].earlier is denial


def test_no_hoax_affirms_rather_than_denies() -> None:
    earlier = item("Woman says she had surgery to add third breast")
    assert kinds(item("Woman with third breast insists surgery is no hoax"), earlier) == set()
    assert kinds(item("Woman with third breast denies hoax claims"), earlier) == set()
    assert kinds(item("Woman with third breast surgery is a hoax"), earlier) == {"denial"}


# Must not flag.


def test_denial_of_something_the_story_never_asserted() -> None:
    earlier = item("Iran begins evacuating military personnel from Syria amid rebel offensive")
    assert kinds(item("Tehran denies any role in the rebel offensive in Syria"), earlier) == set()


def test_negation_of_another_event_than_the_storys() -> None:
    earlier = item("Thousands evacuated as wildfire nears Los Angeles suburbs")
    assert kinds(item("Los Angeles wildfire evacuees not yet allowed home"), earlier) == set()
    assert kinds(item("Los Angeles wildfire evacuees not allowed home as blaze spreads"), earlier) == set()


@pytest.mark.parametrize(
    "hedged",
    [
        "Iran reportedly begins evacuating personnel from Syria",
        "Iran evacuating personnel from Syria, sources say",
        "Unconfirmed: Iran evacuating personnel from Syria",
        "Is Iran evacuating its personnel from Syria?",
    ],
)
def test_hedged_reports_and_confirmations_agree(hedged: str) -> None:
    confirmed = item("Iran begins evacuating personnel from Syria")
    assert kinds(item(hedged), confirmed) == set()
    assert kinds(confirmed, item(hedged)) == set()


def test_a_denial_of_a_hedged_report_has_nothing_asserted_to_contradict() -> None:
    assert kinds(item(EVACUATION_DENIED), item("Iran reportedly evacuating embassy staff from Syria")) == set()


def test_same_outlet_updates_are_not_contradictions() -> None:
    first = item("Carmaker Voss to cut 2,000 jobs", source="Daily Wire")
    assert kinds(item("Carmaker Voss to cut 10,000 jobs", source="Daily Wire"), first) == set()
    assert kinds(item("Carmaker Voss to cut 10,000 jobs", source="Other Paper"), first) == {"figures"}
    opened = item("Channel tunnel reopens after strike", source="Daily Wire")
    assert kinds(item("Channel tunnel remains closed", source="Daily Wire"), opened) == set()


def test_agreeing_reports_and_unrelated_items_are_quiet() -> None:
    earlier = [item(EVACUATION), item("Iran pulls diplomats out of Damascus embassy")]
    assert detect(item("Iran evacuates commanders from Syria as Aleppo falls"), earlier) == []
    assert detect(item(EVACUATION), []) == []


def test_both_negating_the_same_thing_agree() -> None:
    earlier = item("Protesters in Hong Kong adopt hands up, don't shoot gesture")
    assert kinds(item("Hong Kong protesters copy Ferguson's don't shoot gesture"), earlier) == set()


def test_an_item_is_never_compared_with_itself() -> None:
    it = item("Finance minister resigns")
    assert detect(item("Finance minister has not resigned"), [it, it]) != []
    assert detect(it, [it]) == []


def test_analysis_can_be_precomputed_and_results_match() -> None:
    earlier = [item(EVACUATION), item("Damascus airport closed to civilian flights")]
    later = item(EVACUATION_DENIED)
    direct = detect(later, earlier)
    precomputed = detect(analyze(later), [analyze(e) for e in earlier])
    assert [(c.kind, c.earlier.id, c.evidence, c.score) for c in direct] == [
        (c.kind, c.earlier.id, c.evidence, c.score) for c in precomputed
    ]


def test_settings_control_the_threshold_and_grouping() -> None:
    earlier = [item(EVACUATION), item("Iran begins evacuating personnel from Syria")]
    later = item(EVACUATION_DENIED)
    assert len(detect(later, earlier)) == 1
    everything = detect(later, earlier, ContradictionSettings(best_per_kind=False))
    assert len(everything) == 2 and {c.earlier.id for c in everything} == {e.id for e in earlier}
    assert detect(later, earlier, ContradictionSettings(min_score=1.01)) == []


def test_results_are_sorted_best_first_and_scores_are_bounded() -> None:
    earlier = [item("Three killed as Iran begins evacuating personnel from Syria")]
    found = detect(item("Iran denies evacuating personnel from Syria; no one killed"), earlier)
    assert found and all(0.0 <= c.score <= 1.0 for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


@dataclass(frozen=True)
class _Plain:
    id: str
    title: str
    summary: str
    source: str
    published: datetime


def test_any_object_with_the_item_fields_will_do() -> None:
    a = _Plain("a", "Finance minister resigns", "", "x", _T0)
    b = _Plain("b", "Finance minister has not resigned", "", "y", _T0)
    assert [c.kind for c in detect(b, [a])] == ["negation"]


# Attribution: an item that relays someone's claim reports it without asserting it, so a later denial of
# the claim contradicts nobody; a denial of an asserted report still does.
@pytest.mark.parametrize(
    "relayed",
    [
        "Senator: dozens of smugglers caught crossing the northern border",
        "Dozens of smugglers caught crossing the northern border, officials say",
        "Dozens of smugglers caught crossing the northern border - police",
        "Dozens of smugglers caught crossing the northern border, according to a local paper",
        "Lawmaker says dozens of smugglers caught crossing the northern border",
    ],
)
def test_a_denial_of_a_relayed_claim_is_no_contradiction(relayed: str) -> None:
    later = item("Border agency denies smugglers were caught crossing the northern border")
    assert kinds(later, item(relayed)) == set()
    assert kinds(later, item("Dozens of smugglers caught crossing the northern border")) == {"denial"}


def test_a_topic_before_a_colon_is_no_attribution() -> None:
    earlier = item("Northern border: dozens of smugglers caught crossing")
    assert kinds(item("Border agency denies smugglers were caught crossing"), earlier) == {"denial"}


def test_an_item_about_a_rumour_does_not_assert_it() -> None:
    earlier = item("Police deny the sculpture was stolen from the museum")
    assert kinds(item("Artist mocks stolen sculpture rumour with new photo"), earlier) == set()
    assert kinds(item("Sculpture stolen from the museum"), earlier) == {"reversal"}


def test_two_denials_agree_even_when_their_states_differ() -> None:
    earlier = item("Singer not dead: death hoax spreads on social media")
    assert kinds(item("Singer hasn't died despite what everyone is saying online"), earlier) == set()
    assert kinds(item("Singer found alive after plane crash"), item("Singer killed in plane crash")) == {"opposite"}


def test_a_whole_report_debunk_must_share_more_than_names() -> None:
    debunk = item("The video of a seagull attacking Angela Merkel is a hoax")
    assert kinds(debunk, item("Angela Merkel gives speech on the dangers of inflation")) == set()
    assert kinds(debunk, item("Seagull attacks Angela Merkel during speech")) == {"denial"}
    # In Title Case nothing tells a name from an event word, so shared words count as before.
    assert kinds(item("Seagull Attack On Angela Merkel Is A Hoax"), item("Seagull attacks Angela Merkel")) == {"denial"}


def test_a_doubt_adjective_before_a_noun_describes_rather_than_doubts() -> None:
    earlier = item("Farmer grows a ten-kilo potato")
    assert kinds(item("Farmer grows a ten-kilo potato: the most unlikely vegetables of the year"), earlier) == set()
    assert kinds(item("Ten-kilo potato unlikely, say growers"), earlier) == {"denial"}


def test_a_capitalised_run_opening_a_sentence_case_title_is_a_name() -> None:
    debunk = item("Seagull Attack Video On Angela Merkel Is A Hoax")  # Title Case: no names known here
    assert kinds(debunk, item("Angela Merkel gives a speech on the dangers of inflation")) == set()
    assert kinds(debunk, item("Seagull attacks Angela Merkel during a speech on inflation")) == {"denial"}


# Stance of the earlier report: what it only relays or wonders about is not asserted, so nothing contradicts it.
def test_a_purported_account_is_relayed_not_asserted() -> None:
    earlier = item("Purported Lisa Bonet Twitter account suspended after cryptic tweet")
    assert kinds(item("Lisa Bonet tweet was sent from a fake account, manager says"), earlier) == set()


def test_uncertainty_is_not_the_negation_of_the_event() -> None:
    earlier = item("Texas plumber's truck turns up with militants in Syria")
    assert kinds(item("Texas plumber isn't sure how his truck ended up in Syria"), earlier) == set()
    assert kinds(item("Officials not certain who fired the rocket"), item("Rocket fired at border town")) == set()


def test_a_negation_inside_an_if_clause_or_an_instruction_asserts_nothing() -> None:
    earlier = item("White House won't say if family was threatened not to pay ransom")
    assert analyze(earlier).text.claims == ()
    assert kinds(item("Government threatened family with charges over ransom"), earlier) == set()
    assert analyze(item("Families told not to pay ransom")).text.claims == ()
    # Headline English: "X not to attend" is "X will not attend".
    assert "negation" in kinds(item("Putin not to attend G20 summit"), item("Putin to attend G20 summit in Brisbane"))


def test_a_dismissive_adjective_before_a_noun_describes_it() -> None:
    roundup = item("Dual-lens camera and 6 more crazy phone rumors")
    assert analyze(roundup).text.claims == ()
    assert kinds(item("Phone maker plans dual-lens camera for next model"), roundup) == set()
    earlier = item("Surgeon took a selfie during the operation")
    assert kinds(item("Surgeon calls selfie claims completely crazy"), earlier) == {"denial"}


def test_too_good_to_check_doubts_the_story() -> None:
    earlier = item("Bieber ringtone saves fisherman from bear attack")
    doubt = item("Bear attack foiled by Bieber ringtone: a story too good to check")
    assert kinds(doubt, earlier) == {"denial"}
    assert kinds(item("Fisherman fends off bear attack with Bieber song"), doubt) == {"reversal"}


def test_a_report_after_a_hoax_call_in_its_story_is_a_reversal_on_one_shared_event_word() -> None:
    # The clusterer already put both reports in one story; the hoax call covered the whole report, so one
    # shared event word (not a name) is enough for the later assertion to reverse it.
    hoax = item("HOAX: street catcallers harass their own mothers")
    assert kinds(item("Men freak out when the women they are harassing turn out to be their mums"), hoax) == {
        "reversal"
    }
    # A hedged report relays the claim: no reversal.
    assert kinds(item("Men reportedly caught harassing their own mums on camera"), hoax) == set()


def test_a_denial_names_who_denies_not_whose_event_it_was() -> None:
    earlier = item("Islamic State chief killed in US airstrike")
    assert kinds(item("Pentagon denies it killed Islamic State chief"), earlier) == {"denial"}
    # A negation keeps its subject: someone else's resignation is not negated.
    assert kinds(item("The minister has not resigned"), item("The governor resigns over scandal")) == set()


def test_denying_causing_something_is_about_that_thing() -> None:
    earlier = item("Palestinians flee floods in Gaza as Israel opens dams")
    found = detect(item("Israel denies causing Gaza floods by opening dams"), [earlier])
    assert [c.kind for c in found] == ["denial"]
    assert "flood" in found[0].evidence


def test_making_fun_of_a_rumor_denies_it() -> None:
    earlier = item("Batmobile stolen from film set in Detroit")
    assert kinds(item("Director makes fun of stolen Batmobile rumor with new photo"), earlier) == {"denial"}


def test_a_beheading_is_a_death() -> None:
    earlier = item("Militants behead Kurdish fighter Rehana near Kobane")
    assert kinds(item("Kurdish fighter Rehana is alive and well near Kobane"), earlier) == {"opposite"}
    assert event_key("killed") == event_key("dead")
