"""Word (.docx) in the layout of Chinese official documents, GB/T 9704-2012 (党政机关公文格式):
A4 with its margins (top 37 mm, left 28 mm, a 156 x 225 mm type area), 22 lines of 28 characters
(a line grid of 28.95 pt; the body's characters 0.25 pt closer than their 16 pt),
the title in 小标宋 二号 (22 pt), the body in 仿宋 三号 (16 pt) with a two-character first-line indent,
first-level headings in 黑体 and second-level ones in 楷体 (三号), page numbers `— 1 —` in 宋体 四号.

Fonts are set for East Asian text (`w:eastAsia`); each names the GB 2312 font the standard's
templates use and, in the font table, the font Windows ships under another name (`仿宋_GB2312` →
仿宋), which Word and LibreOffice take where the first is missing. Language zh-CN, author the program.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from indexer import __version__

TITLE_FONT, BODY_FONT, HEADING_FONT, KAI_FONT, PAGE_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
FALLBACK = {"方正小标宋简体": "宋体", "仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体"}  # name -> the font Windows ships
LATIN_FONT = "Times New Roman"
TITLE_PT, BODY_PT, SOURCE_PT = 22, 16, 14  # 二号, 三号, 四号
LINE_TWIPS = 579  # 225 mm / 22 lines = 28.95 pt, in twentieths of a point
# 156 mm / 28 characters = 15.79 pt a character: 16 pt characters drawn 0.25 pt closer (in twips).
CHAR_SPACING = -5
NUMERALS = "一二三四五六七八九十"


@dataclass
class Item:
    """One passage as exported: a label (its report and heading), its text, its source line, a note."""

    label: str
    text: str
    citation: str
    note: str = ""


@dataclass
class Part:
    heading: str | None  # a first-level heading (None: the items directly under the title)
    items: list[Item] = field(default_factory=list)
    lead: str = ""  # a line under the heading (an outline's formulations of that section)


def render(title: str, lines: list[str], parts: list[Part]) -> bytes:
    """A document: its title, lines under it (what was searched, with which filters), then each part
    with its items, numbered as official documents number them (一、 then （一）)."""
    doc = _opened(title, lines)
    for n, part in enumerate(parts):
        if part.heading:
            doc.add_paragraph(f"{_number(n)}、{part.heading}", style="Heading 1")
        if part.lead:
            doc.add_paragraph(part.lead, style="Body Text")
        for i, item in enumerate(part.items):
            doc.add_paragraph(f"（{_number(i)}）{item.label}", style="Heading 2")
            for text in item.text.splitlines() or [""]:
                if text.strip():
                    doc.add_paragraph(text.strip())
            if item.note:
                doc.add_paragraph(f"批注：{item.note}", style="Body Text")
            doc.add_paragraph(item.citation, style="Quote")
    return _saved(doc)


def render_report(title: str, lines: list[str], blocks: list[tuple[int, str]], citation: str) -> bytes:
    """A report (or one of its sections) as it reads: `blocks` are (heading level, text), level 0 a
    paragraph; its headings keep their own numbering; its source line at the end."""
    doc = _opened(title, lines)
    for level, text in blocks:
        if text.strip():
            doc.add_paragraph(text.strip(), style=f"Heading {min(level, 2)}" if level else None)
    doc.add_paragraph(citation, style="Quote")
    return _saved(doc)


def _opened(title: str, lines: list[str]):
    """A new document in the standard's layout and styles, with its properties, title and lines."""
    doc = Document()
    _layout(doc)
    _styles(doc)
    doc.core_properties.author = doc.core_properties.last_modified_by = f"report-search {__version__}"
    doc.core_properties.title = title
    doc.core_properties.language = "zh-CN"
    doc.core_properties.comments = "GB/T 9704-2012"
    doc.add_paragraph(title, style="Title")
    for line in lines:
        doc.add_paragraph(line, style="Subtitle")
    return doc


