"""The Milvus backend's search: a build's collections (their format: indexer/formats/milvus.py)
searched in Milvus instead of the embedded Whoosh, ranking-array and FAISS files. An engine searches
the collections its own manifest names, so that its passage store and its collections always belong to
the same build while a re-index replaces both."""
from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from indexer.analysis import phrase_chars
from indexer.formats.milvus import (
    MilvusUnavailable,
    connect,
    milvus_errors,
    unpack_vectors,
)
from indexer.text import normalise

from .hits import Filters, Hit, Ranked
from .keyword import is_plain_or, scoring_terms
from .milvus_query import (
    NOTHING,
    all_of,
    expression,
    filter_expression,
    like,
    literal,
    query_vector,
)
from .query import ParsedQuery
from .semantic import dot

SEARCH_LIMIT = 16_384  # Milvus's largest top-k
# Candidates a semantic search rescores with their best sentence, per result wanted: the best passages, and
# the passages of the best sentences (the embedded backend's HNSW path takes 2 and 4).
PASSAGE_CANDIDATES, SENTENCE_CANDIDATES = 2, 4
EF_SEARCH = 512
FLOOR_DEPTH = 1_000  # nearest passages scored for the similarity floor (search/matching.py)
MATCH_LIMIT = 10_000  # keyword matches counted and ranked (the embedded backend counts them all)
KEPT_BYTES = 64 * 2**20  # passages' decoded vectors kept for later queries


def _hnsw(limit: int) -> dict:
    """Search parameters of a dense field: HNSW's ef at least EF_SEARCH (Milvus's default ef gave the
    second model's list a recall@100 of 0.86 against exact search on gov-reports; 512, 0.994)."""
    return {"metric_type": "IP", "params": {"ef": max(EF_SEARCH, limit)}}


