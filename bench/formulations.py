"""Formulations a writer reuses: precision of the 常用表述 against hand labels.

Usage: python bench/formulations.py W [--labels FILE] [--queries FILE]
       python bench/formulations.py W --held-out [2|3]  # queries labelled later: 32 (1), 30 more (2), 18 (3)

W holds the indexes `gov` (gov_reports.jsonl) and `seeds` (corpus/). The labels (bench/labels/,
with the guide they were written by, labelled without looking at the rules) judge each formulation
shown for 30 queries good or bad (a text has the same label under every query); `--held-out`: 32
other queries, labelled later the same way; `--held-out 2`: 30 more, labelled after the classifier
(bench/train_formulations.py) was trained on the first two sets; `--held-out 3`: 18 new queries (15
over gov-reports, 3 over corpus/) after the classifier with the neighbours was written, their top 20
under both versions of it and under the one before (most of their texts were labelled already; 40
new ones were labelled, formulations-heldout3.jsonl and -heldout3b.jsonl). Prints precision at 10 over
the labelled ones, how many of the shown are unlabelled (new since labelling), and the recall of the
good ones at 20.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.engine import Engine  # noqa: E402

HERE = Path(__file__).resolve().parent
INDEXES = {"gov-reports": "gov", "corpus": "seeds"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--labels", default=str(HERE / "labels" / "formulations.jsonl"))
    ap.add_argument("--queries", default=str(HERE / "labels" / "formulations-to-label.jsonl"))
    ap.add_argument("--held-out", nargs="?", const="1", choices=["1", "2", "3"],
                    help="a set of queries labelled later (1: 32 queries, 2: 30 more, 3: 18 more)")
    args = ap.parse_args()
    if args.held_out:
        name = "heldout" if args.held_out == "1" else f"heldout{args.held_out}"
        args.labels = str(HERE / "labels" / f"formulations-{name}.jsonl")
        args.queries = str(HERE / "labels" / f"formulations-{name}-queries.jsonl")
    label: dict[str, str] = {}  # a text's label, whichever query it was labelled under
    under: dict[str, set[str]] = {}  # the texts labelled under each query
    every = [HERE / "labels" / f"formulations{name}.jsonl"
             for name in ("", "-heldout", "-heldout2", "-av", "-av2", "-heldout3", "-heldout3b")]
    for path in [args.labels] + [p for p in every if str(p) != args.labels]:
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            label.setdefault(row["text"], row["label"])
            under.setdefault(row["query"], set()).add(row["text"])
    queries = [json.loads(line) for line in open(args.queries, encoding="utf-8")]
    engines: dict[str, Engine] = {}
    judged = good10 = unlabelled = good_found = good_all = 0
    for q in queries:
        folder = INDEXES[q["index"]]
        if folder not in engines:
            engines[folder] = Engine(Path(args.work) / folder, load_model=False)
        engine = engines[folder]
        shown = [p["text"] for p in engine.phrases(q["query"], k=20, mode="keyword")["phrases"]]
        # judged: what it showed when labelled (its list in the queries file, the texts labelled under
        # it) and any labelled text it shows now; the good ones to find: those it showed when labelled
        listed = {p["text"] for p in q["formulations"]} | under.get(q["query"], set())
        known = {t: label[t] for t in listed | set(shown) if t in label}
        top = [t for t in shown[:10] if t in known]
        judged += len(top)
        good10 += sum(known[t] == "good" for t in top)
        unlabelled += sum(t not in known for t in shown[:10])
        good = {t for t in listed if label.get(t) == "good"}
        good_all += len(good)
        good_found += len(good & set(shown))
    print(f"{len(queries)} queries: precision at 10 {good10 / max(judged, 1):.3f} ({good10}/{judged} labelled; "
          f"{unlabelled} shown unlabelled); good ones still shown at 20: {good_found}/{good_all}")


if __name__ == "__main__":
    main()
