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
import re
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.text import normalise  # noqa: E402
from search import evaluation  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.hits import Hit, Ranked  # noqa: E402

from tune import per_query_ndcg  # noqa: E402

SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


def sentences(text: str, shortest: int = 12) -> list[str]:
    """The passage's sentences; a piece shorter than `shortest` characters joins the next one."""
    out, carry = [], ""
    for piece in SENTENCE_END.split(text):
        carry += piece
        if len(carry.strip()) >= shortest:
            out.append(carry.strip())
            carry = ""
    if carry.strip():
        if out:
            out[-1] += carry.strip()
        else:
            out.append(carry.strip())
    return out or [text]


def views(engine: Engine) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per view: a matrix of vectors and, per vector, its passage's row in the index."""
    semantic = engine.semantic
    encoder = semantic.encoder
    rows, bare, pieces, owners = [], [], [], []
    for passage, _doc in engine.store.iter_passages():
        row = semantic.row.get(passage.passage_id)
        if row is None:
            continue
        text = normalise(passage.text)
        rows.append(row)
        bare.append(text)
        for s in sentences(text):
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=INDEX_DIR:DATASET")
    ap.add_argument("--mode", default="semantic")
    ap.add_argument("--kinds", action="store_true")
    args = ap.parse_args()
    sets = []
    for spec in args.sets:
        name, _, rest = spec.partition("=")
        index_dir, _, dataset = rest.partition(":")
        engine = Engine(index_dir)
        queries, judge = evaluation.judged_queries(Path(dataset), engine, None)
        sets.append((name, engine, queries, judge, views(engine)))
    variants = ["built", "sentences", "mix 0.5", "mix 0.7"]
    for mode in args.mode.split(","):
        print(f"-- {mode}")
        for variant in variants:
            show(variant, mode, sets, args.kinds)


def show(variant: str, mode: str, sets: list, kinds: bool) -> None:
    figures = {}
    for name, engine, queries, judge, v in sets:
        n = engine.semantic.index.ntotal

        def view_scores(vector, key):
            matrix, owners = v[key]
            return best_per_passage(matrix @ vector, owners, n)

        if " " in variant:
            first, a = variant.split()[0].split("+")[0].replace("mix", "built"), float(variant.split()[1])
            install(engine, lambda q, a=a, first=first: a * view_scores(q, first)
                    + (1 - a) * view_scores(q, "sentences"))
        else:
            install(engine, lambda q, key=variant: view_scores(q, key))
        scores = per_query_ndcg(engine, queries, judge, mode)
        figures[name] = statistics.mean(scores)
        if kinds:
            for kind in sorted({q.get("kind") for q in queries if q.get("kind")}):
                figures[f"{name}:{kind}"] = statistics.mean(
                    s for s, q in zip(scores, queries) if q.get("kind") == kind)
    print(f"{variant:10} " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
