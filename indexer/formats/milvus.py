"""The Milvus collections' format: a build's passages written to Milvus (a server, or Milvus Lite in
a local file) beside the embedded Whoosh, ranking-array and FAISS files. This module and
search/milvus.py (which searches them) are the only ones that import pymilvus.

Per build, two collections, named `<alias>_<owner>_<build id>` and `…_s` (owner: which index
directory wrote them):

    passages   pid (primary key), doc_id, sparse (BM25F: each (field, term)'s weight with the
               term's idf folded in, so that the inner product with the query's field boosts is
               the embedded backend's score), terms (the same keys, for matching), chars (the
               phrase characters of headings and text, `|` between them, for quoted phrases),
               regions, year, issuer, doc_type, source, section (filters), dense (the first
               model's passage vectors), packed (that vector and its sentences', float16, for
               rescoring), dense2 (the second model's, where the build has one)
    sentences  sid (primary key), owner (a passage id), dense (its sentences' vectors)

Terms are keyed by a 32-bit hash of (field, term): the query side is analysed by the same
function as the documents (indexer/analysis.py) and weighted by the same query parser, so both
backends rank alike (k1 and b are fixed when the build is written). When a build is complete
the alias `<alias>` (and `<alias>_s`) moves to it for other clients; an engine searches the
collections its own manifest names, so that its passage store and its collections always
belong to the same build while a re-index replaces both.
"""
from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import logging
import os
import re
import time
from typing import Callable, Iterable

import numpy as np

from ..analysis import phrase_chars
from ..layout import IndexUnavailable
from ..store import Document, StoredPassage
from ..text import normalise
from . import bm25
from .keyword import region_terms

BATCH = 500  # rows per insert
MAX_TERMS = 4096  # Milvus's largest array; a longer passage matches by its first 4,096 distinct terms
MAX_VARCHAR_BYTES = 65_535
MAX_PACKED_ROWS = 60  # vectors of a passage and its sentences kept for rescoring (base64 float16, under 64 KB at 512-dim)
TOKEN_ENV = "MILVUS_TOKEN"
CONNECT_SECONDS = 10
# pymilvus pings every 10 s even when idle; a gRPC server by default allows that once in 5 minutes and
# then drops the connection ("too many pings": Milvus Lite's server does). Ping only while a call runs.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 60_000, "grpc.keepalive_permit_without_calls": 0}
SCALAR_INDEXES = ("doc_id", "terms", "regions", "year", "issuer", "doc_type", "section")


class MilvusUnavailable(IndexUnavailable):
    """pymilvus missing, Milvus unreachable or a collection gone."""


def _is_client_error(exc: Exception) -> bool:
    """Whether an error is the Milvus client's own (pymilvus, or gRPC beneath it)."""
    return type(exc).__module__.startswith(("pymilvus", "grpc"))


def milvus_errors(fn):
    """Errors of the Milvus client (unreachable, refused, timed out) as MilvusUnavailable naming the URI."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MilvusUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - only the client's own errors are converted
            if not _is_client_error(exc):
                raise
            target = args[0] if args else None  # a URI, or a retrieval with its .uri
            where = target if isinstance(target, str) else getattr(target, "uri", "?")
            raise MilvusUnavailable(f"Milvus at {where}: {getattr(exc, 'message', None) or exc}") from None

    return call


def connect(uri: str):
    """A client for `uri` (a `.db` file for Milvus Lite, `http://host:19530` for a server; a token
    from $MILVUS_TOKEN)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusUnavailable("the Milvus backend needs pymilvus and milvus-lite: "
                                "pip install 'report-search[milvus]'") from None
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer"):
        # pymilvus configures these on import (its own handlers, no propagation): hand them back to
        # the application's logging configuration, as a library's loggers should be.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    try:
        return MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""), timeout=CONNECT_SECONDS,
                            grpc_options=GRPC_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds; all mean the same here
        raise MilvusUnavailable(f"cannot open Milvus at {uri}: {getattr(exc, 'message', None) or exc}") from None


def resolve_uri(uri: str) -> str:
    """A Milvus Lite file as an absolute path (servers and the indexer may run elsewhere); a server URI as given."""
    return uri if re.match(r"^[a-z]+://", uri) else os.path.abspath(uri)


def owner_token(index_dir: str | os.PathLike) -> str:
    """Which index directory wrote a collection (several may share one Milvus and alias): 8 hex digits of its path."""
    return hashlib.sha1(os.path.abspath(index_dir).encode("utf-8")).hexdigest()[:8]


def collection_names(alias: str, owner: str, build_id: str) -> tuple[str, str]:
    name = f"{alias}_{owner}_{re.sub(r'[^0-9A-Za-z_]', '_', build_id)}"
    return name, name + "_s"


