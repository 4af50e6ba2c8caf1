"""Who is owed an alert: events and the outbox, written by the real pipeline into a real SQLite file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.monitor.alerts import AlertPolicy, claim_of, topic_words
from bot.monitor.model import StoredItem
from bot.monitor.pipeline import Pipeline
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import stories as story_store
from storage.db import open_database
from storage.stories import StoredContradiction
from tests.test_pipeline import COPPER, DENIAL, EVACUATION, FOLLOW_UP, START, report

ALICE, BOB, GROUP = 101, 202, -303
# The denial a few hours after the report, close enough to join its story without a bridging report.
SOON_DENIAL = report("Iran denies evacuating diplomats from Syria", "Tehran Desk", 5)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "sw.db")
    for chat_id in (ALICE, BOB):
        chat_store.ensure_chat(database, chat_id, type="private", title=None, now=START)
    chat_store.ensure_chat(database, GROUP, type="group", title="Newsroom", now=START)
    yield database
    database.close()


def follow(db: Database, chat_id: int, query: str) -> int:
    subscription_id, _ = chat_store.add_topic(db, chat_id, query, topic_words(query), START)
    return subscription_id


def queued(db: Database) -> list[tuple[int, str, str]]:
    """(chat, kind, item title) of every pending alert, in order."""
    return [(a.chat_id, a.kind, a.item.title) for a in alert_store.due_alerts(db, START + timedelta(days=30))]


def test_a_topic_gets_the_new_story_its_development_and_the_contradiction(db: Database) -> None:
    follow(db, ALICE, "iran syria")
    follow(db, BOB, "copper")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION, COPPER], now=START)
    pipeline.process(db, [FOLLOW_UP], now=START)
    pipeline.process(db, [DENIAL], now=START)

    assert queued(db) == [
        (ALICE, "new_story", EVACUATION.title),
        (BOB, "new_story", COPPER.title),
        (ALICE, "development", FOLLOW_UP.title),
        (ALICE, "contradiction", DENIAL.title),
    ]
    [contradiction] = [a for a in alert_store.due_alerts(db, START + timedelta(days=30)) if a.contradiction]
    assert contradiction.contradiction.earlier.title == EVACUATION.title
    assert contradiction.reply_to is None  # nothing was delivered yet to reply to


def test_topic_words_meet_other_forms_of_the_same_word() -> None:
    assert set(topic_words("evacuation")) <= set(topic_words("Iran begins evacuating personnel"))
    assert topic_words("the of and") == []


def test_a_topic_that_matches_a_story_follows_it(db: Database) -> None:
    subscription_id = follow(db, ALICE, "personnel")
    Pipeline().process(db, [EVACUATION, COPPER], now=START)
    [alert] = alert_store.due_alerts(db, START)
    follows = db.execute("SELECT story_id, via FROM subscriptions WHERE chat_id = ? AND kind = 'story'", [ALICE])
    assert follows.fetchall() == [(alert.story_id, subscription_id)]
    assert chat_store.subscriptions(db, ALICE)[0].kind == "topic"  # /following lists the topic, not the story


def test_the_same_outlet_again_is_not_a_development(db: Database) -> None:
    follow(db, ALICE, "iran syria")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    pipeline.process(db, [report("Iran evacuating more personnel from Syria", "Levant Wire", 1)], now=START)
    assert [kind for _, kind, _ in queued(db)] == ["new_story"]


def test_muted_stories_modes_and_inactive_chats_get_nothing(db: Database) -> None:
    for chat_id in (ALICE, BOB, GROUP):
        follow(db, chat_id, "iran")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    story_id = alert_store.due_alerts(db, START)[0].story_id
    chat_store.mute_story(db, ALICE, story_id, START)
    chat_store.set_alert_mode(db, BOB, "contradictions")
    chat_store.deactivate_chat(db, GROUP, START, "blocked")
    pipeline.process(db, [FOLLOW_UP, DENIAL], now=START)

    after_first = [(chat, kind) for chat, kind, _ in queued(db)]
    assert after_first == [(ALICE, "new_story"), (BOB, "new_story"), (BOB, "contradiction")]
    assert alert_store.outbox_counts(db)["failed"] == 1  # the group's first alert was dropped with it


def test_unfollowing_a_topic_drops_the_stories_it_brought(db: Database) -> None:
    subscription_id = follow(db, ALICE, "iran syria")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    chat_store.remove_subscription(db, ALICE, subscription_id)
    pipeline.process(db, [SOON_DENIAL], now=START)
    assert [kind for _, kind, _ in queued(db)] == ["new_story"]


def test_a_story_asked_for_by_name_stays_when_its_topic_goes(db: Database) -> None:
    subscription_id = follow(db, ALICE, "iran syria")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    story_id = alert_store.due_alerts(db, START)[0].story_id
    assert chat_store.follow_story(db, ALICE, story_id, START) is True
    chat_store.remove_subscription(db, ALICE, subscription_id)
    pipeline.process(db, [SOON_DENIAL], now=START)
    assert [kind for _, kind, _ in queued(db)] == ["new_story", "contradiction"]
    assert [s.kind for s in chat_store.subscriptions(db, ALICE)] == ["story"]


def test_delivered_alerts_are_not_due_and_followups_reply_to_them(db: Database) -> None:
    follow(db, ALICE, "iran syria")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    [first] = alert_store.due_alerts(db, START)
    alert_store.mark_sent(db, [first.id], 77, START)
    assert alert_store.due_alerts(db, START) == []
    assert alert_store.stories_of_message(db, ALICE, 77) == [first.story_id]
    pipeline.process(db, [SOON_DENIAL], now=START)
    [second] = alert_store.due_alerts(db, START)
    assert second.reply_to == 77


def test_a_migrated_group_keeps_its_follows_and_alerts(db: Database) -> None:
    follow(db, GROUP, "iran")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    chat_store.migrate_chat(db, GROUP, -100303)
    [alert] = alert_store.due_alerts(db, START)
    assert alert.chat_id == -100303 and alert.chat_type == "supergroup"
    assert [s.query for s in chat_store.subscriptions(db, -100303)] == ["iran"]
    assert chat_store.find_chat(db, GROUP) is None


def test_a_rolled_back_ingest_promises_no_alert(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    follow(db, ALICE, "iran syria")
    pipeline = Pipeline()

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(alert_store, "queue_alerts", broken)
    with pytest.raises(RuntimeError):
        pipeline.process(db, [EVACUATION], now=START)
    monkeypatch.undo()
    assert queued(db) == [] and db.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    pipeline.process(db, [EVACUATION], now=START)
    assert [kind for _, kind, _ in queued(db)] == ["new_story"]


def test_a_weak_contradiction_is_told_as_the_report_it_is_and_kept_as_possibly_disputed(db: Database) -> None:
    follow(db, ALICE, "iran syria")
    follow(db, BOB, "iran syria")
    chat_store.set_alert_mode(db, BOB, "contradictions")
    pipeline = Pipeline(alert_policy=AlertPolicy(min_score=1.0))  # only certainty alerts
    pipeline.process(db, [EVACUATION], now=START)
    pipeline.process(db, [SOON_DENIAL], now=START)

    [found] = story_store.list_contradictions(db)
    assert found.score < 1.0 and not found.confident and found.claim_id == found.id
    # A new outlet's report is a development, whatever the detector suspects; the dispute itself is pushed to no one.
    assert queued(db) == [(ALICE, "new_story", EVACUATION.title), (ALICE, "development", SOON_DENIAL.title)]
    assert story_store.get_story(db, found.story_id).story.disputed_count == 0


def test_the_same_claim_denied_again_is_not_alerted_again_unless_the_first_alert_was_given_up(db: Database) -> None:
    follow(db, ALICE, "iran syria")
    follow(db, BOB, "iran syria")
    pipeline = Pipeline()
    pipeline.process(db, [EVACUATION], now=START)
    pipeline.process(db, [SOON_DENIAL], now=START)
    for alert in alert_store.due_alerts(db, START + timedelta(days=30)):
        if alert.chat_id == BOB and alert.kind == "contradiction":
            alert_store.give_up(db, [alert.id], "Forbidden: bot was blocked by the user")
    again = report("Iran denies it is evacuating personnel from Syria", "Gulf Post", 6)
    pipeline.process(db, [again], now=START)

    contradictions = story_store.list_contradictions(db)
    assert len(contradictions) == 2 and {c.claim_id for c in contradictions} == {contradictions[-1].id}
    assert [(chat, kind) for chat, kind, _ in queued(db) if kind == "contradiction"] == [
        (ALICE, "contradiction"), (BOB, "contradiction")]  # Alice's first; Bob's second, his first never reached him
    assert [title for chat, kind, title in queued(db) if chat == BOB and kind == "contradiction"] == [again.title]


def _contradiction(number: int, kind: str, earlier: StoredItem, later: StoredItem, claim: int) -> StoredContradiction:
    return StoredContradiction(number, 1, kind, earlier, later, "evidence", 0.9, START, claim_id=claim)


def _item(number: int, title: str) -> StoredItem:
    return StoredItem(number, title, None, "", f"Outlet {number}", START + timedelta(hours=number))


def test_a_claim_is_its_reports_and_their_restatements() -> None:
    claim = _item(1, "Harbour board closes Port Delmar after chemical spill")
    denial = _item(2, "Harbour board denies closing Port Delmar")
    first = _contradiction(10, "denial", claim, denial, claim=10)

    # A second denial of the same report, and a restatement after the denial: the same claim.
    assert claim_of(_contradiction(11, "denial", claim, _item(3, "No closure at Port Delmar, board says"), 11),
                    [first]) == 10
    reasserted = _item(4, "Port Delmar closed after chemical spill, inspectors confirm")
    assert claim_of(_contradiction(12, "reversal", denial, reasserted, 12), [first]) == 10
    # A denial of another report of the same claim, in other words: it restates the claim.
    restated = _item(5, "Chemical spill: harbour board closes Port Delmar")
    assert claim_of(_contradiction(13, "denial", restated, _item(6, "Board rejects report of port shutdown"), 13),
                    [first]) == 10
    # Another claim of the same story is a claim of its own.
    toll = _item(7, "Harbour board says two workers hurt in spill")
    assert claim_of(_contradiction(14, "figures", toll, _item(8, "Port Delmar spill: five workers hurt"), 14),
                    [first]) == 14
