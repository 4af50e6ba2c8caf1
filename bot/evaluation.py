"""`storywatch eval`: replay a labelled data set through the real pipeline and score what it did."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.monitor.cluster import ClusterSettings
from bot.monitor.contradiction import DEFAULT_SETTINGS, ContradictionSettings
from bot.monitor.evaluate import bcubed_scores, contradiction_scores, pairwise_scores
from bot.monitor.files import BadInputError, read_items
from bot.monitor.pipeline import Pipeline
from storage.db import open_database, utcnow


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    items: int
    gold_stories: int
    stories: int
    pairwise: Scores
    bcubed: Scores
    contradiction: Scores | None  # None when the data set has no stance labels
    flagged: int

    def to_json(self) -> dict:
        return asdict(self)


def _labels(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Gold story and stance per item id. Read here only, never by the pipeline."""
    stories: dict[str, str] = {}
    stances: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if "id" not in record or "story" not in record:
            raise BadInputError(f"{path}, line {number}: a labelled item needs an id and a story")
        stories[str(record["id"])] = str(record["story"])
        if record.get("stance"):
            stances[str(record["id"])] = record["stance"]
    return stories, stances


def evaluate(
    path: Path,
    cluster_settings: ClusterSettings | None = None,
    progress: Callable[[int], object] | None = None,
    contradiction_settings: ContradictionSettings = DEFAULT_SETTINGS,
) -> EvalReport:
    """Ingest `path` into a fresh temporary database through the same code as `storywatch ingest`, then
    score the stories and contradictions against the labels (metrics in design.md)."""
    gold_story, stance = _labels(path)
    with tempfile.TemporaryDirectory(prefix="storywatch-eval-") as folder:
        db = open_database(Path(folder) / "eval.db")
        try:
            items = read_items(path, utcnow())
            Pipeline(cluster_settings, contradiction_settings).process(db, items, now=utcnow(), progress=progress)
            predicted = {
                row[0]: row[1]
                for row in db.execute(
                    "SELECT i.guid, m.story_id FROM items i JOIN story_items m ON m.item_id = i.id"
                ).fetchall()
            }
            flagged = {
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT i.guid FROM contradictions c JOIN items i ON i.id = c.later_item_id"
                ).fetchall()
            }
        finally:
            db.close()
    ids = list(gold_story)
    # An item the pipeline did not store (a duplicate of another) counts as a story of its own.
    predicted_labels = [predicted.get(item_id, f"unstored:{item_id}") for item_id in ids]
    gold_labels = [gold_story[item_id] for item_id in ids]
    contradiction = None
    if stance:
        # Scored in the order the pipeline replayed the data set (published time, then the file's order), every
        # labelled item included: one the pipeline stored as a duplicate of another is still an earlier report
        # of its story (an `observing` one, say, after which an `against` one is not scored).
        ordered = [
            {"id": item.guid, "story": gold_story[item.guid], "stance": stance.get(item.guid)}
            for item in sorted(items, key=lambda item: item.published)
            if item.guid in gold_story
        ]
        contradiction = Scores(*contradiction_scores(ordered, flagged))
    return EvalReport(
        dataset=str(path),
        items=len(ids),
        gold_stories=len(set(gold_labels)),
        stories=len(set(predicted_labels)),
        pairwise=Scores(*pairwise_scores(gold_labels, predicted_labels)),
        bcubed=Scores(*bcubed_scores(gold_labels, predicted_labels)),
        contradiction=contradiction,
        flagged=len(flagged),
    )
