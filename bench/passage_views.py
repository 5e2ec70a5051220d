"""Which view of a passage should its vector hold? A measurement, not a feature.

Usage: python bench/passage_views.py SET=INDEX_DIR:DATASET ... [--mode semantic] [--kinds]

Re-embeds every passage of each index with the index's encoder in other views and prints
nDCG@10 per set (and per query kind) for each:
  built      the index as built (title + nearest heading + text);
  bare       the passage text alone;
  sentences  each sentence of the passage embedded alone, the passage scoring its best sentence;
  mix A      A x built + (1 - A) x sentences;
  bare+sentences A   the same with the bare view;
  mean       the mean of the passage's sentence vectors (no embedding of its own).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.embedding import sentence_pieces  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.hits import Hit, Ranked  # noqa: E402

from tune import load_sets, per_query_ndcg, set_figures  # noqa: E402

def views(engine: Engine) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per view: a matrix of vectors and, per vector, its passage's row in the index."""
    semantic = engine.semantic
    encoder = semantic.encoder
    rows, bare, pieces, owners = [], [], [], []
    for passage, _doc in engine.store.iter_passages():
        row = semantic.row.get(passage.passage_id)
        if row is None:
            continue
        text = passage.norm
        rows.append(row)
        bare.append(text)
        for s in sentence_pieces(text) or [text]:
            pieces.append(s)
            owners.append(row)
    print(f"  {len(bare)} passages, {len(pieces)} sentences", file=sys.stderr)
    cache = Path(engine.directory.path) / "cache" / "passage-views"  # re-runs skip the embedding
    cache.mkdir(parents=True, exist_ok=True)

    def encoded(name: str, texts: list[str]) -> np.ndarray:
        path = cache / f"{name}-{len(texts)}.npy"
        if not path.exists():
            np.save(path, encoder.encode_passages(texts))
        return np.load(path)

    owners = np.array(owners)
    sentence_vectors = encoded("sentences", pieces)
    mean = np.zeros_like(semantic.matrix)
    np.add.at(mean, owners, sentence_vectors)
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    return {"built": (semantic.matrix.copy(), np.arange(semantic.index.ntotal)),
            "bare": (encoded("bare", bare), np.array(rows)),
            "sentences": (sentence_vectors, owners),
            "mean": (mean, np.arange(semantic.index.ntotal))}


def best_per_passage(scores: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1.0, dtype=np.float32)
    np.maximum.at(out, owners, scores)
    return out


def install(engine: Engine, score_fn) -> None:
    """Route the engine's unfiltered vector search through score_fn(query vector) -> per-row scores."""
    semantic = engine.semantic

    def search_vector(vector, k=10, allowed=None, exclude=None):
        scores = score_fn(vector)
        top = np.argsort(-scores)[:k]
        return Ranked([Hit(semantic.ids[r], float(scores[r])) for r in top], len(semantic.ids))

    semantic.search_vector = search_vector


# Each variant: (view, weight) pairs whose weighted scores are summed.
VARIANTS = {
    "built": [("built", 1.0)],
    "bare": [("bare", 1.0)],
    "sentences": [("sentences", 1.0)],
    "mean": [("mean", 1.0)],
    "mix 0.5": [("built", 0.5), ("sentences", 0.5)],
    "mix 0.7": [("built", 0.7), ("sentences", 0.3)],
    "bare+sentences 0.5": [("bare", 0.5), ("sentences", 0.5)],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--mode", default="semantic", help="one mode or several, comma-separated")
    ap.add_argument("--kinds", action="store_true")
    args = ap.parse_args()
    sets = [(*found, views(found[1])) for found in load_sets(args.sets)]
    for mode in args.mode.split(","):
        print(f"-- {mode}")
        for variant, parts in VARIANTS.items():
            figures = {}
            for name, engine, queries, judge, vectors in sets:
                n = engine.semantic.index.ntotal
                install(engine, lambda q, vectors=vectors, n=n, parts=parts: sum(
                    w * best_per_passage(vectors[view][0] @ q, vectors[view][1], n) for view, w in parts))
                figures.update(set_figures(name, per_query_ndcg(engine, queries, judge, mode), queries, args.kinds))
            print(f"{variant:18} " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
