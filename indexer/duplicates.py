"""Near duplicates, found once at build time: reports repeat template sentences, and a result list
shows each of them once (search/collapse.py).

Two passages are near duplicates when their word characters are identical, or when their character
trigram sets have a Jaccard similarity of at least the threshold (0.9) and each holds nearly all of a
deterministic sample of the other's trigrams. The build finds every such pair (an exact set-similarity
join with prefix filtering: two sets this similar share one of their rarest trigrams), so collapsing
a ranked list is a look-up at query time.

On disk, `duplicates.npz` in the build folder (this module writes and reads it):

    threshold   the Jaccard threshold the pairs were found at
    offsets     where each passage's neighbours start (int64, one more than passages; the
                passages in the store's order, `PassageStore.passage_ids`)
    neighbours  passage rows (int32), ascending within each passage
"""
from __future__ import annotations

import functools
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from .text import WORD_CHAR

FILE = "duplicates.npz"
THRESHOLD = 0.9


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


def similar(a: tuple, b: tuple, threshold: float) -> bool:
    """Whether two signatures are near duplicates (the cheap tests first)."""
    if a[0] == b[0]:
        return True
    (_, sa, pa), (_, sb, pb) = a, b
    small, large = sorted((len(sa), len(sb)))
    return (small >= threshold * large - 1e-9
            and len(sb.intersection(pa)) >= len(pa) - 2 and len(sa.intersection(pb)) >= len(pb) - 2
            and jaccard(sa, sb) >= threshold)


def pairs(norm_texts: Iterable[str], threshold: float = THRESHOLD) -> list[list[int]]:
    """Each passage's near duplicates (rows in the order given)."""
    sigs = [signature.__wrapped__(t) for t in norm_texts]
    neighbours: list[list[int]] = [[] for _ in sigs]
    by_key: dict[str, list[int]] = defaultdict(list)
    for row, sig in enumerate(sigs):
        by_key[sig[0]].append(row)
    groups = list(by_key.values())  # identical texts: one representative joins the others
    frequency: dict[str, int] = defaultdict(int)
    for group in groups:
        for gram in sigs[group[0]][1]:
            frequency[gram] += 1
    index: dict[str, list[int]] = defaultdict(list)  # rarest trigrams → groups
    for g, group in enumerate(groups):
        sh = sigs[group[0]][1]
        # Sets with Jaccard >= t share one of the |x| - ceil(t |x|) + 1 rarest of each other's trigrams.
        prefix = sorted(sh, key=lambda gram: (frequency[gram], gram))[:len(sh) - math.ceil(threshold * len(sh)) + 1]
        candidates = {other for gram in prefix for other in index[gram]}
        for other in candidates:
            if similar(sigs[group[0]], sigs[groups[other][0]], threshold):
                for a in group:
                    neighbours[a].extend(groups[other])
                for b in groups[other]:
                    neighbours[b].extend(group)
        for gram in prefix:
            index[gram].append(g)
        if len(group) > 1:
            for a in group:
                neighbours[a].extend(b for b in group if b != a)
    return [sorted(n) for n in neighbours]


def write(folder: Path, norm_texts: Iterable[str], threshold: float = THRESHOLD) -> dict:
    """Find and write the near duplicates of the passages (in the store's order); what the manifest notes."""
    found = pairs(norm_texts, threshold)
    offsets = np.zeros(len(found) + 1, dtype=np.int64)
    np.cumsum([len(n) for n in found], out=offsets[1:])
    flat = np.fromiter((r for n in found for r in n), dtype=np.int32, count=int(offsets[-1]))
    np.savez(folder / FILE, threshold=np.float64(threshold), offsets=offsets, neighbours=flat)
    return {"near_duplicates": int(sum(1 for n in found if n))}


class Duplicates:
    """The build's near-duplicate pairs, by passage row."""

    def __init__(self, folder: Path):
        with np.load(folder / FILE) as data:
            self.threshold = float(data["threshold"])
            self.offsets, self.neighbours = data["offsets"], data["neighbours"]

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / FILE).exists()

    def of(self, row: int) -> np.ndarray:
        return self.neighbours[self.offsets[row]:self.offsets[row + 1]]
