"""Passages like a given one, from other reports first, or the nearest of each other region. A function
of the engine (search/engine.py)."""
from __future__ import annotations

import functools

from . import fusion
from .checks import SearchError, check_paging
from .hits import Filters
from .reading import results

# How far the list of similar passages reaches: the nearest 300 (near-duplicates folded), and for the
# nearest of each other region the nearest 1,000. Fixed, so that every page of it has the same total.
DEPTH, REGION_DEPTH = 300, 1000


def similar(engine, passage_id: str, k: int = 10, offset: int = 0, filters: Filters = Filters(),
            by: str | None = None) -> dict:
    """Passages most like a given one (the DEPTH nearest, near-duplicates folded); passages from other
    reports first. With `by="region"`, the most similar passage of each other region (city or
    province) among the REGION_DEPTH nearest, best first. `total` counts the whole list, the same on
    every page."""
    check_paging("semantic", k, offset)
    source = engine.store.passage(passage_id)
    if source is None:
        raise KeyError(passage_id)
    engine._require_vectors()
    depth = REGION_DEPTH if by else DEPTH
    if by not in (None, "region"):
        raise SearchError(f"by must be region, not '{by}'")
    ranked = engine.retrieval.similar(passage_id, depth, filters)
    if ranked is None:
        raise KeyError(passage_id)
    same_doc = {p.passage_id for p in engine.store.document_passages(source.doc_id)}
    others = [h for h in ranked.hits if h.passage_id not in same_doc]
    own = [h for h in ranked.hits if h.passage_id in same_doc]
    fused = [fusion.Fused(h.passage_id, h.score, {"semantic": (i, h.score)})
             for i, h in enumerate(others + own, 1)]
    if by is not None:
        fused = one_per_region(engine, fused, passage_id)
    fused = engine._collapse(fused)
    return {"passage_id": passage_id, **({"by": by} if by else {}), "total": len(fused),
            "results": results(engine, fused[offset:offset + k], None, False)}


def one_per_region(engine, fused: list, passage_id: str) -> list:
    """The best of each region other than the given passage's own; reports of unknown region left out."""
    region_of = functools.partial(engine.facet_index.value_of, "region")
    seen = {region_of(passage_id)} - {None}
    out = []
    for f in fused:
        region = region_of(f.passage_id)
        if region and region not in seen:
            seen.add(region)
            out.append(f)
    return out
