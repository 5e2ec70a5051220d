"""The keyword index's format (Whoosh, BM25F over jieba words plus a character-bigram field for
exact phrases, and beside it the ranking arrays of indexer/formats/bm25.py): its schema, how it is
written, how it is opened. search/keyword.py ranks over it."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from whoosh import fields, index
from whoosh.analysis import Tokenizer

from ..analysis import BigramTokenizer, WordTokenizer, bigram_terms, word_terms
from ..store import Document, StoredPassage
from ..text import normalise
from . import bm25

# BM25F weights of the fields a plain query searches; the bigram field adds character overlap where
# jieba splits query and passage differently. Measured: bench/README.md ("Settings").
FIELD_BOOSTS = {"content": 1.0, "heading": 0.7, "exact": 1.0, "doctitle": 0.3}
RANKING = "bm25"  # the ranking arrays' folder inside the keyword index


def schema() -> fields.Schema:
    words: Tokenizer = WordTokenizer()
    return fields.Schema(
        passage_id=fields.ID(stored=True, unique=True),
        doc_id=fields.ID(stored=True),
        content=fields.TEXT(analyzer=words, phrase=False),
        heading=fields.TEXT(analyzer=words, phrase=False),
        title=fields.TEXT(analyzer=words, phrase=False),  # for title:…
        doctitle=fields.TEXT(analyzer=words, phrase=False),  # the same words, for ranking
        exact=fields.TEXT(analyzer=BigramTokenizer(), phrase=True),
        region=fields.KEYWORD(lowercase=True, commas=False),
        year=fields.NUMERIC(int, bits=32, signed=False),
        issuer=fields.ID(),
        doc_type=fields.ID(),
        source=fields.ID(),
        section=fields.ID(),
    )


def region_terms(region: str | None, province: str | None) -> str:
    """Every name a region filter may use: `宁波市 宁波 浙江省 浙江`."""
    names = set()
    for name in (region, province):
        if name:
            norm = normalise(name)
            names.add(norm)
            for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
                if norm.endswith(suffix) and len(norm) > len(suffix) + 1:
                    names.add(norm[: -len(suffix)])
                    break
    return " ".join(sorted(names))


def exact_text(passage: StoredPassage) -> str:
    """Headings and text for phrase matching; `_` keeps a phrase from spanning two of them."""
    return " _ ".join(passage.heading_path + (passage.norm,))


def build(path: Path, passages: Iterable[tuple[StoredPassage, Document]]) -> int:
    """Write a new keyword index at `path` from (passage, document) pairs:
    the Whoosh index and, beside it, the ranking arrays (`bm25`)."""
    path.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(path), schema())
    # One segment: document numbers in the order added. Postings are sorted in memory up to `limitmb`
    # before Whoosh spills them to sorted runs on disk and merges those: gov-reports' 13,146 passages
    # fit in 1,024 (text indexes 81 -> 56 s, the indexer's peak 0.55 -> 1.0 GB, the same index).
    writer = ix.writer(procs=1, limitmb=1024)
    ranking = bm25.PostingsWriter(FIELD_BOOSTS)
    n = 0
    for passage, doc in passages:
        # The nearest heading says what a paragraph is about; the upper ones and
        # the title are too broad to help ranking (measured on seeds-dev).
        heading = passage.heading_path[-1] if passage.heading_path else ""
        title = doc.title or ""
        exact = exact_text(passage)
        ranking.add(passage.passage_id, {
            "content": [t.text for t in word_terms(passage.norm)],
            "heading": [t.text for t in word_terms(heading)] if heading else [],
            "doctitle": [t.text for t in word_terms(title)] if title else [],
            "exact": [b[0] for b in bigram_terms(exact)],
        })
        writer.add_document(
            passage_id=passage.passage_id,
            doc_id=passage.doc_id,
            content=passage.norm,
            heading=heading,
            title=title,
            doctitle=title,
            exact=exact,
            region=region_terms(doc.region, doc.province),
            issuer=normalise(doc.issuer) if doc.issuer else None,
            doc_type=normalise(doc.doc_type) if doc.doc_type else None,
            source=doc.source,
            section=passage.section,
            **({"year": doc.year} if doc.year else {}),
        )
        n += 1
    writer.commit()
    ranking.write(path / RANKING)
    return n


def ranking_arrays(path: Path) -> bm25.Postings:
    """The ranking arrays written beside a keyword index."""
    return bm25.Postings(path / RANKING)


def open_index(path: Path):
    """The Whoosh index at `path`, read with this module's schema rather than the one Whoosh pickled
    into it: the pickle names the analyser classes' modules, and an index must outlive a move of them
    (indexes written before the move to indexer/ name `search.analysis`)."""
    return index.open_dir(str(path), schema=schema())
