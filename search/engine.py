"""The search API: open an index directory once, then search, find similar
passages and read passages and documents. The CLI and the web app call only this.

This module ranks (lists, match set, fusion, wording, collapse); what the engine answers beyond a
search is each in a module of its own, a function of the engine: compare (search/compare.py),
formulations (search/phrases.py), similar passages (search/similar.py), passages and reports
(search/reading.py). Settings: search/settings.py; checks of arguments: search/checks.py.
A little over ~350 lines because ranking is one thing, read in order: lists → match set → fusion →
wording → collapse → pages."""
from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
from whoosh import query as wq

from indexer.analysis import passage_phrase_chars, phrase_chars
from indexer.duplicates import Duplicates
from indexer.encoders import CALIBRATED_MODELS
from indexer.formats import BACKENDS
from indexer.formats import vectors as vector_format
from indexer.formats.keyword import exact_text, ranking_arrays
from indexer.layout import IndexDir, IndexUnavailable
from indexer.store import PassageStore, doc_id_of

from . import collapse as near_dupes
from . import compare, fusion, matching, outline, phrases, reading, similar, wording
from .backend import EmbeddedRetrieval
from .checks import (
    MAX_K,
    MAX_OFFSET,
    MODES,
    PAGE_DEPTH,
    SearchError,
    check_paging,
    years_in_order,
)
from .hits import Filters, Hit, Note, Ranked
from .keyword import KeywordSearcher, QueryReader
from .query import ParsedQuery, QueryError
from .settings import SearchSettings

RANKERS = ("interpolate", "learned")  # how hybrid results are ordered (SearchSettings.ranker)
NEAREST = 5  # passages offered, under their own heading, when nothing reaches the match definition


# What a page, the CLI and the API say of a query the domain check put outside the reports' field.
OUTSIDE_NOTE = Note("the query seems to lie outside what these reports cover, and no passage holds its words: "
                    "only a passage very close in meaning counts as a match",
                    "这个查询看来不在这些报告的范围内，也没有段落含其词语：只有意思非常接近的段落才计为匹配")


