"""Tune fusion settings on a dev set: retrieve once per query, fuse many ways.

Usage: python bench/tune_fusion.py INDEX_DIR DATASET [--limit N]
DATASET is a BEIR folder (its corpus already indexed into INDEX_DIR) or a
seeds-style JSONL. Prints nDCG@10 per fusion setting, best first, and an
oracle bound (each query with its best interpolation weight). Figures only:
nothing here changes the defaults.
"""
from __future__ import annotations

import itertools
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report_search import evaluation
from search import fusion  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.hits import Filters  # noqa: E402


def main(index_dir: str, dataset: str, limit: int | None = None) -> None:
    engine = Engine(index_dir)
    queries, judge = evaluation.judged_queries(Path(dataset), engine, limit)

    def gains(q, ids):
        return judge(q, [(pid, ()) for pid in ids])

    runs = []
    for q in queries:
        parsed = engine.keyword.parse(q["text"])
        kw = engine.keyword.search(parsed, 100).hits
        sem = engine._semantic_search(parsed, 100, Filters()).hits
        runs.append((q, kw, sem))

    def per_query(fuse) -> list[float]:
        out = []
        for q, kw, sem in runs:
            g, n = gains(q, [f.passage_id for f in fuse(kw, sem)][:100])
            out.append(evaluation.ndcg(g, n))
        return out

    def score(fuse) -> float:
        return statistics.mean(per_query(fuse))

    results = {"keyword": score(lambda kw, sem: kw), "semantic": score(lambda kw, sem: sem)}
    for k, w in itertools.product([10, 30, 60, 100], [0.3, 0.5, 0.7, 1.0, 1.5]):
        results[f"rrf k={k} sem_w={w}"] = score(
            lambda kw, sem, k=k, w=w: fusion.rrf({"keyword": kw, "semantic": sem}, {"semantic": w}, k))
    interp_runs = []
    for w in [0.2, 0.3, 0.5, 0.7, 1.0, 1.5]:
        interp_runs.append(per_query(
            lambda kw, sem, w=w: fusion.interpolate({"keyword": kw, "semantic": sem}, {"semantic": w})))
        results[f"interp sem_w={w}"] = statistics.mean(interp_runs[-1])
    # An upper bound, not a setting: each query fused with the weight that suits it best.
    # How far fusion of these two lists can go, whatever decides the weight per query.
    results["oracle: best interp sem_w per query"] = statistics.mean(map(max, zip(*interp_runs)))

    def zfuse(kw, sem, w):
        scores = {}
        for name, hits, weight in (("keyword", kw, 1.0), ("semantic", sem, w)):
            if len(hits) < 2:
                continue
            values = [h.score for h in hits]
            mu, sd = statistics.mean(values), statistics.pstdev(values) or 1.0
            for h in hits:
                scores[h.passage_id] = scores.get(h.passage_id, 0.0) + weight * (h.score - mu) / sd
        return [fusion.Fused(pid, sc) for pid, sc in sorted(scores.items(), key=lambda kv: -kv[1])]

    for w in [0.3, 0.5, 0.7, 1.0, 1.5]:
        results[f"zscore sem_w={w}"] = score(lambda kw, sem, w=w: zfuse(kw, sem, w))
    for name, value in sorted(results.items(), key=lambda kv: -kv[1]):
        print(f"{value:.4f}  {name}")


if __name__ == "__main__":
    args = sys.argv[1:]
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    main(args[0], args[1], limit)
