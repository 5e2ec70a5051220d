"""写作提纲: for a topic, a report's sections in their order (基本情况 → 主要做法与成效 → 存在问题 →
下一步打算 → 经验体会), each with its strongest passages from different reports and the
formulations that recur in that section rather than in the others. A function of the engine
(search/engine.py).

Each section's count is what a search for the topic with that section's filter reports (the same
match set, search/matching.py), so the numbers agree with the search page's.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from indexer.sections import ROLES
from indexer.store import doc_id_of

from .checks import check_whole, prepared
from .hits import Filters, Note
from .reading import results

OUTLINE_ROLES = tuple(role for role in ROLES if role != "other")  # a report's order
MAX_OUTLINE_K, MAX_OUTLINE_PHRASES = 10, 20
_PHRASE_POOL = 40  # each section's formulations weighed against the others' among this many
_LOOK_AT = 60  # the best passages of a section, among which its items are chosen


def outline(engine, topic: str, filters: Filters = Filters(), mode: str | None = None, k: int = 3,
            phrases: int = 8) -> dict:
    """The outline of a topic: for each section role, how many passages match (as a search with that
    section's filter counts them) and how many of those match by the topic's words, not by meaning
    alone (search/matching.py) or hold a short form the thesaurus gives for it (创文), in how many
    reports; among those, its `k` best passages from k
    different reports and up to `phrases` formulations whose share of the section's reports is
    higher than in any other section. A section whose passages are close to the topic only in
    meaning (problems paragraphs on the economy for 低空经济) shows none of them."""
    check_whole("k", k, 1, MAX_OUTLINE_K)
    check_whole("phrases", phrases, 0, MAX_OUTLINE_PHRASES)
    mode, parsed, filters = prepared(engine, topic, mode, filters)
    if filters.section:
        parsed.notes.append(Note(f"section '{filters.section}' ignored: an outline covers every section",
                                 f"提纲涵盖报告的每一部分，已忽略部分筛选“{filters.section}”"))
        filters = replace(filters, section=None)
    index, position = engine.facet_index, engine.facet_index.position
    forms = engine.thesaurus.short_forms(topic)
    parts = []
    for role in OUTLINE_ROLES:  # one after the other: side by side in threads measured slower (GIL)
        within = replace(filters, section=role)
        ranked, match = engine._rank(parsed, mode, 0, within)
        lexical = engine._lexical(parsed, within).match
        naming = match & lexical if lexical is not None else match
        if forms:  # 创文 for 创建文明城市: a report's own short form names the topic too
            naming = naming | (match & _holding(engine, match, forms))
        stored = engine.store.passages([f.passage_id for f in ranked[:_LOOK_AT]])
        best, seen = [], set()
        for f in ranked[:_LOOK_AT]:  # one passage per report, a paragraph rather than a heading alone
            doc = doc_id_of(f.passage_id)
            p = stored.get(f.passage_id)
            if (p is not None and p.heads < len(p.text.split("\n")) and doc not in seen
                    and naming[position[f.passage_id]]):
                seen.add(doc)
                best.append(f)
                if len(best) >= k:
                    break
        reports = int(len(np.unique(index.doc_numbers[naming])))
        pool = engine.phrase_index.top(naming, _PHRASE_POOL, exclude=topic) if phrases and naming.any() else []
        parts.append({"section": role, "name": ROLES[role], "passages": int(match.sum()),
                      "naming": int(naming.sum()), "reports": reports,
                      "results": results(engine, best, parsed, False), "pool": pool})
    for part in parts:
        part["phrases"] = [{"text": p.text, "reports": p.reports, "passages": p.passages, "examples": p.examples}
                           for p in _own(part, parts)[:phrases]]
    for part in parts:
        del part["pool"]
    result = {"query": topic, "mode": mode, "sections": parts}
    if parsed.notes:
        result["notes"] = list(parsed.notes)
    return result


def _holding(engine, match: np.ndarray, forms: list[str]) -> np.ndarray:
    """The matching passages whose text holds one of `forms` (normalised)."""
    ids = engine.retrieval.ids
    found = np.flatnonzero(match)
    norms = engine._norm_texts([ids[i] for i in found])
    out = np.zeros_like(match)
    out[[i for i in found if any(f in norms.get(ids[i], "") for f in forms)]] = True
    return out


def _own(part: dict, parts: list[dict]) -> list:
    """The formulations of a section that are at home there: found in a larger share of its matching
    reports than of any other section's (a formulation of 存在问题 is not one of 下一步打算)."""
    def share(p, where) -> float:
        return p.reports / where["reports"] if where["reports"] else 0.0

    elsewhere = [{p.text: share(p, other) for p in other["pool"]} for other in parts if other is not part]
    return [p for p in part["pool"] if all(share(p, part) > found.get(p.text, 0.0) for found in elsewhere)]
