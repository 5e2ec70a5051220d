"""Near-duplicate collapse: reports repeat template sentences; show each once."""
from __future__ import annotations

import bisect
import functools
import math
from dataclasses import replace

from indexer.text import WORD_CHAR

from .fusion import Fused


def shingles(norm_text: str, n: int = 3) -> frozenset[str]:
    return _char_shingles("".join(WORD_CHAR.findall(norm_text)), n)


def _char_shingles(chars: str, n: int = 3) -> frozenset[str]:
    if len(chars) <= n:
        return frozenset([chars]) if chars else frozenset()
    return frozenset(chars[i:i + n] for i in range(len(chars) - n + 1))


def _sample(sh: frozenset[str], size: int = 8) -> tuple[str, ...]:
    """A deterministic handful of a set's trigrams."""
    return tuple(sorted(sh)[:: max(1, len(sh) // size)][:size])


@functools.lru_cache(maxsize=2048)  # about 20 KB each; a server meets the same passages again
def signature(norm_text: str) -> tuple[str, frozenset[str], tuple[str, ...]]:
    """A passage's word characters, their trigrams and a sample of those."""
    key = "".join(WORD_CHAR.findall(norm_text))
    sh = _char_shingles(key)
    return key, sh, _sample(sh)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


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
