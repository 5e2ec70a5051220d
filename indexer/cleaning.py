"""Clean the text of one scraped file into lines of report text.

Removes site boilerplate and inserted pinyin readings, turns bullet debris into
list markers, rejoins lines broken mid-sentence and page fragments that cut
sentences. Every removal is counted, so the indexer can say what it dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import headings
from .text import CJK, normalise

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# `總結(jié)`: a reading in brackets right after a character. A tone mark is
# required so that real brackets such as `(gis)` stay.
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])[(（](?=[a-zü]*[{_TONED}])([a-zü{_TONED}]{{1,7}})[)）]")
# `剛?cè)岵`: the same reading whose opening bracket was lost to a `?`.
_PINYIN_DEBRIS = re.compile(rf"[?？](?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}[)）]")
_GARBLE_NEIGHBOUR = re.compile(r"(?<=\ufffd[\u3400-\u9fff])[?？]|[?？](?=\ufffd)")
# Layout tags a scrape leaves in text (`</p>`); anything else in angle brackets is text.
_HTML_TAG = re.compile(r"</?(?:p|br|div|span|font|strong|b|i|em|u|a|td|tr|th|li|ul|ol|table|tbody|h[1-6]|hr|nbsp)"
                       r"(?:\s[^<>]{0,80})?/?>", re.I)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff\x00-\x08\x0b-\x1f\x7f]")
# Runs of spaces of any kind (no-break, en, ideographic, tabs): scraped notices pad signature blocks
# with hundreds of them, which left passages that looked empty.
_SPACE_RUN = re.compile(r"\s+")
_BULLET_DEBRIS = re.compile(r"^[?？]{2,}\s*")
_LOST_BOOK_TITLE = re.compile(r"^[?？](?=[^?？《]+》)")
_FILE_SUFFIX = re.compile(r"\s*\.(?:docx?|pdf|txt|pptx?|wps)\s*$", re.I)

# Matched against the normalised line (simplified, half-width), so one pattern
# covers both scripts.
_BOILERPLATE = [re.compile(p) for p in (
    r"^前言:",
    r"^每个职场人",
    r"(?:范文|范例|样文|例文).{0,40}(?:参考|学习|借鉴|灵感|帮助|阅读)",
    r"(?:为您|为你|为大家)(?:整理|精心|收集|挑选|准备)",
    r"^(?:以下|下面)是.{0,40}(?:整理|分享|范文)",
    r"^来源:\s*网络",
    r"免责声明",
    r"如(?:产生|有)版权问题",
    r"由会员分享",
    r"可在线阅读,?更多相关",
)]
# A document-sharing site's footer: everything from here to the end is theirs.
_FOOTER_START = re.compile(r"^-?\s*配套讲稿\s*:?")
# `整理了5篇市妇联半年工作总结范文`: the preamble names what the file collects.
_COLLECTION = re.compile(
    r"(?:整理了|挑选了|精选了|收集了|为您带来|为你带来)\s*(?:\d+|[一二三四五六七八九十]+)?\s*篇?\s*"
    r"([\u4e00-\u9fff\w]{2,30}?)(?:范文|范例|样文)")
# Site page-number prefixes (`1、`, `2、` … on lines of near-equal length) that
# cut the text into fixed-size pages regardless of sentences.
_PAGE_PREFIX = re.compile(r"^(\d{1,3})、")
_INLINE_HEADING = re.compile(r"\s+(?=(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]))")
_CONTINUES = "、,，"


@dataclass
class CleanText:
    """The cleaned lines of one file, with what cleaning removed or could not read."""

    lines: list[str]
    title: str | None = None  # a title line the file starts with
    collection: str | None = None  # what the preamble says the file collects
    removed: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0  # characters that were garbled beyond repair

    def note(self, what: str, n: int = 1) -> None:
        if n:
            self.removed[what] = self.removed.get(what, 0) + n


def clean(text: str) -> CleanText:
    """Clean a file's whole text."""
    result = CleanText(lines=[])
    lines = [_clean_line(line, result) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = _drop_boilerplate([line for line in lines if line], result)
    if lines and len(lines[0]) <= 80 and _FILE_SUFFIX.search(lines[0]):
        result.title = _FILE_SUFFIX.sub("", lines[0]).strip()
        lines = lines[1:]
    lines = _rejoin_pages(lines, result)
    result.lines = _rejoin_broken_lines(lines, result)
    result.unreadable = sum(line.count("\ufffd") for line in result.lines)
    return result


def _clean_line(line: str, result: CleanText) -> str:
    line = _SPACE_RUN.sub(" ", _INVISIBLE.sub("", line)).strip()
    line, n = _HTML_TAG.subn("", line)
    result.note("html tags", n)
    line, n = _PINYIN.subn("", line)
    result.note("pinyin readings", n)
    line, n = _PINYIN_DEBRIS.subn("\ufffd", line)
    result.note("pinyin readings", n)
    line = _GARBLE_NEIGHBOUR.sub("\ufffd", line)
    line, n = _BULLET_DEBRIS.subn("• ", line)
    result.note("bullet debris", n)
    line = _LOST_BOOK_TITLE.sub("《", line)
    return line.strip()


def _drop_boilerplate(lines: list[str], result: CleanText) -> list[str]:
    kept = []
    for i, line in enumerate(lines):
        norm = normalise(line)
        if _FOOTER_START.match(norm):
            result.note("site footer lines", len(lines) - i)
            break
        if len(norm) <= 300 and any(p.search(norm) for p in _BOILERPLATE):
            found = _COLLECTION.search(norm)
            if found and not result.collection:
                start = found.start(1)
                result.collection = line[start:start + len(found.group(1))]
            result.note("site boilerplate lines")
            continue
        kept.append(line)
    return kept


def _rejoin_pages(lines: list[str], result: CleanText) -> list[str]:
    """Join runs of `1、…`, `2、…` page fragments (>= 3 long lines numbered 1, 2, 3 …)."""
    out, i = [], 0
    while i < len(lines):
        j = i
        while (j < len(lines) and (m := _PAGE_PREFIX.match(lines[j]))
               and int(m.group(1)) == j - i + 1 and len(lines[j]) >= 150):
            j += 1
        if j - i >= 3:
            joined = "".join(_PAGE_PREFIX.sub("", line, count=1) for line in lines[i:j])
            result.note("page fragments rejoined", j - i)
            out.extend(part.strip() for part in _INLINE_HEADING.split(joined) if part.strip())
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def _rejoin_broken_lines(lines: list[str], result: CleanText) -> list[str]:
    """Join a line to the next where a sentence was broken across them."""
    out: list[str] = []
    for line in lines:
        if out and _continues(normalise(out[-1]), normalise(line)):
            out[-1] += line
            result.note("broken lines rejoined")
        else:
            out.append(line)
    return out


def _continues(prev: str, nxt: str) -> bool:
    if headings.LEAD_START.fullmatch(prev.strip()) and not headings.marker_of(nxt):
        return True  # `一是` alone on its line: the lead of the paragraph that follows
    if headings.ends_sentence(prev) or headings.marker_of(nxt) or headings.LEAD_START.match(nxt):
        return False
    if prev[-1] in _CONTINUES:
        return True
    if not CJK.match(prev[-1]) and not prev[-1].isalnum():
        return False
    if headings.marker_of(prev):
        # `1、…评比工作,19—20学年度检查` + `评比结果下周公布。`: a broken list item
        # is followed by a short tail that ends the sentence; a heading by a paragraph.
        return len(prev) >= 20 and len(nxt) <= 24 and headings.ends_sentence(nxt)
    return not headings.is_plain_heading(prev)
