"""A query's candidate block as the learned ranker sees it (search/ranker.py): each candidate's raw
signals gathered in one pass over the block, with NumPy over its rows. A function of the engine:
it reads the engine's lists, postings, vectors and texts, and ranks nothing itself."""
from __future__ import annotations

import functools

import numpy as np

from indexer.analysis import passage_phrase_chars, phrase_chars, word_terms
from indexer.text import normalise

from . import wording
from .keyword import scoring_terms
from .matching import word_weight
from .query import ParsedQuery
from .ranker import ABSENT_RANK, SECTIONS, SIGNALS, Signals


def signals(engine, parsed: ParsedQuery, block: list) -> Signals:
    """The raw signals of the fused candidates `block` (fusion.Fused, today's order) for a query."""
    n = len(block)
    facets, postings, s = engine.facet_index, engine.postings, engine.settings
    ids = [f.passage_id for f in block]
    rows = np.array([facets.position[pid] for pid in ids], dtype=np.int64)
    c: dict[str, np.ndarray] = {}
    c["fused"] = np.array([f.score for f in block], dtype=float)
    for name, key in (("kw", "keyword"), ("sem", "semantic")):
        found = [f.sources.get(key) for f in block]
        c[f"{name}_rank"] = np.array([r[0] if r else ABSENT_RANK for r in found], dtype=float)
        c[f"{name}_score"] = np.array([r[1] if r else 0.0 for r in found], dtype=float)
    c.update(postings.scores_at(scoring_terms(parsed.keyword), rows, s.bm25_k1, s.bm25_b))
    expanded = engine.keyword.reader.expansion_terms(parsed) if parsed.officials else []
    c["expansion"] = sum(postings.scores_at(expanded, rows, s.bm25_k1, s.bm25_b).values()) if expanded \
        else np.zeros(n)
    c["cos_own"], c["cos_best"], c["cos_second"] = _cosines(engine, parsed, ids)
    c["cos_feedback"] = _feedback(engine, ids)
    c["in_a_row"], c["near"], c["parts"] = _wording(engine, parsed, ids)
    (c["held"], c["held_heading"], c["held_title"]), idf = _held(postings, parsed.free_text, rows)
    c["length"] = np.asarray(postings.fields["content"].lengths[rows], dtype=float)
    labels = facets.labels["section"]
    codes = facets.codes["section"][rows]
    c["section"] = np.array([SECTIONS.index(labels[k]) if k >= 0 and labels[k] in SECTIONS else len(SECTIONS)
                             for k in codes], dtype=float)
    c["duplicates"] = np.array([len(f.duplicates) for f in block], dtype=float)
    c["report"] = facets.doc_numbers[rows].astype(float)
    query = {"query_chars": float(len(phrase_chars(parsed.free_text))),
             "query_words": float(len(wording.query_words(parsed.free_text))),
             "query_idf": idf, "query_expansions": float(len(parsed.officials))}
    assert set(c) == set(SIGNALS), set(c) ^ set(SIGNALS)
    return Signals(c, query)


def _cosines(engine, parsed: ParsedQuery, ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first model's cosine of each passage and of its best sentence; the second model's (NaN
    where the index has no second model)."""
    text = normalise(parsed.semantic_text)
    first = engine.semantic
    own, best = first.own_and_best(np.array([first.row[p] for p in ids], dtype=np.int64), first.embed_query(text))
    second = engine.second if engine.settings.second_weight > 0 else None
    if second is None:
        other = np.full(len(ids), np.nan)
    else:
        other = second.scores(np.array([second.row[p] for p in ids], dtype=np.int64), second.embed_query(text))
    return own, (own if best is None else best), other


FEEDBACK = 5  # the first candidates whose mean vector stands for what the query found


def _feedback(engine, ids: list[str]) -> np.ndarray:
    """Each passage's cosine (first model) to the mean of the first FEEDBACK candidates' vectors:
    how close it is to what the query found (pseudo-relevance feedback, in the vectors' space)."""
    first = engine.semantic
    vectors = first.matrix[np.array([first.row[p] for p in ids], dtype=np.int64)]
    centre = vectors[:FEEDBACK].mean(axis=0)
    norm = np.linalg.norm(centre)
    return vectors @ (centre / norm) if norm > 0 else np.zeros(len(ids))


def _wording(engine, parsed: ParsedQuery, ids: list[str]) -> tuple[np.ndarray, ...]:
    chars = phrase_chars(parsed.free_text)
    words, parts = wording.query_words(parsed.free_text), wording.query_parts(parsed.free_text)
    texts = engine._norm_texts(ids)
    found = np.array([wording.wording_signals(chars, words, passage_phrase_chars(texts.get(pid, "")), parts)
                      for pid in ids], dtype=float).reshape(len(ids), 3)
    return found[:, 0], found[:, 1], found[:, 2]


def _held(postings, free_text: str, rows: np.ndarray) -> tuple[tuple[np.ndarray, ...], float]:
    """Shares of the query's word weight (idf, as search/matching.py weighs words) each row holds in
    its text or headings, in its headings, in its report's title; and that weight."""
    held = [np.zeros(len(rows)) for _ in range(3)]
    total = 0.0
    for term in dict.fromkeys(t.text for t in word_terms(free_text)):
        found = {field: _holds(postings, field, term, rows) for field in ("content", "heading", "doctitle")}
        weight = _weight(postings, term)
        total += weight
        for i, mask in enumerate((found["content"] | found["heading"], found["heading"], found["doctitle"])):
            held[i] += weight * mask
    if total > 0:
        held = [h / total for h in held]
    return tuple(held), total


def _holds(postings, field: str, term: str, rows: np.ndarray) -> np.ndarray:
    found = postings.fields[field].postings(term) if field in postings.fields else None
    if found is None:
        return np.zeros(len(rows), dtype=bool)
    docs = found[0]
    return docs[np.minimum(np.searchsorted(docs, rows), len(docs) - 1)] == rows


@functools.lru_cache(maxsize=4096)
def _weight(postings, term: str) -> float:
    """A word's weight as search/matching.py weighs it, from its postings rather than masks."""
    docs = [f[0] for f in (postings.fields[n].postings(term) for n in ("content", "heading")) if f is not None]
    holding = len(np.union1d(*docs)) if len(docs) == 2 else len(docs[0]) if docs else 0
    return word_weight(postings.doc_count, holding)
