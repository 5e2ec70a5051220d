"""Exact wording first: how closely a passage holds an unquoted query's own wording.

A writer who types `思路决定出路` or `高度重视 周密部署 狠抓落实` without quotes wants the
passages that say exactly that before passages that only share some of its words. Search
engines do this with phrase and proximity boosts; here it is one pure score per passage:

- 1.0 when the query's characters stand in a row in the passage (punctuation, spaces and
  script ignored, as in a quoted phrase);
- else, when all the query's words occur in the passage in the query's order, closeness:
  `NEAR_BASE` × (the words' total length / the span that holds them), at most `NEAR_BASE`;
- else, for a query of parts split by spaces (`高度重视 周密部署 狠抓落实`: phrases the writer
  remembers, not their order or distance), `PARTS_BASE` × the share of its characters in
  parts that stand in the passage in a row, when at least two parts do;
- else 0.

`boost` adds `weight` × that score to fused scores; pure, tested on hand-made lists.
"""
from __future__ import annotations

from dataclasses import replace

from indexer.analysis import phrase_chars, word_terms

from .fusion import Fused

NEAR_BASE = 0.6  # an in-order near match counts at most this much of an exact one
MAX_SPAN_FACTOR = 3.0  # words spread wider than this × their length are not "close"
PARTS_BASE = 0.5  # every space-separated part of the query found whole, anywhere in the passage


def query_parts(text: str) -> list[str]:
    """A query's space-separated parts (as `phrase_chars`), when it has two or more."""
    parts = [c for c in (phrase_chars(p) for p in text.split()) if len(c) >= 2]
    return parts if len(parts) >= 2 else []


def query_words(text: str) -> list[str]:
    """The query's words in order, whole words only (jieba's search-mode parts dropped)."""
    terms = word_terms(text)
    whole = [t for t in terms if not any(o is not t and o.start <= t.start and t.end <= o.end
                                         and (o.end - o.start) > (t.end - t.start) for o in terms)]
    out: list[str] = []
    for t in sorted(whole, key=lambda t: t.start):
        chars = phrase_chars(t.text)
        if chars and (not out or out[-1] != chars):
            out.append(chars)
    return out


def wording_score(query_chars: str, words: list[str], passage_chars: str, parts: list[str] = ()) -> float:
    """How closely a passage (its word characters, `phrase_chars`) holds the query's wording."""
    return max(wording_signals(query_chars, words, passage_chars, parts))


def wording_signals(query_chars: str, words: list[str], passage_chars: str, parts: list[str] = ()
                    ) -> tuple[float, float, float]:
    """The three ways a passage holds the query's wording: in a row (1.0 or 0), its words close in
    order (up to `NEAR_BASE`), its space-separated parts (up to `PARTS_BASE`); 0 past the first found."""
    if len(query_chars) >= 2 and query_chars in passage_chars:
        return 1.0, 0.0, 0.0
    near = _near(words, passage_chars) if len(words) >= 2 else 0.0
    found = [p for p in parts if p in passage_chars]
    whole = PARTS_BASE * sum(map(len, found)) / sum(map(len, parts)) if len(found) >= 2 else 0.0
    return 0.0, near, whole


def _near(words: list[str], passage_chars: str) -> float:
    """`NEAR_BASE` × closeness of the words' best in-order occurrence, 0 when none is close."""
    need = sum(len(w) for w in words)
    best = 0.0
    start = passage_chars.find(words[0])
    while start >= 0:
        at = start + len(words[0])
        for w in words[1:]:
            found = passage_chars.find(w, at)
            if found < 0:
                return best  # later starts cannot find the remaining words either
            at = found + len(w)
        if at - start <= MAX_SPAN_FACTOR * need:
            best = max(best, NEAR_BASE * need / (at - start))
        start = passage_chars.find(words[0], start + 1)
    return best


def boost(fused: list[Fused], scores: dict[str, float], weight: float) -> list[Fused]:
    """Fused results re-ordered with `weight` × wording score added (ties: passage id). The `wording`
    source's rank counts from 1 among the passages with a wording score, best first, as the lists' do."""
    if weight <= 0 or not any(scores.values()):
        return fused
    held = sorted((pid for pid, s in scores.items() if s > 0), key=lambda pid: (-scores[pid], pid))
    rank = {pid: i for i, pid in enumerate(held, 1)}
    out = []
    for f in fused:
        s = scores.get(f.passage_id, 0.0)
        if s > 0:
            f = replace(f, score=f.score + weight * s,
                        sources={**f.sources, "wording": (rank[f.passage_id], round(s, 4))})
        out.append(f)
    return sorted(out, key=lambda f: (-f.score, f.passage_id))