def _saved(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _number(i: int) -> str:
    if i < 10:
        return NUMERALS[i]
    tens, ones = divmod(i + 1, 10)
    return ("" if tens == 1 else NUMERALS[tens - 1]) + "十" + (NUMERALS[ones - 1] if ones else "")


def _layout(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28 - 7)  # page numbers 7 mm below the type area
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_TWIPS))
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(footer.add_run("— "), PAGE_FONT, SOURCE_PT)
    _page_field(footer)
    _run_font(footer.add_run(" —"), PAGE_FONT, SOURCE_PT)


def _page_field(paragraph) -> None:
    run = paragraph.add_run()
    _run_font(run, PAGE_FONT, SOURCE_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, None), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = "1"
        run._r.append(element)


def _styles(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for tag in ("w:sz", "w:szCs"):  # the character grid counts from the default size: the body's
        defaults.find(qn(tag)).set(qn("w:val"), str(BODY_PT * 2))
    lang = defaults.find(qn("w:lang"))
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    _fonts(defaults, BODY_FONT)
    spec = {  # style: (font, size, alignment, first-line indent in characters, keep with next)
        "Normal": (BODY_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, False),
        "Title": (TITLE_FONT, TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER, 0, True),
        "Subtitle": (KAI_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.CENTER, 0, True),
        "Heading 1": (HEADING_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.LEFT, 2, True),
        "Heading 2": (KAI_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.LEFT, 2, True),
        "Body Text": (KAI_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, False),
        "Quote": (BODY_FONT, SOURCE_PT, WD_ALIGN_PARAGRAPH.RIGHT, 0, False),
    }
    for name, (font, size, alignment, indent, keep) in spec.items():
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = style.font.italic = False
        style.font.color.rgb = None
        _fonts(style.element.get_or_add_rPr(), font)
        if size == BODY_PT:
            _spacing(style.element.rPr, CHAR_SPACING)
        theme = style.element.rPr.find(qn("w:color"))
        if theme is not None:
            style.element.rPr.remove(theme)
        fmt = style.paragraph_format
        fmt.alignment = alignment
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(LINE_TWIPS / 20)
        fmt.keep_with_next = keep
        ind = style.element.get_or_add_pPr().get_or_add_ind()
        ind.set(qn("w:firstLineChars"), str(indent * 100))
        ind.set(qn("w:firstLine"), str(indent * BODY_PT * 20))  # the same in twips, for readers without *Chars
        border = style.element.pPr.find(qn("w:pBdr"))  # the template's Title has a rule under it
        if border is not None:
            style.element.pPr.remove(border)
    _font_table(doc)


def _fonts(rpr, east_asian: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]  # theme fonts would win over the names
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _spacing(rpr, twips: int) -> None:
    spacing = rpr.find(qn("w:spacing"))
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        rpr.append(spacing)
    spacing.set(qn("w:val"), str(twips))


def _run_font(run, east_asian: str, size: int) -> None:
    run.font.size = Pt(size)
    _fonts(run._r.get_or_add_rPr(), east_asian)


def _font_table(doc) -> None:
    """Each GB 2312 font named with the font to take where it is missing (`w:altName`), as a GB 2312
    (charset 86) font, so that a substitute is chosen among Chinese fonts."""
    part = next(p for p in doc.part.package.parts if p.partname.endswith("fontTable.xml"))
    from docx.oxml import parse_xml
    from lxml import etree

    table = parse_xml(part.blob)
    for name in (TITLE_FONT, BODY_FONT, HEADING_FONT, KAI_FONT, PAGE_FONT):
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        if name in FALLBACK:
            alt = OxmlElement("w:altName")
            alt.set(qn("w:val"), FALLBACK[name])
            font.append(alt)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")
        family = OxmlElement("w:family")
        family.set(qn("w:val"), "modern" if name == HEADING_FONT else "roman")
        font.extend([charset, family])
        table.append(font)
    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)
