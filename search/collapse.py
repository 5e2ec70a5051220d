"""Near-duplicate collapse: reports repeat template sentences; show each once.

What counts as a near duplicate is indexer/duplicates.py's; a build lists every pair, so collapsing is
a look-up (`collapse_known`). `collapse` compares the texts themselves, for an index without the list
or another threshold; both keep the same passages."""
from __future__ import annotations

import bisect
import math
from dataclasses import replace
from typing import Callable, Iterable

from indexer.duplicates import jaccard, signature

from .fusion import Fused


def collapse_known(ranked: list[Fused], neighbours: Callable[[str], Iterable[str]]) -> list[Fused]:
    """Keep the best of each group of near duplicates, `neighbours(passage_id)` giving a passage's; a
    passage folds into the first kept one it duplicates, which lists the others."""
    kept: list[Fused] = []
    at: dict[str, int] = {}  # kept passage → its place in `kept`
    folded: dict[int, list[str]] = {}
    for item in ranked:
        into = min((at[n] for n in neighbours(item.passage_id) if n in at), default=None)
        if into is not None:
            folded[into].append(item.passage_id)
            continue
        at[item.passage_id] = len(kept)
        folded[len(kept)] = []
        kept.append(item)
    return [replace(item, duplicates=tuple(folded[i])) if folded[i] else item for i, item in enumerate(kept)]


def collapse(ranked: list[Fused], norm_texts: dict[str, str], threshold: float = 0.9) -> list[Fused]:
    """Keep the best of each group of passages whose normalised texts are identical
    or nearly so (trigram Jaccard >= threshold); the kept one lists the others."""
    kept: list[Fused] = []
    kept_shingles: list[frozenset[str]] = []
    kept_samples: list[tuple[str, ...]] = []
    by_size: list[tuple[int, int]] = []  # (trigram count, index in kept), sorted
    folded: dict[int, list[str]] = {}
    exact: dict[str, int] = {}
    for item in ranked:
        key, sh, sample = signature(norm_texts.get(item.passage_id, ""))
        if key in exact:
            folded[exact[key]].append(item.passage_id)
            continue
        # Cheap tests first: Jaccard can reach the threshold only between sets of
        # similar size (found by bisection in `by_size`) that share nearly all of a
        # sample of each other's trigrams.
        size = len(sh)
        window = by_size[bisect.bisect_left(by_size, (math.ceil(threshold * size), -1)):
                         bisect.bisect_right(by_size, (math.floor(size / threshold), len(kept)))]
        match = next((i for i in sorted(i for _, i in window)
                      if len(kept_shingles[i].intersection(sample)) >= len(sample) - 2
                      and len(sh.intersection(kept_samples[i])) >= len(kept_samples[i]) - 2
                      and jaccard(sh, kept_shingles[i]) >= threshold), None)
        if match is not None:
            folded[match].append(item.passage_id)
            continue
        exact[key] = len(kept)
        folded[len(kept)] = []
        bisect.insort(by_size, (size, len(kept)))
        kept.append(item)
        kept_shingles.append(sh)
        kept_samples.append(sample)
    return [replace(item, duplicates=tuple(folded[i])) if folded[i] else item for i, item in enumerate(kept)]
