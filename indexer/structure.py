"""From cleaned lines to reports, and from a report to passages with heading paths."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import headings
from .text import CJK, normalise

MAX_PASSAGE_CHARS = 400
TARGET_PASSAGE_CHARS = 300
# A heading of fewer Chinese characters names its section (`五、存在的不足`, `工作中的困难:`,
# `(四)农贸市场管理`) and joins the paragraph below it; a longer one says what was done
# (`(七)加大人力客运三轮车整治力度`), a writer reuses it as phrasing, and it stays a passage of its
# own. Measured (bench/README.md, "Headings"): joining every heading cost the seed-report dev sets
# 0.025 nDCG@10, their judgments count a heading line as a unit of its own; this cut costs 0.004.
HEADING_JOINS_BELOW = 8

# `城市长效管理总结范文1`, `创建文明城市工作总结报告篇3`, `第二篇`: a new report starts.
_REPORT_MARKER = re.compile(
    r"^(?:.{2,40}?(?:范文|范例|样文|篇)\s*[0-9一二三四五六七八九十]{1,3}|第[0-9一二三四五六七八九十]{1,3}篇.{0,40})$")

# `篇一:2023年社区工作总结`, `【篇三】…`, `范文二、…`: a new report, titled by what follows its number.
_NUMBERED_PIECE = re.compile(r"^[【\[]?\s*(?:篇|范文|范例|例文|样文)\s*[0-9一二三四五六七八九十]{1,3}(?:\s*[】\]:：、.．]|\s)\s*(?=\S)")


@dataclass
class Report:
    """One report's lines; `title` is None where the file gives no title for it."""

    title: str | None
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Passage:
    position: int
    text: str
    heading_path: tuple[str, ...]
    heads: int = 0  # leading lines of text that are headings (the last entries of heading_path)


def split_reports(lines: list[str], file_title: str | None = None) -> list[Report]:
    """Split a file's lines into reports at title markers and at numbering restarts."""
    reports = [Report(title=file_title)]
    for line in lines:
        norm = normalise(line).strip()
        piece = _NUMBERED_PIECE.match(line.strip()) if len(norm) <= 60 else None
        if piece:
            reports.append(Report(title=line.strip()[piece.end():]))
        elif _REPORT_MARKER.match(norm):
            reports.append(Report(title=line.strip()))
        elif not reports[-1].lines and reports[-1].title is None and headings.is_title_line(norm):
            reports[-1].title = line.strip()
        elif not reports[-1].lines and reports[-1].title and norm == normalise(reports[-1].title).strip():
            continue  # the title it was given, as its first line (a Word file's first paragraph)
        else:
            reports[-1].lines.append(line)
    reports = [r for r in reports if r.lines]
    return [part for report in reports for part in _split_at_restart(report)]


def _split_at_restart(report: Report) -> list[Report]:
    """Reports that follow each other unmarked: the top-level `一、` numbering starts again.

    The new report begins with the unnumbered paragraphs (its introduction) that
    directly precede the second `一、`; a title line above them (`区城管局2023年工作总结`)
    is its title. A part without one keeps the file's title, except the last.
    """
    parts, start, seen_first, numbered = [], 0, False, 0
    title, own = report.title, False  # the title of the report that begins at `start`, and whether it gave it
    for i, line in enumerate(report.lines):
        norm = normalise(line)
        marker = headings.is_heading(norm)
        if not (marker and marker.style == "cn" and norm.startswith("一")):
            numbered += bool(headings.marker_of(norm) or headings.is_plain_heading(norm))
            continue
        # A first `一、` after a long numbered list of another style also starts
        # a new report: the list belonged to the report before.
        if seen_first or (i - start >= 8 and numbered >= 5):
            cut = _intro_start(report.lines, start, i)
            if cut < i and headings.is_title_line(normalise(report.lines[cut]).strip()):
                # `区城管局2023年上半年工作总结` right above the new `一、`, no opening paragraph: its title,
                # not a passage of its own
                if cut > start:
                    parts.append(Report(title, report.lines[start:cut]))
                title, own, start = report.lines[cut].strip(), True, cut + 1
                seen_first, numbered = True, 0
                continue
            # `区城管局2023年工作总结` above the new report's opening: its title
            titled = cut - 1 > start and headings.is_title_line(normalise(report.lines[cut - 1]).strip())
            if cut > start:
                parts.append(Report(title, report.lines[start:cut - titled]))
                title, own, start = (report.lines[cut - 1].strip() if titled else report.title), titled, cut
        seen_first, numbered = True, 0
    parts.append(Report(title if own or not parts else None, report.lines[start:]))
    return parts


