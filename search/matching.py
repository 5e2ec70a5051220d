"""What a query matches: the one set every number counts (totals, facets, compare, formulations, exports).

Words (keyword and hybrid modes). A word weighs its idf, as in BM25. A plain query matches a passage
that holds half its words' weight (`垃圾分类 宣传`: 垃圾分类 weighs more than 宣传, so a passage with
宣传 alone does not match; Elasticsearch's `minimum_should_match` by weight; two or three words typed
without a space, `城市管理`, count where all are held), or the query's
characters in a row, or an official term the thesaurus added, whole (a term it found only inside a
longer one, `老头` in `老头乐`, lends its terms to the ranking alone). A compound is held whole or
through parts covering each of its characters (jieba's search mode gives 新质生产力 with 生产 and
生产力: a passage with 生产力 alone does not hold it; one with 城市 and 管理 holds 城市管理). With
AND / OR / NOT, each word matches so on its own and the operators join them (`boolean`); phrases and
fields match by their own logic (search/query.py); fields and filters constrain the words' matches.

Meaning (semantic and hybrid modes). A passage matches when the first model's similarity to the
query (passage and best sentence blended) reaches `semantic_floor`, or reaches the lower
`overlap_floor` while the passage holds a tenth of the query's word weight (keyword mode uses this
second rule too: a passage holding part of the words matches where its meaning is close). Where the
thesaurus added official terms, the similarity is the query's with them for the passages that match
by the user's own words (half their weight, or in a row) or hold a term whole (`own`), and the lower
of that and the plain query's for the others (Engine._plain_similarity).

Both floors rise where the query's mean similarity to the corpus's other passages (its background) plus
`background_margin` exceeds `semantic_floor`: a generic query resembles most passages (`lifted`); and by
`domain_lift` for a query the domain check puts outside what the reports answer (search/domain.py): a
query from another field resembles some passages as closely as relevant ones resemble a real query.

The floors are calibrated on the dev sets and on queries no report answers (bench/README.md, "The
match definition"). Counting is over masks of every passage, so a facet's count is the total after
clicking it."""
from __future__ import annotations

import functools
import math
import re
from typing import Callable, NamedTuple

import numpy as np
from whoosh import query as wq

from indexer.analysis import phrase_chars, word_terms
from indexer.formats import bm25

from .query import ParsedQuery, Word


def word_weight(n_docs: int, holding: int) -> float:
    """A word's weight: its idf over the passages holding it in their text or headings, as in BM25."""
    return math.log(n_docs / (holding + 1)) + 1


def held_mask(postings: bm25.Postings, chars: str) -> np.ndarray:
    """Passages whose text or headings hold every character pair of `chars` (a word's characters in
    a row for words of two or three characters; a close superset for longer ones). One character:
    the word field."""
    if len(chars) == 1:
        return postings.holding("content", [chars]) | postings.holding("heading", [chars])
    return postings.holding("exact", [chars[i:i + 2] for i in range(len(chars) - 1)])


class Lexical(NamedTuple):
    match: np.ndarray  # passages holding `share` of the query's word weight
    overlap: np.ndarray  # passages holding `overlap_share` of it (for the lower similarity floor)
    # passages holding `share` of the user's own words' weight (no part of an added term counted), an
    # added term whole, or the query in a row: where the added terms lend the query their meaning
    own: np.ndarray
    # the matches by the user's own words (their weight, the query in a row), without an added term: the
    # rest of `match` matches by the official terms the thesaurus added (`演唱会`: 12 gov passages hold
    # it, 43 more 演艺经济 or 文旅融合)
    users: np.ndarray


