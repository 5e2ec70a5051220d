"""Fusion of ranked lists: pure functions over hand-checkable inputs."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .hits import Hit


@dataclass(slots=True)  # not frozen: a frozen instance cost 3 µs to make, and a query makes hundreds
class Fused:
    passage_id: str
    score: float
    # per retriever: (1-based rank, retriever score); absent where it did not return the passage
    sources: dict[str, tuple[int, float]] = field(default_factory=dict)
    duplicates: tuple[str, ...] = ()  # near-identical passages folded into this one


def rrf(lists: dict[str, list[Hit]], weights: dict[str, float] | None = None, k: float = 60.0) -> list[Fused]:
    """Weighted reciprocal rank fusion: score = sum of weight / (k + rank)."""
    weights = weights or {}
    scores: dict[str, float] = {}
    sources: dict[str, dict[str, tuple[int, float]]] = {}
    for name, hits in lists.items():
        w = weights.get(name, 1.0)
        for rank, hit in enumerate(hits, 1):
            scores[hit.passage_id] = scores.get(hit.passage_id, 0.0) + w / (k + rank)
            sources.setdefault(hit.passage_id, {})[name] = (rank, hit.score)
    return _ordered(scores, sources)


def normalised_scores(hits: list[Hit]) -> dict[str, float]:
    """Min-max normalised scores in [0, 1]; all equal scores map to 1."""
    if not hits:
        return {}
    values = [h.score for h in hits]
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-12:
        return {h.passage_id: 1.0 for h in hits}
    return {h.passage_id: (h.score - lo) / (hi - lo) for h in hits}


def interpolate(lists: dict[str, list[Hit]], weights: dict[str, float] | None = None) -> list[Fused]:
    """Weighted sum of min-max normalised scores (a missing passage scores 0 in that list)."""
    weights = weights or {}
    scores: dict[str, float] = {}
    sources: dict[str, dict[str, tuple[int, float]]] = {}
    for name, hits in lists.items():
        w = weights.get(name, 1.0)
        norm = normalised_scores(hits)
        for rank, hit in enumerate(hits, 1):
            scores[hit.passage_id] = scores.get(hit.passage_id, 0.0) + w * norm[hit.passage_id]
            sources.setdefault(hit.passage_id, {})[name] = (rank, hit.score)
    return _ordered(scores, sources)


def ranked_after(head: list[Fused], ranked: list[Fused]) -> list[Fused]:
    """`head`, then the passages of `ranked` it lacks, in their order, their scores brought to stay
    at or below the head's last. How a longer page keeps a shorter page's order: the head is fused
    from each list's first candidates whatever the page size, deeper ranks only come after it.
    Scores are scaled when all are positive (their ratios kept), else shifted."""
    known = {f.passage_id for f in head}
    rest = [f for f in ranked if f.passage_id not in known]
    if not head or not rest:
        return head + rest
    floor, top = head[-1].score, max(f.score for f in rest)
    if top <= floor:
        return head + rest
    if floor > 0 and min(f.score for f in rest) >= 0:
        return head + [replace(f, score=f.score * floor / top) for f in rest]
    return head + [replace(f, score=f.score - (top - floor)) for f in rest]


def _ordered(scores: dict[str, float], sources: dict[str, dict[str, tuple[int, float]]]) -> list[Fused]:
    # Ties break on the passage id so the order is deterministic.
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    return [Fused(pid, scores[pid], sources[pid]) for pid in order]


def diversify(ranked: list, report_of, per_report: int = 2, window: int = 10) -> list:
    """The same items, no report holding more than `per_report` of any `window` ranks in a row from
    the top (2 of the first 10, 4 of the first 20 …) while other reports' items remain; the
    passages held back keep their order and fill in where nothing else is left."""
    out, held, counts = [], [], {}
    for item in ranked:
        report = report_of(item)
        if counts.get(report, 0) < per_report * (1 + len(out) // window):
            out.append(item)
            counts[report] = counts.get(report, 0) + 1
        else:
            held.append(item)
        # A held item may go in as soon as its report's allowance grows with the list.
        for waiting in list(held):
            report = report_of(waiting)
            if counts.get(report, 0) < per_report * (1 + len(out) // window):
                out.append(waiting)
                counts[report] = counts.get(report, 0) + 1
                held.remove(waiting)
    return out + held
