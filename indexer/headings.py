"""Recognising the numbering that structures Chinese work reports.

Styles, outermost first as reports usually nest them: `一、`, `(一)`, `1、`,
`(1)`, `第一,`, bullets. A report may skip or reorder levels, so the parser
nests by order of appearance, not by a fixed rank.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .text import CJK

_CN = "一二三四五六七八九十百零〇"
# Each pattern matches the marker at the start of a line (after normalise:
# half-width brackets and punctuation).
MARKERS: list[tuple[str, re.Pattern]] = [
    ("cn", re.compile(rf"^[{_CN}]{{1,3}}\s*[、:．.]\s*")),
    ("cn_paren", re.compile(rf"^\(\s*[{_CN}]{{1,3}}\s*\)\s*[、.]?\s*")),
    ("num", re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))\s*")),
    ("num_paren", re.compile(r"^\(\s*\d{1,2}\s*\)\s*")),
    ("ordinal", re.compile(rf"^第[{_CN}]{{1,3}}\s*[,、:.]\s*")),
    ("bullet", re.compile(r"^[•●◆◇■□▲△★☆◎○▪▶►√]\s*")),
]
# `一是…。` / `二要…。`: a lead phrase that names what its paragraph is about.
LEAD_START = re.compile(rf"^[{_CN}]{{1,3}}[是要]\s*")
_LEAD_BODY = re.compile(r"^([^。!?;:]{2,24}?)[。;:]")

TERMINAL = "。!?;:…”」』)"
SENTENCE_END = re.compile(r"(?<=[。!?;])")


class Marker(NamedTuple):
    style: str
    length: int  # characters of the marker itself


def marker_of(normalised_line: str) -> Marker | None:
    """The numbering style a line starts with, if any."""
    for style, pattern in MARKERS:
        m = pattern.match(normalised_line)
        if m and m.end() < len(normalised_line):
            return Marker(style, m.end())
    return None


def bare_marker(normalised_line: str) -> bool:
    """Whether a line is a numbering marker and nothing else (`(一)`, `3.`): its paragraph follows."""
    return any((m := pattern.match(normalised_line)) and m.end() == len(normalised_line) for _, pattern in MARKERS)


def ends_sentence(normalised_line: str) -> bool:
    return bool(normalised_line) and normalised_line.rstrip()[-1] in TERMINAL


def is_heading(normalised_line: str) -> Marker | None:
    """A short numbered line with no sentence end: a section heading."""
    marker = marker_of(normalised_line)
    if not marker:
        return None
    body = normalised_line[marker.length:]
    if len(body) > 45 or re.search(r"[!?;]", body):
        return None
    # `一、强化组织领导,健全创卫工作网络。`: upper levels may end with a full stop;
    # a numbered `1、…。` is a list item.
    if "。" in body[:-1] or (body.endswith("。") and (marker.style not in ("cn", "cn_paren") or len(body) > 30)):
        return None
    if len(body) > 30 and ends_sentence(body) and not body.endswith(":"):
        return None
    return marker


_TITLE_WORDS = re.compile(r"总结|报告|讲话|计划|意见|方案|通知|决议|汇报|发言|致辞")


def is_title_line(normalised_line: str) -> bool:
    """A report's title on a line of its own (`2024年某市生态环境局工作总结`): short, unnumbered, no
    sentence in it, and it names a kind of document."""
    return (len(normalised_line) <= 40 and not marker_of(normalised_line) and not ends_sentence(normalised_line)
            and not re.search(r"[,。]", normalised_line) and bool(_TITLE_WORDS.search(normalised_line)))


def is_plain_heading(normalised_line: str) -> bool:
    """An unnumbered title-like line: short, no punctuation inside."""
    line = normalised_line.strip().rstrip(":")
    return (2 <= len(line) <= 15 and len(CJK.findall(line)) >= 2
            and not re.search(r"[,。!?;、:…]", line) and not line.startswith("同志"))


def lead_of(normalised_line: str) -> tuple[int, int] | None:
    """Span of the lead phrase of a paragraph (`一是宣传进村入户。…` → `宣传进村入户`).

    Only for numbered paragraphs whose first sentence is short enough to act as
    a heading; the span indexes into the line.
    """
    m = LEAD_START.match(normalised_line)
    start = m.end() if m else (marker_of(normalised_line) or Marker("", 0)).length
    if not start:
        return None
    body = _LEAD_BODY.match(normalised_line[start:])
    if not body or len(normalised_line) - start - body.end() < 10:
        return None
    return start, start + len(body.group(1))
