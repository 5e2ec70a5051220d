"""Tune ranking settings on several dev sets at once: nDCG@10 per set and the mean.

Usage: python bench/tune.py SET=INDEX_DIR:DATASET ... [--mode hybrid] [--limit N] [--backend embedded]
           [--grid 'semantic_weight=0.5,0.7,1.0;wording_weight=0,0.5,1']

Each SET names an index (its corpus already indexed) and a dataset (a BEIR folder or a
seeds-style JSONL). Every combination of the grid's settings (fields of
search.engine.SearchSettings) runs on every set; rows are printed best mean first, with
the per-set figures, so a change that helps one set and hurts another shows. Figures only:
nothing here changes the defaults. Query vectors are embedded once per query.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devsets  # noqa: E402
from report_search import evaluation  # noqa: E402
from search.engine import Engine, SearchSettings  # noqa: E402
from search.hits import Filters  # noqa: E402


def _number_or_none(value: str):
    """A grid value for a setting whose default is None: a number, or `none`."""
    return None if value.lower() == "none" else float(value)


def parse_grid(text: str) -> list[dict]:
    axes = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, values = part.partition("=")
        default = getattr(SearchSettings(), name)
        cast = _number_or_none if default is None or type(default) is float else type(default)
        axes.append([(name, cast(v) if cast is not bool else v.lower() in ("1", "true")) for v in values.split(",")])
    return [dict(combo) for combo in itertools.product(*axes)] if axes else [{}]


def per_query_ndcg(engine: Engine, queries: list[dict], judge, mode: str) -> list[float]:
    out = []
    for q in queries:
        parsed = engine.keyword.parse(q["text"])
        fused, _ = engine._rank(parsed, mode, 10, Filters())
        gains, n = judge(q, [(f.passage_id, list(f.duplicates)) for f in fused[:100]])
        out.append(evaluation.ndcg(gains, n))
    return out


def set_figures(name: str, scores: list[float], queries: list[dict], kinds: bool) -> dict[str, float]:
    """A set's mean nDCG@10 and, with `kinds`, its mean per query kind."""
    figures = {name: statistics.mean(scores)}
    if kinds:
        for kind in sorted({q.get("kind") for q in queries} - {None}):
            figures[f"{name}:{kind}"] = statistics.mean(s for s, q in zip(scores, queries) if q.get("kind") == kind)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--grid", default="")
    ap.add_argument("--kinds", action="store_true", help="also nDCG@10 per query kind (seeds-style sets)")
    ap.add_argument("--backend", default=None, help="embedded or milvus (default: what each index was built for)")
    args = ap.parse_args()
    sets = devsets.open_sets(args.sets, args.limit, backend=args.backend)
    rows = []
    for overrides in parse_grid(args.grid):
        figures = {}
        for name, engine, queries, judge in sets:
            engine.settings = replace(SearchSettings(), **overrides)
            engine.keyword.expansion_weight = engine.settings.expansion_weight
            engine.semantic.sentence_weight = engine.settings.sentence_weight
            figures.update(set_figures(name, per_query_ndcg(engine, queries, judge, args.mode), queries, args.kinds))
        mean = statistics.mean(figures[name] for name, *_ in sets)
        rows.append((mean, overrides, figures))
        print(f"{mean:.4f}  {overrides}  " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()), flush=True)
    print("\nbest first:")
    for mean, overrides, figures in sorted(rows, key=lambda r: -r[0]):
        print(f"{mean:.4f}  {overrides}  " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
