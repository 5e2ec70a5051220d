"""Passages as files a writer keeps: CSV (UTF-8 with BOM, so Excel reads it), Markdown and Word
(.docx, in the official documents' layout: search/official_docx.py), every passage with its source
line (search/citation.py). Two kinds: a page of search results (`export`), in rank order under a
title naming the query and its filters, and a writer's chosen passages (`export_passages`, the
素材篮), grouped by section role in a report's order, each with the writer's note."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import fields

from indexer.metadata import canonical_value
from indexer.sections import ROLES
from indexer.text import to_simplified

from .hits import Filters
from .matching import RULE_NAMES

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
# `*_source`: declared (the source or the title says it), inferred (read from the body), or empty (unknown).
COLUMNS = ("rank", "passage_id", "title", "region", "region_source", "year", "year_source", "issuer",
           "issuer_source", "doc_type", "doc_type_source", "section", "section_name", "heading_path", "text",
           "citation", "note", "score", "doc_id", "source")
MODE_NAMES = {"hybrid": "混合检索", "keyword": "关键词检索", "semantic": "语义检索"}
FILTER_NAMES = {"region": "地区", "issuer": "发文单位", "doc_type": "文种", "source": "来源", "section": "部分"}
BASKET_TITLE = "素材摘编"


def export(result: dict, fmt: str, offset: int = 0, filters: Filters = Filters(), simplified: bool = False) -> bytes:
    """`result` (the search contract; its first result ranked offset + 1) in format `fmt`, under a
    title naming the query, the mode and the filters."""
    check_format(fmt)
    n = len(result["results"])
    shown = f"本文件收第 {offset + 1}–{offset + n} 条" if n else "本文件未收段落"
    by = result.get("matched_by") or {}
    parts = "，".join(f"{name} {by[rule]} 段" for rule, name in RULE_NAMES.items() if by.get(rule))
    lines = [f"{MODE_NAMES.get(result['mode'], result['mode'])}；{describe(filters)}",
             f"共 {result['total']} 段匹配{f'（{parts}）' if parts else ''}，{shown}"]
    title = f"“{result['query']}”检索结果摘编"
    return _write(fmt, title, lines, [(None, rows(result["results"], offset))], simplified)


def export_passages(results: list[dict], fmt: str, title: str | None = None, notes: dict[str, str] | None = None,
                    simplified: bool = False) -> bytes:
    """Chosen passages (result dicts, in the writer's order) grouped by section role in a report's
    order (基本情况 → 主要做法与成效 → 存在问题 → 下一步打算 → 经验体会 → 其他), each with its note."""
    check_format(fmt)
    notes = notes or {}
    all_rows = rows(results, 0, notes)
    parts = [(ROLES[role], [r for r in all_rows if r["section"] == role]) for role in ROLES]
    parts = [(heading, members) for heading, members in parts if members]
    rank = 0
    for _, members in parts:  # numbered in the order written
        for row in members:
            rank += 1
            row["rank"] = rank
    lines = [f"共 {len(results)} 段，按报告结构编排"]
    return _write(fmt, title or BASKET_TITLE, lines, parts, simplified)


def export_outline(result: dict, fmt: str, filters: Filters = Filters(), simplified: bool = False) -> bytes:
    """An outline (search/outline.py) as a file: each section with its formulations, then its passages."""
    check_format(fmt)
    parts, leads, rank = [], {}, 0
    for section in result["sections"]:
        members = rows(section["results"], rank)
        rank += len(members)
        if members or section["phrases"]:
            parts.append((section["name"], members))
            if section["phrases"]:
                leads[section["name"]] = "常用表述：" + "、".join(p["text"] for p in section["phrases"])
    lines = [f"{MODE_NAMES.get(result['mode'], result['mode'])}；{describe(filters)}",
             f"各部分含“{result['query']}”词语的段落数：" + "，".join(f"{s['name']} {s['naming']}"
                                                             for s in result["sections"])]
    return _write(fmt, f"“{result['query']}”写作提纲", lines, parts, simplified, leads)


REPORT_FORMATS = ("docx", "md")


def export_document(doc: dict, fmt: str, part: str | None = None, simplified: bool = False) -> bytes:
    """A report (search/reading.py `document`) as it reads, headings as headings, its source line at
    the end; with `part` (one of its passage ids), only the top-level section holding that passage."""
    from .citation import citation
    from .official_docx import render_report
    from .reading import blocks

    if fmt not in REPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(REPORT_FORMATS)}, not '{fmt}'")
    passages, title = doc["passages"], doc["title"]
    if part is not None:
        chosen = next((p for p in passages if p["passage_id"] == part), None)
        if chosen is None:
            raise ValueError(f"parameter 'part': no passage '{part}' in document '{doc['doc_id']}'")
        top = chosen["heading_path"][:1]
        if top:
            passages = [p for p in passages if p["heading_path"][:1] == top]
            title = f"{title} · {top[0]}"
    inferred = {n for n in ("year", "issuer", "region") if doc.get(f"{n}_source") == "inferred"}
    source = citation(doc["title"], doc["year"], doc["issuer"], doc["region"], (), inferred)
    lines = [(level, _xml(text)) for b in blocks(passages)  # (heading level, text); 0: a paragraph
             for level, text in [*((h["level"], h["text"]) for h in b["headings"]),
                                 *((0, line) for line in b["body"].split("\n"))]]
    if simplified:
        title, source = to_simplified(title), to_simplified(source)
        lines = [(level, to_simplified(text)) for level, text in lines]
    if fmt == "md":
        out = [f"# {title}", ""]
        for level, text in lines:
            if text.strip():
                out += [("#" * min(level + 1, 6) + " " if level else "") + text.strip(), ""]
        return "\n".join(out + [source, ""]).encode("utf-8")
    return render_report(_xml(title), [], lines, _xml(source))


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")


def describe(filters: Filters) -> str:
    """The filters in words (`地区：浙江省；年份：2023–2025`), or 不限范围."""
    parts = []
    a, b = filters.year_from, filters.year_to
    if a is not None or b is not None:
        years = (f"{a} 年" if a == b else f"{a}–{b} 年" if a is not None and b is not None
                 else f"{a} 年以来" if a is not None else f"{b} 年以前")
        parts.append(f"年份：{years}")
    for f in fields(filters):
        value = getattr(filters, f.name)
        if f.name in FILTER_NAMES and value:
            # the names the results carry (广西 → 广西壮族自治区, problems → 存在问题)
            shown = ("、".join(ROLES.get(v, v) if f.name == "section" else canonical_value(f.name, v)
                              for v in filters.values(f.name)) if f.name in ("section", "region", "issuer") else value)
            parts.append(f"{FILTER_NAMES[f.name]}：{shown}")
    return "；".join(parts) or "不限范围"


def rows(results: list[dict], offset: int = 0, notes: dict[str, str] | None = None) -> list[dict]:
    """One flat row per result, in the order given."""
    notes = notes or {}
    return [{"rank": offset + i, "passage_id": r["passage_id"], "title": r["title"], "region": r["region"] or "",
             "year": r["year"] if r["year"] is not None else "", "issuer": r["issuer"] or "",
             "doc_type": r["doc_type"] or "", "section": r["section"], "section_name": ROLES[r["section"]],
             "heading_path": " › ".join(r["heading_path"]), "text": r["text"], "citation": r["citation"],
             "note": notes.get(r["passage_id"], ""), "score": r.get("score", ""), "doc_id": r["doc_id"],
             "source": r["source"],
             **{f"{n}_source": r.get(f"{n}_source") or "" for n in ("region", "year", "issuer", "doc_type")}}
            for i, r in enumerate(results, 1)]


_SIMPLIFIED = ("title", "heading_path", "text", "citation", "note", "section_name")


def _write(fmt: str, title: str, lines: list[str], parts: list[tuple[str | None, list[dict]]],
           simplified: bool, leads: dict[str, str] | None = None) -> bytes:
    """`leads`: a line under a part's heading, by heading (not in CSV, which has rows only)."""
    leads = leads or {}
    if simplified:
        title, lines = to_simplified(title), [to_simplified(x) for x in lines]
        parts = [(heading, [{**r, **{k: to_simplified(str(r[k])) for k in _SIMPLIFIED}} for r in members])
                 for heading, members in parts]
        leads = {heading: to_simplified(lead) for heading, lead in leads.items()}
    if fmt == "csv":
        return to_csv(title, lines, parts)
    return {"md": to_markdown, "docx": to_docx}[fmt](title, lines, parts, leads)


def to_csv(title: str, lines: list[str], parts) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(row for _, members in parts for row in members)
    return out.getvalue().encode("utf-8-sig")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text Word can hold: XML forbids control characters (a query may carry them)."""
    return _NOT_XML.sub("", text)


def _label(row: dict) -> str:
    return f"《{row['title']}》" + (f" {row['heading_path']}" if row["heading_path"] else "")


def to_markdown(title: str, lines: list[str], parts, leads: dict[str, str]) -> bytes:
    out = [f"# {title}", "", *lines, ""]
    for heading, members in parts:
        if heading:
            out += [f"## {heading}", ""]
        if leads.get(heading):
            out += [leads[heading], ""]
        for row in members:
            out += [f"{'###' if heading else '##'} {row['rank']}. {_label(row)}", "", *_quoted(row["text"]), ""]
            if row["note"]:
                out += [f"批注：{row['note']}", ""]
            out += [row["citation"], ""]
    return "\n".join(out).encode("utf-8")


def _quoted(text: str) -> list[str]:
    return ["> " + line if line.strip() else ">" for line in text.splitlines()] or [">"]


def to_docx(title: str, lines: list[str], parts, leads: dict[str, str]) -> bytes:
    from .official_docx import Item, Part, render

    return render(_xml(title), [_xml(x) for x in lines],
                  [Part(heading, [Item(_xml(_label(r)), _xml(r["text"]), _xml(r["citation"]), _xml(r["note"]))
                                  for r in members], _xml(leads.get(heading, ""))) for heading, members in parts])
