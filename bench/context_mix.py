"""Does a passage's context help search by meaning? A measurement, not a feature.

Usage: python bench/context_mix.py SET=INDEX_DIR:DATASET ... [--mode semantic] [--kinds]

Each passage's vector is mixed with its context before search, with no new embedding:
  v' = normalise(v + a * mean(previous and next passage of the same report)
                   + b * mean(the other passages under the same heading path))
and nDCG@10 is printed per set (and per query kind) for a grid of (a, b); (0, 0) is the
index as built. Query vectors are cached across the grid.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.engine import Engine  # noqa: E402

from tune import load_sets, per_query_ndcg, set_figures  # noqa: E402

GRID = [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.35, 0.0), (0.0, 0.1), (0.0, 0.2), (0.0, 0.35), (0.15, 0.15)]


def context_means(engine: Engine) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The index's vectors, and per row the mean of its neighbours' and of its section's vectors."""
    semantic = engine.semantic
    matrix = semantic.matrix.copy()
    order, section = defaultdict(list), defaultdict(list)
    for passage, doc in engine.store.iter_passages():
        row = semantic.row.get(passage.passage_id)
        if row is not None:
            order[doc.doc_id].append((passage.position, row))
            section[(doc.doc_id, tuple(passage.heading_path))].append(row)
    neighbours = np.zeros_like(matrix)
    for rows in order.values():
        rows = [r for _, r in sorted(rows)]
        for i, row in enumerate(rows):
            near = rows[max(0, i - 1):i] + rows[i + 1:i + 2]
            if near:
                neighbours[row] = matrix[near].mean(axis=0)
    sections = np.zeros_like(matrix)
    for rows in section.values():
        if len(rows) > 1:
            total = matrix[rows].sum(axis=0)
            for row in rows:
                sections[row] = (total - matrix[row]) / (len(rows) - 1)
    return matrix, neighbours, sections


def main() -> None:
    import faiss

    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--mode", default="semantic")
    ap.add_argument("--kinds", action="store_true")
    args = ap.parse_args()
    sets = [(*found, context_means(found[1])) for found in load_sets(args.sets)]
    for a, b in GRID:
        figures = {}
        for name, engine, queries, judge, (matrix, neighbours, sections) in sets:
            mixed = matrix + a * neighbours + b * sections
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
            index = faiss.IndexFlatIP(mixed.shape[1])
            index.add(np.ascontiguousarray(mixed, dtype=np.float32))
            engine.semantic.index, engine.semantic._matrix = index, None
            figures.update(set_figures(name, per_query_ndcg(engine, queries, judge, args.mode), queries, args.kinds))
        print(f"neighbours {a:.2f} section {b:.2f}  " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()),
              flush=True)


if __name__ == "__main__":
    main()