def sparse_rows(postings: bm25.Postings, k1: float, b: float) -> list[dict[int, float]]:
    """Each document's BM25 weights per (field, term) key, with the term's idf folded in."""
    n = postings.doc_count
    docs_all, keys_all, weights_all = [], [], []
    for name, field in postings.fields.items():
        df = np.diff(np.asarray(field.offsets))
        if not len(df):
            continue
        idf = np.log(n / (df + 1)) + 1
        term_of = np.repeat(np.arange(len(df)), df)
        docs = np.asarray(field.docs)
        keys = np.array([term_key(name, t) for t in field.terms.tolist()], dtype=np.int64)
        docs_all.append(docs)
        keys_all.append(keys[term_of])
        weights_all.append(bm25.bm25(idf[term_of], np.asarray(field.tfs), np.asarray(field.lengths)[docs],
                                     field.avg_length, k1, b))
    rows: list[dict[int, float]] = [{} for _ in range(n)]
    if not docs_all:
        return rows
    docs, keys, weights = (np.concatenate(a) for a in (docs_all, keys_all, weights_all))
    order = np.argsort(docs, kind="stable")
    docs, keys, weights = docs[order], keys[order], weights[order]
    bounds = np.searchsorted(docs, np.arange(n + 1))
    for d in range(n):
        a, z = bounds[d], bounds[d + 1]
        row = rows[d]
        for key, w in zip(keys[a:z].tolist(), weights[a:z].tolist()):
            row[key] = row.get(key, 0.0) + w  # two terms hashed alike add up
    return rows


def _clip(text: str, limit: int = MAX_VARCHAR_BYTES) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def passage_chars(passage: StoredPassage) -> str:
    """What a quoted phrase is looked up in: each heading's and the text's phrase characters."""
    return "|".join(phrase_chars(part) for part in passage.heading_path + (passage.norm,))


def _schema(client, dimension: int, second_dimension: int | None):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False)
    s.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=128)
    s.add_field("doc_id", DataType.VARCHAR, max_length=128)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("terms", DataType.ARRAY, element_type=DataType.INT64, max_capacity=MAX_TERMS)
    s.add_field("chars", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)
    s.add_field("regions", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=16, max_length=256)
    s.add_field("year", DataType.INT64, nullable=True)
    for name in ("issuer", "doc_type", "section"):
        s.add_field(name, DataType.VARCHAR, max_length=512, nullable=True)
    s.add_field("source", DataType.VARCHAR, max_length=2048)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_field("packed", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)  # see pack_vectors
    if second_dimension:
        s.add_field("dense2", DataType.FLOAT_VECTOR, dim=second_dimension)
    return s


def _sentence_schema(client, dimension: int):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False)
    s.add_field("sid", DataType.INT64, is_primary=True)
    s.add_field("owner", DataType.VARCHAR, max_length=128)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    return s


def _create(client, name: str, schema, vectors: Iterable[str], sparse: bool = False, scalars: Iterable[str] = ()
            ) -> None:
    """A collection with its indexes, loaded. Scalar indexes speed filters and look-ups by value; one that
    this Milvus refuses (Milvus Lite indexes no arrays) is left out: filters then scan."""
    client.create_collection(name, schema=schema)
    params = client.prepare_index_params()
    if sparse:
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    for field in vectors:  # Milvus picks (HNSW on a server); docs/scale.md says what to set at scale
        params.add_index(field, index_type="AUTOINDEX", metric_type="IP")
    client.create_index(name, params)
    for field in scalars:
        one = client.prepare_index_params()
        one.add_index(field, index_type="INVERTED")
        try:
            with _unlogged("pymilvus.decorators"):  # it logs the refusal with a traceback before raising
                client.create_index(name, one)
        except Exception as exc:  # noqa: BLE001 - the client's error for an unsupported index
            if not _is_client_error(exc):
                raise
    client.load_collection(name)


@contextlib.contextmanager
def _unlogged(name: str):
    """A logger silenced for an attempt whose failure is expected and handled."""
    logger = logging.getLogger(name)
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


def pack_vectors(vectors: np.ndarray) -> str:
    """A passage's vector and its sentences' (rows), float16, base64: what a search returns beside each hit
    so that the hit is rescored by its best sentence exactly as in the embedded backend, without a
    second round trip for vectors (a returned float vector costs more to decode than the search)."""
    rows = vectors[:MAX_PACKED_ROWS].astype(np.float16)
    return base64.b64encode(rows.tobytes()).decode("ascii")


def unpack_vectors(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, dimension).astype(np.float32)


