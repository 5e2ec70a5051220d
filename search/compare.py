"""Compare across regions, years and issuers: a query's matches counted per group, each group's best
passages, and matches per year as series for a chart. A function of the engine (search/engine.py)."""
from __future__ import annotations

import numpy as np

from indexer.metadata import canonical_value

from .checks import SearchError, check_whole, prepared
from .hits import Filters
from .reading import results

COMPARE_BY = ("region", "year", "issuer")
MAX_COMPARE_K, MAX_GROUPS = 20, 100
UNKNOWN = "未知"


def compare(engine, query: str, by: str = "region", k: int = 3, groups: int = 20, filters: Filters = Filters(),
            mode: str | None = None, series_by: str | None = None, series: tuple[str, ...] = ()) -> dict:
    """A query's matches per region, year or issuer: each group with its count of matching passages
    and reports (over the whole match set, search/matching.py) and its k best passages among the
    query's first ranked (each list's `candidates`, fused): the `groups` with most matching passages (of
    `group_count`), years then in order, other groups most passages first, unknown values last (未知). `series`: matches per year, for all of them and for each of the given values of
    `series_by` (region or issuer), for a chart."""
    if by not in COMPARE_BY:
        raise SearchError(f"by must be one of {', '.join(COMPARE_BY)}, not '{by}'")
    if series_by not in (None, "region", "issuer"):
        raise SearchError(f"series_by must be region or issuer, not '{series_by}'")
    check_whole("k", k, 1, MAX_COMPARE_K)
    check_whole("groups", groups, 1, MAX_GROUPS)
    mode, parsed, filters = prepared(engine, query, mode, filters)
    ranked, match = engine._rank(parsed, mode, 0, filters)  # the head (no deep pages): the best per group
    index = engine.facet_index
    counts = index.group_counts(match, by)
    members: dict = {}
    for f in ranked:
        members.setdefault(index.value_of(by, f.passage_id), []).append(f)
    first = {value: i for i, value in enumerate(members)}
    # the `groups` with most matches (the unknown group last, where there is room); years then in order
    known = sorted((v for v in counts if v is not None), key=lambda v: (-counts[v][0], first.get(v, len(first)), str(v)))
    order = (known + ([None] if None in counts else []))[:groups]
    if by == "year":
        order = sorted(v for v in order if v is not None) + [v for v in order if v is None]
    out = []
    for value in order:
        passages, reports = counts[value]
        out.append({"value": value if value is not None else UNKNOWN, "known": value is not None,
                    "passages": passages, "reports": reports,
                    "results": results(engine, members.get(value, [])[:k], parsed, False)})
    result = {"query": query, "by": by, "mode": mode, "total": int(match.sum()),
              "reports": int(len(np.unique(index.doc_numbers[match]))), "groups": out, "group_count": len(counts),
              "series": year_series(engine, match, series_by, series)}
    by_rule = engine.matched_by(parsed, mode, filters, result["total"])
    if by_rule is not None:
        result["matched_by"] = by_rule
    if parsed.notes:
        result["notes"] = list(parsed.notes)
    return result


def year_series(engine, match: np.ndarray, series_by: str | None, values: tuple[str, ...]) -> list[dict]:
    """Matches per year (passages, reports), for the whole match set and per value of a facet."""
    index = engine.facet_index
    values = tuple(dict.fromkeys(canonical_value(series_by, v) for v in values)) if series_by else ()  # either form
    parts = [("全部", match)] + [(v, match & index.mask_for(series_by, v)) for v in values]
    out = []
    for name, mask in parts:
        counts = index.group_counts(mask, "year")
        out.append({"name": name, "points": [{"year": y, "passages": counts[y][0], "reports": counts[y][1]}
                                             for y in sorted(v for v in counts if v is not None)]})
    return out
