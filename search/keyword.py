"""Keyword search over the keyword index (its format: indexer/formats/keyword.py): BM25F through the
ranking arrays, the matches of phrases, operators and fields, and filters."""
from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from whoosh import query as wq
from whoosh import scoring

from indexer.analysis import phrase_chars, phrase_stream
from indexer.formats import bm25
from indexer.formats.keyword import FIELD_BOOSTS, open_index, ranking_arrays, schema
from indexer.metadata import canonical_issuer
from indexer.text import normalise

from .hits import Filters, Hit, Ranked
from .query import (
    ExactPhrase,
    ExactTerm,
    ParsedQuery,
    QueryError,
    Word,
    is_plain,
    make_parser,
    parse,
    plain_query,
)
from .thesaurus import Thesaurus


class QueryReader:
    """Parses queries for the keyword fields (both backends), and adds the thesaurus's official
    terms to the ranking at a lower weight than the user's words."""

    def __init__(self, thesaurus: Thesaurus = Thesaurus(), expansion_weight: float = 0.3):
        self.parser = make_parser(schema(), FIELD_BOOSTS)
        self.thesaurus, self.expansion_weight = thesaurus, expansion_weight

    def parse(self, text: str) -> ParsedQuery:
        parsed = parse(text, self.parser)
        if parsed.free_text and self.expansion_weight > 0:
            parsed.expansions = self.thesaurus.expansions(parsed.free_text)
        return parsed

    def expansion_terms(self, parsed: ParsedQuery) -> list[tuple[str, str, float]]:
        """The (field, term, boost) triples of the official terms the thesaurus added."""
        return [t for o in parsed.officials
                for t in scoring_terms(plain_query(o, self.parser) if is_plain(o) else self.parser.parse(o),
                                       self.expansion_weight)]


