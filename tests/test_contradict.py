"""Contradiction detection on hand-written headlines: every kind, and the cases that must stay quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from bot.monitor.contradiction import Analysis, ContradictionSettings, StoryReports, analyze, analyze_text, event_key
from bot.monitor.contradiction import detect as detect_with
from bot.monitor.contradiction.analysis import summary_read
from bot.monitor.detector import RulesDetector
from bot.monitor.model import StoredItem

# These tests pin the rules, the detector's first stage, on their own ("--detector rules"); the judge that scores
# their proposals by default is tested in test_contradict_claims.py.
RULES = ContradictionSettings(judge=False)


def detect(new, earlier, settings: ContradictionSettings = RULES):  # type: ignore[no-untyped-def]
    return detect_with(new, earlier, settings)

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
    everything = detect(later, earlier, ContradictionSettings(best_per_kind=False, judge=False))
    assert len(everything) == 2 and {c.earlier.id for c in everything} == {e.id for e in earlier}
    assert detect(later, earlier, ContradictionSettings(rules_min_score=1.01, judge=False)) == []


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
def test_a_denial_of_an_attributed_claim_contradicts_it(relayed: str) -> None:
    # Issue 15 changed this: attribution is how news asserts, so a claim relayed from officials, police or a paper
    # is a claim that a denial contradicts (it used to be read as a hedge, asserting nothing).
    later = item("Border agency denies smugglers were caught crossing the northern border")
    assert kinds(later, item(relayed)) == {"denial"}
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
    # A doubt is a weak denial: it contradicts, but with the rules alone it validates no reversal (issue 15: a
    # confirmation after a denial counts only when that denial was a validated contradiction of the claim).
    assert kinds(item("Fisherman fends off bear attack with Bieber song"), earlier, doubt) == set()
    assert kinds(item("Fisherman fends off bear attack with Bieber song"), doubt) == set()


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


# ---------------------------------------------------------------------------------------------------------
# The event a denial is about is its verb, and the subject a negated predicate is said of.


def test_no_followed_by_a_negated_verb_denies_that_verb_not_the_topic() -> None:
    later = item("No, state TV didn't blur the minister's face")
    assert kinds(later, item("Minister's hair shown uncensored on state TV")) == set()
    found = detect(later, [item("State TV blurs the minister's face")])
    assert [c.kind for c in found] == ["negation"] and "blur" in found[0].evidence


def test_a_denied_claim_is_about_what_the_claim_says() -> None:
    later = item("Rebels deny army claims that they shelled the village")
    found = detect(later, [item("Rebels shelled the village overnight")])
    assert [c.kind for c in found] == ["denial"] and "'shelled'" in found[0].evidence
    assert kinds(later, item("Army parade held in the village square")) == set()


def test_the_subject_of_a_denied_clause_is_not_its_event() -> None:
    later = item("Club denies striker was at the party")
    assert kinds(later, item("Striker seen partying at nightclub party")) == {"denial"}
    assert kinds(later, item("Striker sold to rival club")) == set()


def test_a_negated_predicate_needs_the_predicate_said_of_the_same_subject() -> None:
    later = item("Minister's dog is not a purebred")
    assert kinds(later, item("Minister's dog is a purebred champion")) == {"negation"}
    assert kinds(later, item("Minister's dog wins best in show")) == set()
    assert kinds(item("Neighbour's cat is not a purebred"), item("Minister's dog is a purebred champion")) == set()


def test_not_real_denies_the_subject_itself() -> None:
    earlier = item("Shark swims down flooded highway in viral video")
    assert kinds(item("That viral shark video on the highway isn't real"), earlier) <= {"negation", "denial"}
    assert kinds(item("That viral shark video on the highway isn't real"), earlier)
    assert kinds(item("That viral cat video isn't real"), earlier) == set()


# Negations that negate no event of the story.


@pytest.mark.parametrize(
    "title",
    [
        "Town paints bridge so it won't rust",  # an aim
        "Five reasons not to cancel your gym membership",  # advice
        "The chat app you don't use gets a redesign",  # the reader addressed
        "Company refuses to confirm or deny layoffs",  # neither
        "No wonder fans love the new stadium",  # an idiom
        "Not the first time the stadium has flooded",  # an idiom
        "Man fed up with not having a girlfriend joins choir",  # a gerund after a preposition
        "Three-legged cat: real or hoax?",  # a question offering both answers
        "Farmer insists giant potato was not a hoax",  # affirms the story
    ],
)
def test_negations_of_nothing_the_story_reported_make_no_claim(title: str) -> None:
    assert analyze(item(title)).text.claims == ()


def test_a_purpose_clause_is_no_negation_of_the_event() -> None:
    assert (
        kinds(item("Town paints bridge so it won't rust"), item("Town paints its bridge to stop it rusting")) == set()
    )
    assert kinds(item("Town bridge won't rust"), item("Town bridge is rusting")) == {"negation"}


# Refutations without a denial verb.


def test_a_question_headline_answered_with_a_dismissal_denies_it() -> None:
    earlier = item("Rare tiger spotted in Berlin car park")
    found = detect(item("Rare tiger spotted in Berlin car park? Good one"), [earlier])
    assert [c.kind for c in found] == ["denial"] and "good one" in found[0].evidence
    assert kinds(item("Is a rare tiger loose in a Berlin car park? Good news, zoo says"), earlier) == set()
    assert kinds(item("Museum to close its doors next year. Not so fast"), item("Museum to close its doors")) == {
        "denial"
    }


def test_setting_the_record_straight_denies_what_it_is_about() -> None:
    later = item("Setting the record straight on the museum closure")
    assert kinds(later, item("Museum closure announced for next year")) == {"denial"}
    assert kinds(later, item("Museum appoints new director")) == set()


def test_falling_for_a_picture_or_story_denies_it_but_falling_for_a_thing_does_not() -> None:
    earlier = item("Shark swims along flooded highway")
    assert kinds(item("Thousands fall for photo of shark on flooded highway"), earlier) == {"denial"}
    assert kinds(item("Fans fall for the new shark documentary on the flooded highway"), earlier) == set()


def test_made_up_denies_but_made_up_of_describes() -> None:
    earlier = item("Teen investor makes millions on stock market")
    assert kinds(item("Teen investor made it all up"), earlier) == {"denial"}
    assert kinds(item("Team made up of teen investors wins award"), earlier) == set()


def test_staging_a_video_denies_it_but_staging_a_protest_does_not() -> None:
    earlier = item("Vlogger's charity video shows homeless man sharing food")
    assert kinds(item("Did the vlogger stage his charity video?"), earlier) == {"denial"}
    assert kinds(item("Unions stage protest over vlogger's charity video"), earlier) == set()
    assert analyze(item("Farmers staged a sit-in outside parliament")).text.claims == ()


def test_if_only_denies_what_follows() -> None:
    earlier = item("Seagull attacks chancellor during speech")
    assert kinds(item("If only a seagull really did attack the chancellor"), earlier) == {"denial"}
    assert kinds(item("If the seagull attacks again, chancellor will cancel speech"), earlier) == set()


def test_people_actually_believed_denies_what_they_believed() -> None:
    earlier = item("Mayor buys a dragon for the city zoo")
    assert kinds(item("People actually believed the mayor bought a dragon"), earlier) == {"denial"}
    assert kinds(item("Scientists believe the mayor bought a dragon"), earlier) == set()


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        ("Don't believe the rumours about the bridge closing", "Bridge closing next week for repairs"),
        ("Stop sharing the photo of a shark on the highway", "Shark photographed on flooded highway"),
        ("The bridge collapse never happened", "Bridge collapse in storm kills two"),
        ("No evidence of a radiation leak at the plant, inspectors say", "Radiation leak at nuclear plant"),
        ("Viral photo of bridge collapse was doctored, engineers say", "Bridge collapse in storm kills two"),
        ("Quote about bridge collapse was taken out of context", "Bridge collapse in storm kills two"),
    ],
)
def test_more_ways_to_refute_a_report(later: str, earlier: str) -> None:
    assert kinds(item(later), item(earlier)) == {"denial"}


def test_no_sign_of_nothing_in_particular_denies_nothing() -> None:
    assert analyze(item("No sign in the capital of the leader")).text.claims == ()
    assert kinds(item("Bridge repairs never stop, say residents"), item("Bridge repairs begin")) == set()


def test_despite_reports_refutes_them_and_is_no_confirmation() -> None:
    later = item("Singer performs in Paris despite death rumours")
    found = detect(later, [item("Singer dies in Paris")])
    assert [c.kind for c in found] == ["denial"] and "death" in found[0].evidence
    assert kinds(later, item("Singer releases new album in Paris")) == set()
    assert kinds(later, item("Manager denies singer died in Paris")) == set()  # agrees with the denial


# Words that name one event.


def test_number_words_demonyms_and_agent_nouns_meet_their_forms() -> None:
    assert event_key("two") == event_key("2")
    assert event_key("nicaraguan") == event_key("nicaragua")
    assert event_key("robotic") == event_key("robots")
    assert event_key("catcallers") == event_key("catcalling")
    assert event_key("woman") != event_key("woma")


def test_synonyms_of_common_news_events_meet() -> None:
    assert event_key("kidnapped") == event_key("captured")
    assert event_key("segregation") == event_key("separate")
    assert event_key("mum") == event_key("mother")
    assert event_key("sale") == event_key("sells")
    assert kinds(item("Aid worker was not kidnapped, charity says"), item("Aid worker captured by rebels")) == {
        "negation"
    }
    assert kinds(item("Aid worker was not released, charity says"), item("Aid worker captured by rebels")) == set()


# Hedges and relayed claims.


@pytest.mark.parametrize(
    "hedged", ["Climber feared dead in avalanche", "Climber possibly dead in avalanche", "Climber presumed dead"]
)
def test_feared_possible_and_presumed_hedge(hedged: str) -> None:
    assert analyze(item(hedged)).text.hedged


def test_what_the_subject_claims_is_the_story_not_a_hedge() -> None:
    earlier = item("Priest claims he met God during surgery")
    assert not analyze(earlier).text.hedged
    assert kinds(item("Story of priest meeting God during surgery is a hoax"), earlier) == {"denial"}
    # A claim attributed to officials is asserted all the same (issue 15); only a real hedge asserts nothing.
    relayed = analyze(item("Police claim priest met God during surgery")).text
    assert relayed.attributed and not relayed.hedged
    assert analyze(item("Priest reportedly met God during surgery")).text.hedged


# States and figures.


def test_passing_away_is_a_death_and_safe_is_alive() -> None:
    assert kinds(item("Actor is alive and well at 88"), item("Actor passes away at 88")) == {"opposite"}
    assert kinds(item("Actor passes away at 88"), item("Actor is alive and well at 88")) == set()  # it happens
    despite = item("Actor attends premiere despite mortality rumours")
    assert kinds(despite, item("Actor passes away at 88")) == {"denial"}
    assert kinds(despite, item("Actor passes the ball to his son at 88")) == set()
    assert kinds(item("I'm safe, says climber after avalanche"), item("Climber killed in avalanche")) == {"opposite"}
    assert kinds(item("Tap water in avalanche town is safe to drink"), item("Climber killed in avalanche")) == set()


def test_staying_open_says_the_closure_never_happened() -> None:
    assert kinds(item("Music service is sticking around, company says"), item("Company to shut music service")) == {
        "opposite"
    }
    assert kinds(item("Channel tunnel remains open despite strike"), item("Channel tunnel closed by strike")) == {
        "opposite"
    }
    assert kinds(item("Channel tunnel reopens after strike"), item("Channel tunnel closed by strike")) == set()


def test_a_measure_compares_only_with_the_same_dimension() -> None:
    assert kinds(item("Meteor leaves 40-foot crater"), item("Meteor creates 16-foot-deep crater")) == set()
    assert kinds(item("New bridge is 40 feet long"), item("New bridge is 16 feet long")) == {"figures"}


def test_a_report_giving_the_earlier_figure_too_does_not_conflict_with_it() -> None:
    earlier = item("Carmaker to cut 2,000 jobs")
    assert kinds(item("Carmaker to cut 10,000 jobs, 2,000 jobs in Germany"), earlier) == set()


def test_a_denial_has_no_state_to_contradict_in_a_relayed_rumour() -> None:
    earlier = item("Fans mourn the death of the singer as rumours sweep Twitter")
    assert kinds(item("Singer is alive, death rumours false"), earlier) == set()
    assert kinds(item("Singer is alive, death rumours false"), item("Fans mourn the death of the singer")) <= {
        "denial",
        "opposite",
    }
    assert kinds(item("Singer is alive, death rumours false"), item("Fans mourn the death of the singer"))


# Restatements carry a contradiction.


def test_a_report_restating_what_a_denial_contradicted_reverses_the_denial() -> None:
    plan = item("Airline plans gender segregation on its flights")
    denial = item("Airline rep denies plan to separate men and women on flights")
    assert kinds(denial, plan) == {"denial"}
    found = detect(item("Airline to ban gender mixing on its flights"), [plan, denial])
    assert [c.kind for c in found] == ["reversal"] and found[0].earlier is denial
    assert "restates" in found[0].evidence
    assert kinds(item("Airline serves new menu on its flights"), plan, denial) == set()


def test_a_later_report_restating_most_of_a_denied_plan_in_other_words_reverses_it() -> None:
    denial = item("Airline denies plan to separate men and women on flights")
    assert kinds(item("Airline plans to keep men and women apart on flights"), denial) == {"reversal"}
    assert kinds(item("Airline plans new routes for its flights"), denial) == set()


def test_a_denial_restating_an_earlier_denial_contradicts_what_that_one_did() -> None:
    report = item("Pigeon makes a mess of the minister's suit during speech")
    debunk = item("The video of a pigeon soiling the minister's suit is a hoax")
    assert kinds(debunk, report) == {"denial"}
    found = detect(item("No, a pigeon didn't soil the minister's suit"), [report, debunk])
    assert [(c.kind, c.earlier) for c in found] == [("denial", report)]
    assert "restates" in found[0].evidence
    assert kinds(item("No, a pigeon didn't soil the minister's suit"), report) == set()


def test_a_story_kept_as_story_reports_finds_what_a_list_of_its_reports_finds() -> None:
    # The pipeline keeps each story's reports as StoryReports and adds each one after detecting on it; denials
    # arrive before and after the reports they deny, restatements after both, and settings change midway.
    reports = [
        item("The video of a pigeon soiling the minister's suit is a hoax"),
        item("Airline serves new menu on its flights"),
        item("Airline plans gender segregation on its flights"),
        item("Airline rep denies plan to separate men and women on flights"),
        item("Airline to ban gender mixing on its flights"),
        item("Pigeon makes a mess of the minister's suit during speech"),
        item("No, a pigeon didn't soil the minister's suit"),
        item("Airline plans to keep men and women apart on flights"),
        item("Three passengers hurt on flight, airline says"),
        item("No passengers were hurt, airline insists"),
        item("Pigeon soils minister's suit during speech, video shows"),
    ]
    story = StoryReports()
    found_any = set()
    for n, report in enumerate(reports):
        settings = ContradictionSettings(best_per_kind=n % 2 == 0, judge=False)
        kept = detect(analyze(report), story, settings)
        listed = detect(report, reports[:n], settings)
        assert [(c.kind, c.earlier.id, c.evidence, c.score) for c in kept] == [
            (c.kind, c.earlier.id, c.evidence, c.score) for c in listed
        ]
        found_any |= {c.kind for c in kept}
        story.add(analyze(report))
    # "Three passengers hurt, airline says" is asserted (attribution is no hedge), so "No passengers were hurt"
    # negates it.
    assert {"denial", "reversal", "negation"} <= found_any and len(story) == len(reports)
    assert story.holds(reports[0].id) and not story.holds("elsewhere")


def test_a_story_keeping_no_analysis_of_its_plain_reports_finds_what_one_keeping_them_all_finds() -> None:
    # A report that denies nothing and tells no state or figure keeps its item and the first sentence of its
    # summary, not its analysis: that is made again when a denial arrives or a restatement is checked, here with
    # analyze_text's cache emptied before every report (as a busy bot's cache drops it), and must judge exactly
    # as the analysis made once. The first report's denied event is in its summary alone.
    reports = [
        item("Minister cuts short his speech in the capital",
             summary="A pigeon soiled the minister's suit during the speech. Aides rushed in."),
        item("Airline serves new menu on its flights", summary="The menu is new. It is served on flights."),
        item("Airline plans gender segregation on its flights"),
        item("The video of a pigeon soiling the minister's suit is a hoax"),
        item("Airline rep denies plan to separate men and women on flights"),
        item("Airline to ban gender mixing on its flights", summary="The ban starts in May.\nMore follows."),
        item("No, a pigeon didn't soil the minister's suit"),
        item("Airline plans to keep men and women apart on flights"),
        item("Three passengers hurt on flight, airline says"),
        item("No passengers were hurt, airline insists"),
        item("Pigeon soils minister's suit during speech, video shows"),
    ]
    whole, lean = StoryReports(), StoryReports()
    found_any = set()
    for n, report in enumerate(reports):
        settings = ContradictionSettings(best_per_kind=n % 2 == 0, judge=n % 3 == 0)
        kept = detect_with(analyze(report), whole, settings)
        analyze_text.cache_clear()
        remade = detect_with(analyze(report), lean, settings)
        assert remade == kept
        found_any |= {c.kind for c in kept}
        whole.add(analyze(report))
        analyze_text.cache_clear()
        lean.add(analyze(report), summary=report.summary)
    assert {"denial", "reversal", "negation"} <= found_any
    assert [(c.earlier.id, c.kind) for c in detect(reports[3], [reports[0]])] == [(reports[0].id, "denial")]
    plain = [k for k in range(len(reports)) if not isinstance(lean._reports[k], Analysis)]
    assert plain and all(isinstance(whole._reports[k], Analysis) for k in plain)
    # Of the plain reports, only those a denial contradicted (which later reports may restate) keep an analysis.
    assert all(k not in denied for k in plain for denied in lean.contradicted.values())


@pytest.mark.parametrize(("first", "contradicted"), [
    (item("Minister cuts short his speech in the capital",
          summary="A pigeon soiled the minister's suit during the speech. Aides rushed in."), True),
    (item("Pigeon may have soiled the minister's suit, aides fear"), False),
    (item("The video of a pigeon soiling the minister's suit is a hoax"), True),
    (item("Minister's suit still stained after the speech"), True),
])
def test_a_story_begun_by_what_the_detector_keeps_of_its_first_report_judges_as_one_begun_by_its_analysis(
    first: StoredItem, contradicted: bool
) -> None:
    # A story of one report keeps `keep` of its prepared text: of a plain or hedged report only whether it hedges.
    later = [
        item("The video of a pigeon soiling the minister's suit is a hoax"),
        item("No, a pigeon didn't soil the minister's suit"),
        item("Pigeon soils minister's suit during speech, video shows"),
        item("Minister's suit no longer stained after the speech"),
    ]
    detector = RulesDetector(RULES)
    prepared = detector.prepare(first.title, first.summary)
    kept = detector.keep(prepared)
    assert (kept is prepared) == bool(prepared.claims or prepared.states or prepared.figures)
    whole, lean = detector.story([(first, prepared)]), detector.story([(first, kept)])
    analyze_text.cache_clear()
    earlier = set()
    for report in later:
        text = detector.prepare(report.title, report.summary)
        found = detector.judge(whole, report, text)
        assert detector.judge(lean, report, text) == found
        earlier |= {c.earlier.id for c in found}
    assert (first.id in earlier) == contradicted


@pytest.mark.parametrize("summary", [
    "", "One sentence only", "First one. Second one.", "  Padded first!  Then more?  ", "Ends with a stop.",
    "Line one.\nLine two.", "No break.Here", "Wait... what? Yes.", "A.\u00a0B",
])
def test_what_the_analysis_reads_of_a_summary_analyses_as_the_summary_does(summary: str) -> None:
    # A story keeps `summary_read(summary)` of a plain report in place of its summary, to analyse it again.
    for title in ("Minister resigns over the pigeon video", "The pigeon video is a hoax"):
        assert analyze_text(title, summary_read(summary)) == analyze_text(title, summary)
    assert summary_read(summary_read(summary)) == summary_read(summary)


def test_sharing_only_names_is_enough_when_there_are_many_of_them() -> None:
    debunk = item("That photo of Angela Merkel and Barack Obama in the Berlin zoo is a hoax")
    assert kinds(item("Angela Merkel and Barack Obama visit the Berlin zoo"), debunk) == {"reversal"}
    assert kinds(item("Angela Merkel visits a school in Berlin"), debunk) == set()
