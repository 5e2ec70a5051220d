"""Recall@10 of the approximate vector index against exact search, and its latency.

Usage: python bench/ann_recall.py [--n 200000] [--queries 200] [--index-dir DIR] [--ef 64,128,256]

Vectors: with --index-dir, that index's real passage vectors, repeated with small
noise up to --n (so neighbourhoods look like real ones); without it, random unit
vectors (the output says which). Builds the HNSW index exactly as the indexer does
(search/semantic.py) and prints recall@10 and p50 latency per efSearch.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.formats import vectors as vector_format  # noqa: E402
from search import semantic  # noqa: E402


def vectors(n: int, dim: int, index_dir: str | None, rng) -> tuple[np.ndarray, str]:
    if index_dir:
        from indexer.layout import IndexDir

        base = semantic.SemanticSearcher(IndexDir(index_dir).active_build().vectors, encoder=None).matrix.copy()
        reps = -(-n // len(base))
        out = np.concatenate([base + rng.normal(0, 0.02, base.shape).astype(np.float32) for _ in range(reps)])[:n]
        kind = f"real vectors from {index_dir} ({len(base)}), repeated with noise"
    else:
        out = rng.normal(size=(n, dim)).astype(np.float32)
        kind = "random unit vectors (stand-ins for embeddings)"
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out, kind


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--index-dir")
    parser.add_argument("--ef", default="64,128,256")
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(0)
    data, kind = vectors(args.n, args.dim, args.index_dir, rng)
    queries = data[rng.choice(len(data), args.queries, replace=False)] + rng.normal(0, 0.05, (args.queries, data.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    print(f"{args.n} vectors, {data.shape[1]}-dim: {kind}")
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    t = time.perf_counter()
    _, truth = exact.search(queries, 10)
    print(f"exact: {(time.perf_counter() - t) / args.queries * 1000:.2f} ms/query")
    started = time.perf_counter()
    path = Path("/tmp/ann_recall.faiss")
    vector_format.build(path, [str(i) for i in range(len(data))], data, ann_threshold=0)
    index = faiss.read_index(str(path))
    print(f"hnsw build (M={vector_format.HNSW_M}, efConstruction={vector_format.HNSW_EF_CONSTRUCTION}): "
          f"{time.perf_counter() - started:.1f} s")
    faiss.omp_set_num_threads(1)
    for ef in [int(x) for x in args.ef.split(",")]:
        index.hnsw.efSearch = ef
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), 10)
            times.append((time.perf_counter() - t) * 1000)
            found.append(ids[0])
        recall = np.mean([len(set(f) & set(g)) / 10 for f, g in zip(found, truth)])
        print(f"efSearch={ef}: recall@10={recall:.3f}  p50={np.percentile(times, 50):.2f} ms  "
              f"p99={np.percentile(times, 99):.2f} ms")


if __name__ == "__main__":
    main()