class KeywordSearcher:
    """Keyword search: Whoosh matches, the ranking arrays score (BM25F)."""

    def __init__(self, path: Path, k1: float = 1.2, b: float = 0.75, reader: QueryReader | None = None,
                 exact_texts: Callable[[list[str]], dict[str, str]] | None = None):
        """`exact_texts(passage_ids)`: the passages' `exact_text`, where phrases are to be matched by the
        ranking arrays and the texts instead of Whoosh's phrase query (the same passages, ten times faster)."""
        self.ix = open_index(path)
        self.exact_texts = exact_texts
        self._streams: dict[int, str] = {}  # document number → phrase_stream of its exact text
        self.k1, self.b = k1, b
        self.reader = reader or QueryReader()
        self.parser = self.reader.parser
        self.searcher = self.ix.searcher(weighting=scoring.BM25F(B=b, K1=k1))
        # Whoosh's readers seek and read one file object: two threads reading postings at once get each
        # other's bytes (zlib: "incomplete or truncated stream", a hybrid query's filter read by its words'
        # side and its semantic side together). One read at a time.
        self._whoosh_lock = threading.Lock()
        self.ranking = ranking_arrays(path)
        if self.ranking.doc_count != self.searcher.doc_count_all():
            raise ValueError(f"{path}: ranking arrays and Whoosh index disagree; re-run `report-search index`")
        self._filter_masks: dict[Filters, np.ndarray] = {}

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Document number of each passage id."""
        return {pid: i for i, pid in enumerate(self.ranking.ids)}

    @property
    def expansion_weight(self) -> float:
        return self.reader.expansion_weight

    @expansion_weight.setter
    def expansion_weight(self, value: float) -> None:
        self.reader.expansion_weight = value

    def close(self) -> None:
        self.searcher.close()

    def parse(self, text: str) -> ParsedQuery:
        return self.reader.parse(text)

    def search(self, q: ParsedQuery | str, k: int = 10, filters: Filters | None = None) -> Ranked:
        """The top k passages for a query."""
        parsed = self.parse(q) if isinstance(q, str) else q
        scores, matched = self._score(parsed, filters)
        ids = self.ranking.ids
        hits = [Hit(ids[d], float(scores[d])) for d in bm25.top_k(scores, matched, max(k, 1))]
        return Ranked(hits)

    def _score(self, parsed: ParsedQuery, filters: Filters | None) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every document and which ones match the query and filters. Computed
        once per query and filters: ranking, the semantic side and facets all ask."""
        key = None if filters is None or filters.is_empty() else filters
        if key not in parsed.scored:
            terms = scoring_terms(parsed.keyword)
            officials = parsed.matching_officials
            expanded = self.reader.expansion_terms(parsed)
            scores, matched = self.ranking.score(terms, self.k1, self.b)  # matched: by the user's words
            if expanded:
                scores = scores + self.ranking.score(expanded, self.k1, self.b)[0]
            if not is_plain_or(parsed.keyword):  # phrases, AND, NOT, fields: Whoosh decides
                matched = self._mask(parsed.keyword)
            elif officials:  # an official term matches as a whole, not by its parts (`文明` of `文明养犬`)
                for o in officials:
                    matched |= self._phrase_mask(phrase_chars(o))
            if key is not None:
                matched = matched & self.filtered_mask(key)
            parsed.scored[key] = (scores, matched)
        return parsed.scored[key]

    def _mask(self, q: wq.Query) -> np.ndarray:
        """Which documents a query matches: words, phrases and their AND / OR / NOT by the ranking
        arrays (and the texts, for phrases), anything else (fields, ranges) by Whoosh."""
        if self.exact_texts is not None:
            if isinstance(q, (ExactPhrase, ExactTerm)) and q.fieldname == "exact":
                return self._phrase_mask("".join(w[0] for w in q.words) + q.words[-1][1]
                                         if isinstance(q, ExactPhrase) else q.text)
            if type(q) in (wq.Term, ExactTerm) and q.fieldname in self.ranking.fields:
                return self.ranking.holding(q.fieldname, [q.text])
            parts = _MASK_OPS.get(type(q))
            if parts is not None and (q.subqueries if isinstance(q, wq.CompoundQuery) else True):
                return parts(self, q)
        return self._whoosh_mask(q)

    def _whoosh_mask(self, q: wq.Query) -> np.ndarray:
        mask = np.zeros(self.ranking.doc_count, dtype=bool)
        try:
            with self._whoosh_lock:
                docs = np.fromiter(self.searcher.docs_for_query(q), dtype=np.int64)
        except wq.QueryError as exc:
            raise QueryError(f"cannot run query: {exc}") from None
        mask[docs] = True
        return mask

    def filtered_mask(self, filters: Filters) -> np.ndarray:
        """Which documents pass the filters (a mask over document numbers, cached)."""
        mask = self._filter_masks.get(filters)
        if mask is None:
            mask = self._mask(filter_query(filters))
            if len(self._filter_masks) >= 256:
                self._filter_masks.clear()
            self._filter_masks[filters] = mask
        return mask

    def _ids_of(self, mask: np.ndarray, limit: int | None = None) -> set[str]:
        ids = self.ranking.ids
        return {ids[d] for d in np.flatnonzero(mask)[:limit]}

    def matching_mask(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = None
                      ) -> np.ndarray:
        """Which documents the query matches, as a mask over document numbers (the first `limit`)."""
        matched = self._score(parsed, filters)[1]
        if limit is not None and matched.sum() > limit:
            matched = matched.copy()
            matched[np.flatnonzero(matched)[limit:]] = False
        return matched

    def matching_ids(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = 100_000
                     ) -> set[str]:
        """Ids of the passages the keyword query matches (for constraints and facets)."""
        return self._ids_of(self._score(parsed, filters)[1], limit)

    def _phrase_mask(self, chars: str) -> np.ndarray:
        """Which documents hold these characters in a row (their bigrams at consecutive positions)."""
        bigrams = [chars[i:i + 2] for i in range(len(chars) - 1)]
        if not bigrams:
            return np.zeros(self.ranking.doc_count, dtype=bool)
        if self.exact_texts is None:
            return self._mask(ExactTerm("exact", bigrams[0]) if len(bigrams) == 1
                              else ExactPhrase("exact", bigrams, slop=1))
        mask = self.ranking.holding("exact", bigrams)  # every bigram somewhere; then in a row
        if len(bigrams) > 1:
            docs = np.flatnonzero(mask)
            streams = self._phrase_streams(docs)
            mask[[d for d in docs if chars not in streams[d]]] = False
        return mask

    def _phrase_streams(self, docs: np.ndarray) -> dict[int, str]:
        known, out, missing = self._streams, {}, []
        for d in docs.tolist():
            stream = known.get(d)
            if stream is None:
                missing.append(d)
            else:
                out[d] = stream
        if missing:
            ids = self.ranking.ids
            texts = self.exact_texts([ids[d] for d in missing])
            found = {d: phrase_stream(texts.get(ids[d], "")) for d in missing}
            if len(known) + len(found) > 50_000:  # a bound for very large indexes
                known.clear()
            known.update(found)
            out.update(found)
        return out

    def phrase_ids(self, chars: str, filters: Filters | None = None, limit: int = 1000) -> list[str]:
        """Passages whose text or headings hold these characters in a row (as a quoted phrase)."""
        mask = self._phrase_mask(chars)
        if filters is not None and not filters.is_empty():
            mask &= self.filtered_mask(filters)
        ids = self.ranking.ids
        return [ids[d] for d in np.flatnonzero(mask)[:limit]]

    def filtered_ids(self, filters: Filters) -> set[str]:
        """Ids of every passage that passes the filters."""
        return self._ids_of(self.filtered_mask(filters))