def lexical(postings: bm25.Postings, parsed: ParsedQuery, share: float, overlap_share: float,
            expansion_weight: float, common: float = 1.0) -> Lexical | None:
    """Which passages a query's words match (they hold `share` of the query's word weight), which hold
    `overlap_share` of it, and which match by the user's own words or an added term whole (`own`), as
    masks over the postings' documents (SearchSettings); a query's fields constrain them further in
    the engine. A word weighs its idf, as in BM25, a compound with the words inside it (`_units`); a
    word of an official term the thesaurus added weighs `expansion_weight` of that and only adds to
    what a passage holds. A word held by more than `common` of the passages counts nothing towards
    `overlap_share` (`发展数字经济`: 发展 is in 56 % of the gov passages). None for a query with phrases
    or operators, or without words: the engine matches those by `boolean`."""
    if constrained(parsed):
        return None
    n_docs = postings.doc_count
    chars = phrase_chars(parsed.free_text)
    in_a_row = held_mask(postings, chars) if chars else np.zeros(n_docs, dtype=bool)
    match, overlap, own = in_a_row.copy(), in_a_row.copy(), in_a_row.copy()
    terms = word_terms(parsed.free_text)
    typed = {t.text for t in terms}
    officials = parsed.matching_officials
    added = [t for t in dict.fromkeys(w.text for o in officials for w in word_terms(o)) if t not in typed]

    @functools.cache  # a compound's parts are asked for by its weight and by its cover
    def holding(term: str) -> np.ndarray:
        return postings.holding("content", [term]) | postings.holding("heading", [term])

    # Each unit's weight held where the passage holds it (for the overlap, but for words most passages
    # hold); the units of a part typed without a space (`_typed_together`) only where it holds them all
    # (for the match)
    held, together, total = np.zeros(n_docs), np.zeros(n_docs), 0.0
    for group in _typed_together(_units(terms), parsed.free_text):
        masks, weights = [], []
        for word, parts in group:  # the user's words: a compound, or its parts covering it all
            mask = holding(word.text)
            # the compound weighs what it and its parts weigh (as in BM25 over search-mode words)
            weights.append(word_weight(n_docs, int(mask.sum())) + sum(
                word_weight(n_docs, int(holding(t).sum())) for t in dict.fromkeys(p.text for p in parts)))
            masks.append(mask | _covered(word, parts, holding, postings) if parts else mask)
            if masks[-1].sum() <= common * n_docs:  # a word most passages hold is no part of their subject
                held[masks[-1]] += weights[-1]
        together[np.logical_and.reduce(masks)] += sum(weights)
        total += sum(weights)
    if total > 0:  # the user's own words alone
        own |= together >= share * total - 1e-9
    users = own.copy()
    for term in added:
        mask = holding(term)
        weight = expansion_weight * word_weight(n_docs, int(mask.sum()))
        held[mask] += weight
        together[mask] += weight
    if total > 0:
        match |= together >= share * total - 1e-9
        overlap |= held >= min(share, overlap_share) * total - 1e-9
    for official in dict.fromkeys(officials):
        chars = phrase_chars(official)
        if len(chars) > 1:
            whole = held_mask(postings, chars)
            match |= whole
            overlap |= whole
            own |= whole
    return Lexical(match, overlap, own, users)


def has_words(q: wq.Query) -> bool:
    """Whether a parsed query holds a word typed without a field (search/query.py `Word`)."""
    return isinstance(q, Word) or any(has_words(c) for c in q.children())


def boolean(q: wq.Query, word: Callable[[str], np.ndarray], other: Callable[[wq.Query], np.ndarray]
            ) -> np.ndarray:
    """What a query with operators matches, as a mask: each word as a plain query of that word alone
    would match it (`word`: half its weight, whole or by parts covering it, in a row), phrases, fields
    and ranges by the keyword index's own logic (`other`), joined as the operators say; the optional
    side of ANDMAYBE (words beside a phrase or field) only ranks. Whoosh's own match would count a
    word as held where one of its pieces is (`营商环境 AND 乡村振兴`: 99 gov passages, one of them
    holding 营商环境)."""
    if isinstance(q, Word):
        return word(q.text)
    if isinstance(q, wq.Not):
        return ~boolean(q.query, word, other)
    if isinstance(q, wq.AndNot):
        return boolean(q.a, word, other) & ~boolean(q.b, word, other)
    if isinstance(q, wq.AndMaybe):
        return boolean(q.a, word, other)
    if isinstance(q, wq.Require):
        return boolean(q.a, word, other) & boolean(q.b, word, other)
    if isinstance(q, (wq.And, wq.Or)) and q.subqueries and has_words(q):
        parts = [boolean(sub, word, other) for sub in q.subqueries]
        return np.logical_and.reduce(parts) if isinstance(q, wq.And) else np.logical_or.reduce(parts)
    return other(q)


def constrained(parsed: ParsedQuery) -> bool:
    """Whether a query's match is its keyword constraint alone (phrases, operators, no words): nothing
    more by meaning, whatever the mode."""
    return bool(parsed.phrases or parsed.operators or not parsed.free_text)


def _units(terms) -> list:
    """The query's words as jieba's search mode gives them, grouped: each word no other word contains,
    with the words inside it (新质生产力 with 生产 and 生产力; 城市管理 with 城市 and 管理). A passage
    holds the unit where it holds the word or parts covering every one of its characters: 生产力 alone
    is not 新质生产力, 城市 and 管理 are 城市管理."""
    units: list = []  # (word, parts), the words in the order of the text: jieba's words do not overlap
    for t in sorted(terms, key=lambda t: (t.start, t.start - t.end)):  # a word before the words inside it
        if units and units[-1][0].start <= t.start and t.end <= units[-1][0].end:
            if (t.start, t.end) != (units[-1][0].start, units[-1][0].end):
                units[-1][1].append(t)
        else:
            units.append((t, []))
    seen: set = set()  # a word typed twice counts once
    return [(word, parts) for word, parts in units if not (word.text in seen or seen.add(word.text))]