class MilvusRetrieval:
    """The retriever interface (search/backend.py) over a build's Milvus collections."""

    side_by_side = False  # each list is a Milvus call: they stay in the request's thread

    @milvus_errors
    def __init__(self, config: dict, ids: list[str], mask_of: Callable, parse: Callable[[str], ParsedQuery],
                 expansion_terms, encoders: dict, uri: str | None = None, sentence_weight: float = 0.5,
                 mean: Callable[[], np.ndarray | None] = lambda: None):
        """`mean`: reads the first model's passage vectors' mean (the build's vector files hold it)."""
        self.uri = uri or config["uri"]
        self.client = connect(self.uri)
        self.name, self.sentence_name = config["collection"], config.get("sentences")
        for name in (self.name, self.sentence_name):
            if name and not self.client.has_collection(name):
                raise MilvusUnavailable(f"Milvus at {self.uri} has no collection {name}: re-run `report-search index`")
            if name:
                self.client.load_collection(name)  # a no-op where it is loaded already
        self.ids = ids
        self.mask_of = mask_of  # passage ids -> a mask over `ids` (the engine's facet index: one position map)
        self.parse = parse
        self.expansion_terms = expansion_terms  # ParsedQuery -> the thesaurus's (field, term, boost) triples
        self.encoders = encoders  # "dense" / "dense2" -> a query encoder, or a callable making one
        self.sentence_weight = sentence_weight if self.sentence_name else 0.0
        self.has_second = bool(config.get("second"))
        self._read_mean = mean
        self._lock = threading.Lock()
        self._kept_lock = threading.Lock()
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()  # passage id -> its decoded rows (_rows)
        self._kept_bytes = 0
        # The last 1,024 query vectors are kept: paging and facets ask again (thread-safe cache).
        self.embed_query = functools.lru_cache(maxsize=1024)(self._embed_query)

    def close(self) -> None:
        self.client.close()

    # ---- helpers
    def _ids(self, expr: str | None, limit: int | None) -> list[str]:
        if limit is not None and limit <= SEARCH_LIMIT:
            return [r["pid"] for r in self.client.query(self.name, filter=expr or "", output_fields=["pid"],
                                                        limit=limit)]
        out: list[str] = []
        iterator = self.client.query_iterator(self.name, batch_size=SEARCH_LIMIT // 2, filter=expr or "",
                                              output_fields=["pid"], limit=limit if limit is not None else -1)
        while batch := iterator.next():
            out += [r["pid"] for r in batch]
        iterator.close()
        return out

    def match_expression(self, parsed: ParsedQuery) -> str | None:
        """Which passages a keyword query matches: one of the user's terms (or an official term added by
        the thesaurus, whole), or, for phrases, operators and fields, the query's own logic."""
        if not is_plain_or(parsed.keyword):
            return expression(parsed.keyword)
        keys = sorted(query_vector(scoring_terms(parsed.keyword)))
        if not keys:
            return NOTHING
        officials = [like(phrase_chars(o)) for o in parsed.matching_officials]
        return " or ".join([f"array_contains_any(terms, {keys})"] + [f"({o})" for o in officials if o])

    # ---- the interface
    def _matches(self, parsed: ParsedQuery, filters: Filters | None) -> list[Hit]:
        """The passages a keyword query matches, best first, at most MATCH_LIMIT (computed once per query
        and filters: ranking, facets and constraints all ask). A plain query's matches are exactly the
        passages its sparse vector scores, so its search needs no match expression (Milvus Lite evaluates
        expressions row by row); phrases, operators, fields and the thesaurus's official terms match by
        expression, and passages matching with no scoring term (`NOT …`, `region:…` alone) follow at 0."""
        key = ("milvus", filters if filters is not None and not filters.is_empty() else None)
        if key not in parsed.scored:
            vector = query_vector(scoring_terms(parsed.keyword) + self.expansion_terms(parsed))
            plain = is_plain_or(parsed.keyword) and not parsed.expansions
            expr = all_of([None if plain else self.match_expression(parsed), filter_expression(filters)])
            hits: list[Hit] = []
            if vector:
                found = self.client.search(self.name, data=[vector], anns_field="sparse", filter=expr or "",
                                           limit=MATCH_LIMIT, output_fields=["pid"],
                                           search_params={"metric_type": "IP"})[0]
                hits = [Hit(r["entity"]["pid"], float(r["distance"])) for r in found]
            if not plain and len(hits) < MATCH_LIMIT:
                seen = {h.passage_id for h in hits}
                hits += [Hit(pid, 0.0) for pid in self._ids(expr, MATCH_LIMIT) if pid not in seen]
                hits = hits[:MATCH_LIMIT]
            parsed.scored[key] = hits
        return parsed.scored[key]

    @milvus_errors
    def keyword(self, parsed: ParsedQuery, k: int, filters: Filters) -> Ranked:
        """BM25F, as the embedded backend ranks."""
        return Ranked(self._matches(parsed, filters)[:k])

    def _encoder(self, field: str):
        encoder = self.encoders[field]
        if not hasattr(encoder, "encode_queries"):  # a callable that opens it
            with self._lock:
                encoder = self.encoders[field]
                if not hasattr(encoder, "encode_queries"):
                    encoder = self.encoders[field] = encoder()
        return encoder

    def load_encoders(self) -> None:
        """Open the query encoders now rather than on the first query."""
        for field in ("dense", "dense2") if self.has_second else ("dense",):
            self._encoder(field)

    def _embed_query(self, text: str, field: str = "dense") -> np.ndarray:
        return self._encoder(field).encode_queries([text])[0].astype(np.float32)

    @milvus_errors
    def semantic(self, parsed: ParsedQuery, k: int, filters: Filters, second: bool = False,
                 scored: bool = False) -> Ranked:
        field = "dense2" if second else "dense"
        vector = self.embed_query(normalise(parsed.semantic_text), field)
        # Phrases, operators and fields are constraints: rank only what the keyword query matches.
        expr = all_of([self.match_expression(parsed) if parsed.strict else None, filter_expression(filters)])
        if not scored:
            return self.search_vector(vector, k, expr, field)
        # Scores of the FLOOR_DEPTH nearest (the embedded backend scores every passage).
        found = self.search_vector(vector, max(k, FLOOR_DEPTH), expr, field)
        similarity = np.full(len(self.ids), -np.inf, dtype=np.float32)
        position = self.position
        for h in found.hits:
            if h.passage_id in position:
                similarity[position[h.passage_id]] = h.score
        return Ranked(found.hits[:k], similarity=similarity)

    def query_vector(self, parsed: ParsedQuery) -> np.ndarray:
        return self.embed_query(normalise(parsed.semantic_text), "dense")

    def background(self, parsed: ParsedQuery) -> float:
        return float(np.dot(self.query_vector(parsed), self._mean))

    @functools.cached_property
    def _mean(self) -> np.ndarray:
        mean = self._read_mean()
        if mean is None:
            raise MilvusUnavailable("this build has no passage vectors beside its Milvus collections: "
                                    "re-run `report-search index`")
        return mean

    @functools.cached_property
    def position(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    @milvus_errors
    def similar(self, passage_id: str, k: int, filters: Filters) -> Ranked | None:
        rows = self.client.query(self.name, filter=f"pid == {literal(passage_id)}", output_fields=["dense"])
        if not rows:
            return None
        vector = np.asarray(rows[0]["dense"], dtype=np.float32)  # full precision, as the embedded backend's
        return self.search_vector(vector, k, filter_expression(filters), "dense", exclude=passage_id)

    @milvus_errors
    def search_vector(self, vector: np.ndarray, k: int, expr: str | None, field: str = "dense",
                      exclude: str | None = None) -> Ranked:
        """Top k by cosine; the first model's passages scored with their best sentence as in the embedded
        backend (candidates: the best passages, and the owners of the best sentences where no filter applies)."""
        searched = all_of([expr, None if exclude is None else f"pid != {literal(exclude)}"])
        blend = field == "dense" and self.sentence_weight > 0
        limit = min(k * PASSAGE_CANDIDATES if blend else k, SEARCH_LIMIT)
        found = self.client.search(self.name, data=[vector.tolist()], anns_field=field, filter=searched or "",
                                   limit=limit, output_fields=["pid", "packed"] if blend else ["pid"],
                                   search_params=_hnsw(limit))[0]
        if not blend:
            return Ranked([Hit(r["entity"]["pid"], float(r["distance"])) for r in found][:k])
        rows = self._rows({r["entity"]["pid"]: r["entity"]["packed"] for r in found}, len(vector))
        # Fewer passages than asked for: every passage is a candidate already, and the best sentences
        # would name no other (a collection smaller than the depth, as a floor's 1,000 on a small corpus).
        if expr is None and len(found) >= limit:
            limit = min(k * SENTENCE_CANDIDATES, SEARCH_LIMIT)
            near = self.client.search(self.sentence_name, data=[vector.tolist()], anns_field="dense",
                                      limit=limit, output_fields=["owner"], search_params=_hnsw(limit))[0]
            extra = sorted({r["entity"]["owner"] for r in near} - set(rows) - {exclude})
            rows.update(self._rows_of(extra, len(vector)))
        scores = self._blended(rows, vector)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return Ranked([Hit(pid, float(score)) for pid, score in ranked])

    def _rows_of(self, pids: list[str], dimension: int) -> dict[str, np.ndarray]:
        """Passage id -> its vector and its sentences' (rows), for these passages: those kept from earlier
        queries, the others read by id (SEARCH_LIMIT at a time)."""
        with self._kept_lock:
            known = {pid: self._kept[pid] for pid in pids if pid in self._kept}
        missing = [pid for pid in pids if pid not in known]
        for start in range(0, len(missing), SEARCH_LIMIT):
            chunk = missing[start:start + SEARCH_LIMIT]
            found = self.client.query(self.name, filter=f"pid in {json.dumps(chunk, ensure_ascii=False)}",
                                      output_fields=["pid", "packed"], limit=len(chunk))
            known.update(self._rows({r["pid"]: r["packed"] for r in found}, dimension))
        return known

    def _rows(self, packed: dict[str, str], dimension: int) -> dict[str, np.ndarray]:
        """Passage id -> its rows, decoded from what Milvus returned (`packed`), or as kept. Decoded rows are
        kept for later queries, the most recently used up to KEPT_BYTES: a build's vectors never change."""
        out = {}
        with self._kept_lock:
            for pid, text in packed.items():
                rows = self._kept.get(pid)
                if rows is None:
                    rows = self._kept[pid] = unpack_vectors(text, dimension)
                    self._kept_bytes += rows.nbytes
                else:
                    self._kept.move_to_end(pid)
                out[pid] = rows
            while self._kept_bytes > KEPT_BYTES:
                self._kept_bytes -= self._kept.popitem(last=False)[1].nbytes
        return out

    def _blended(self, rows: dict[str, np.ndarray], vector: np.ndarray) -> dict[str, float]:
        """Passage id -> its passage's and its best sentence's similarity, weighted (`rows`: each passage's
        vector and its sentences')."""
        w, scores = self.sentence_weight, {}
        for pid, matrix in rows.items():
            sims = dot(matrix, vector)  # as the embedded backend scores them, bit for bit
            scores[pid] = (1 - w) * sims[0] + w * (sims[1:].max() if len(sims) > 1 else sims[0])
        return scores

    @milvus_errors
    def similarity(self, parsed: ParsedQuery, mask: np.ndarray) -> np.ndarray:
        """The first model's similarity of the passages in `mask` (over `ids`; -inf elsewhere), scored as
        the semantic list scores them, but only those: their packed vectors fetched by id."""
        out = np.full(len(self.ids), -np.inf, dtype=np.float32)
        chosen = np.flatnonzero(mask)
        if not len(chosen):
            return out
        vector = self.embed_query(normalise(parsed.semantic_text), "dense")
        rows = self._rows_of([self.ids[i] for i in chosen], len(vector))
        position = self.position
        for pid, score in self._blended(rows, vector).items():
            out[position[pid]] = score
        return out

    @milvus_errors
    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]:
        return self._ids(all_of([like(chars) or NOTHING, filter_expression(filters)]), limit)

    @milvus_errors
    def matching_mask(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = None
                      ) -> np.ndarray:
        return self.mask_of(h.passage_id for h in self._matches(parsed, filters)[:limit])

    @milvus_errors
    def filtered_mask(self, filters: Filters) -> np.ndarray:
        return self.mask_of(self._ids(filter_expression(filters), None))
