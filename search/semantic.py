"""The vector index (FAISS, inner product on unit vectors), keyed by passage id.

Exact search below `ANN_THRESHOLD` vectors; above it, HNSW. Filtered searches
score the allowed passages exactly, so a filter never costs recall.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from .hits import Hit, Ranked

ANN_THRESHOLD = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256  # recall@10 0.983 at 200k real-like vectors, p50 1.5 ms (bench/ann_recall.py)


def _faiss():
    try:
        import faiss
    except ImportError:
        raise ImportError("semantic search needs faiss: pip install faiss-cpu") from None
    return faiss


def ids_path(path: Path) -> Path:
    return path.with_suffix(".ids.json")


def build(path: Path, passage_ids: list[str], vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD) -> str:
    """Write the vector index and its id list; returns the index kind."""
    faiss = _faiss()
    dim = vectors.shape[1] if len(vectors) else 0
    if len(vectors) >= ann_threshold:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(max(dim, 1))
        kind = "flat"
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))
    ids_path(path).write_text(json.dumps(passage_ids), encoding="utf-8")
    return kind


class SemanticSearcher:
    def __init__(self, path: Path, encoder, ef_search: int = HNSW_EF_SEARCH):
        faiss = _faiss()
        self.index = faiss.read_index(str(path))
        if hasattr(self.index, "hnsw"):
            self.index.hnsw.efSearch = ef_search
        self.ids: list[str] = json.loads(ids_path(path).read_text(encoding="utf-8"))
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        self.encoder = encoder  # indexer.encoders.Encoder
        self._matrix: np.ndarray | None = None
        # The last 1,024 query vectors are kept: paging and facets ask again (thread-safe cache).
        self.embed_query = functools.lru_cache(maxsize=1024)(self._embed_query)

    @property
    def matrix(self) -> np.ndarray:
        """All vectors, for exact scoring of filtered subsets."""
        if self._matrix is None:
            self._matrix = self.index.reconstruct_n(0, self.index.ntotal) if self.index.ntotal else \
                np.zeros((0, self.index.d), dtype=np.float32)
        return self._matrix

    def _embed_query(self, text: str) -> np.ndarray:
        return self.encoder.encode_queries([text])[0].astype(np.float32)

    def search(self, text: str, k: int = 10, allowed: set[str] | None = None) -> Ranked:
        return self.search_vector(self.embed_query(text), k, allowed)

    def search_vector(self, vector: np.ndarray, k: int = 10, allowed: set[str] | None = None,
                      exclude: set[str] | None = None) -> Ranked:
        """Top k by cosine. `allowed` restricts to those ids (scored exactly)."""
        if k <= 0 or not self.ids:
            return Ranked([], 0)
        exclude = exclude or set()
        if allowed is not None:
            rows = np.array(sorted(self.row[p] for p in allowed if p in self.row and p not in exclude),
                            dtype=np.int64)
            if not len(rows):
                return Ranked([], 0)
            scores = self.matrix[rows] @ vector
            top = np.argsort(-scores)[:k]
            return Ranked([Hit(self.ids[rows[i]], float(scores[i])) for i in top], len(rows))
        want = min(k + len(exclude), len(self.ids))
        scores, rows = self.index.search(vector.reshape(1, -1), want)
        hits = [Hit(self.ids[r], float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0 and self.ids[r] not in exclude]
        return Ranked(hits[:k], len(self.ids) - len(exclude))

    def vector_of(self, passage_id: str) -> np.ndarray | None:
        row = self.row.get(passage_id)
        return None if row is None else self.index.reconstruct(row)
