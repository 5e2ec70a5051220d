"""The Milvus backend against the embedded one on the same builds: nDCG@10 of each mode, the
overlap of their top 10s, query latency, and how fast the build was written to Milvus.

Each index directory must have been indexed with `--backend milvus` (its build then has both
the embedded indexes and the Milvus collections), e.g.:

    report-search index corpus --index-dir /tmp/ix --backend milvus --milvus-uri /tmp/seeds.db
    python bench/backends.py seeds=/tmp/ix:../shared/eval/seeds-dev-queries.jsonl \\
        ncp=/tmp/ix-ncp:../shared/eval/ncp-dev
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import devsets  # noqa: E402
from report_search.evaluation import ndcg  # noqa: E402
from search.engine import Engine  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")


def run_set(spec: str, limit: int | None, uri: str | None) -> dict:
    [embedded] = devsets.open_sets([spec], limit, backend="embedded")
    engines = {"embedded": embedded.engine, "milvus": Engine(embedded.engine.directory.path, backend="milvus",
                                                              milvus_uri=uri)}
    queries, judge = embedded.queries, embedded.judge
    out = {"queries": len(queries), "milvus": engines["milvus"].manifest["milvus"]}
    for mode in MODES:
        scores = {name: [] for name in engines}
        latency = {name: [] for name in engines}
        overlap = []
        for q in queries:
            tops = {}
            for name, engine in engines.items():
                started = time.perf_counter()
                result = engine.search(q["text"], mode=mode, k=100)
                latency[name].append((time.perf_counter() - started) * 1000)
                ranking = [(r["passage_id"], r.get("duplicates", [])) for r in result["results"]]
                gains, n = judge(q, ranking)
                scores[name].append(ndcg(gains, n))
                tops[name] = {pid for pid, _ in ranking[:10]}
            both = max(len(tops["embedded"]), 1)
            overlap.append(len(tops["embedded"] & tops["milvus"]) / both)
        out[mode] = {**{f"ndcg_{name}": statistics.mean(v) for name, v in scores.items()},
                     **{f"p50_ms_{name}": statistics.median(v) for name, v in latency.items()},
                     "top10_overlap": statistics.mean(overlap)}
    for engine in engines.values():
        engine.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--limit", type=int, default=None, help="queries per set")
    ap.add_argument("--milvus-uri", default=None, help="reach the indexes' Milvus here instead")
    args = ap.parse_args()
    print(f"{'set':10s} {'mode':9s} {'embedded':>9s} {'milvus':>7s} {'diff':>7s} {'top10∩':>7s} "
          f"{'p50 emb':>8s} {'p50 mil':>8s}")
    for spec in args.sets:
        name = devsets.parse(spec).name
        result = run_set(spec, args.limit, args.milvus_uri)
        for mode in MODES:
            r = result[mode]
            print(f"{name:10s} {mode:9s} {r['ndcg_embedded']:9.3f} {r['ndcg_milvus']:7.3f} "
                  f"{r['ndcg_milvus'] - r['ndcg_embedded']:+7.3f} {r['top10_overlap']:7.3f} "
                  f"{r['p50_ms_embedded']:8.1f} {r['p50_ms_milvus']:8.1f}")
        written = result["milvus"]
        if written.get("seconds"):
            print(f"{name:10s} written to Milvus: {written['passages']} passages in {written['seconds']:.1f} s "
                  f"({written['passages'] / written['seconds']:.0f} passages/s, with their sentences)")


if __name__ == "__main__":
    main()
