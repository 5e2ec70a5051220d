"""What every call of the engine checks: modes, page sizes and offsets, whole numbers, year ranges;
a bad value is a SearchError naming the parameter."""
from __future__ import annotations

from dataclasses import replace

from .hits import Filters, Note

MODES = ("hybrid", "keyword", "semantic")
MAX_K = 100
# Pages reach the first MAX_OFFSET + MAX_K results (as Elasticsearch's max_result_window): every one
# of them comes from one ranking, whatever the page size, so pages neither overlap nor skip.
MAX_OFFSET = 1_000
PAGE_DEPTH = MAX_OFFSET + MAX_K


class SearchError(ValueError):
    """A bad request: the message names the parameter."""


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


def prepared(engine, query: str, mode: str | None, filters: Filters):
    """(mode, parsed query, filters) as compare and outline take them: the mode (default: the
    engine's) checked, the query parsed, a reversed year range read the right way round (said in
    the query's notes)."""
    mode = mode or engine.settings.mode
    check_mode(mode)
    parsed = engine.retrieval.parse(query)
    return mode, parsed, years_in_order(filters, parsed.notes)


def years_in_order(filters: Filters, notes: list[str]) -> Filters:
    """A reversed year range read the right way round, and said so in `notes`."""
    a, b = filters.year_from, filters.year_to
    if a is None or b is None or a <= b:
        return filters
    notes.append(Note(f"year_from {a} is after year_to {b}: searched {b}–{a}", f"起始年份 {a} 晚于截止年份 {b}，已按 {b}–{a} 检索"))
    return replace(filters, year_from=b, year_to=a)
