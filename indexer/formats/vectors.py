"""The vector index's format (FAISS, inner product on unit vectors), keyed by passage id.

Exact search below `ANN_THRESHOLD` vectors; above it, HNSW. Beside the passage vectors
(`vectors.faiss`, title + heading + text; `vectors.ids.json`, their passage ids), the vectors of each
passage's sentences (`vectors.sentences.faiss`, bare text; `vectors.owners.npy`: each one's passage
row), and the passage vectors' mean (`vectors.mean.npy`: a query's product with it is its mean
similarity to the corpus's passages, the background search/matching.py lifts the floors above).
search/semantic.py searches it. A flat index is read without FAISS (`read_vectors`): importing FAISS
took 0.2 s of every command's start, and a flat index is only its vectors.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Callable

import numpy as np

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


def sentences_path(path: Path) -> Path:
    return path.with_suffix(".sentences.faiss")


def owners_path(path: Path) -> Path:
    return path.with_suffix(".owners.npy")


def mean_path(path: Path) -> Path:
    return path.with_suffix(".mean.npy")


def _vector_index(vectors: np.ndarray, ann_threshold: int):
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
    return index, kind


def build(path: Path, passage_ids: list[str], vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD,
          sentences: tuple[np.ndarray, np.ndarray] | None = None) -> str:
    """Write the vector index and its id list, and, where given, sentence vectors with each one's
    passage row (ascending); returns the index kind."""
    faiss = _faiss()
    index, kind = _vector_index(vectors, ann_threshold)
    faiss.write_index(index, str(path))
    if sentences is not None and len(sentences[0]):
        sentence_vectors, owners = sentences
        if np.any(np.diff(owners) < 0) or owners.max() >= len(passage_ids):
            raise ValueError("sentence owners must be ascending passage rows")
        faiss.write_index(_vector_index(sentence_vectors, ann_threshold)[0], str(sentences_path(path)))
        np.save(owners_path(path), owners.astype(np.int64))
    if len(vectors):
        np.save(mean_path(path), mean_of(vectors))
    ids_path(path).write_text(json.dumps(passage_ids), encoding="utf-8")
    return kind


def mean_of(vectors: np.ndarray) -> np.ndarray:
    """The mean of a matrix's rows, as float32 (summed in float64: the same bits however it is read)."""
    return np.asarray(vectors, dtype=np.float32).mean(axis=0, dtype=np.float64).astype(np.float32)


def mean_vector(path: Path, loaded: Callable[[], np.ndarray] | None = None) -> np.ndarray | None:
    """The passage vectors' mean as written; for a build written before it was, computed from the
    vectors (`loaded`: those a searcher holds already, else read from the index; None where the index
    holds no vectors)."""
    if mean_path(path).exists():
        return np.load(mean_path(path))
    if loaded is not None:
        vectors = loaded()
    elif path.exists():
        index = read_vectors(path)  # held while its storage is read (matrix_of: a view)
        vectors = matrix_of(index)
    else:
        return None
    return mean_of(vectors) if len(vectors) else None


# FAISS's file of a flat inner-product index (faiss/impl/index_read.cpp: the fourcc, the index header,
# then its vectors as one counted array of floats), in the machine's byte order, as FAISS writes it.
_FLAT_IP = b"IxFI"
_FLAT_HEADER = struct.Struct("=4siqqq?iQ")  # fourcc, d, ntotal, two unused, is_trained, metric, floats
_INNER_PRODUCT = 0  # faiss.METRIC_INNER_PRODUCT


class FlatVectors:
    """A flat index's vectors as read from its file: the parts of a FAISS index the searchers use
    (ntotal, d, reconstruct) over one matrix."""

    def __init__(self, matrix: np.ndarray):
        self.matrix = matrix
        self.ntotal, self.d = matrix.shape

    def reconstruct(self, row: int) -> np.ndarray:
        return self.matrix[row].copy()


def read_vectors(path: Path):
    """The vector index in `path`: a flat one as FlatVectors, read directly; any other (HNSW) by FAISS."""
    with open(path, "rb") as file:
        head = file.read(_FLAT_HEADER.size)
        if len(head) == _FLAT_HEADER.size:
            fourcc, d, ntotal, _, _, _, metric, floats = _FLAT_HEADER.unpack(head)
            if (fourcc == _FLAT_IP and metric == _INNER_PRODUCT and d > 0 and ntotal >= 0 and floats == d * ntotal
                    and os.fstat(file.fileno()).st_size == _FLAT_HEADER.size + 4 * floats):
                return FlatVectors(np.fromfile(file, dtype=np.float32, count=floats).reshape(ntotal, d))
    return _faiss().read_index(str(path))


def matrix_of(index) -> np.ndarray:
    """An index's vectors as a matrix: a view of a flat index's own storage (no copy), else
    reconstructed."""
    if isinstance(index, FlatVectors):
        return index.matrix
    if not index.ntotal:
        return np.zeros((0, index.d), dtype=np.float32)
    if not hasattr(index, "hnsw") and hasattr(index, "get_xb"):
        return _faiss().rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    return index.reconstruct_n(0, index.ntotal)


class VectorFiles:
    """A vector index as written: the passage vectors, their ids and, where asked for and written,
    the sentence vectors with each one's passage row."""

    def __init__(self, path: Path, ef_search: int = HNSW_EF_SEARCH, sentences: bool = True):
        self.index = read_vectors(path)
        if hasattr(self.index, "hnsw"):
            self.index.hnsw.efSearch = ef_search
        self.ids: list[str] = json.loads(ids_path(path).read_text(encoding="utf-8"))
        self.sentences = self.owners = None
        if sentences and sentences_path(path).exists():
            self.sentences = read_vectors(sentences_path(path))
            if hasattr(self.sentences, "hnsw"):
                self.sentences.hnsw.efSearch = ef_search
            self.owners = np.load(owners_path(path))
