"""Matched terms marked in a passage's original text, as escaped HTML."""
from __future__ import annotations

import bisect
import html
import re

from indexer.text import WORD_CHAR, normalise_aligned

WORD_RUN = re.compile(WORD_CHAR.pattern + "+")


def spans(text: str, needles: list[str], norm: str | None = None) -> list[tuple[int, int]]:
    """Merged (start, end) spans of `text` where any normalised needle occurs,
    ignoring punctuation and spaces inside a match. `norm`: the text normalised, where known."""
    if norm is None or len(norm) != len(text):
        norm = normalise_aligned(text)
    runs = [(m.start(), m.end()) for m in WORD_RUN.finditer(norm)]  # the word characters, run by run
    compact = "".join(norm[a:b] for a, b in runs)
    starts, at = [], 0  # each run's start in `compact`
    for a, b in runs:
        starts.append(at)
        at += b - a

    def place(i: int) -> int:  # a position in `compact` -> in `text`
        r = bisect.bisect_right(starts, i) - 1
        return runs[r][0] + i - starts[r]

    found = []
    for needle in {n for n in needles if n}:
        at = compact.find(needle)
        while at >= 0:
            found.append((place(at), place(at + len(needle) - 1) + 1))
            at = compact.find(needle, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, needles: list[str], norm: str | None = None) -> str:
    """`text` escaped for HTML, with <mark> around each match (`norm`: the text normalised, where known)."""
    out, at = [], 0
    for start, end in spans(text, needles, norm):
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)
