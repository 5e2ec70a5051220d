"""Clean the text of one scraped file into lines of report text.

Removes site boilerplate and inserted pinyin readings, turns bullet debris into
list markers, rejoins lines broken mid-sentence and page fragments that cut
sentences. Every removal is counted, so the indexer can say what it dropped.
"""
from __future__ import annotations

import re
from collections import Counter
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
# `養殖場??h內`: a character and its reading lost to question marks and a stray letter.
_LETTER_DEBRIS = re.compile(r"(?<=[\u3400-\u9fff])[?？]+[a-z]{1,3}(?=[\u3400-\u9fff])")
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
# A site's footer: everything from here to the end is theirs (a document-sharing site's lecture notes,
# a news page's editor and share links, Wikisource's public-domain licence).
_FOOTER_START = re.compile(r"^-?\s*配套讲稿\s*:?|^(?:责任)?编辑:|^扫一扫在手机(?:上)?打开当前页|^相关报道:?$|"
                           r"^本作品(?:是|来自)(?:中华人民共和国|$)|"
                           # a government site's footer: its ICP licence, site code, police record number
                           # (not a report's sentence about ICP备案)
                           r"^[^。]{0,80}(?:icp[备证]\s*\d|网站标识码|公网安备\s*\d)")  # normalised: ascii in lower case
# A news page's chrome, one line each: font-size and share controls, breadcrumbs, source and time
# stamps, print/close buttons; MediaWiki's placeholder for bold text.
_CHROME = re.compile(
    r"^(?:【?字体:?|[【】大中小|>×]|分享(?:到)?:?(?:微信|微博)?|收藏|首页|阅读量:?|\(来源:\S{2,10}\)|"
    r"(?:发表|发布)?时间:\s*(?:\d{4}-\d{2}-\d{2}.{0,9})?|来源:\s*(?:\S{2,10}(?:日报|客户端|晚报|网|人民政府))?|相关(?:文档|附件|链接):?>*|打印本页|关闭窗口|》》点击图片进入专题《《|"
    r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?|\d{4}年\d{2}月\d{2}日 ?\d{2}时\d{2}分|"
    # a breadcrumb on one line, the font-size control in one piece, a page's stamp of date, source and views
    r"首页\s*[>›»].{0,60}|【?(?:字号|字体):?\s*【?大\s*中\s*小】?|"
    r"(?:(?:发布|发表)(?:时间|日期)|时间|日期):\s*\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?.{0,50}(?:来源|浏览|点击|阅读|作者).{0,30})$")
# A site's navigation bar (`首页 | 新闻中心 | 政务公开 | 联系我们`): short items side by side, one of them a
# site's own page; and its copyright line (`版权所有 © 2024 某某网站`, `Copyright © 2024 …`).
_NAV_ITEM = re.compile(r"^[\w\u4e00-\u9fff]{2,8}$")
_NAV_PAGE = re.compile(r"^(?:首页|网站首页|联系我们|关于我们|网站地图|网站导航|English|home)$", re.I)
_COPYRIGHT = re.compile(r"^[^。]{0,40}(?:版权所有|copyright|©\s*\d{4})[^。]{0,80}$", re.I)
# A breadcrumb (`您的位置: 首页 > 政务信息 > 云南要闻`), its parts on the lines after it.
_BREADCRUMB = re.compile(r"^(?:当前位置|您的位置|您现在的位置)[:是]?")
# A report read out: the address on its own line belongs to the paragraph after it.
_ADDRESS = re.compile(r"^(?:各位代表|同志们|各位委员)[!:,]$")
# MediaWiki's leftovers: the placeholder of an empty bold or italic, stray apostrophes of its markup.
_WIKI_MARKUP = re.compile(r"(?m)^(?:粗体文字|斜体文字|'+)[ \t]*$|(?<=[。！？!?])'+[ \t]*$")
# A label whose value is on the next line (`来源:` / `四川日报`).
_LABEL = re.compile(r"^(?:来源|(?:发表|发布)?时间|作者|编辑):$")
# A printed page's number on a line of its own (`— 1 —` as official documents number their pages,
# `第 2 页 共 3 页`, `2/3`, `Page 2`): the sentence it cut goes on after it.
_PAGE_NUMBER = re.compile(r"^(?:[-—–~]+\s*\d{1,3}\s*[-—–~]+|第\s*\d{1,3}\s*页(?:\s*[,/]?\s*共\s*\d{1,3}\s*页)?|"
                          r"共\s*\d{1,3}\s*页\s*[,/]?\s*第\s*\d{1,3}\s*页|\d{1,3}\s*/\s*\d{1,3}|"
                          r"[Pp]age\s*\d{1,3}(?:\s*of\s*\d{1,3})?)$")
