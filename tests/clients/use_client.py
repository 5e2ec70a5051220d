"""A small program on the Python client that openapi-python-client generates from /openapi.json
(as the package `rsclient`): every operation called against a live server, its answers checked.
tests/test_generated_clients.py runs it and type-checks it with the client (mypy --strict).

Usage: python use_client.py BASE_URL OUT_DIR"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import httpx
from rsclient import Client
from rsclient.api.default import (compare, export, export_document, export_outline, export_passages, get_document,
                                  get_passage, get_stats, healthz, list_documents, outline, phrases, search,
                                  similar_passages)
from rsclient.models import (Compare, CompareBy, Document, DocumentList, ErrorResponse, ExportDocumentFormat,
                             ExportFormat, ExportOutlineFormat, ExportPassagesBody, ExportPassagesBodyFormat,
                             ExportPassagesBodyNotes, Outline, PassageInContext, PhraseList, SearchMode,
                             SearchResults, SimilarResults)
from rsclient.types import File


def main(base_url: str, out: Path) -> None:
    client = Client(base_url=base_url, raise_on_unexpected_status=True, timeout=httpx.Timeout(60))
    called: list[str] = []

    found = search.sync(client=client, q="垃圾分类", k=5, mode=SearchMode.KEYWORD)
    assert isinstance(found, SearchResults) and found.total >= len(found.results) > 0, found
    first = found.results[0]
    assert first.citation.startswith("——《") and isinstance(found.next_, str)
    called.append("search")

    bad = search.sync(client=client, q="垃圾分类", k=0)
    assert isinstance(bad, ErrorResponse) and "k" in bad.error.message
    called.append("search (400)")

    in_context = get_passage.sync(first.passage_id, client=client, context=1)
    assert isinstance(in_context, PassageInContext) and in_context.passage.passage_id == first.passage_id
    called.append("getPassage")
    missing = get_passage.sync("no-such-passage", client=client)
    assert isinstance(missing, ErrorResponse)
    called.append("getPassage (404)")

    similar = similar_passages.sync(first.passage_id, client=client, k=3)
    assert isinstance(similar, SimilarResults) and similar.passage_id == first.passage_id
    called.append("similarPassages")

    document = get_document.sync(first.doc_id, client=client)
    assert isinstance(document, Document) and document.passages
    called.append("getDocument")
    report = export_document.sync(first.doc_id, client=client, format_=ExportDocumentFormat.DOCX, part=first.passage_id)
    assert isinstance(report, File)
    (out / "report.docx").write_bytes(report.payload.read())
    called.append("exportDocument")

    documents = list_documents.sync(client=client, k=3)
    assert isinstance(documents, DocumentList) and documents.total >= len(documents.documents) > 0
    called.append("listDocuments")

    compared = compare.sync(client=client, q="垃圾分类", by=CompareBy.YEAR)
    assert isinstance(compared, Compare) and compared.groups
    called.append("compare")

    planned = outline.sync(client=client, q="垃圾分类", k=2)
    assert isinstance(planned, Outline) and [s.name for s in planned.sections][:2] == ["基本情况", "主要做法与成效"]
    assert all(len({r.doc_id for r in s.results}) == len(s.results) <= 2 for s in planned.sections)
    called.append("outline")
    plan = export_outline.sync(client=client, q="垃圾分类", k=2, format_=ExportOutlineFormat.DOCX)
    assert isinstance(plan, File)
    (out / "outline.docx").write_bytes(plan.payload.read())
    called.append("exportOutline")

    formulations = phrases.sync(client=client, q="城市管理", k=5)
    assert isinstance(formulations, PhraseList)
    called.append("phrases")

    stats = get_stats.sync(client=client)
    assert stats is not None and stats.counts
    called.append("getStats")
    assert healthz.sync(client=client) is not None
    called.append("healthz")

    table = export.sync(client=client, q="垃圾分类", k=3, format_=ExportFormat.CSV)
    assert isinstance(table, File)
    data = table.payload.read()
    (out / "search.csv").write_bytes(data)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    same = search.sync(client=client, q="垃圾分类", k=3)
    assert isinstance(same, SearchResults) and [r["passage_id"] for r in rows] == [r.passage_id for r in same.results]
    called.append("export (csv)")
    word = export.sync(client=client, q="垃圾分类", k=3, format_=ExportFormat.DOCX)
    assert isinstance(word, File)
    (out / "search.docx").write_bytes(word.payload.read())
    called.append("export (docx)")

    ids = [r.passage_id for r in found.results[:3]]
    notes = ExportPassagesBodyNotes()
    notes[ids[0]] = "开头用"
    body = ExportPassagesBody(passage_ids=ids, format_=ExportPassagesBodyFormat.DOCX, title="素材", notes=notes)
    basket = export_passages.sync(client=client, body=body)
    assert isinstance(basket, File)
    (out / "basket.docx").write_bytes(basket.payload.read())
    called.append("exportPassages")
    print("\n".join(called))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