@milvus_errors
def write(uri: str, alias: str, owner: str, build_id: str, passages: Iterable[tuple[StoredPassage, Document]],
          postings: bm25.Postings, vectors: np.ndarray | None, *, second: np.ndarray | None,
          sentences: tuple[np.ndarray, np.ndarray] | None, k1: float, b: float,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Write a build's collections (passages in the ranking arrays' order, with their vectors' rows
    in the same order; sentence vectors with each one's passage row), move the alias to them and
    return what the manifest records."""
    started = time.perf_counter()
    name, sentence_name = collection_names(alias, owner, build_id)
    rows = sparse_rows(postings, k1, b)
    ids = postings.ids
    if sentences is None or not len(sentences[0]):
        sentences, sentence_name = None, None
    dimension = vectors.shape[1] if vectors is not None else 2  # a keyword-only build: a placeholder
    client = connect(uri)
    try:
        for existing in collection_names(alias, owner, build_id):  # an interrupted run's
            if client.has_collection(existing):
                client.drop_collection(existing)
        _create(client, name, _schema(client, dimension, None if second is None else second.shape[1]),
                ["dense"] + (["dense2"] if second is not None else []), sparse=True, scalars=SCALAR_INDEXES)
        starts = None if sentences is None else np.searchsorted(sentences[1], np.arange(len(ids) + 1))
        batch, done = [], 0
        for (passage, doc), sparse in zip(passages, rows):
            i = len(batch) + done
            if ids[i] != passage.passage_id:
                raise ValueError(f"passage order differs from the ranking arrays at {i}: re-run `report-search index`")
            own = vectors[i:i + 1] if vectors is not None else np.zeros((1, 2), np.float32)
            if starts is not None:  # then its sentences' rows
                own = np.vstack([own, sentences[0][starts[i]:starts[i + 1]]])
            batch.append(_row(passage, doc, sparse, own, None if second is None else second[i]))
            if len(batch) == BATCH:
                client.insert(name, batch)
                done += len(batch)
                batch = []
                if progress:
                    progress(done, len(ids))
        if batch:
            client.insert(name, batch)
            done += len(batch)
        if sentences is not None:
            matrix, owners = sentences
            _create(client, sentence_name, _sentence_schema(client, matrix.shape[1]), ["dense"], scalars=["owner"])
            for start in range(0, len(matrix), BATCH * 4):
                client.insert(sentence_name, [{"sid": start + j, "owner": ids[owners[start + j]], "dense": v.tolist()}
                                              for j, v in enumerate(matrix[start:start + BATCH * 4])])
        for collection in (name, sentence_name):  # sealed and persisted before any client is pointed at it
            if collection:
                client.flush(collection)
        for target, source in ((alias + "_s", sentence_name), (alias, name)):
            if source is not None:
                _move_alias(client, target, source)
    finally:
        client.close()
    return {"uri": uri, "alias": alias, "collection": name, "sentences": sentence_name, "passages": done,
            "bm25_k1": k1, "bm25_b": b, "second": second is not None,
            "seconds": round(time.perf_counter() - started, 2)}


def _row(passage: StoredPassage, doc: Document, sparse: dict[int, float], vectors: np.ndarray,
         second: np.ndarray | None) -> dict:
    """A passage's row; `vectors`: its first model's vector, then its sentences'."""
    row = {
        "pid": passage.passage_id, "doc_id": passage.doc_id,
        "sparse": sparse or {0: 0.0},  # Milvus refuses an empty sparse row; key 0 is never a query term's
        "terms": list(sparse)[:MAX_TERMS],
        "chars": _clip(passage_chars(passage)),
        "regions": region_terms(doc.region, doc.province).split()[:16],
        "year": doc.year or None,
        "issuer": normalise(doc.issuer) if doc.issuer else None,
        "doc_type": normalise(doc.doc_type) if doc.doc_type else None,
        "section": passage.section,
        "source": _clip(source_key(doc.source), 2048),
        "dense": vectors[0].astype(np.float32).tolist(),
        "packed": pack_vectors(vectors),
    }
    if second is not None:
        row["dense2"] = second.astype(np.float32).tolist()
    return row


def _move_alias(client, alias: str, collection: str) -> None:
    if alias in client.list_aliases().get("aliases", []):
        client.alter_alias(collection, alias)
    else:
        client.create_alias(collection, alias)


@milvus_errors
def drop_stale(uri: str, alias: str, owner: str, keep_builds: set[str]) -> list[str]:
    """Drop the collections this index directory wrote for builds it no longer keeps."""
    keep = {n for b in keep_builds for n in collection_names(alias, owner, b)}
    prefix = f"{alias}_{owner}_"
    client = connect(uri)
    try:
        dropped = [name for name in client.list_collections() if name.startswith(prefix) and name not in keep]
        for name in dropped:
            client.drop_collection(name)
    finally:
        client.close()
    return dropped


def term_key(field: str, text: str) -> int:
    """The sparse dimension of a field's term: 32 bits of BLAKE2b (a collision costs a negligible score error)."""
    digest = hashlib.blake2b(f"{field}\x00{text}".encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little") % 0xFFFFFFFF  # Milvus reserves the largest index


# A source path as stored and filtered in Milvus: LIKE's own characters replaced by private-use ones,
# so that a path prefix matches literally (Milvus Lite mishandles an escaped `\\_` in a longer expression).
_SOURCE_KEY = str.maketrans({"_": "\ue05f", "%": "\ue025", "\\": "\ue05c"})


def source_key(path: str) -> str:
    return path.translate(_SOURCE_KEY)
