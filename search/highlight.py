"""Matched terms marked in a passage's original text, as escaped HTML."""
from __future__ import annotations

import html

from indexer.text import WORD_CHAR, normalise_aligned


def spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Merged (start, end) spans of `text` where any normalised needle occurs,
    ignoring punctuation and spaces inside a match."""
    norm = normalise_aligned(text)
    index = [m.start() for m in WORD_CHAR.finditer(norm)]
    compact = "".join(norm[i] for i in index)
    found = []
    for needle in {n for n in needles if n}:
        at = compact.find(needle)
        while at >= 0:
            found.append((index[at], index[at + len(needle) - 1] + 1))
            at = compact.find(needle, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, needles: list[str]) -> str:
    """`text` escaped for HTML, with <mark> around each match."""
    out, at = [], 0
    for start, end in spans(text, needles):
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)
