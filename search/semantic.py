"""Semantic search over the vector index (its format: indexer/formats/vectors.py). Filtered searches
score the allowed passages exactly, so a filter never costs recall.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from indexer.formats.bm25 import top_k
from indexer.formats.vectors import HNSW_EF_SEARCH, VectorFiles, matrix_of

from .hits import Hit, Ranked


class SemanticSearcher:
    """Passages by cosine to a query vector. Where the index holds sentence vectors, a passage
    scores (1 - sentence_weight) x its own cosine + sentence_weight x its best sentence's, so a
    passage where one sentence says what the query means is not drowned by the rest of the
    paragraph (and its bare text counts beside its title and heading)."""

    def __init__(self, path: Path, encoder, ef_search: int = HNSW_EF_SEARCH, sentence_weight: float = 0.5,
                 spare: Callable[[], bool] | None = None):
        """`spare`: for a server whose requests get one BLAS thread each, whether the cores are free now;
        while they are, the product of a query with every sentence vector is split over them (it reads
        the whole sentence matrix, and one core's memory bandwidth bounds it)."""
        files = VectorFiles(path, ef_search, sentences=sentence_weight > 0)
        self.index = files.index
        self.ids = files.ids
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        self.encoder = encoder  # indexer.encoders.Encoder
        self._matrix: np.ndarray | None = None
        self.sentence_weight = sentence_weight
        self.sentences = files.sentences
        if self.sentences is not None:
            self.owners = files.owners
            self.offsets = np.searchsorted(self.owners, np.arange(len(self.ids) + 1))  # rows' sentence ranges
            self._sentence_matrix: np.ndarray | None = None
        self.spare = spare
        self.parts = (os.cpu_count() or 1) if spare else 1
        # The last 1,024 query vectors are kept: paging and facets ask again (thread-safe cache).
        self.embed_query = functools.lru_cache(maxsize=1024)(self._embed_query)

    @property
    def matrix(self) -> np.ndarray:
        """All vectors, for exact scoring (a view of the index's storage: valid while this searcher is)."""
        if self._matrix is None:
            self._matrix = matrix_of(self.index)
        return self._matrix

    @property
    def sentence_matrix(self) -> np.ndarray:
        if self._sentence_matrix is None:
            self._sentence_matrix = matrix_of(self.sentences)
        return self._sentence_matrix

    def _embed_query(self, text: str) -> np.ndarray:
        return self.encoder.encode_queries([text])[0].astype(np.float32)

    def search(self, text: str, k: int = 10, allowed: set[str] | None = None, scored: bool = False) -> Ranked:
        return self.search_vector(self.embed_query(text), k, allowed, scored=scored)

    def scores(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Exact scores of passage rows for a query vector, the same bits however computed: for most
        rows one product over all of them (it reads less than gathering the rows), else the rows
        gathered."""
        if len(rows) * 4 > len(self.ids):
            every = self._every_score(vector)
            return every if len(rows) == len(self.ids) else every[rows]  # all rows: arange
        own, best = self.own_and_best(rows, vector)
        if best is None:
            return own
        w = self.sentence_weight
        return (1 - w) * own + w * best

    def _every_score(self, vector: np.ndarray) -> np.ndarray:
        """Every passage's score, without copies of the matrices."""
        own = dot(self.matrix, vector)
        if self.sentences is None:
            return own
        has, firsts = self._every
        best = own.copy()
        if len(firsts):
            best[has] = np.maximum.reduceat(self._every_sentence(vector), firsts)
        return (1 - self.sentence_weight) * own + self.sentence_weight * best

    def own_and_best(self, rows: np.ndarray, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The passages' own cosines and their best sentence's (their own where they have no sentence
        vectors; None where the index holds none)."""
        own = dot(self.matrix[rows], vector)
        if self.sentences is None or not len(rows):
            return own, None
        starts, lengths = self.offsets[rows], self.offsets[rows + 1] - self.offsets[rows]
        has = lengths > 0
        if not has.any():
            return own, own.copy()
        lengths = lengths[has]
        firsts = np.cumsum(lengths) - lengths
        pick = np.arange(lengths.sum()) - np.repeat(firsts, lengths) + np.repeat(starts[has], lengths)
        if len(pick) * 4 > self.sentences.ntotal:  # most sentences: one product over all is cheaper
            sims = self._every_sentence(vector)[pick]
        else:
            sims = dot(self.sentence_matrix[pick], vector)
        best = own.copy()
        best[has] = np.maximum.reduceat(sims, firsts)
        return own, best

    def _every_sentence(self, vector: np.ndarray) -> np.ndarray:
        """Every sentence vector's cosine to the query vector."""
        parts = self.parts if self.spare is None or self.spare() else 1
        return product(self.sentence_matrix, vector, parts, self._pool if parts > 1 else None)

    @functools.cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=max(self.parts - 1, 1), thread_name_prefix="sentences")

    @functools.cached_property
    def _every(self) -> tuple[np.ndarray, np.ndarray]:
        """Which passages have sentences, and where each one's start in the sentence matrix."""
        lengths = np.diff(self.offsets)
        has = lengths > 0
        return has, self.offsets[:-1][has]

    def search_vector(self, vector: np.ndarray, k: int = 10, allowed: set[str] | None = None,
                      exclude: set[str] | None = None, scored: bool = False) -> Ranked:
        """Top k by cosine. `allowed` restricts to those ids (scored exactly). With `scored`, the
        answer's `similarity` holds every passage's score (exact below the ANN threshold; the
        candidates' above it, -inf for the others)."""
        unscored = np.full(len(self.ids), -np.inf, dtype=np.float32) if scored else None
        if k <= 0 or not self.ids:
            return Ranked([], similarity=unscored)
        exclude = exclude or set()
        if allowed is not None:
            rows = np.array(sorted(self.row[p] for p in allowed if p in self.row and p not in exclude),
                            dtype=np.int64)
            if not len(rows):
                return Ranked([], similarity=unscored)
            return self._top(rows, vector, k, scored)
        want = min(k + len(exclude), len(self.ids))
        if self.sentences is not None or scored or not hasattr(self.index, "hnsw"):
            if not hasattr(self.index, "hnsw"):  # exact: one matrix product over every passage (FAISS's
                # flat search of one query costs ten times NumPy's, its threads waiting on each other)
                rows = np.arange(len(self.ids))
            else:  # candidates from both indexes, then scored exactly
                found = self.index.search(vector.reshape(1, -1), want * 2)[1][0]
                rows = found[found >= 0]
                if self.sentences is not None:
                    near = self.sentences.search(vector.reshape(1, -1), want * 4)[1][0]
                    rows = np.union1d(rows, self.owners[near[near >= 0]])
            if exclude:
                rows = rows[~np.isin(rows, [self.row[p] for p in exclude if p in self.row])]
            return self._top(rows, vector, k, scored)
        scores, rows = self.index.search(vector.reshape(1, -1), want)
        hits = [Hit(self.ids[r], float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0 and self.ids[r] not in exclude]
        return Ranked(hits[:k])

    def _top(self, rows: np.ndarray, vector: np.ndarray, k: int, scored: bool = False) -> Ranked:
        scores = self.scores(rows, vector)
        similarity = None
        if scored:
            similarity = np.full(len(self.ids), -np.inf, dtype=np.float32)
            similarity[rows] = scores
        top = top_k(scores, None, k)
        return Ranked([Hit(self.ids[rows[i]], float(scores[i])) for i in top], similarity=similarity)

    def vector_of(self, passage_id: str) -> np.ndarray | None:
        row = self.row.get(passage_id)
        return None if row is None else self.index.reconstruct(row)


def dot(matrix: np.ndarray, vector: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """matrix @ vector through NumPy's einsum loop, which sums each row in the same order wherever the
    row is (alone, gathered, in a block or in the whole matrix: the same bits), and reads a matrix of
    vectors twice as fast as OpenBLAS's sgemv on this project's machine (63,000 x 384: 4.5 ms against
    8.4 on one core)."""
    return np.einsum("ij,j->i", matrix, vector, out=out)


def product(matrix: np.ndarray, vector: np.ndarray, parts: int = 1, pool: ThreadPoolExecutor | None = None
            ) -> np.ndarray:
    """dot(matrix, vector), as one product or as `parts` products over row blocks side by side (`pool`
    runs all but the first): the same to the last bit."""
    bounds = _blocks(len(matrix), parts)
    if len(bounds) < 3 or pool is None:
        return dot(matrix, vector)
    out = np.empty(len(matrix), dtype=np.result_type(matrix, vector))
    pending = [pool.submit(dot, matrix[a:b], vector, out[a:b]) for a, b in zip(bounds[1:-1], bounds[2:])]
    dot(matrix[:bounds[1]], vector, out[:bounds[1]])
    for done in pending:
        done.result()
    return out


def _blocks(rows: int, parts: int) -> list[int]:
    """Bounds of `parts` row blocks about equal in size (fewer blocks where there are too few rows: a
    block is worth a thread from 4,096 rows)."""
    parts = min(parts, rows // 4096)
    if parts < 2:
        return [0, rows]
    step = -(-rows // parts)
    return sorted({0, rows, *range(step, rows, step)})
