"""Claim-level contradiction judgment with the default detector (the rules propose, the learned judge scores):
the false alarms real news raised (issue 15) and every kind of true contradiction, in headlines written for
these tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from bot.monitor.contradiction import (
    DEFAULT_SETTINGS,
    StoryReports,
    analyze,
    analyze_text,
    detect,
    detector_settings,
)
from bot.monitor.contradiction.lexicon import event_key
from bot.monitor.judge import Judge, pair_features, shipped_judge
from bot.monitor.model import StoredItem

_ids = count(1)
_T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def item(title: str, source: str = "") -> StoredItem:
    n = next(_ids)
    return StoredItem(n, title, None, "", source or f"desk-{n}", _T0 + timedelta(minutes=n))


def story(*titles: str) -> list[set[str]]:
    """Replay a story as the pipeline does: each report checked against the earlier ones, then kept. The kinds
    of contradiction each report raised."""
    reports = StoryReports(settings=DEFAULT_SETTINGS)
    raised = []
    for title in titles:
        analysis = analyze(item(title))
        found = detect(analysis, reports) if len(reports) else []
        raised.append({c.kind for c in found})
        reports.add(analysis, found)
    return raised


def quiet(*titles: str) -> bool:
    return not any(story(*titles))


# ------------------------------------------------------------------ false alarms on real news


def test_questions_as_a_noun_doubt_nothing() -> None:
    assert quiet("Carmaker Halden recalls 2 million cars over faulty airbags",
                 "Questions and answers about Halden's airbag recall",
                 "Regulators have 90 questions about the Halden recall",
                 "Halden recall: lawmakers to question company chief")  # fmt: skip


def test_a_negator_in_an_idiom_or_pun_negates_no_claim() -> None:
    assert quiet("Grocers Alder and Brill agree to merge",
                 "No small potatoes: grocers Alder and Brill merge",
                 "Alder and Brill merger creates the biggest grocer in the north")  # fmt: skip
    assert quiet("Study finds crows remember human faces", "Crows never forget... a face that wronged them")
    assert quiet("Parliament ousts the premier in a confidence vote",
                 "Lawmakers oust the premier in a no-confidence vote")  # fmt: skip


@pytest.mark.parametrize(
    "genre",
    [
        "Late-night show's spoof of the governor's budget speech goes viral",
        "Comedian's parody of the governor's budget speech wins praise",
        "Fake tan and fake lashes: the governor's budget speech look",
        "What lies ahead for the governor's budget",
        "Hopes for the governor's budget may lie with the senate",
        "Five myths about state budgets, busted",
    ],
)
def test_genre_and_topic_words_do_not_debunk(genre: str) -> None:
    assert quiet("Governor presents budget speech to the assembly", genre)


def test_listicle_counts_and_model_numbers_are_no_conflicting_figures() -> None:
    assert quiet("Seven things to know about the Orbit phone launch", "12 things to know about the Orbit phone launch")
    assert quiet("Orbit OS 5.2 update now available for phones and tablets",
                 "Orbit OS 5.2 hints at two new tablets")  # fmt: skip
    assert quiet("Orbit 6 launch date leaks", "Orbit 7 launch date set for autumn")


def test_one_spurious_claim_does_not_contradict_every_later_report_sharing_a_name() -> None:
    assert quiet(
        "Campaigners want to nix the word 'chairman' from company boards",
        "Board of Hollin names new chairman",
        "Why the word chairman still rules boardrooms",
        "Chairman of Hollin steps down after ten years",
    )


def test_a_denial_of_something_the_story_never_asserted_is_none() -> None:
    assert quiet("Finance minister Rhee visits refinery in the south", "Minister Rhee denies plan to raise fuel tax")


def test_a_negative_statement_is_a_claim_of_its_own_not_a_denial_to_reverse() -> None:
    assert quiet("We don't need another budget airline", "New budget airline Skylo launches first flights",
                 "Skylo adds ten routes")  # fmt: skip


def test_a_hedged_report_asserts_nothing_to_deny() -> None:
    assert quiet("Actor Lenz reportedly in talks to join the space sequel",
                 "Lenz denies talks to join the space sequel")  # fmt: skip
    assert quiet("Could the Mira volcano erupt this year?", "Mira volcano will not erupt this year, experts say")


def test_a_question_doubts_but_is_no_denial_to_reverse() -> None:
    raised = story("Is the photo of a shark on the flooded motorway fake?", "Shark swims along flooded motorway")
    assert raised[1] == set()


def test_an_opinion_or_advice_is_no_negation_of_the_event() -> None:
    assert quiet("Skater Mila Ortiz wins the national title", "Why Mila Ortiz should not win the national title")
    assert quiet("Don't hold your breath for a cheaper Orbit phone", "No cheaper Orbit phone this year, maker says")


def test_a_negation_of_someone_elses_event_is_none() -> None:
    assert quiet("Skater Mila Ortiz wins the national title", "Why rival Jo Park will not win the national title")


def test_a_doubt_is_at_most_possibly_disputed() -> None:
    earlier = item("Carmaker Veltro to merge with rival Kessel")
    doubting = item("Analysts doubt Veltro will merge with Kessel")
    assert detect(doubting, [earlier]) == []  # not recorded at the default floor
    [doubt] = detect(doubting, [earlier], replace(DEFAULT_SETTINGS, min_score=0.5))
    assert doubt.kind == "denial" and doubt.score <= DEFAULT_SETTINGS.tentative_max < DEFAULT_SETTINGS.min_score


@pytest.mark.parametrize(
    "doubting",
    [
        "Geologists question whether a meteorite made the crater near Brenford",
        "Doubts cast over the Brenford meteorite crater claim",
        "Was the Brenford meteorite crater all a hoax?",
        "Brenford meteorite crater: a story too good to check",
    ],
)
def test_a_doubt_aimed_at_the_claim_is_recorded_as_possibly_disputed(doubting: str) -> None:
    earlier = item("Meteorite leaves a crater near the town of Brenford")
    [doubt] = detect(item(doubting), [earlier])
    assert doubt.kind == "denial" and doubt.score <= DEFAULT_SETTINGS.tentative_max  # never confident


def test_reasserting_what_a_doubt_questioned_is_possibly_disputed_never_confident() -> None:
    claim = item("Meteorite leaves a crater near the town of Brenford")
    doubt = item("Geologists question whether a meteorite made the crater near Brenford")
    again = item("Meteorite makes big crater near Brenford, government says")
    reports = StoryReports([analyze(claim)])
    reports.add(analyze(doubt))
    [reversal] = detect(analyze(again), reports)
    assert reversal.kind == "reversal" and reversal.earlier.id == doubt.id
    assert reversal.score <= DEFAULT_SETTINGS.tentative_max  # never confident, as the doubt was not
    # Without the doubt's own contradiction of a report of the story, nothing is reversed.
    alone = StoryReports([analyze(doubt)])
    assert detect(analyze(again), alone) == []


@pytest.mark.parametrize(
    ("doubting", "doubted"),
    [
        ("Space agency raises doubts about reports of a Brenford meteorite", {"meteorit", "brenford"}),
        ("Geologists doubt that a meteorite made the Brenford crater", {"meteorit", "crater"}),
        ("Council casts doubt on the Brenford meteorite claims", {"meteorit", "brenford"}),
    ],
)
def test_a_doubt_is_about_its_complement_not_the_doubter_or_its_verb(doubting: str, doubted: set[str]) -> None:
    [claim] = analyze_text(doubting).claims
    assert doubted <= claim.targets and claim.head is None
    assert not {"rais", "geologist", "cast", "council"} & claim.targets
    [doubt] = detect(item(doubting), [item("Meteorite leaves a crater near the town of Brenford")])
    assert doubt.score <= DEFAULT_SETTINGS.tentative_max  # a doubt stays possibly disputed


def test_a_question_answered_with_a_denial_tells_rather_than_asks() -> None:
    answered = analyze_text("Poisoned honey recall? Toxic jars? Food agency debunks the hoax")
    assert not answered.question and not answered.hedged and answered.claims
    asked = analyze_text("Is the poisoned honey recall a hoax?")
    assert asked.question and asked.claims
    [denial] = detect(item("Poisoned honey recall? Toxic jars? Food agency debunks the hoax"),
                      [item("Food agency recalls honey after toxic jars found in Ardley")])  # fmt: skip
    assert denial.kind == "denial" and denial.score > DEFAULT_SETTINGS.tentative_max


def test_a_restatement_in_other_words_after_a_confident_denial_reverses_it() -> None:
    raised = story(
        "Porto sign striker Leo Varga from Ajax, his agent says",
        "Porto deny signing Leo Varga",
        "Striker Leo Varga leaves Ajax for Porto",
    )
    assert raised[1] == {"denial"} and raised[2] == {"reversal"}


def test_a_denied_clause_must_be_told_by_the_report_it_denies() -> None:
    claim = analyze_text("Just when you thought the Skyhop app was gone for good, think again").claims[0]
    assert "go" in claim.stated
    # The clause says the app went; a report that it may return tells of no going, and agrees with the title.
    assert quiet("Skyhop app maker considers bringing the app back",
                 "Just when you thought the Skyhop app was gone for good, think again")  # fmt: skip
    assert "denial" in story("Skyhop app is gone for good, maker says",
                             "Just when you thought the Skyhop app was gone for good, think again")[1]  # fmt: skip
    # What the title says of the denier after the cue is no part of the clause denied.
    fake = "Giant Ardley pumpkin was a fake by a man who has tricked judges before"
    assert "trick" not in analyze_text(fake).claims[0].stated
    assert "denial" in story("Ardley man grows giant pumpkin for the county show", fake)[1]


def test_a_report_noun_used_as_a_verb_is_the_event() -> None:
    # "to headline" and "will not headline" name the event; "the headline" is only the page's.
    assert "headlin" in analyze_text("Band Corvo to headline the Tarn festival").keys
    assert "negation" in story("Band Corvo to headline the Tarn festival, organisers say",
                               "Corvo will not headline the Tarn festival, its label says")[1]  # fmt: skip
    assert "headlin" not in analyze_text("Headline of the day: Tarn festival sells out").keys


def test_people_familiar_with_the_matter_attribute_a_claim_and_the_judge_ignores_who_speaks() -> None:
    attributed = analyze_text("Halvik Foods to shut two plants, people familiar with the matter say")
    assert attributed.attributed and not attributed.hedged
    plain = analyze_text("Halvik Foods to shut two plants")
    denial = analyze_text("Halvik Foods denies it will shut plants")
    judge = shipped_judge()
    assert judge.judge(attributed, denial, "denial") == pytest.approx(judge.judge(plain, denial, "denial"), abs=0.15)


def test_an_outcome_called_unlikely_or_a_word_tagged_with_a_question_is_no_dispute() -> None:
    assert quiet("Tarsk bank misses its first bond payment", "Bond default crisis at Tarsk bank 'unlikely' this year")
    assert quiet("Reality show finale: Pim makes his choice", "Reality star Pim fake? Tense finale moments")

def test_a_rising_toll_is_a_development() -> None:
    assert quiet("Three dead in river flooding", "River flood death toll climbs to 11")


def test_not_before_a_name_picks_out_a_person_and_negates_no_event() -> None:
    assert quiet("Singer Mara Quill, Dev Ostrander's former partner, gets engaged",
                 "Mara Quill got engaged to not Dev Ostrander")  # fmt: skip


def test_a_negated_word_the_same_headline_asserts_is_no_negation() -> None:
    assert quiet("Tennis star Ivo Brandt underwhelms in Wimbledon film, charms talk show",
                 "Ivo Brandt Says He's Not Wimbledon in Wimbledon Film")  # fmt: skip


def test_an_opinion_voiced_in_the_first_person_negates_no_event() -> None:
    assert quiet("The Need for a Fast Commute", "We Don't Need Fast Commuting Apps")
    assert quiet("Fans want a new stadium", "We don't want a new stadium")


def test_a_condition_with_without_negates_no_event() -> None:
    assert quiet("Consolemaker Pell hopes the new shooter lifts console sales",
                 "Pell won't sell its console without the motion camera this year")  # fmt: skip


def test_a_report_that_the_event_failed_agrees_with_a_negation_of_it() -> None:
    assert quiet("Singer Roya Fenn misses her costume change and performs in a bathrobe",
                 "Roya Fenn didn't make her costume change, so she sang in a bathrobe")  # fmt: skip
    assert quiet("Striker Ivo Dane refuses to talk about his transfer in a heated interview",
                 "Ivo Dane won't talk about his transfer, storms out of interview")  # fmt: skip


def test_a_joke_aside_clarifying_a_word_refutes_nothing() -> None:
    assert analyze_text("Why Teachers Want to Ban the F-Word. (No, Not That One.)").claims == ()
    assert analyze_text("Mayor Quint resigns? No, says his office").claims  # a reply still refutes


def test_prank_describing_a_thing_is_no_debunk() -> None:
    assert quiet("Students stage a prank at the graduation ceremony", "Graduation prank goes viral")


# ------------------------------------------------------------------ true contradictions


def test_the_seed_attributed_claim_and_its_denial() -> None:
    raised = story(
        "Iran begins evacuating military personnel from Syria, New York Times reports citing officials",
        "Tehran denies evacuating its personnel from Syria",
    )
    assert raised[1] == {"denial"}


@pytest.mark.parametrize(
    "claim",
    [
        "Carmaker Veltro to close its Ohio plant, people familiar with the matter say",
        "Veltro will close its Ohio plant, sources told the paper",
        "Veltro to close Ohio plant, report says",
        "Officials: Veltro to close its Ohio plant",
    ],
)
def test_a_denial_of_an_attributed_claim_contradicts_it(claim: str) -> None:
    assert story(claim, "Veltro denies it will close its Ohio plant")[1] == {"denial"}


def test_a_negation_of_the_claim() -> None:
    assert story("Central bank governor Anna Ruiz resigns", "Anna Ruiz has not resigned, central bank says")[1] == {
        "negation"
    }


def test_opposite_states() -> None:
    assert story("Coastal highway closed after landslide", "Coastal highway remains open despite landslide")[1] == {
        "opposite"
    }


def test_conflicting_figures_of_the_same_quantity() -> None:
    assert "figures" in story("Twelve killed in warehouse fire in Porto", "Two killed in warehouse fire in Porto")[1]


def test_a_confirmation_after_a_validated_denial() -> None:
    raised = story(
        "Singer Kay Morrow will headline the Riverside festival, organisers say",
        "Kay Morrow denies she will headline Riverside festival",
        "Kay Morrow to headline the Riverside festival after all",
    )
    assert raised[1] == {"denial"} and raised[2] == {"reversal"}


def test_an_explicit_refutation_names_its_claim_by_itself() -> None:
    raised = story("No, the mayor of Dunmore did not ban bicycles", "Mayor of Dunmore bans bicycles from the old town")
    assert raised[1] == {"reversal"}


def test_a_phrasal_verb_meets_its_noun_and_its_synonyms() -> None:
    # "lay off" and "layoffs", "pulls out" and "withdraws", "exits" and "quits": one event in other word forms.
    assert "denial" in story("Carrier Norwind to lay off 3,000 staff", "Norwind denies layoffs")[1]
    assert "negation" in story("Norwind plans layoffs at its Leeds depot",
                               "Norwind says it will not lay off anyone in Leeds")[1]  # fmt: skip
    assert "denial" in story("Bidder Caldera pulls out of the port deal",
                             "Caldera denies withdrawing from the port deal")[1]  # fmt: skip
    assert "denial" in story("Senator Okafor quits the governor's race",
                             "Senator Okafor denies she exits the governor's race")[1]  # fmt: skip
    # Leaving a post: "quits" is the resignation that "has not resigned" negates (the rules meet them).
    rules = detector_settings("rules")
    [negation] = detect(item("Culture minister Ada Lenz has not resigned, her office says"),
                        [item("Culture minister Ada Lenz quits over expenses row")], rules)  # fmt: skip
    assert negation.kind == "negation"


def test_a_claim_called_a_prank_is_denied() -> None:
    assert "denial" in story("Mayor of Tilbury arrested over bribes",
                             "Police say the Tilbury mayor arrest story was a prank")[1]  # fmt: skip


# ------------------------------------------------------------------ the judge


def test_scores_are_probabilities_and_the_rules_alone_give_strengths() -> None:
    earlier, later = item("Veltro to close Ohio plant, report says"), item("Veltro denies it will close Ohio plant")
    [judged] = detect(later, [earlier])
    [ruled] = detect(later, [earlier], detector_settings("rules"))
    assert 0.0 < judged.score <= 1.0 and 0.0 < ruled.score <= 1.0
    assert judged.kind == ruled.kind == "denial"


def test_the_judge_weighs_a_denial_above_a_restatement() -> None:
    judge = shipped_judge()
    claim = analyze(item("Veltro to close its Ohio plant")).text
    denial = analyze(item("Veltro denies it will close its Ohio plant")).text
    restatement = analyze(item("Veltro will close its Ohio plant next year")).text
    assert judge.judge(claim, denial, "denial") > 0.5 > judge.judge(claim, restatement, "none")


def test_the_judge_is_a_plain_logistic_regression() -> None:
    added = f"+{event_key('denies')}"  # the judge's word features are event keys
    judge = Judge({"kind=denial": 2.0, added: 1.0}, bias=-1.0)
    old = analyze(item("Veltro to close plant")).text
    new = analyze(item("Veltro denies plant")).text
    features = pair_features(old, new, "denial")
    assert "kind=denial" in features and added in features
    assert judge.probability(features) == pytest.approx(1 / (1 + 2.718281828459045 ** -2.0))
    assert judge.probability(["unknown"]) == pytest.approx(1 / (1 + 2.718281828459045))


def test_the_judge_scores_a_denial_whatever_else_the_claim_said_of_where_or_who() -> None:
    # The words a denial leaves out are the story's topic: the judge had learnt weights for them (a city, a first
    # word), so the same denial scored higher or lower by where the claim was set.
    judge = shipped_judge()
    denial = analyze_text("Singer Mara Quinn has not been arrested")
    scores = {
        place: judge.judge(analyze_text(f"Singer Mara Quinn arrested in {place}"), denial, "negation")
        for place in ("London", "Paris", "Madrid", "Chicago")
    }
    assert max(scores.values()) == pytest.approx(min(scores.values()), abs=1e-9), scores


def test_the_judge_reads_the_forms_of_a_word_as_one() -> None:
    # "deny" after a plural subject is the same denial as "denies": the judge had learnt them apart.
    judge = shipped_judge()
    claim = analyze_text("Veltro to close its Ohio plant, report says")
    plural = judge.judge(claim, analyze_text("Veltro bosses deny closing the Ohio plant"), "denial")
    singular = judge.judge(claim, analyze_text("Veltro boss denies closing the Ohio plant"), "denial")
    assert plural == pytest.approx(singular, abs=1e-9)


def test_unknown_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown detector"):
        detector_settings("oracle")


@pytest.mark.parametrize(
    ("claim", "negation"),
    [
        ("Harbour master Ilse Brandt resigns after ferry collision", "Ilse Brandt has not resigned, port says"),
        ("Veldmark Foods recalls peanut butter over salmonella fears", "Veldmark Foods is not recalling peanut butter"),
        ("Goalkeeper Tomas Reyes joins Porto on loan", "Tomas Reyes has not joined Porto, his agent insists"),
        # One move in other words: stepping down is resigning, detaining is arresting.
        ("Harbour master Ilse Brandt steps down after ferry collision", "Ilse Brandt has not resigned, port says"),
        ("Police detain opposition leader Arun Maru", "Arun Maru was not arrested, police say"),
        # Passives negate the verb as actives do.
        ("Street artist Mara Quill arrested in Lisbon", "Relax: Mara Quill has not been arrested"),
        ("Singer Dov Arlen to be charged over motorway crash", "Dov Arlen will not be charged, prosecutors say"),
    ],
)
def test_a_plain_negation_of_the_asserted_event_is_confident(claim: str, negation: str) -> None:
    assert story(claim, negation) == [set(), {"negation"}]
    found = detect(analyze(item(negation)), [item(claim)])
    assert found[0].score >= DEFAULT_SETTINGS.min_score


def test_the_judge_alone_doubted_a_plain_negation_and_the_rule_lifts_only_verb_events() -> None:
    # Why the rule exists: without it the judge leaves the plainest negation below min_score...
    lowered = replace(DEFAULT_SETTINGS, negated_event_score=0.0)
    claim, negation = "Harbour master Ilse Brandt resigns after ferry collision", "Ilse Brandt has not resigned"
    assert not detect(analyze(item(negation)), [item(claim)], lowered)
    # ...and it lifts no noun after "no", no question and no other subject's event.
    for earlier, later in [
        ("Central bank comes under fire over lax control of lenders", "Central bank has no control over house prices"),
        ("Ilse Brandt resigns after ferry collision", "Has Ilse Brandt not resigned?"),
        ("Harbour master Ilse Brandt resigns", "Ferry captain has not resigned, operator says"),
        # "won't be" before a noun or an adjective is a predicate, not a passive.
        ("Coach Lena Sand arrested after brawl", "Lena Sand won't be the coach next season"),
    ]:
        assert not detect(analyze(item(later)), [item(earlier)]), later


def test_naming_the_subject_and_the_debunked_event_reasserts_it() -> None:
    # The debunk's subject and the very event it called false are the claim, in any other words.
    assert story("Veteran actor Ravi Mehta killed by internet death hoax",
                 "Ravi Mehta dies in Mumbai hospital, family says") == [set(), {"reversal"}]  # fmt: skip
    # The subject alone, or the subject doing something else, is not.
    assert quiet("Veteran actor Ravi Mehta killed by internet death hoax", "Ravi Mehta to star in new crime film")
    assert quiet("Video of a heron landing on Ravi Mehta's head is a hoax", "Ravi Mehta gives speech on climate")
