"""Stock formulations (常用表述) over a set of passages (their format and how they are found:
indexer/formats/formulations.py). The occurrences in a set of passages (the passages a search
matches) are counted by report with NumPy, fragments give way to their longer forms, and query words,
numbers, dates and place names are left out.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.formats import formulations
from indexer.formats.formulations import MIN_CHARS, MIN_REPORTS
from indexer.text import compact, normalise

from .checks import MAX_K, check_mode, check_whole
from .facets import distinct_reports
from .hits import Filters


@dataclass(frozen=True)
class Phrase:
    text: str
    reports: int
    passages: int
    examples: list[str]


class PhraseIndex:
    """The formulations of a build, counted over any set of its passages."""

    def __init__(self, root: Path, doc_of: np.ndarray, ids: list[str]):
        # `reusable`: which formulations the build's classifier lets the panel show (None: every one)
        self.root = root
        self.passage, self.phrase, self.keys, self.reusable = formulations.load(root)
        self.doc_of = doc_of  # report number of each passage (keyword order)
        self.ids = ids

    @staticmethod
    def exists(root: Path) -> bool:
        return formulations.exists(root)

    @property
    def beside(self) -> np.ndarray:
        """How each formulation sits in the text, as the build recorded it (the classifier's features)."""
        return formulations.beside(self.root)

    def top(self, mask: np.ndarray, k: int = 20, exclude: str = "", order: list[int] | None = None,
            examples: int = 3) -> list[Phrase]:
        """The k formulations found in most distinct reports among the masked passages; fragments of a
        longer formulation found as widely are dropped, and so are formulations made only of the words
        of `exclude` (the query). Examples are passage ids, in `order` (passage numbers, best first)."""
        if mask.all():
            passage, phrase = self.passage, self.phrase
            n_passages, n_reports = self._whole
        else:
            chosen = mask[self.passage]
            passage, phrase = self.passage[chosen], self.phrase[chosen]
            n_passages, n_reports = self._counts(passage, phrase)
        if not len(phrase):
            return []
        # What a writer would not reuse (the build's classifier) is never shown, but it still stands
        # for its fragments: 特色社会主义 is not shown for 中国特色社会主义 found as widely.
        shown = self.reusable if self.reusable is not None else np.ones(len(self.keys), dtype=bool)
        shown_reports = np.where(shown, n_reports, 0)
        query = compact(normalise(exclude)) if exclude else ""
        # Candidates, most reports first, from those found in half as many reports as the k-th shown one
        # (a longer form found about as widely as a chosen fragment is among them, and the next ones
        # where fragments and the query's own words drop out); further down, to MIN_REPORTS, while what
        # is left could still change the choice.
        at_least = max(MIN_REPORTS, int(np.sort(shown_reports)[-min(k, len(n_reports))] * 0.5))
        while True:
            candidates = np.flatnonzero(n_reports >= at_least)
            ranked = sorted(candidates.tolist(), key=lambda c: (-n_reports[c], -len(self.keys[c]), self.keys[c]))
            out, complete = self._chosen(ranked, n_reports, k, query, shown)
            below = int(shown_reports[n_reports < at_least].max(initial=0))  # the most widely found left out
            if complete or at_least <= MIN_REPORTS or (len(out) >= k and below * 10 < n_reports[out].min() * 8):
                break
            at_least = max(MIN_REPORTS, int(at_least * 0.5))
        out.sort(key=lambda c: (-n_reports[c], -len(self.keys[c]), self.keys[c]))
        rank = None if order is None else {p: r for r, p in enumerate(order)}
        return [Phrase(self.keys[c], int(n_reports[c]), int(n_passages[c]),
                       self._examples(c, passage, phrase, rank, examples)) for c in out]

    def _chosen(self, ranked: list[int], n_reports: np.ndarray, k: int, query: str, shown: np.ndarray
                ) -> tuple[list[int], bool]:
        """The first k of the ranked candidates that are `shown`, each standing for its fragments found
        about as widely, without formulations of the query's words alone; and whether the rest of the
        candidates (found in no more reports than these) could change them: True where the choice
        stopped before them. A candidate not shown still stands for its fragments: they go too."""
        wide = lambda longer, shorter: n_reports[longer] * 10 >= n_reports[shorter] * 8  # noqa: E731
        out: list[int] = []
        hidden: dict[str, int] = {}  # each piece of a candidate not shown -> the most reports of one holding it
        for c in ranked:
            if len(out) >= k and not any(wide(c, o) for o in out):
                return out, True  # nothing further down can stand for a chosen one
            key = self.keys[c]
            if query and _only_query_words(key, query):
                continue
            fragments = [i for i, o in enumerate(out) if self.keys[o] in key and wide(c, o)]
            if not shown[c]:
                out = [o for i, o in enumerate(out) if i not in fragments]
                for a in range(len(key)):
                    for b in range(a + MIN_CHARS, len(key) + 1):
                        hidden[key[a:b]] = max(hidden.get(key[a:b], 0), int(n_reports[c]))
            elif fragments:  # the longest form wins over its own fragments found about as widely
                out[fragments[0]] = c
                out = [o for i, o in enumerate(out) if i not in fragments[1:]]
            elif (len(out) < k and not any(key in self.keys[o] and wide(o, c) for o in out)
                  and hidden.get(key, 0) * 10 < n_reports[c] * 8):
                out.append(c)
        return out, False

    def _counts(self, passage: np.ndarray, phrase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Passages and distinct reports of every formulation among these occurrences."""
        n = len(self.keys)
        return np.bincount(phrase, minlength=n), distinct_reports(phrase, self.doc_of[passage], n)

    @functools.cached_property
    def _whole(self) -> tuple[np.ndarray, np.ndarray]:
        return self._counts(self.passage, self.phrase)

    def _examples(self, c: int, passage: np.ndarray, phrase: np.ndarray, rank: dict[int, int] | None,
                  limit: int) -> list[str]:
        where = passage[phrase == c]
        if rank is not None:  # passage number -> its rank in the search
            where = sorted(where, key=lambda p: rank.get(int(p), len(rank) + int(p)))
        picked, docs = [], set()
        for p in where:  # one example per report first
            if int(self.doc_of[p]) not in docs:
                docs.add(int(self.doc_of[p]))
                picked.append(self.ids[int(p)])
                if len(picked) >= limit:
                    break
        return picked


_GENERIC_TAILS = ("", "工作", "活动", "项目", "情况")


def _only_query_words(key: str, query: str) -> bool:
    """Whether a formulation says nothing but the query (`垃圾分类` for the query 垃圾分类), or the query
    and a generic noun (`志愿服务活动` for 志愿服务, `招商引资项目` for 招商引资)."""
    words = compact(key)
    return words in query or (len(query) >= 2 and query in words and words.replace(query, "") in _GENERIC_TAILS)


def phrases(engine, query: str | None = None, k: int = 20, filters: Filters = Filters(),
            mode: str | None = None) -> dict:
    """The formulations that recur across different reports among the passages a query matches
    (search/matching.py; every passage that passes the filters, without a query), most reports first."""
    check_whole("k", k, 1, MAX_K)
    index = engine.phrase_index
    order, notes = None, []
    if query is not None and query.strip():
        mode = mode or engine.settings.mode
        check_mode(mode)
        parsed = engine.retrieval.parse(query)
        notes = parsed.notes
        ranked, mask = engine._rank(parsed, mode, 0, filters)  # the head: its order for the examples
        position = engine.facet_index.position
        order = [position[f.passage_id] for f in ranked if f.passage_id in position]
    elif filters.is_empty():
        mask = np.ones(len(engine.retrieval.ids), dtype=bool)
    else:
        mask = engine.retrieval.filtered_mask(filters)
    found = index.top(mask, k, exclude=query or "", order=order)
    result = {"query": query or "", "passages": int(mask.sum()),
              "phrases": [{"text": p.text, "reports": p.reports, "passages": p.passages, "examples": p.examples}
                          for p in found]}
    if notes:
        result["notes"] = list(notes)
    return result