_MASK_OPS = {  # how a compound query's match follows from its parts'
    wq.And: lambda ks, q: np.logical_and.reduce([ks._mask(sub) for sub in q.subqueries]),
    wq.Or: lambda ks, q: np.logical_or.reduce([ks._mask(sub) for sub in q.subqueries]),
    wq.AndMaybe: lambda ks, q: ks._mask(q.a),
    wq.AndNot: lambda ks, q: ks._mask(q.a) & ~ks._mask(q.b),
    wq.Require: lambda ks, q: ks._mask(q.a) & ks._mask(q.b),
    Word: lambda ks, q: ks._mask(q.child),  # any of its pieces (the engine matches words: search/matching.py)
}


def scoring_terms(q: wq.Query, boost: float = 1.0) -> list[tuple[str, str, float]]:
    """The (field, term, boost) triples that score a query: every positive term;
    a phrase scores as its bigrams, as Whoosh scores a phrase by its terms."""
    boost *= q.boost
    if isinstance(q, Word):
        return scoring_terms(q.child, boost)
    if isinstance(q, wq.Not):
        return []
    if isinstance(q, wq.AndNot):
        return scoring_terms(q.a, boost)
    if isinstance(q, wq.Phrase):
        return [(q.fieldname, w, boost) for w in q.words]
    if isinstance(q, wq.Term):
        return [(q.fieldname, q.text, boost)]
    if isinstance(q, wq.BinaryQuery):
        return scoring_terms(q.a, boost) + scoring_terms(q.b, boost)
    if isinstance(q, wq.CompoundQuery):
        return [t for sub in q.subqueries for t in scoring_terms(sub, boost)]
    return []


def is_plain_or(q: wq.Query) -> bool:
    """Whether a document matches exactly when it holds one of the query's terms."""
    if isinstance(q, wq.Term) and not isinstance(q, ExactTerm):
        return True
    if isinstance(q, Word):
        return is_plain_or(q.child)
    return isinstance(q, wq.Or) and bool(q.subqueries) and all(is_plain_or(s) for s in q.subqueries)


def filter_query(filters: Filters | None) -> wq.Query | None:
    if filters is None or filters.is_empty():
        return None
    parts: list[wq.Query] = []
    for name in ("region", "issuer", "doc_type", "section"):
        values = filters.values(name)
        if values:
            terms = [wq.Term(name, v if name == "section" else canonical_issuer(normalise(v)) if name == "issuer"
                             else normalise(v)) for v in values]
            parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    if filters.source:
        parts.append(wq.Prefix("source", filters.source.strip()))
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(wq.NumericRange("year", filters.year_from, filters.year_to))
    return wq.And(parts)

