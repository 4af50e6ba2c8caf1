"""How many contradiction alerts a chat that follows one topic receives on a real news stream.

Replays a JSON Lines data set (by default ../shared/data/uci-sample.jsonl: 27 hours of real news, where true
contradictions are rare) through the real pipeline into a temporary database in which one chat follows each
topic, then counts the contradiction alerts queued for each chat, and the contradictions found in the stories
it follows (those the alert policy kept back: weaker than `[contradictions] alert_min_score`, or another
report of a claim the chat was already told about).

    python benchmarks/alert_volume.py [DATASET.jsonl] [--min-score S] [--topics china apple ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.monitor.alerts import DEFAULT_POLICY, AlertPolicy, topic_words
from bot.monitor.files import read_items
from bot.monitor.pipeline import Pipeline
from storage import chats as chat_store
from storage.db import open_database, utcnow

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uci-sample.jsonl"
TOPICS = ["china", "apple", "gm", "bitcoin", "obama", "microsoft", "bachelor", "bank"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--min-score", type=float, default=DEFAULT_POLICY.min_score)
    parser.add_argument("--topics", nargs="+", default=TOPICS)
    args = parser.parse_args()
    now = utcnow()
    with tempfile.TemporaryDirectory(prefix="storywatch-alerts-") as folder:
        db = open_database(Path(folder) / "alerts.db")
        chats = {}
        for number, topic in enumerate(args.topics, start=1):
            chat_store.ensure_chat(db, number, type="private", title=None, now=now)
            chat_store.add_topic(db, number, topic, topic_words(topic), now)
            chats[number] = topic
        Pipeline(alert_policy=AlertPolicy(min_score=args.min_score)).process(
            db, read_items(args.dataset, now), now=now)
        print(f"{args.dataset.name}, alert_min_score {args.min_score}:")
        print(f"{'topic':<12} {'alerts':>7} {'claims':>7} {'contradictions':>15} {'confident':>10}")
        for chat_id, topic in chats.items():
            alerts = db.execute(
                """SELECT count(*) FROM outbox o JOIN events e ON e.id = o.event_id
                   WHERE o.chat_id = ? AND e.kind = 'contradiction'""", [chat_id]).fetchone()[0]
            found, claims, confident = db.execute(
                """SELECT count(*), count(DISTINCT c.claim_id), coalesce(sum(c.confident), 0) FROM contradictions c
                   WHERE c.story_id IN (SELECT story_id FROM subscriptions WHERE chat_id = ? AND kind = 'story')""",
                [chat_id]).fetchone()
            print(f"{topic:<12} {alerts:>7} {claims:>7} {found:>15} {confident:>10}")
        db.close()


if __name__ == "__main__":
    main()
