"""Choose/confirm evaluation of clustering and contradiction detection.

Each labelled data set is split in two by a stable hash of the gold story id (sha1, last byte even: the
"choose" half, odd: the "confirm" half). Tune only by reading the errors of the choose half; the confirm
half says whether a change generalises. Each half is replayed on its own through the real pipeline
(`bot.evaluation.evaluate`), as a held-out file would be.

    python benchmarks/quality_split.py ../shared/data/emergent-dev.jsonl ../shared/data/uci-sample.jsonl
    python benchmarks/quality_split.py --errors ../shared/data/emergent-dev.jsonl   # choose-half errors

`--errors` prints the choose half's wrong merges and splits (by gold story) and its contradiction false
positives and false negatives, with the evidence the detector gave. It never reads the confirm half.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation import evaluate
from bot.monitor.contradiction import DEFAULT_SETTINGS, DETECTORS, ContradictionSettings, detector_settings
from bot.monitor.evaluate import contradiction_scores
from bot.monitor.files import read_items
from bot.monitor.pipeline import Pipeline
from storage.db import open_database, utcnow


def half_of(story: str) -> str:
    return "choose" if hashlib.sha1(story.encode("utf-8")).digest()[-1] % 2 == 0 else "confirm"


def split(path: Path, folder: Path) -> dict[str, Path]:
    lines = {"choose": [], "confirm": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            lines[half_of(str(json.loads(line)["story"]))].append(line)
    out = {}
    for half, rows in lines.items():
        out[half] = folder / f"{path.stem}.{half}.jsonl"
        out[half].write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def _row(name: str, report) -> str:
    text = (
        f"{name:<28} items {report.items:>5} gold {report.gold_stories:>4} pred {report.stories:>4}  "
        f"pairwise P/R/F1 {report.pairwise.precision:.3f}/{report.pairwise.recall:.3f}/{report.pairwise.f1:.3f}  "
        f"BCubed F1 {report.bcubed.f1:.3f}"
    )
    if report.contradiction is not None:
        c = report.contradiction
        text += f"  contradiction P/R/F1 {c.precision:.3f}/{c.recall:.3f}/{c.f1:.3f}"
    return text


def replay(
    path: Path, settings: ContradictionSettings = DEFAULT_SETTINGS
) -> tuple[list[dict], dict[str, int], dict[int, str], list[dict]]:
    """Records in replay order, predicted story per item id, story titles and contradictions."""
    records = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[str(record["id"])] = record
    with tempfile.TemporaryDirectory(prefix="storywatch-split-") as folder:
        db = open_database(Path(folder) / "eval.db")
        try:
            items = read_items(path, utcnow())
            Pipeline(contradiction_settings=settings).process(db, items, now=utcnow())
            predicted = dict(
                db.execute("SELECT i.guid, m.story_id FROM items i JOIN story_items m ON m.item_id = i.id").fetchall()
            )
            titles = dict(db.execute("SELECT id, title FROM stories").fetchall())
            found = [
                {"earlier": e, "later": later, "kind": k, "evidence": ev, "score": s}
                for e, later, k, ev, s in db.execute(
                    "SELECT ie.guid, il.guid, c.kind, c.evidence, c.score FROM contradictions c "
                    "JOIN items ie ON ie.id = c.earlier_item_id JOIN items il ON il.id = c.later_item_id"
                ).fetchall()
            ]
            # The replay's order, every item included (stored or not), as `storywatch eval` scores it.
            order = [item.guid for item in sorted(items, key=lambda item: item.published)]
        finally:
            db.close()
    return [records[i] for i in order if i in records], predicted, titles, found


def print_errors(path: Path, limit: int, settings: ContradictionSettings = DEFAULT_SETTINGS) -> None:
    ordered, predicted, titles, found = replay(path, settings)
    by_gold: dict[str, list[dict]] = defaultdict(list)
    for r in ordered:
        by_gold[r["story"]].append(r)
    by_pred: dict[int, list[dict]] = defaultdict(list)
    for r in ordered:
        by_pred[predicted.get(r["id"], -1)].append(r)
    print("== splits: gold stories spread over several predicted stories (largest loss of pairs first)")
    splits = []
    for gold, rows in by_gold.items():
        parts = Counter(predicted.get(r["id"]) for r in rows)
        lost = (len(rows) ** 2 - sum(n * n for n in parts.values())) // 2
        if lost:
            splits.append((lost, gold, rows, parts))
    for lost, gold, rows, parts in sorted(splits, key=lambda s: -s[0])[:limit]:
        print(f"-- gold {gold[:12]} ({len(rows)} items, {lost} pairs lost): parts {dict(parts.most_common())}")
        for pid, _ in parts.most_common(6):
            sample = [r for r in rows if predicted.get(r["id"]) == pid][:3]
            for r in sample:
                print(f"   [{pid}] {r['published'][:16]} {r['title'][:120]}")
    print("\n== merges: predicted stories mixing gold stories (largest wrong pairs first)")
    merges = []
    for pid, rows in by_pred.items():
        parts = Counter(r["story"] for r in rows)
        wrong = (len(rows) ** 2 - sum(n * n for n in parts.values())) // 2
        if wrong:
            merges.append((wrong, pid, rows, parts))
    for wrong, pid, rows, parts in sorted(merges, key=lambda m: -m[0])[:limit]:
        print(f"-- pred {pid} '{titles.get(pid, '')[:80]}' ({len(rows)} items, {wrong} wrong pairs)")
        for gold, n in parts.most_common(6):
            sample = [r for r in rows if r["story"] == gold][:2]
            for r in sample:
                print(f"   <{gold[:8]} x{n}> {r['published'][:16]} {r['title'][:120]}")
    flagged = {c["later"] for c in found}
    evidence = defaultdict(list)
    for c in found:
        evidence[c["later"]].append(c)
    title = {r["id"]: r["title"] for r in ordered}
    stance_of = {r["id"]: r.get("stance") for r in ordered}
    seen: dict[str, list[dict]] = defaultdict(list)
    fps, fns = [], []
    for r in ordered:
        stance = r.get("stance")
        earlier = seen[r["story"]]
        stances = {e.get("stance") for e in earlier}
        opposite = {"for": "against", "against": "for"}.get(stance or "")
        scored = (opposite is not None or stance == "neutral") and not (
            stance == "against" and stances - {None} == {"observing"}
        )
        if scored:
            positive = opposite is not None and opposite in stances
            if r["id"] in flagged and not positive:
                fps.append((r, earlier))
            elif positive and r["id"] not in flagged:
                fns.append((r, earlier))
        if stance:
            earlier.append(r)
    print(f"\n== contradiction false positives ({len(fps)})")
    for r, _ in fps[: limit * 3]:
        print(f"-- [{r.get('stance')}] {r['title'][:140]}")
        for c in evidence[r["id"]]:
            print(f"     {c['kind']} {c['score']}: {c['evidence'][:100]}")
            print(f"     earlier [{stance_of.get(c['earlier'])}] {title.get(c['earlier'], '?')[:120]}")
    print(f"\n== contradiction false negatives ({len(fns)})")
    for r, earlier in fns[: limit * 3]:
        opposite = {"for": "against", "against": "for"}[r["stance"]]
        print(f"-- [{r['stance']}] {r['title'][:140]}")
        for e in [e for e in earlier if e.get("stance") == opposite][:2]:
            print(f"     earlier [{opposite}] {e['title'][:120]}")
    scores = contradiction_scores(ordered, flagged)
    print(f"\ncontradiction P/R/F1 {scores[0]:.3f}/{scores[1]:.3f}/{scores[2]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--errors", action="store_true", help="print the choose half's errors")
    parser.add_argument("--limit", type=int, default=15)
    parser.add_argument("--detector", choices=DETECTORS, default=DETECTORS[0])
    args = parser.parse_args()
    settings = detector_settings(args.detector)
    with tempfile.TemporaryDirectory(prefix="storywatch-halves-") as folder:
        for path in args.datasets:
            halves = split(path, Path(folder))
            if args.errors:
                print_errors(halves["choose"], args.limit, settings)
                continue
            print(_row(f"{path.stem} full", evaluate(path, contradiction_settings=settings)))
            for half, half_path in halves.items():
                print(_row(f"{path.stem} {half}", evaluate(half_path, contradiction_settings=settings)))


if __name__ == "__main__":
    main()