class Engine:
    def __init__(self, index_dir: str | Path, settings: SearchSettings = SearchSettings(), load_model: bool = True,
                 backend: str | None = None, milvus_uri: str | None = None,
                 side_by_side: bool | Callable[[], bool] = False):
        """Open an index directory's active build; `backend` 'embedded' or 'milvus' (default: the one
        the build was written for), `milvus_uri` where its Milvus is reached from here.

        `side_by_side` is for a server that gives each request one BLAS thread: True, or a function
        saying whether a core is spare now (web/serving.py: no other request computing). While one is,
        a hybrid query's semantic side runs in a thread beside its words', and the product with every
        sentence vector is split over the cores; under load, each query keeps to its thread (measured in
        bench/README.md, "Serving"; with BLAS on every core, the library default, it oversubscribes them)."""
        self._spare = side_by_side if callable(side_by_side) else (lambda: True) if side_by_side else None
        self.directory = IndexDir(index_dir)
        if settings.ranker not in RANKERS:
            raise SearchError(f"ranker must be one of {', '.join(RANKERS)}, not '{settings.ranker}'")
        self.settings = settings
        self.manifest = self.directory.read_manifest()
        build = self.directory.active_build(self.manifest)
        self.store = PassageStore(build.passages, readonly=True)
        self.backend = backend or ("milvus" if "milvus" in self.manifest else "embedded")
        if self.backend not in BACKENDS:
            raise SearchError(f"backend must be one of {', '.join(BACKENDS)}, not '{self.backend}'")
        from . import thesaurus

        self.thesaurus = thesaurus.load(settings.thesaurus_file)
        reader = QueryReader(self.thesaurus, settings.expansion_weight)
        has_second = "second_encoder_spec" in self.manifest
        self.has_vectors = "model" in self.manifest
        if self.backend == "milvus":
            if "milvus" not in self.manifest:
                raise IndexUnavailable(f"index in {self.directory.path} was not written to Milvus: "
                                       f"re-run `report-search index --backend milvus`")
            from .milvus import MilvusRetrieval

            self.keyword = None
            self.retrieval = MilvusRetrieval(
                self.manifest["milvus"], self.store.passage_ids(), lambda pids: self.facet_index.mask_of(pids),
                reader.parse, reader.expansion_terms,
                {"dense": self._query_encoder, "dense2": lambda: self._query_encoder("second_encoder_spec")},
                uri=milvus_uri, sentence_weight=settings.sentence_weight,
                mean=lambda: vector_format.mean_vector(build.vectors))
            self.postings = ranking_arrays(build.keyword)
        else:
            self.keyword = KeywordSearcher(build.keyword, k1=settings.bm25_k1, b=settings.bm25_b, reader=reader,
                                           exact_texts=self._exact_texts)
            self.postings = self.keyword.ranking
            self.has_vectors = self.has_vectors and build.vectors.exists()
            self.retrieval = EmbeddedRetrieval(
                build, self.keyword, {"first": self._query_encoder,
                                      "second": lambda: self._query_encoder("second_encoder_spec")},
                has_second and build.second_vectors.exists(), settings.sentence_weight,
                spare=self._spare)
        same = self.postings.ids is self.retrieval.ids or self.postings.ids == self.retrieval.ids
        self._postings_ids = None if same else np.asarray(self.postings.ids, dtype=object)
        self._build_root = build.root
        self._facets = None
        self._phrases = None
        self._norms: dict[str, str] = {}  # passages' normalised texts, kept as they are read
        self._lock = threading.Lock()
        if load_model and self.has_vectors:
            self.retrieval.load_encoders()

    def _require_vectors(self) -> None:
        if not self.has_vectors:
            raise SearchError("this index has no embeddings: re-run `report-search index` without --no-embed")

    @property
    def semantic(self):
        """The embedded backend's vector searcher, loaded on first use."""
        self._require_vectors()
        return self.retrieval.searcher("first")

    @property
    def second(self):
        """The embedded backend's second vector searcher (None where the index has none)."""
        return self.retrieval.searcher("second") if self.retrieval.has_second else None

    def _query_encoder(self, key: str = "encoder_spec"):
        """The encoder the index was built with, on one thread; refused (IndexUnavailable,
        saying to re-index) where this installation's weights differ from the index's."""
        from indexer import encoders

        built = encoders.spec_of(self.manifest, key)
        if built is None:  # an index of version 0.2: m3e-small, no description
            raise IndexUnavailable(f"index in {self.directory.path} predates model descriptions: "
                                   f"re-run `report-search index`")
        try:
            encoder = encoders.open_query_encoder(self.directory, built.model, built.max_tokens, built.int8)
            encoders.check_compatible(built, encoder.spec)
        except encoders.IncompatibleModel as exc:
            raise IndexUnavailable(str(exc)) from None
        return encoder

    def close(self) -> None:
        for pool in self.__dict__.get("_pools", ()):
            pool.shutdown(wait=False)
        self.retrieval.close()
        self.store.close()

    # ---- search
    def search(self, query: str, mode: str | None = None, k: int = 10, offset: int = 0,
               filters: Filters = Filters(), explain: bool = False, facets: bool = False,
               diversify: bool = False) -> dict:
        """The results contract shared by the CLI's --json and the web API.

        With `facets`, also counts of region, year, issuer and doc_type over the
        whole match set (keyword matches, up to 10,000, and the ranked candidates).
        With `diversify`, no report holds more than 2 of the first 10 results (4 of 20 …) while
        other reports match.
        """
        mode = mode or self.settings.mode
        check_paging(mode, k, offset)
        parsed = self.retrieval.parse(query)
        filters = years_in_order(filters, parsed.notes)
        ranked, match = self._rank(parsed, mode, offset + k, filters, diversify=diversify)
        page = ranked[offset:offset + k]
        total = int(match.sum())
        result = {"query": query, "mode": mode, "total": total, "results": self._results(page, parsed, explain)}
        by_rule = self.matched_by(parsed, mode, filters, total)
        if by_rule is not None:
            result["matched_by"] = by_rule
        if total == 0 and mode != "keyword" and parsed.free_text and offset == 0:
            nearest, _ = self._rank(parsed, mode, NEAREST, filters, floor=None)
            result["nearest"] = self._results(nearest[:NEAREST], parsed, False)
        notes = list(parsed.notes)
        if mode == "hybrid" and self._learning[1]:
            notes.append(self._learning[1])
        if notes:
            result["notes"] = notes
        if parsed.expansions:  # what the query was searched with besides its own words
            result["expansions"] = [{"term": term, "added": list(added)} for term, added in parsed.expansions]
        if explain:
            self._explain_ranker(result["results"], parsed)
        if facets:
            result["facets"] = {name: [{"value": v, "count": c} for v, c in pairs]
                                for name, pairs in self._facet_counts(parsed, mode, filters, match).items()}
        return result

    def _facet_counts(self, parsed: ParsedQuery, mode: str, filters: Filters, match: np.ndarray) -> dict:
        """Each facet's values with their matches. A facet whose own filter is set counts the matches
        under the other filters (as search engines count a facet one may pick several values of): the
        region facet of a search filtered to 海南省 still lists every region, each with the total that
        choosing it instead gives, and ＋ on the page adds one (any of them)."""
        index = self.facet_index
        counts = index.counts(match)
        if filters.is_empty():
            return counts
        wider = [(name, others) for name, others in (
            ("region", replace(filters, region=None)), ("issuer", replace(filters, issuer=None)),
            ("doc_type", replace(filters, doc_type=None)), ("section", replace(filters, section=None)),
            ("year", replace(filters, year_from=None, year_to=None))) if others != filters]
        if not wider:
            return counts
        if self._floor is not None:
            # each passage matches by its own words and similarity (search/matching.py), whatever the
            # filters: the matches under fewer filters are the unfiltered ones those filters allow
            every = self._lists(parsed, mode, 1, Filters(), self._floor)[1]
            for name, others in wider:
                counts[name] = index.counts(every if others.is_empty() else every & self.retrieval.filtered_mask(others))[name]
        else:  # the ranked candidates match (README): they depend on the filters
            for name, others in wider:
                counts[name] = index.counts(self._rank(parsed, mode, 0, others)[1])[name]
        return counts

    @property
    def _floor(self) -> float | None:
        """The similarity floor of a match by meaning: the settings', where the index's first model is one
        the floors were calibrated for (e5-small); else None, its ranked candidates matching."""
        return self.settings.semantic_floor if self.manifest.get("model") in CALIBRATED_MODELS else None

    def _outside(self, parsed: ParsedQuery) -> bool:
        """Whether the domain check puts the query outside what the reports answer (search/domain.py);
        if so, its notes say it (OUTSIDE_NOTE: search, compare, outline and formulations alike). A query
        some passage of the corpus matches by its words, whatever the filters, is of the corpus's field
        whatever the model says (`微短剧`, `双减`, `冰雪旅游`, `美食街改造`: terms of recent reports the model
        puts outside at 0.79–0.97); one with phrases or operators matches by them alone anyway."""
        threshold = self.settings.domain_threshold
        if threshold is None or not parsed.free_text or self._domain is None or matching.constrained(parsed):
            return False
        if parsed.outside is None:
            if parsed.worded is None:
                self._lexical(parsed, Filters())
            parsed.outside = 0.0 if parsed.worded else self._domain.outside(self.retrieval.query_vector(parsed))
        if parsed.outside < threshold:
            return False
        if OUTSIDE_NOTE not in parsed.notes:
            parsed.notes.append(OUTSIDE_NOTE)
        return True

    @functools.cached_property
    def _domain(self):
        from . import domain

        return domain.for_model(self.manifest.get("model"))

    @staticmethod
    def matched_by(parsed: ParsedQuery, mode: str, filters: Filters, total: int) -> dict[str, int] | None:
        """How a total of the query's matches (its last _rank) splits by the rule each match meets first
        (search/matching.py RULES)."""
        by_rule = parsed.admitted.get((mode, filters))
        return dict(by_rule) if by_rule is not None and sum(by_rule.values()) == total else None

    def _explain_ranker(self, results: list[dict], parsed: ParsedQuery) -> None:
        """The features that moved each learned score most (LightGBM's pred_contrib), in the results' explain."""
        learned = [r for r in results if r["passage_id"] in parsed.learned and "ranker" in r.get("explain", {})]
        if not learned:
            return
        rows = np.vstack([parsed.learned[r["passage_id"]] for r in learned])
        for r, top in zip(learned, self._ranker.contributions(rows)):
            r["explain"]["ranker"]["features"] = [{"name": n, "contribution": round(v, 4)} for n, v in top]

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Each passage's place in the retriever's ids (the order of every mask)."""
        return {pid: i for i, pid in enumerate(self.retrieval.ids)}

    @property
    def facet_index(self):
        """Facet values of every passage, read on first use."""
        if self._facets is None:
            from .facets import FacetIndex

            with self._lock:
                if self._facets is None:
                    self._facets = FacetIndex(self.store, self.retrieval.ids)
        return self._facets

    def _lexical(self, parsed: ParsedQuery, filters: Filters) -> matching.Lexical:
        """The passages a query matches by its words, those sharing one with it, those holding its own
        words or an added term whole, and those matching by its own words (search/matching.py), as
        masks over the ids."""
        s = self.settings
        found = matching.lexical(self.postings, parsed, s.match_share, s.overlap_share, s.expansion_weight,
                                 s.common_cutoff)
        if found is not None and parsed.worded is None:  # before the filters (`_outside`)
            parsed.worded = bool(found.match.any())
        if found is None:  # phrases, operators: each word by the rule for words, the rest by the index's logic
            constraint = self._constraint(parsed, filters)
            return matching.Lexical(constraint, constraint, constraint, constraint)
        constraint = self.retrieval.matching_mask(parsed, filters) if parsed.strict else None
        masks = [self._by_id(m) for m in found]
        if constraint is not None:  # fields (region:…, year:…) and the filters
            masks = [m & constraint for m in masks]
        elif not filters.is_empty():
            allowed = self.retrieval.filtered_mask(filters)
            masks = [m & allowed for m in masks]
        return matching.Lexical(*masks)

    def _constraint(self, parsed: ParsedQuery, filters: Filters) -> np.ndarray:
        """What a query with phrases or operators matches (search/matching.py `boolean`), with the filters."""
        if not matching.has_words(parsed.keyword):
            return self.retrieval.matching_mask(parsed, filters)
        s = self.settings

        def word(text: str) -> np.ndarray:
            found = matching.lexical(self.postings, ParsedQuery(text, wq.NullQuery, text), s.match_share,
                                     s.overlap_share, s.expansion_weight, s.common_cutoff)
            return self._by_id(found.match) if found else np.zeros(len(self.retrieval.ids), dtype=bool)

        mask = matching.boolean(parsed.keyword, word,
                                lambda q: self.retrieval.matching_mask(replace(parsed, keyword=q, scored={})))
        return mask if filters.is_empty() else mask & self.retrieval.filtered_mask(filters)

    def _by_id(self, mask: np.ndarray) -> np.ndarray:
        """A mask over the ranking arrays' passages as a mask over the retriever's."""
        if self._postings_ids is None:
            return mask
        return self.facet_index.mask_of(self._postings_ids[mask])

    def _rank(self, parsed: ParsedQuery, mode: str, want: int, filters: Filters,
              floor: float | None | str = "settings", diversify: bool = False) -> tuple[list, np.ndarray]:
        """The query's matches, best first, as far as `want` asks, and the mask of all its matches
        (search/matching.py; `floor=None` ranks every candidate, for the nearest passages).
        The first results are fused from each list's first `candidates` (the setting tuned), the
        same whatever `want`; where a page reaches past them, the rest of the matches follow in one
        fixed order (each list to PAGE_DEPTH, then the matches none reached), so that pages neither
        overlap nor skip. With `diversify`, no report holds more than 2 of the first 10 results (4 of
        20 …) while other reports match, within each of those two parts."""
        s = self.settings
        if floor == "settings":
            floor = self._floor
        lists, match, _ = self._lists(parsed, mode, s.candidates, filters, floor)
        fused = self._fuse(lists, mode)
        if mode != "semantic" and parsed.free_text and s.wording_weight > 0:
            fused = self._wording_first(parsed, fused, s.candidates, filters)
        if floor is None:  # no floor: the ranked candidates match by meaning (README: What counts as a match)
            candidates = self.facet_index.mask_of(f.passage_id for f in fused) & ~match
            match = match | candidates
            by_rule = parsed.admitted.get((mode, filters))
            if by_rule is not None:
                by_rule["meaning"] += int(candidates.sum())
        spread = functools.partial(fusion.diversify, report_of=lambda f: doc_id_of(f.passage_id))
        head = self._collapse(self._within(fused, match))
        if mode == "hybrid" and parsed.free_text and self._ranker is not None:
            head = self._learned(parsed, head)
        head = spread(head) if diversify else head
        if want <= len(head) or floor is None:
            return head, match
        shown = {pid for f in head for pid in (f.passage_id, *f.duplicates)}
        if len(shown) >= int(match.sum()):
            return head, match
        deep, _, similarity = self._lists(parsed, mode, PAGE_DEPTH, filters, floor)
        tail = [f for f in self._within(self._fuse(deep, mode), match) if f.passage_id not in shown]
        if len(shown) + len(tail) < int(match.sum()):  # matches beyond every list's depth come last
            tail += self._unlisted(match, shown.union(f.passage_id for f in tail), similarity)
        tail = self._collapse(tail)
        return fusion.ranked_after(head, spread(tail) if diversify else tail), match

    def _unlisted(self, match: np.ndarray, listed: set[str], similarity: np.ndarray | None) -> list:
        """The matches that no list holds to its depth (a passage sharing one word of the query and
        close in meaning, ranked past PAGE_DEPTH by each list), by similarity, then in the ids' order:
        counted in the total, they are on a page too."""
        ids = self.retrieval.ids
        rows = np.flatnonzero(match & ~self.facet_index.mask_of(listed))
        if similarity is not None and len(rows):
            rows = rows[np.argsort(-similarity[rows], kind="stable")]
        rows = rows[:MAX_OFFSET + MAX_K]  # no page reaches further
        scores = similarity[rows] if similarity is not None else np.zeros(len(rows))
        return [fusion.Fused(ids[r], float(score) if np.isfinite(score) else 0.0) for r, score in zip(rows, scores)]

    def _lists(self, parsed: ParsedQuery, mode: str, depth: int, filters: Filters, floor: float | None
               ) -> tuple[dict[str, list[Hit]], np.ndarray, np.ndarray | None]:
        """Each retriever's best `depth` passages, the mask of the passages the query matches, and the
        first model's similarity where it decided the match (-inf where not computed; else None)."""
        lists: dict[str, list[Hit]] = {}
        lexical = overlap = own = users = similarity = None
        semantic = mode in ("semantic", "hybrid") and parsed.free_text
        # A query with thesaurus terms is judged without them too (_plain_similarity): where the cores
        # are free, that second embedding (20-50 ms on a CPU without VNNI) starts now, beside the lists.
        plain = (self._pools[1].submit(self.retrieval.embed, replace(parsed, expansions=[], scored={}))
                 if floor is not None and parsed.officials and parsed.free_text and self.has_vectors
                 and self.retrieval.side_by_side and self._spare and self._spare() else None)
        # The semantic side (matrix products, ONNX Runtime: the GIL released) runs beside the words'.
        pending = (self._pools[0].submit(self._semantic_search, parsed, depth, filters, floor is not None)
                   if semantic and mode == "hybrid" and self._spare and self._spare() and self.retrieval.side_by_side
                   else None)
        if mode in ("keyword", "hybrid") or (floor is not None and parsed.free_text):
            lexical, overlap, own, users = self._lexical(parsed, filters)
        if mode in ("keyword", "hybrid"):
            lists["keyword"] = self.retrieval.keyword(parsed, depth, filters).hits
        if semantic:
            sem, similarity = pending.result() if pending else self._semantic_search(parsed, depth, filters,
                                                                                    floor is not None)
            lists["semantic"] = sem.hits
        elif floor is not None and parsed.free_text and self.has_vectors and overlap is not lexical:
            # keyword mode: a passage holding part of the query's words matches where its meaning is
            # close; only those passages are scored
            if hasattr(self.retrieval, "similarity"):
                self._require_vectors()
                similarity = self.retrieval.similarity(parsed, overlap & ~lexical)
            else:
                similarity = self.retrieval.semantic(parsed, 1, filters, scored=True).similarity
        if similarity is not None and lexical is not None and matching.constrained(parsed):
            # phrases, operators: the backend ranked what its keyword index matches, a wider set than
            # the words' rule (search/matching.py `boolean`); nothing outside the constraint matches
            similarity = np.where(lexical, similarity, -np.inf)
        if mode == "semantic":
            lexical = None  # by meaning alone: words only lower the floor
        if floor is not None and similarity is not None and parsed.officials:
            similarity = self._plain_similarity(parsed, similarity, min(floor, self.settings.overlap_floor), own,
                                                plain)
        if floor is None or similarity is None:
            words = lexical if lexical is not None else np.zeros(len(self.retrieval.ids), dtype=bool)
            parts = matching.admitted(words, None, None, None, 0.0, users)
            parsed.admitted[(mode, filters)] = {rule: int(m.sum()) for rule, m in parts.items()}
            return lists, words, None
        overlap_floor = self.settings.overlap_floor
        if self.settings.background_margin is not None:  # a generic query resembles most of the corpus
            floor, overlap_floor = matching.lifted(floor, overlap_floor, self.retrieval.background(parsed),
                                                   self.settings.background_margin, similarity,
                                                   len(self.retrieval.ids))
        if self._outside(parsed):  # another field's query: what resembles it is no answer
            floor, overlap_floor = floor + self.settings.domain_lift, overlap_floor + self.settings.domain_lift
        parts = matching.admitted(lexical, overlap, similarity, None if mode == "keyword" else floor, overlap_floor,
                                  users)
        parsed.admitted[(mode, filters)] = {rule: int(m.sum()) for rule, m in parts.items()}
        return lists, matching.matches(parts), similarity

    def _plain_similarity(self, parsed: ParsedQuery, similarity: np.ndarray, floor: float,
                          holding: np.ndarray | None, ahead=None) -> np.ndarray:
        """The similarity a match by meaning is judged on where the thesaurus added official terms. Embedded
        with a list of official terms, a short colloquial query resembles a whole field (`种地不用再交公粮`
        with eight terms matched 10,550 of the 13,146 gov passages), so the terms lend their meaning only
        to passages `holding` half the user's own words' weight, a term whole or the query in a row
        (not 国家 and the 政策 of 生育政策: 1955's passages matched `国家放开生二胎`); any other passage
        must resemble the query without them too (the lower of the two similarities, computed for those
        reaching `floor`)."""
        unheld = similarity >= floor
        if holding is not None:
            unheld &= ~holding
        if not unheld.any():
            return similarity
        if ahead is not None:  # the plain query's embedding, started beside the lists (`_lists`)
            ahead.result()
        plain = self.retrieval.similarity(replace(parsed, expansions=[], scored={}), unheld)
        return np.where(unheld, np.minimum(similarity, plain), similarity)

    def _within(self, fused: list, match: np.ndarray) -> list:
        position = self.position
        return [f for f in fused if f.passage_id in position and match[position[f.passage_id]]]

    def _collapse(self, fused: list) -> list:
        if not self.settings.collapse:
            return fused
        known = self._duplicates
        if known is not None:  # the build's pairs: a look-up
            ids, position = self.retrieval.ids, self.position
            return near_dupes.collapse_known(
                fused, lambda pid: [ids[r] for r in known.of(position[pid])] if pid in position else ())
        return near_dupes.collapse(fused, self._norm_texts([f.passage_id for f in fused]),
                                   self.settings.collapse_threshold)

    @functools.cached_property
    def _duplicates(self):
        """The build's near-duplicate pairs (indexer/duplicates.py), where they were found at this
        threshold over the passages in the retriever's order; else None (texts compared per query)."""
        if not Duplicates.exists(self._build_root):
            return None
        known = Duplicates(self._build_root)
        same = (known.threshold == self.settings.collapse_threshold
                and len(known.offsets) == len(self.retrieval.ids) + 1
                and self.store.passage_ids() == list(self.retrieval.ids))
        return known if same else None

    def _fuse(self, lists: dict[str, list[Hit]], mode: str) -> list:
        s = self.settings
        if mode == "keyword" or "semantic" not in lists:
            return [fusion.Fused(h.passage_id, h.score, {"keyword": (i, h.score)})
                    for i, h in enumerate(lists.get("keyword", []), 1)]
        if mode == "semantic":
            return [fusion.Fused(h.passage_id, h.score, {"semantic": (i, h.score)})
                    for i, h in enumerate(lists["semantic"], 1)]
        weights = {"keyword": s.keyword_weight, "semantic": s.semantic_weight}
        return (fusion.interpolate(lists, weights) if s.fusion == "interpolate"
                else fusion.rrf(lists, weights, s.rrf_k))

    def _wording_first(self, parsed: ParsedQuery, fused: list, depth: int, filters: Filters) -> list:
        """Passages holding the query's own wording move up; those holding it in a row join the
        candidates even where neither retriever ranked them (a short, unquoted, plain query)."""
        chars = phrase_chars(parsed.free_text)
        words = wording.query_words(parsed.free_text)
        if len(chars) < 2:
            return fused
        head = fused[:depth]
        if not parsed.strict and len(chars) <= self.settings.wording_max_chars:
            known = {f.passage_id for f in fused}
            head += [fusion.Fused(pid, 0.0, {}) for pid in self.retrieval.phrase_ids(chars, filters, depth)
                     if pid not in known]
        texts = self._norm_texts([f.passage_id for f in head])
        parts = wording.query_parts(parsed.free_text)
        scores = {pid: wording.wording_score(chars, words, passage_phrase_chars(text), parts)
                  for pid, text in texts.items()}
        return wording.boost(head, scores, self.settings.wording_weight) + fused[depth:]

    @functools.cached_property
    def _learning(self) -> tuple:
        """(the packaged learned ranker, None) where the settings ask for it and this index's similarities
        are those it was trained on (search/ranker.py); else (None, why not: a note for hybrid results,
        None where interpolation was asked for)."""
        if self.settings.ranker != "learned" or not self.has_vectors:
            return None, None
        from . import ranker

        try:
            model = ranker.packaged()
        except ranker.RankerUnavailable as exc:
            why = str(exc)
        else:
            why = ("learned ranking runs on the embedded backend: results are ordered by interpolation"
                   if self.backend != "embedded" else model.expects(self.manifest))
        return (None, Note(why, "学习排序不适用于此索引，结果按加权融合排序")) if why else (model, None)

    @property
    def _ranker(self):
        return self._learning[0]

    def _learned(self, parsed: ParsedQuery, head: list) -> list:
        """The candidates reordered by the learned ranker: the first `candidates` of today's order are
        scored by the model; any beyond them follow, below. Each keeps its features for --explain."""
        from . import candidates, ranker

        block = head[:self.settings.candidates]
        matrix = ranker.features(candidates.signals(self, parsed, block))
        scores = ranker.with_wording(self._ranker.scores(matrix), matrix, self.settings.wording_weight)
        order = np.lexsort((np.arange(len(block)), -scores))
        parsed.learned = {block[i].passage_id: matrix[i] for i in order}
        ranked = [replace(block[i], score=float(scores[i]),
                                 sources={**block[i].sources, "ranker": (rank, round(float(scores[i]), 4))})
                  for rank, i in enumerate(order, 1)]
        return fusion.ranked_after(ranked, head[len(block):])

    def _semantic_search(self, parsed: ParsedQuery, depth: int, filters: Filters, scored: bool = False
                         ) -> tuple[Ranked, np.ndarray | None]:
        """The semantic list (the two models' joined), and with `scored` every passage's first-model
        similarity (search/matching.py). Once per query, depth and filters: a query that matches
        nothing asks again for its nearest passages, which the scored list holds already."""
        key = ("semantic", depth, filters)
        done = parsed.scored.get(key)
        if done is not None and (done[1] is not None or not scored):
            return done
        parsed.scored[key] = answer = self._semantic_lists(parsed, depth, filters, scored)
        return answer

    def _semantic_lists(self, parsed: ParsedQuery, depth: int, filters: Filters, scored: bool
                        ) -> tuple[Ranked, np.ndarray | None]:
        self._require_vectors()
        both = self.settings.second_weight > 0 and self.retrieval.has_second
        # Each model's list (its query encoder 5-10 ms, its products 3-10 ms) takes a core: the second
        # runs beside the first where the backend computes them here.
        pending = (self._pools[1].submit(self.retrieval.semantic, parsed, depth, filters, second=True)
                   if both and self.retrieval.side_by_side and (self._spare is None or self._spare()) else None)
        first = self.retrieval.semantic(parsed, depth, filters, scored=scored)
        if not both:
            return first, first.similarity
        other = pending.result() if pending else self.retrieval.semantic(parsed, depth, filters, second=True)
        lists = {"first": first.hits, "second": other.hits}
        weights = {"first": 1.0, "second": self.settings.second_weight}
        n = self.settings.candidates
        both = fusion.interpolate({name: hits[:n] for name, hits in lists.items()}, weights)
        if any(len(hits) > n for hits in lists.values()):
            both = fusion.ranked_after(both, fusion.interpolate(lists, weights))
        return Ranked([Hit(f.passage_id, f.score) for f in both[:depth]]), first.similarity

    @functools.cached_property
    def _pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """Threads for the semantic side and for the second model's list (two pools: a task of the first
        waits for one of the second, never for its own pool)."""
        return (ThreadPoolExecutor(max_workers=4, thread_name_prefix="semantic"),
                ThreadPoolExecutor(max_workers=4, thread_name_prefix="second-model"))

    # What the engine answers beyond a search, each a function of the engine in a module of its own.
    compare = compare.compare
    outline = outline.outline
    phrases = phrases.phrases
    similar = similar.similar
    passage = reading.passage
    document = reading.document
    documents = reading.documents
    stats = reading.stats
    chosen = reading.chosen
    _results = reading.results

    def _exact_texts(self, ids: list[str]) -> dict[str, str]:
        return {pid: exact_text(p) for pid, p in self.store.passages(ids).items()}

    @property
    def phrase_index(self):
        """The build's formulations, read on first use."""
        if self._phrases is None:
            from .phrases import PhraseIndex

            if not PhraseIndex.exists(self._build_root):
                raise SearchError("this index has no formulations: re-run `report-search index`")
            doc_numbers = self.facet_index.doc_numbers
            with self._lock:
                if self._phrases is None:
                    self._phrases = PhraseIndex(self._build_root, doc_numbers, self.retrieval.ids)
        return self._phrases

    def _norm_texts(self, ids: list[str]) -> dict[str, str]:
        """Passages' normalised texts, kept as they are read: a query reads its candidates' (a few
        hundred rows, not the 2.3 M characters of a large index at its first query), a server
        soon holds those its queries reach."""
        norms = self._norms
        missing = [pid for pid in ids if pid not in norms]
        if missing:
            found = self.store.norm_texts(missing)
            with self._lock:
                norms.update(found)
        return {pid: norms[pid] for pid in ids if pid in norms}

__all__ = ["Engine", "SearchSettings", "SearchError", "QueryError", "IndexUnavailable", "Filters", "MAX_K",
           "MAX_OFFSET", "MODES"]