# A related-link entry: an id hash, its linked title on the next line.
_LINK_HASH = re.compile(r"^[0-9a-f]{16,}:?$")
# `整理了5篇市妇联半年工作总结范文`: the preamble names what the file collects.
_COLLECTION = re.compile(
    r"(?:整理了|挑选了|精选了|收集了|为您带来|为你带来)\s*(?:\d+|[一二三四五六七八九十]+)?\s*篇?\s*"
    r"([\u4e00-\u9fff\w]{2,30}?)(?:范文|范例|样文)")
# Site page-number prefixes (`1、`, `2、` … on lines of near-equal length) that
# cut the text into fixed-size pages regardless of sentences.
_PAGE_PREFIX = re.compile(r"^(\d{1,3})、")
_INLINE_HEADING = re.compile(r"\s+(?=(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]))")
_CONTINUES = "、,，"
# The lead byte of a UTF-8 character of Chinese text (or of Latin-1 text encoded twice) and a continuation
# byte, read as Latin-1 or Windows-1252: `å·`, `ä½œ`, `ã€` (not `×”`).
_MOJIBAKE = re.compile("[\u00c2\u00c3\u00e2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                       "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_BLANK_LINE = re.compile(r"\n[ \t\u3000\u00a0\u2003]*\n\s*")
_WORDED = re.compile(r"[^\W_]")  # a letter, digit or character of any script
_OPENING = ("(", "[", "“", "‘", "《", "<")  # normalised
# A line that cannot start a paragraph: it closes a quotation, a title or a clause.
_CLOSING = re.compile(r"^[”’》)\]、,.:;!?。]")


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
    text = _repair_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"), result)
    text, n = _WIKI_MARKUP.subn("", text)
    result.note("wiki markup", n)
    text = _join_soft_breaks(text, result)
    lines = [_clean_line(line, result) for line in text.split("\n")]
    lines = _drop_boilerplate([line for line in lines if line], result)
    if lines and len(lines[0]) <= 80 and _FILE_SUFFIX.search(lines[0]):
        result.title = _FILE_SUFFIX.sub("", lines[0]).strip()
        lines = lines[1:]
    lines = _drop_running_heads(_rejoin_pages(lines, result), result)
    result.lines = _rejoin_broken_lines(lines, result)
    result.unreadable = sum(line.count("\ufffd") for line in result.lines)
    return result


def _repair_mojibake(text: str, result: CleanText) -> str:
    """UTF-8 that was read as Latin-1 or Windows-1252 on its way here (`2024å¹´` for 2024年) turned
    back into its characters, line by line (ftfy: only where the result is plainly better), before
    anything else reads the line or drops its invisible bytes."""
    if not _MOJIBAKE.search(text):
        return text
    import ftfy

    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _MOJIBAKE.search(line):
            fixed = ftfy.fix_encoding(line)
            if fixed != line:
                lines[i] = fixed
                result.note("lines of mojibake repaired")
    return "\n".join(lines)


def _clean_line(line: str, result: CleanText) -> str:
    line = _SPACE_RUN.sub(" ", _INVISIBLE.sub("", line)).strip()
    line, n = _HTML_TAG.subn("", line)
    result.note("html tags", n)
    line, n = _PINYIN.subn("", line)
    result.note("pinyin readings", n)
    line, n = _PINYIN_DEBRIS.subn("\ufffd", line)
    result.note("pinyin readings", n)
    line = _GARBLE_NEIGHBOUR.sub("\ufffd", line)
    line = _LETTER_DEBRIS.sub("\ufffd", line)
    line, n = _BULLET_DEBRIS.subn("• ", line)
    result.note("bullet debris", n)
    line = _LOST_BOOK_TITLE.sub("《", line)
    return line.strip()


def _join_soft_breaks(text: str, result: CleanText) -> str:
    """Where blank lines separate the paragraphs (a wiki page's text), a single line break inside
    one is soft: a link's text on its own line (`全面贯彻\n党的二十大\n精神`). Rejoin those; keep a
    break after a sentence end, which the page may have meant."""
    blocks = _BLANK_LINE.split(text)
    if len(blocks) < 6 or len(blocks) - 1 < sum(block.strip().count("\n") for block in blocks) / 3:
        return text  # blank lines are rare: a line break is a paragraph's end
    out = []
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        joined = lines[:1]
        for line in lines[1:]:
            prev = normalise(joined[-1]).rstrip()
            if headings.ends_sentence(prev) and not _CLOSING.match(normalise(line).lstrip()):
                joined.append(line)
                continue
            space = " " if prev[-1:].isascii() and prev[-1:].isalnum() and line.strip()[:1].isascii() else ""
            joined[-1] = joined[-1].rstrip() + space + line.strip()
            result.note("soft line breaks rejoined")
        out.append("\n".join(joined))
    return "\n\n".join(out)


def _drop_boilerplate(lines: list[str], result: CleanText) -> list[str]:
    kept = []
    skip_next = crumbs = False
    for i, line in enumerate(lines):
        norm = normalise(line)
        if _FOOTER_START.match(norm):
            result.note("site footer lines", len(lines) - i)
            break
        if _PAGE_NUMBER.match(norm.strip()):
            result.note("page numbers")
            continue
        if crumbs and len(norm) <= 10 and not headings.ends_sentence(norm):
            result.note("site chrome lines")
            continue
        crumbs = bool(_BREADCRUMB.match(norm))
        if skip_next and len(norm) <= 60 and not headings.ends_sentence(norm):
            skip_next = False
            result.note("site chrome lines")
            continue
        skip_next = bool(_LINK_HASH.match(norm) or _LABEL.match(norm.strip()))
        if skip_next or crumbs or _CHROME.match(norm.strip()) or _chrome_row(norm) or _nav_row(norm) \
                or _COPYRIGHT.match(norm.strip()):
            result.note("site chrome lines")
            continue
        if len(norm) <= 300 and any(p.search(norm) for p in _BOILERPLATE):
            found = _COLLECTION.search(norm)
            if found and not result.collection:
                start = found.start(1)
                result.collection = line[start:start + len(found.group(1))]
            result.note("site boilerplate lines")
            continue
        kept.append(line)
    return kept


def _chrome_row(norm: str) -> bool:
    """Controls side by side on one line (`字号:大 中 小 | 打印本页 | 关闭窗口`): every part chrome."""
    parts = [part.strip() for part in norm.split("|") if part.strip()]
    return len(parts) > 1 and all(_CHROME.match(part) for part in parts)


def _nav_row(norm: str) -> bool:
    """A navigation bar: three or more short items between `|` (or `｜`, `丨`, `·`), one a site's own page."""
    parts = [part.strip() for part in re.split(r"[|｜丨·]", norm) if part.strip()]
    return len(parts) >= 3 and all(_NAV_ITEM.match(p) for p in parts) and any(_NAV_PAGE.match(p) for p in parts)


def _drop_running_heads(lines: list[str], result: CleanText) -> list[str]:
    """A printed page's running head (`2023年某区城市管理局工作总结` atop every page), in a text copied
    out of a PDF or a printout: a title line that comes back, at least once where it cuts a sentence
    (the line before it is text that does not end one). Every occurrence goes but one that opens the
    text. Only title lines: a line of text that a report repeats is its own (PDFs themselves are read
    page by page, readers.pdf_text)."""
    norms = [normalise(line).strip() for line in lines]
    seen = Counter(n for n in norms if headings.is_title_line(n))
    heads = {norms[i] for i in range(1, len(norms) - 1) if seen[norms[i]] >= 2 and _inside_sentence(norms[i - 1])}
    if not heads:
        return lines
    kept = [line for i, (line, norm) in enumerate(zip(lines, norms)) if i == 0 or norm not in heads]
    result.note("running heads of printed pages", len(lines) - len(kept))
    return kept


def _inside_sentence(norm: str) -> bool:
    """Whether a line stops where its sentence goes on: text, not a heading, without a sentence end."""
    return not (headings.ends_sentence(norm) or headings.is_heading(norm) or headings.is_plain_heading(norm)
                or headings.is_title_line(norm) or _ADDRESS.match(norm))


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
    """Join a line to the next where a sentence was broken across them. In a text wrapped at a fixed
    width (copied out of a PDF), a line that fills that width goes on in the next one, even where it
    starts with a number (`(一)今年以来,…拆除违法建` / `设3.2万平方米…`)."""
    lengths = sorted(len(line) for line in lines)
    width = lengths[len(lengths) * 3 // 4] if lengths else 0  # most lines of a wrapped text are full
    out: list[str] = []
    last = ""  # the line before, as it came
    for line in lines:
        wrapped = width >= 20 and len(last) >= 0.85 * width
        if out and _continues(normalise(out[-1]), normalise(line), first=len(out) == 1, wrapped=wrapped):
            out[-1] += line
            result.note("broken lines rejoined")
        else:
            out.append(line)
        last = line
    return out


def _continues(prev: str, nxt: str, first: bool = False, wrapped: bool = False) -> bool:
    """Whether `nxt` goes on where `prev` stopped (`first`: prev is the text's first line; `wrapped`:
    prev's last line filled the width the text is wrapped at)."""
    if not _WORDED.search(nxt) and nxt.strip() not in _OPENING:
        return True  # `…………` where a script elides (a video plays): no passage of its own
    if prev.strip() in _OPENING or headings.bare_marker(prev.strip()):
        return True  # `(` + `三)改革开放…`, `(一)` + the paragraph it numbers
    if _ADDRESS.match(prev.strip()):
        return True  # `各位代表!` + the paragraph it opens
    if headings.LEAD_START.fullmatch(prev.strip()) and not headings.marker_of(nxt):
        return True  # `一是` alone on its line: the lead of the paragraph that follows
    if headings.ends_sentence(prev) or headings.marker_of(nxt) or headings.LEAD_START.match(nxt):
        return False
    if first and headings.is_title_line(prev.strip()) and not _CLOSING.match(nxt) and not nxt.startswith("("):
        return False  # `2024年某市生态环境局工作总结` above the opening paragraph: the title (a date below it joins)
    if wrapped:
        return True
    if prev[-1] in _CONTINUES:
        return True
    if not CJK.match(prev[-1]) and not prev[-1].isalnum():
        return False
    if marker := headings.marker_of(prev):
        if any(c in "。!?;" for c in prev.rstrip()[marker.length:-1]):
            # `(一)市容环境整治。今年以来,我局共清理占道经营` + `1200余处,…`: the heading's sentence ended
            # within the line and the paragraph after it stops mid-sentence
            return True
        # `1、…评比工作,19—20学年度检查` + `评比结果下周公布。`: a broken list item
        # is followed by a short tail that ends the sentence; a heading by a paragraph.
        return len(prev) >= 20 and len(nxt) <= 24 and headings.ends_sentence(nxt)
    return not headings.is_plain_heading(prev)
