"""How a build's searchable indexes are written, one writer per backend: the indexer hands each the
passage store and, after embedding, the vectors. Backends: the embedded indexes of a build folder
(Whoosh + ranking arrays + FAISS, the default) or Milvus as well (it keeps the embedded ones too: the
engine reads their ranking arrays, and either backend then answers from the build). search/backend.py
is the other way: how the engine searches each."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .formats import BACKENDS, bm25, keyword
from .formats import vectors as vector_format
from .layout import IndexUnavailable


@dataclass(frozen=True)
class Vectors:
    """What the indexer hands a backend after embedding: rows in the passage store's order."""

    ids: list[str]
    passages: np.ndarray | None = None  # the first model's (None: a keyword-only build)
    sentences: tuple[np.ndarray, np.ndarray] | None = None  # sentence vectors, each one's passage row (ascending)
    second: np.ndarray | None = None  # the second model's passage vectors


class Writer(Protocol):
    """Writes a build's searchable indexes; each call returns what the manifest records."""

    def write_text(self, build, build_id: str, store) -> dict:
        """Before embedding: what needs only the passages."""

    def write_vectors(self, build, build_id: str, store, vectors: Vectors, progress=None) -> dict:
        """After embedding (or without it, `vectors.passages` None)."""

    def drop_stale(self, keep_builds: set[str]) -> None:
        """After publishing: what belongs to builds the index directory no longer keeps."""


class EmbeddedWriter:
    """The build folder's own indexes: Whoosh with its ranking arrays, then FAISS."""

    def __init__(self, ann_threshold: int | None = None):
        self.ann_threshold = ann_threshold

    def write_text(self, build, build_id: str, store) -> dict:
        keyword.build(build.keyword, store.iter_passages())
        return {}

    def write_vectors(self, build, build_id: str, store, vectors: Vectors, progress=None) -> dict:
        if vectors.passages is None:
            return {}
        threshold = self.ann_threshold or vector_format.ANN_THRESHOLD
        kind = vector_format.build(build.vectors, vectors.ids, vectors.passages, ann_threshold=threshold,
                                   sentences=vectors.sentences)
        if vectors.second is not None:
            vector_format.build(build.second_vectors, vectors.ids, vectors.second, ann_threshold=threshold)
        return {"vector_index": kind}

    def drop_stale(self, keep_builds: set[str]) -> None:
        pass  # the files live in the build folders, which the index directory removes itself


class MilvusWriter:
    """A build's collections in Milvus (indexer/formats/milvus.py), from the embedded writer's ranking arrays."""

    def __init__(self, uri: str, alias: str, owner: str, k1: float, b: float):
        self.uri, self.alias, self.owner, self.k1, self.b = uri, alias, owner, k1, b

    def write_text(self, build, build_id: str, store) -> dict:
        return {}  # everything at once, when the vectors are there

    def write_vectors(self, build, build_id: str, store, vectors: Vectors, progress=None) -> dict:
        from .formats import milvus

        return {"milvus": milvus.write(self.uri, self.alias, self.owner, build_id, store.iter_passages(),
                                       keyword.ranking_arrays(build.keyword), vectors.passages, second=vectors.second,
                                       sentences=vectors.sentences, k1=self.k1, b=self.b, progress=progress)}

    def drop_stale(self, keep_builds: set[str]) -> None:
        from .formats import milvus

        milvus.drop_stale(self.uri, self.alias, self.owner, keep_builds)


def writers(backend: str, index_dir, ann_threshold: int | None = None, milvus_uri: str | None = None,
            milvus_alias: str | None = None, k1: float = bm25.K1, b: float = bm25.B) -> list:
    """The writers of a build for a backend, in the order they run (`k1`, `b`: BM25's, folded into the
    Milvus rows)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    out: list = [EmbeddedWriter(ann_threshold)]
    if backend == "milvus":
        from .formats import milvus

        if not milvus_uri:
            raise IndexUnavailable("the Milvus backend needs a URI: --milvus-uri FILE.db or http://host:19530")
        out.append(MilvusWriter(milvus.resolve_uri(milvus_uri), milvus_alias, milvus.owner_token(index_dir),
                                k1, b))
    return out