def _intro_start(lines: list[str], lower: int, heading_at: int) -> int:
    """Index of the first of the unnumbered paragraphs just before `heading_at`."""
    cut = heading_at
    while cut > lower:
        prev = normalise(lines[cut - 1])
        if headings.marker_of(prev) or headings.is_plain_heading(prev):
            break
        cut -= 1
    # Only one introductory paragraph is reliable; more would swallow the
    # previous report's closing paragraphs.
    return max(cut, heading_at - 1)


def passages(report: Report) -> list[Passage]:
    """Paragraphs of a report, each with its heading path; long ones split at sentence ends.

    A short heading is not a passage of its own: it joins the paragraph below it as its first line
    (`heads` counts such lines; the headings of a section that opens with a subsection all join
    its first paragraph), so a search finds its words with the text they head. A long heading
    (HEADING_JOINS_BELOW), and one that heads no paragraph (the report's last line), is a passage
    of its own: one heading line, nothing below. Either way a passage's heading path ends with its
    own heading lines."""
    out: list[Passage] = []
    stack: list[tuple[str, str]] = []  # (style, heading text)
    pending: list[tuple[str, tuple[str, ...]]] = []  # headings waiting for their paragraph, with their paths
    title_norm = normalise(report.title or "")
    for index, line in enumerate(report.lines):
        norm = normalise(line)
        if index == 0 and title_norm and norm and norm in title_norm:
            continue  # the title repeated as the first line
        marker = headings.is_heading(norm)
        style = marker.style if marker else ("plain" if headings.is_plain_heading(norm) else None)
        if style:
            stack = _push(stack, style, line.strip().rstrip(":："))
            path = tuple(text for _, text in stack)
            # A heading of another branch (`二、` before `一、` had a paragraph): the ones waiting head
            # nothing and stay passages of their own, in the report's order.
            if any(path[:len(own)] != own for _, own in pending):
                out.extend(Passage(len(out) + i, text, own, 1) for i, (text, own) in enumerate(pending))
                pending = []
            pending.append((line.strip(), path))
            body = norm[marker.length:] if marker else norm
            if len(CJK.findall(body)) >= HEADING_JOINS_BELOW:  # a long heading: a passage, with those above it
                out.append(Passage(len(out), "\n".join(text for text, _ in pending), path, len(pending)))
                pending = []
            continue
        path = tuple(text for _, text in stack)
        lead = headings.lead_of(norm)
        if lead:
            path += (line[:lead[1]].strip(),)
        for i, chunk in enumerate(split_long(line)):
            if i == 0 and pending:
                chunk = "\n".join([text for text, _ in pending] + [chunk])
            out.append(Passage(len(out), chunk, path, len(pending) if i == 0 else 0))
        pending = []
    out.extend(Passage(len(out) + i, text, own, 1) for i, (text, own) in enumerate(pending))
    return out


def _push(stack: list[tuple[str, str]], style: str, text: str) -> list[tuple[str, str]]:
    if style == "plain":
        # An unnumbered section title (`七月份工作计划`) closes numbered sections.
        return [(style, text)]
    for depth, (seen, _) in enumerate(stack):
        if seen == style:
            return stack[:depth] + [(style, text)]
    return stack + [(style, text)]


def split_long(paragraph: str) -> list[str]:
    """Split a paragraph over MAX_PASSAGE_CHARS at sentence ends into ~TARGET-size chunks."""
    if len(paragraph) <= MAX_PASSAGE_CHARS:
        return [paragraph]
    sentences = [s for s in re.split(r"(?<=[。！？!?；;])", paragraph) if s]
    chunks, current = [], ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > TARGET_PASSAGE_CHARS:
            chunks.append(current)
            current = ""
        current += sentence
    if current:
        chunks.append(current)
    # A sentence longer than the limit on its own is cut at clause marks, then hard.
    return [piece for chunk in chunks for piece in _hard_split(chunk)]


def _hard_split(chunk: str) -> list[str]:
    if len(chunk) <= MAX_PASSAGE_CHARS * 1.5:
        return [chunk]
    pieces, current = [], ""
    for clause in re.split(r"(?<=[，,、：:])", chunk):
        while len(clause) > MAX_PASSAGE_CHARS:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(clause[:MAX_PASSAGE_CHARS])
            clause = clause[MAX_PASSAGE_CHARS:]
        if current and len(current) + len(clause) > TARGET_PASSAGE_CHARS:
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return pieces
