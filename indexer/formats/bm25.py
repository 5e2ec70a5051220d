"""Ranking arrays for the keyword index: per field, each term's postings as
NumPy arrays, so that BM25F scores a whole query in a few vector operations.

Whoosh stays the full-text index: it parses queries, matches phrases, boolean
operators and fields. These arrays only rank, with Whoosh's own BM25F formula
(its idf, its quantised field lengths), so both score a passage alike.

On disk, in one folder (this module is the only one that reads or writes it):

    meta.json               fields, document count, total length per field
    ids.json                passage id of each document number (Whoosh's order)
    <field>.terms.npy       the field's terms, sorted (unicode array)
    <field>.offsets.npy     where each term's postings start (int64, one more than terms)
    <field>.docs.npy        document numbers of the postings (int32)
    <field>.tfs.npy         term frequency of each posting (float32)
    <field>.lengths.npy     each document's quantised field length (float32)

Arrays are opened memory-mapped: start-up reads no postings.
"""
from __future__ import annotations

import functools
import json
import math
from array import array
from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

# BM25's parameters: the engine's defaults (search/engine.py SearchSettings), and what a Milvus build
# folds into its rows. Measured in bench/README.md ("Settings").
K1, B = 0.6, 0.75


class PostingsWriter:
    """Collects the tokens of each document, field by field, then writes the arrays."""

    def __init__(self, fields: Iterable[str]):
        self.fields = list(fields)
        self._vocab: dict[str, dict[str, int]] = {f: {} for f in self.fields}
        self._term: dict[str, array] = {f: array("i") for f in self.fields}
        self._doc: dict[str, array] = {f: array("i") for f in self.fields}
        self._tf: dict[str, array] = {f: array("f") for f in self.fields}
        self._lengths: dict[str, array] = {f: array("f") for f in self.fields}
        self._totals: dict[str, int] = {f: 0 for f in self.fields}
        self.ids: list[str] = []

    def add(self, passage_id: str, tokens: dict[str, list[str]]) -> None:
        """One document's tokens per field, in the order Whoosh numbers documents."""
        docnum = len(self.ids)
        self.ids.append(passage_id)
        for f in self.fields:
            toks = tokens.get(f, [])
            vocab = self._vocab[f]
            for text, tf in Counter(toks).items():
                self._term[f].append(vocab.setdefault(text, len(vocab)))
                self._doc[f].append(docnum)
                self._tf[f].append(tf)
            self._lengths[f].append(quantised_length(len(toks)))
            self._totals[f] += len(toks)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in self.fields:
            vocab = self._vocab[f]
            terms = np.array(sorted(vocab), dtype=str) if vocab else np.array([], dtype="<U1")
            rank = np.empty(len(vocab), dtype=np.int64)  # term id → position in sorted order
            for pos, text in enumerate(terms.tolist()):
                rank[vocab[text]] = pos
            term_pos = rank[np.frombuffer(self._term[f], dtype=np.int32)] if len(vocab) else np.zeros(0, np.int64)
            order = np.argsort(term_pos, kind="stable")  # documents stay ascending within a term
            offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
            np.cumsum(np.bincount(term_pos, minlength=len(vocab)), out=offsets[1:])
            np.save(folder / f"{f}.terms.npy", terms)
            np.save(folder / f"{f}.offsets.npy", offsets)
            np.save(folder / f"{f}.docs.npy", np.frombuffer(self._doc[f], dtype=np.int32)[order])
            np.save(folder / f"{f}.tfs.npy", np.frombuffer(self._tf[f], dtype=np.float32)[order])
            np.save(folder / f"{f}.lengths.npy", np.frombuffer(self._lengths[f], dtype=np.float32))
        (folder / "ids.json").write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")
        meta = {"fields": self.fields, "doc_count": len(self.ids), "total_lengths": self._totals}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def quantised_length(n: int) -> float:
    """A field length as Whoosh stores it (one byte, lossy)."""
    return float(byte_to_length(length_to_byte(n))) if n else 0.0