def _typed_together(units: list, text: str) -> list[list]:
    """The query's units (`_units`) in groups that must be held together: the two or three of a part
    typed without a space (`城市管理`, `数字经济`: jieba's dictionary has neither, and half of two words'
    weight is always the rarer word alone, so every passage holding 城市 matched `城市管理`; `道路环境整治`
    matched 53 passages of corpus/ by its words, one of which holds all three), each other unit alone
    (`垃圾分类 宣传`; a longer question, `喉咙痛低烧吃什么药`, whose words need not all be held)."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    part = [next((i for i, (a, b) in enumerate(spans) if a <= word.start < b), -1) for word, _ in units]
    groups: list[list] = []
    for i, unit in enumerate(units):
        if part.count(part[i]) in (2, 3) and i > 0 and part[i - 1] == part[i]:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups


def _covered(word, parts, holding, postings: bm25.Postings) -> np.ndarray:
    """Passages holding every character of a compound through its parts; a character no part covers
    through its character pair (新质生产力: 生产力 and the pairs 新质, 质生; 农业学大, a word of jieba's
    dictionary: 农业 and the pair 学大)."""
    text, start = word.text, word.start
    at = [[p for p in parts if p.start <= start + i < p.end] for i in range(len(text))]
    masks, pairs = [], []
    for i, covering in enumerate(at):
        if covering:
            masks.append(np.logical_or.reduce([holding(p.text) for p in covering]))
        else:
            pairs.append(text[i:i + 2] if i + 1 < len(text) else text[i - 1:i + 1])
    if pairs:
        masks.append(postings.holding("exact", list(dict.fromkeys(pairs))))
    return np.logical_and.reduce(masks)


def lifted(floor: float, overlap_floor: float, background: float, margin: float, similarity: np.ndarray,
           passages: int) -> tuple[np.ndarray | float, np.ndarray | float]:
    """The two similarity floors, per passage, for a query whose mean similarity to the corpus's
    `passages` is `background`: both raised by as much as the query's mean similarity to the other
    passages, plus `margin`, exceeds `floor`. A generic query resembles a whole corpus
    (`政府工作报告`: mean 0.89 over the gov passages, 11,692 of 13,142 matched in hybrid mode;
    `稳就业 保民生`, mean 0.87, 7,099), so a passage matches by meaning only where it stands out from
    that background; a specific query (`营商环境`: mean 0.83) keeps the floors. The passage itself is
    left out of its background (`similarity` stands for its share of the mean): in a corpus of one
    passage there is no background, in a small one a passage does not raise its own floor."""
    if passages < 2 or (passages * background + 1.0) / (passages - 1) + margin <= floor:
        return floor, overlap_floor  # no passage's background reaches the floor (a similarity is at least -1)
    known = np.isfinite(similarity)
    others = (passages * background - np.where(known, similarity, 0.0)) / (passages - 1)
    lift = np.where(known, np.maximum(0.0, others + margin - floor), 0.0)
    return floor + lift, overlap_floor + lift


RULES = ("words", "official_terms", "meaning", "meaning_and_some_words")  # a passage's rules, in that order
# What the page, the exports and the CLI's Chinese call each rule.
RULE_NAMES = {"words": "含查询的主要词语", "official_terms": "含对应的规范用语", "meaning": "语义足够接近",
              "meaning_and_some_words": "含部分词语且语义较近"}


def admitted(lexical: np.ndarray | None, overlap: np.ndarray | None, similarity: np.ndarray | None,
             floor: float | np.ndarray | None, overlap_floor: float | np.ndarray,
             users: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The match set by the first rule each passage meets (RULES): the lexical matches by the user's
    own words (`words`: those of `users`, all of `lexical` without it) and by the official terms the
    thesaurus added (`official_terms`: the rest of `lexical`), the passages whose similarity reaches
    `floor` (`meaning`; None: none on meaning alone, as in keyword mode), and those of `overlap` whose
    similarity reaches `overlap_floor` (`meaning_and_some_words`). Masks (None where a mode lacks one;
    without a similarity, the words alone); a floor is a number or one per passage, as `lifted` gives.
    The parts do not overlap: their counts add up to the total."""
    size = len(similarity) if similarity is not None else len(lexical) if lexical is not None else 0
    none = np.zeros(size, dtype=bool)
    lexical = none if lexical is None else lexical
    words = lexical if users is None else lexical & users
    meaning = none if floor is None or similarity is None else (similarity >= floor) & ~lexical
    some = (none if overlap is None or similarity is None
            else overlap & (similarity >= overlap_floor) & ~lexical & ~meaning)
    return dict(zip(RULES, (words, lexical & ~words, meaning, some)))


def matches(parts: dict[str, np.ndarray]) -> np.ndarray:
    """The match set: every passage `admitted` by one rule or another."""
    return np.logical_or.reduce(list(parts.values()))
