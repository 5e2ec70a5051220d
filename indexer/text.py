"""Text normalisation shared by indexing and querying.

`normalise` maps traditional script to simplified (OpenCC t2s), full-width forms
to half-width (NFKC) and ASCII to lower case. It keeps the string's length
whenever it can, so offsets found in the normalised text point into the original.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# Placeholders that scraped templates leave for names and numbers: `__`, `*`,
# and runs of x standing alone (`xx市`, `20xx年`). Kept in the display text,
# never indexed.
PLACEHOLDER = re.compile(r"[_*]+|(?<![a-z])x{1,4}(?![a-z])")

# Characters that carry meaning for matching: CJK ideographs, ASCII letters and digits (a class's body,
# for patterns built on it).
WORD_CHARS = r"0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD_CHAR = re.compile(f"[{WORD_CHARS}]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional script as simplified (OpenCC t2s), nothing else changed: for what a writer copies."""
    return _t2s().convert(text)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalise(text: str) -> str:
    """Simplified script, half-width forms, lower-case ASCII.

    The result has the same length as `text` unless a rare compatibility
    character expands under NFKC; `normalise_aligned` handles that case.
    """
    return _t2s().convert(_nfkc(text)).lower()


def normalise_aligned(text: str) -> str:
    """`normalise`, guaranteed to keep one output character per input character."""
    out = normalise(text)
    if len(out) == len(text):
        return out
    chars = []
    for ch in text:
        n = normalise(ch)
        chars.append(n[0] if len(n) == 1 else (n[:1] or " "))
    return "".join(chars)


def mask_placeholders(normalised: str, fill: str = " ") -> str:
    """Replace placeholder runs with `fill`, keeping every other character in place."""
    return PLACEHOLDER.sub(lambda m: fill * len(m.group()), normalised)


def compact(normalised: str) -> str:
    """Only the word characters of a normalised text: the form phrase matching uses."""
    return "".join(WORD_CHAR.findall(mask_placeholders(normalised, "\x00")))
