"""Passages and reports as the API gives them: a page of results, a passage with its neighbours, a
report, the list of reports, the index's figures. Functions of the engine (search/engine.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.store import doc_id_of

from .checks import MAX_K, MAX_OFFSET, check_whole
from .citation import citation
from .highlight import highlight
from .hits import Filters
from .query import ParsedQuery


def results(engine, page: list, parsed: ParsedQuery | None, explain: bool) -> list[dict]:
    passages = engine.store.passages([f.passage_id for f in page])
    docs = engine.store.documents([p.doc_id for p in passages.values()])
    # the query's phrases and words, and the official terms the thesaurus added (why a passage without
    # the user's words matched)
    needles = [] if parsed is None else parsed.phrases + [w for w in parsed.words if len(w) > 1 or
                                                          len(parsed.free_text) == 1] + parsed.officials
    out = []
    for f in page:
        p = passages.get(f.passage_id)
        if p is None:
            continue
        d = docs[p.doc_id]
        title = display_title(d)
        item = {
            "passage_id": p.passage_id, "doc_id": p.doc_id, "title": title,
            "heading_path": list(p.heading_path), "heads": p.heads, "text": p.text,
            "highlight": highlight(p.text, needles, p.norm), "score": round(f.score, 6),
            "region": d.region, "year": d.year, "issuer": d.issuer, "doc_type": d.doc_type,
            "source": d.source, "section": p.section, **provenance(d),
            "citation": citation(title, d.year, d.issuer, d.region, p.heading_path,
                                 {n for n in ("year", "issuer", "region") if getattr(d, f"{n}_source") == "inferred"}),
        }
        if f.duplicates:
            item["duplicates"] = list(f.duplicates)
        if explain:
            item["explain"] = {name: {"rank": rank, "score": round(score, 6)}
                               for name, (rank, score) in f.sources.items()}
        out.append(item)
    return out


def passage(engine, passage_id: str, context: int = 1) -> dict:
    p = engine.store.passage(passage_id)
    if p is None:
        raise KeyError(passage_id)
    siblings = engine.store.document_passages(p.doc_id)
    i = p.position
    return {"passage": passage_dict(p), "document": doc_dict(engine, p.doc_id),
            "before": [passage_dict(s) for s in siblings[max(0, i - context):i]],
            "after": [passage_dict(s) for s in siblings[i + 1:i + 1 + context]]}


def document(engine, doc_id: str) -> dict:
    doc = doc_dict(engine, doc_id)
    doc["passages"] = [passage_dict(p) for p in engine.store.document_passages(doc_id)]
    return doc


def documents(engine, filters: Filters = Filters(), k: int = 20, offset: int = 0) -> dict:
    """The reports that pass the filters, with their metadata and where each value came from;
    newest first, then by title."""
    check_whole("k", k, 1, MAX_K)
    check_whole("offset", offset, 0, MAX_OFFSET)
    if filters.is_empty():
        ids = engine.store.document_ids()
    else:
        mask = engine.retrieval.filtered_mask(filters)
        ids = {doc_id_of(engine.retrieval.ids[i]) for i in np.flatnonzero(mask)}
    docs = engine.store.documents(ids)
    order = sorted(docs.values(), key=lambda d: (-(d.year or 0), display_title(d), d.doc_id))
    return {"total": len(order), "documents": [doc_fields(d) for d in order[offset:offset + k]]}


def stats(engine) -> dict:
    m = engine.manifest
    return {"counts": engine.store.counts(), "model": m.get("model"), "dimension": m.get("dimension"),
            "second_model": (m.get("second_encoder_spec") or {}).get("model"),
            "vector_index": m.get("vector_index"), "backend": engine.backend,
            "sentence_vectors": m.get("sentence_vectors", 0),
            "built_at": m.get("built_at"), "build": m.get("build"),
            "skipped_files": [f for f in engine.store.files() if f["status"] == "skipped"]}


def chosen(engine, passage_ids: list[str]) -> list[dict]:
    """Passages by id as results (citation, metadata), in the order given; a KeyError names the first
    unknown id."""
    from .fusion import Fused

    found = results(engine, [Fused(pid, 0.0) for pid in dict.fromkeys(passage_ids)], None, False)
    known = {r["passage_id"] for r in found}  # results() leaves out ids the store does not hold
    for pid in passage_ids:
        if pid not in known:
            raise KeyError(pid)
    return found


def passage_dict(p) -> dict:
    return {"passage_id": p.passage_id, "doc_id": p.doc_id, "position": p.position,
            "heading_path": list(p.heading_path), "text": p.text, "section": p.section, "heads": p.heads}


def doc_dict(engine, doc_id: str) -> dict:
    d = engine.store.document(doc_id)
    if d is None:
        raise KeyError(doc_id)
    return doc_fields(d)


def doc_fields(d) -> dict:
    """A report's metadata as the API gives it."""
    return {"doc_id": d.doc_id, "title": display_title(d), "year": d.year, "region": d.region, "issuer": d.issuer,
            "doc_type": d.doc_type, "source": d.source, "url": d.url, "n_passages": d.n_passages,
            "title_source": d.title_source, **provenance(d)}


def provenance(doc) -> dict:
    """`region_source` etc.: 'declared' (a source field or the title), 'inferred' (the body), or None
    where the value is unknown."""
    return {f"{name}_source": getattr(doc, f"{name}_source") for name in ("year", "region", "issuer", "doc_type")}


def display_title(doc) -> str:
    """A report's title, or its file's name where the report has none."""
    return doc.title or Path(doc.source.split("#")[0]).name


def blocks(passages: list[dict]) -> list[dict]:
    """A report's passages as the view shows them: each passage's heading lines (its first `heads`
    lines, the last entries of its heading path) with their level (1: top) and an anchor for the
    outline, then its paragraph (none for a heading that is a passage of its own)."""
    out = []
    for p in passages:
        lines = p["text"].split("\n")
        depth = len(p["heading_path"]) - p["heads"]
        out.append({"passage": p, "body": "\n".join(lines[p["heads"]:]),
                    "headings": [{"level": depth + i + 1, "text": line, "anchor": f"h-{p['passage_id']}-{i}"}
                                 for i, line in enumerate(lines[:p["heads"]])]})
    return out