class _Field:
    def __init__(self, folder: Path, name: str, avg_length: float):
        # Memory-mapped, as plain arrays over the mapping (a memmap's slices cost a Python call each).
        load = lambda part: np.asarray(np.load(folder / f"{name}.{part}.npy", mmap_mode="r"))  # noqa: E731
        self.terms = np.load(folder / f"{name}.terms.npy")
        self.offsets, self.docs, self.tfs, self.lengths = (load(p) for p in ("offsets", "docs", "tfs", "lengths"))
        self.avg_length = avg_length or 1.0
        # A server meets the same terms again and again: their postings are found once (views, no copies).
        self.postings = functools.lru_cache(maxsize=8192)(self._postings)

    def _postings(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = int(np.searchsorted(self.terms, text))
        if i >= len(self.terms) or self.terms[i] != text:
            return None
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.docs[a:b], self.tfs[a:b]


class Postings:
    """The ranking arrays of one keyword index, opened read-only."""

    def __init__(self, folder: Path):
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.doc_count: int = meta["doc_count"]
        self.ids: list[str] = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        self.fields = {f: _Field(folder, f, meta["total_lengths"][f] / (self.doc_count or 1))
                       for f in meta["fields"]}

    def _postings_of(self, terms: list[tuple[str, str, float]]):
        """(field name, field, documents, term frequencies, idf, boost) of each term the index holds."""
        for fieldname, text, boost in terms:
            field = self.fields.get(fieldname)
            found = field.postings(text) if field is not None else None
            if found is not None:
                docs, tfs = found
                yield fieldname, field, docs, tfs, math.log(self.doc_count / (len(docs) + 1)) + 1, boost

    def score(self, terms: list[tuple[str, str, float]], k1: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        """BM25F scores of every document for (field, term, boost) triples, and
        which documents hold at least one of the terms."""
        scores = np.zeros(self.doc_count)
        matched = np.zeros(self.doc_count, dtype=bool)
        for _, field, docs, tfs, idf, boost in self._postings_of(terms):
            scores[docs] += bm25(idf, tfs, field.lengths[docs], field.avg_length, k1, b) * boost
            matched[docs] = True
        return scores, matched

    def scores_at(self, terms: list[tuple[str, str, float]], rows: np.ndarray, k1: float, b: float
                  ) -> dict[str, np.ndarray]:
        """Per field, the BM25F score of the documents `rows` alone for (field, term, boost) triples
        (the same figures `score` gives them, without scoring every document)."""
        out = {f: np.zeros(len(rows)) for f in self.fields}
        for fieldname, field, docs, tfs, idf, boost in self._postings_of(terms):
            at = np.minimum(np.searchsorted(docs, rows), len(docs) - 1)
            held = docs[at] == rows
            out[fieldname][held] += bm25(idf, tfs[at[held]], field.lengths[rows[held]], field.avg_length, k1, b) * boost
        return out

    def holding(self, fieldname: str, terms: list[str]) -> np.ndarray:
        """Which documents hold every one of the terms in a field (a mask)."""
        mask = np.zeros(self.doc_count, dtype=bool)
        field = self.fields.get(fieldname)
        found = [field.postings(t) for t in dict.fromkeys(terms)] if field is not None and terms else [None]
        if any(f is None for f in found):
            return mask
        found.sort(key=lambda f: len(f[0]))  # the rarest term's documents, kept where every other holds them
        docs = found[0][0]
        for other, _ in found[1:]:
            if not len(docs):
                break
            held = np.zeros(self.doc_count, dtype=bool)
            held[other] = True
            docs = docs[held[docs]]
        mask[docs] = True
        return mask


def bm25(idf: float, tf: np.ndarray, length: np.ndarray, avg_length: float, k1: float, b: float) -> np.ndarray:
    """Whoosh's BM25 term score, vectorised."""
    return idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avg_length))


def top_k(scores: np.ndarray, candidates: np.ndarray | None, k: int) -> np.ndarray:
    """Document numbers of the k best scores among `candidates` (a boolean mask; None: all), best
    first; ties go to the lower document number, as in Whoosh (so the same scores give the same list,
    however they were computed)."""
    docs = np.arange(len(scores)) if candidates is None else np.flatnonzero(candidates)
    if len(docs) > k:
        part = np.argpartition(-scores[docs], k - 1)[:k]
        cut = scores[docs[part]].min()
        docs = docs[scores[docs] >= cut]  # keep every tie at the cut, then order
    order = np.lexsort((docs, -scores[docs]))
    return docs[order][:k]
