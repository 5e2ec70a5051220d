"""The backends as the engine searches them, through a `Retrieval`: the embedded indexes of a build
folder (Whoosh + ranking arrays + FAISS, the default) or Milvus (search/milvus.py). indexer/writers.py
writes them. The engine fuses, ranks wording first, collapses, counts facets and reads passages the
same way over either; a backend only finds and scores passages."""
from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import Callable, Protocol

import numpy as np

from indexer.formats import vectors as vector_format
from indexer.text import normalise

from .hits import Filters, Ranked
from .keyword import KeywordSearcher
from .query import ParsedQuery


class Retrieval(Protocol):
    ids: list[str]  # every passage of the build, in the order facets and formulations number them
    has_second: bool  # whether a second model's vectors are there
    side_by_side: bool  # whether the two models' lists may be computed in two threads at once

    def parse(self, text: str) -> ParsedQuery: ...

    def keyword(self, parsed: ParsedQuery, k: int, filters: Filters) -> Ranked:
        """BM25F over the passages the query matches (its phrases, operators and fields), filtered."""

    def semantic(self, parsed: ParsedQuery, k: int, filters: Filters, second: bool = False,
                 scored: bool = False) -> Ranked:
        """Cosine to the query's free text (the first or second model), among the passages its
        constraints and the filters allow; with `scored`, `similarity` holds every passage's score
        over `ids` (-inf where not scored)."""

    def similar(self, passage_id: str, k: int, filters: Filters) -> Ranked | None:
        """Passages nearest a passage's vector, without it; None for an unknown id."""

    def query_vector(self, parsed: ParsedQuery) -> np.ndarray:
        """The query's vector for the first model (its encoder keeps the last 1,024)."""

    def background(self, parsed: ParsedQuery) -> float:
        """The query's mean similarity to the corpus's passages (the first model's passage vectors), the
        background a match by meaning must stand above (search/matching.py `lifted`)."""

    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]: ...

    def matching_mask(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = None
                      ) -> np.ndarray:
        """Which passages the keyword query matches (the first `limit`), as a mask over `ids`."""

    def filtered_mask(self, filters: Filters) -> np.ndarray:
        """Which passages pass the filters, as a mask over `ids`."""

    def load_encoders(self) -> None:
        """Open the query encoders now rather than on the first query."""

    def close(self) -> None: ...


class EmbeddedRetrieval:
    """The build folder's own indexes; the vector searchers load on first use."""

    side_by_side = True  # the two models' lists may be computed in two threads at once

    def __init__(self, build, keyword: KeywordSearcher, encoders: dict[str, Callable], has_second: bool,
                 sentence_weight: float, spare: Callable[[], bool] | None = None):
        self.keyword_searcher = keyword
        self.ids = keyword.ranking.ids
        self.parse = keyword.parse
        self._paths = {"first": build.vectors, "second": build.second_vectors}
        self._encoders = encoders
        self._weights = {"first": sentence_weight, "second": 0.0}
        self._spare = spare  # SemanticSearcher's
        self.has_second = has_second
        self._searchers: dict = {}
        self._rows: dict = {}  # per searcher: its rows' positions in `ids`, None where they are the same
        self._locks = {"first": threading.Lock(), "second": threading.Lock()}  # each loads on its own

    def searcher(self, which: str = "first"):
        """The vector searcher of the first or second model."""
        if which not in self._searchers:
            with self._locks[which]:
                if which not in self._searchers:
                    from .semantic import SemanticSearcher

                    searcher = SemanticSearcher(self._paths[which], self._encoders[which](),
                                                sentence_weight=self._weights[which], spare=self._spare)
                    # Where the vectors' rows are not in `ids` order (they are, as written today), where each goes.
                    position = self.keyword_searcher.position
                    self._rows[which] = (None if searcher.ids == self.ids
                                         else np.array([position[p] for p in searcher.ids], dtype=np.int64))
                    self._searchers[which] = searcher
        return self._searchers[which]

    def load_encoders(self) -> None:
        """Open the vector searchers and their query encoders now rather than on the first query."""
        self.searcher("first")
        if self.has_second:
            self.searcher("second")

    def keyword(self, parsed: ParsedQuery, k: int, filters: Filters) -> Ranked:
        return self.keyword_searcher.search(parsed, k, filters)

    def _allowed(self, parsed: ParsedQuery | None, filters: Filters) -> set[str] | None:
        if parsed is not None and parsed.strict:
            # Phrases, operators and fields are constraints: rank only what satisfies them.
            return self.keyword_searcher.matching_ids(parsed, filters)
        return None if filters.is_empty() else self.keyword_searcher.filtered_ids(filters)

    def semantic(self, parsed: ParsedQuery, k: int, filters: Filters, second: bool = False,
                 scored: bool = False) -> Ranked:
        which = "second" if second else "first"
        found = self.searcher(which).search(normalise(parsed.semantic_text), k, self._allowed(parsed, filters), scored)
        rows = self._rows[which]
        if found.similarity is not None and rows is not None:
            similarity = np.full(len(self.ids), -np.inf, dtype=np.float32)
            similarity[rows] = found.similarity
            found = replace(found, similarity=similarity)
        return found

    def query_vector(self, parsed: ParsedQuery) -> np.ndarray:
        return self.searcher("first").embed_query(normalise(parsed.semantic_text))

    def embed(self, parsed: ParsedQuery) -> None:
        """Embed a query for the first model now: its searcher keeps the vector for `similarity`."""
        self.query_vector(parsed)

    def background(self, parsed: ParsedQuery) -> float:
        return float(np.dot(self.query_vector(parsed), self._mean))

    @functools.cached_property
    def _mean(self) -> np.ndarray:
        """The first model's passage vectors' mean (for a build written before it was, of those in memory)."""
        return vector_format.mean_vector(self._paths["first"], lambda: self.searcher("first").matrix)

    def similarity(self, parsed: ParsedQuery, mask: np.ndarray) -> np.ndarray:
        """The first model's similarity of the passages in `mask` (over `ids`; -inf elsewhere), scored
        exactly as the semantic list scores them, but only those."""
        searcher = self.searcher("first")
        out = np.full(len(self.ids), -np.inf, dtype=np.float32)
        rows = self._rows["first"]  # the vectors' rows' places in `ids` (None: the same order)
        scored = np.flatnonzero(mask if rows is None else mask[rows])
        if len(scored):
            scores = searcher.scores(scored, self.query_vector(parsed))
            out[scored if rows is None else rows[scored]] = scores
        return out

    def similar(self, passage_id: str, k: int, filters: Filters) -> Ranked | None:
        searcher = self.searcher()
        vector = searcher.vector_of(passage_id)
        if vector is None:
            return None
        return searcher.search_vector(vector, k, self._allowed(None, filters), exclude={passage_id})

    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]:
        return self.keyword_searcher.phrase_ids(chars, filters, limit)

    def matching_mask(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = None
                      ) -> np.ndarray:
        return self.keyword_searcher.matching_mask(parsed, filters, limit)

    def filtered_mask(self, filters: Filters) -> np.ndarray:
        return self.keyword_searcher.filtered_mask(filters)

    def close(self) -> None:
        self.keyword_searcher.close()
