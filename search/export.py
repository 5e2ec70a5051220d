"""Search results as files a writer keeps: CSV (UTF-8 with BOM, so Excel reads it), Markdown and
Word (.docx), every passage with its source line (search/citation.py)."""
from __future__ import annotations

import csv
import io
import re

from indexer.sections import ROLES

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
# `*_source`: declared (the source or the title says it), inferred (read from the body), or empty (unknown).
COLUMNS = ("rank", "passage_id", "title", "region", "region_source", "year", "year_source", "issuer",
           "issuer_source", "doc_type", "doc_type_source", "section", "section_name", "heading_path", "text",
           "citation", "score", "doc_id", "source")


def export(result: dict, fmt: str, offset: int = 0) -> bytes:
    """`result` (the search contract; its first result ranked offset + 1) in format `fmt`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    return {"csv": to_csv, "md": to_markdown, "docx": to_docx}[fmt](result, offset)


def rows(result: dict, offset: int = 0) -> list[dict]:
    """One flat row per result, in rank order."""
    return [{"rank": offset + i, "passage_id": r["passage_id"], "title": r["title"], "region": r["region"] or "",
             "year": r["year"] if r["year"] is not None else "", "issuer": r["issuer"] or "",
             "doc_type": r["doc_type"] or "", "section": r["section"], "section_name": ROLES[r["section"]],
             "heading_path": " › ".join(r["heading_path"]), "text": r["text"], "citation": r["citation"],
             "score": r["score"], "doc_id": r["doc_id"], "source": r["source"],
             **{f"{n}_source": r.get(f"{n}_source") or "" for n in ("region", "year", "issuer", "doc_type")}}
            for i, r in enumerate(result["results"], 1)]


def to_csv(result: dict, offset: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(result, offset))
    return out.getvalue().encode("utf-8-sig")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text Word can hold: XML forbids control characters (a query may carry them)."""
    return _NOT_XML.sub("", text)


def _heading(result: dict) -> str:
    return f"检索：{result['query']}（{result['mode']}，共 {result['total']} 段匹配，本文件 {len(result['results'])} 条）"


def to_markdown(result: dict, offset: int = 0) -> bytes:
    lines = [f"# {_heading(result)}", ""]
    for row in rows(result, offset):
        lines += [f"## {row['rank']}. {row['title']}", "", *_quoted(row["text"]), "", row["citation"], ""]
    return "\n".join(lines).encode("utf-8")


def _quoted(text: str) -> list[str]:
    return ["> " + line if line.strip() else ">" for line in text.splitlines()] or [">"]


def to_docx(result: dict, offset: int = 0) -> bytes:
    """One paragraph per passage, its source line in a smaller grey paragraph under it."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.add_heading(_xml(_heading(result)), level=1)
    for row in rows(result, offset):
        doc.add_paragraph(_xml(row["text"]))
        source = doc.add_paragraph().add_run(_xml(row["citation"]))
        source.font.size = Pt(9)
        source.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
