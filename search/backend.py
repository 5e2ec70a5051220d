"""The retrievers behind the engine, one interface for each backend: the embedded indexes of a
build folder (Whoosh + ranking arrays + FAISS, the default) or Milvus (search/milvus.py). The
engine fuses, ranks wording first, collapses, counts facets and reads passages the same way
over either; a backend only finds and scores passages."""
from __future__ import annotations

import threading
from typing import Callable, Protocol

from indexer.text import normalise

from .hits import Filters, Ranked
from .keyword import KeywordSearcher
from .query import ParsedQuery

BACKENDS = ("embedded", "milvus")


class Retrieval(Protocol):
    ids: list[str]  # every passage of the build, in the order facets and formulations number them
    has_second: bool  # whether a second model's vectors are there

    def parse(self, text: str) -> ParsedQuery: ...

    def keyword(self, parsed: ParsedQuery, k: int, filters: Filters) -> Ranked:
        """BM25F over the passages the query matches (its phrases, operators and fields), filtered."""

    def semantic(self, parsed: ParsedQuery, k: int, filters: Filters, second: bool = False) -> Ranked:
        """Cosine to the query's free text (the first or second model), among the passages its
        constraints and the filters allow."""

    def similar(self, passage_id: str, k: int, filters: Filters) -> Ranked | None:
        """Passages nearest a passage's vector, without it; None for an unknown id."""

    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]: ...

    def matching_ids(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = 100_000
                     ) -> list[str]: ...

    def filtered_ids(self, filters: Filters) -> list[str]: ...

    def close(self) -> None: ...


class EmbeddedRetrieval:
    """The build folder's own indexes; the vector searchers load on first use."""

    def __init__(self, build, keyword: KeywordSearcher, encoders: dict[str, Callable], has_vectors: bool,
                 has_second: bool, sentence_weight: float):
        self.keyword_searcher = keyword
        self.ids = keyword.ranking.ids
        self.parse = keyword.parse
        self._paths = {"first": build.vectors, "second": build.second_vectors}
        self._encoders = encoders
        self._weights = {"first": sentence_weight, "second": 0.0}
        self.has_vectors = has_vectors
        self.has_second = has_second
        self._searchers: dict = {}
        self._lock = threading.Lock()

    def searcher(self, which: str = "first"):
        """The vector searcher of the first or second model."""
        if which not in self._searchers:
            with self._lock:
                if which not in self._searchers:
                    from .semantic import SemanticSearcher

                    self._searchers[which] = SemanticSearcher(self._paths[which], self._encoders[which](),
                                                              sentence_weight=self._weights[which])
        return self._searchers[which]

    def keyword(self, parsed: ParsedQuery, k: int, filters: Filters) -> Ranked:
        return self.keyword_searcher.search(parsed, k, filters)

    def _allowed(self, parsed: ParsedQuery | None, filters: Filters) -> set[str] | None:
        if parsed is not None and parsed.strict:
            # Phrases, operators and fields are constraints: rank only what satisfies them.
            return self.keyword_searcher.matching_ids(parsed, filters)
        return None if filters.is_empty() else self.keyword_searcher.filtered_ids(filters)

    def semantic(self, parsed: ParsedQuery, k: int, filters: Filters, second: bool = False) -> Ranked:
        searcher = self.searcher("second" if second else "first")
        return searcher.search(normalise(parsed.free_text), k, self._allowed(parsed, filters))

    def similar(self, passage_id: str, k: int, filters: Filters) -> Ranked | None:
        searcher = self.searcher()
        vector = searcher.vector_of(passage_id)
        if vector is None:
            return None
        return searcher.search_vector(vector, k, self._allowed(None, filters), exclude={passage_id})

    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]:
        return self.keyword_searcher.phrase_ids(chars, filters, limit)

    def matching_ids(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = 100_000
                     ) -> list[str]:
        return list(self.keyword_searcher.matching_ids(parsed, filters, limit))

    def filtered_ids(self, filters: Filters) -> list[str]:
        return list(self.keyword_searcher.filtered_ids(filters))

    def close(self) -> None:
        self.keyword_searcher.close()
