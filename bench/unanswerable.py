"""How often a query the corpus cannot answer gets no matches, per mode and similarity floor.

Usage: python bench/unanswerable.py INDEX_DIR [INDEX_DIR ...] [--queries bench/devqueries/unanswerable.jsonl]
           [--floors 0.84,0.85,0.86]

The queries (nonsense strings, other fields: cooking, sport, pets, games …) were written for this and
no report in the bundled corpus or the gov reports answers them. A query "has no matches" when the
engine's total is 0: what a researcher would read as "nothing found". Also prints each query's best
first-model similarity, the figure the floor is compared with.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.engine import Engine, SearchSettings  # noqa: E402
from search.hits import Filters  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("indexes", nargs="+")
    ap.add_argument("--queries", default=str(HERE / "devqueries" / "unanswerable.jsonl"))
    ap.add_argument("--floors", default=str(SearchSettings.semantic_floor))
    ap.add_argument("--verbose", action="store_true", help="each query's best similarity and totals")
    ap.add_argument("--set", default="", help="other settings, as bench/tune.py's grid: 'overlap_floor=0.86;…'")
    args = ap.parse_args()
    from tune import parse_grid

    overrides = parse_grid(args.set)[0] if args.set else {}
    queries = [json.loads(line)["text"] for line in open(args.queries, encoding="utf-8") if line.strip()]
    floors = [float(f) for f in args.floors.split(",")]
    for index_dir in args.indexes:
        engine = Engine(index_dir)
        best = {}
        for q in queries:
            found = engine.retrieval.semantic(engine.retrieval.parse(q), 1, Filters())
            best[q] = found.hits[0].score if found.hits else float("nan")
        print(f"{index_dir}: {len(queries)} unanswerable queries; best similarity "
              f"min {min(best.values()):.3f} / max {max(best.values()):.3f}")
        for floor in floors:
            engine.settings = replace(SearchSettings(), **{**overrides, "semantic_floor": floor})
            row = []
            for mode in ("keyword", "semantic", "hybrid"):
                totals = {q: engine.search(q, mode=mode, k=1)["total"] for q in queries}
                none = sum(1 for t in totals.values() if t == 0)
                row.append(f"{mode} {none}/{len(queries)} ({none / len(queries):.0%})")
                if args.verbose and mode == "hybrid":
                    for q in queries:
                        print(f"    {best[q]:.3f}  {totals[q]:5d}  {q}")
            print(f"  floor {floor:.3f}: no matches: " + ", ".join(row))
        engine.close()


if __name__ == "__main__":
    main()
