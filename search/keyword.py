"""The keyword index (Whoosh, BM25F over jieba words plus a character-bigram
field for exact phrases): its schema, how it is built, how it is searched."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from whoosh import fields, index, query as wq, scoring
from whoosh.analysis import Tokenizer

from indexer.store import Document, StoredPassage
from indexer.text import normalise

from .analysis import BigramTokenizer, WordTokenizer
from .hits import Filters, Hit, Ranked
from .query import ParsedQuery, QueryError, make_parser, parse

# BM25F weights of the fields a plain query searches; the bigram field adds
# character overlap where jieba splits query and passage differently.
# Tuned on seeds-dev and ncp-dev: exact 0.7-1.5 and heading 0.4-0.7 score alike.
FIELD_BOOSTS = {"content": 1.0, "heading": 0.7, "exact": 1.0, "doctitle": 0.3}


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


def build(path: Path, passages: Iterable[tuple[StoredPassage, Document]], procs: int = 1) -> int:
    """Write a new keyword index at `path` from (passage, document) pairs."""
    path.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(path), schema())
    writer = ix.writer(procs=procs, limitmb=256)
    n = 0
    for passage, doc in passages:
        writer.add_document(
            passage_id=passage.passage_id,
            doc_id=passage.doc_id,
            content=passage.norm,
            # The nearest heading says what a paragraph is about; the upper ones and
            # the title are too broad to help ranking (measured on seeds-dev).
            heading=passage.heading_path[-1] if passage.heading_path else "",
            title=doc.title or "",
            doctitle=doc.title or "",
            exact=exact_text(passage),
            region=region_terms(doc.region, doc.province),
            issuer=normalise(doc.issuer) if doc.issuer else None,
            doc_type=normalise(doc.doc_type) if doc.doc_type else None,
            source=doc.source,
            **({"year": doc.year} if doc.year else {}),
        )
        n += 1
    writer.commit()
    return n


class KeywordSearcher:
    """BM25F search over a built keyword index."""

    def __init__(self, path: Path, k1: float = 1.2, b: float = 0.75):
        self.ix = index.open_dir(str(path))
        self.weighting = scoring.BM25F(B=b, K1=k1)
        self.parser = make_parser(self.ix.schema, FIELD_BOOSTS)
        self.searcher = self.ix.searcher(weighting=self.weighting)
        self._id_list: list[str] | None = None

    def close(self) -> None:
        self.searcher.close()

    def parse(self, text: str) -> ParsedQuery:
        return parse(text, self.parser)

    def search(self, q: ParsedQuery | str, k: int = 10, filters: Filters | None = None,
               restrict: set[str] | None = None) -> Ranked:
        """The top k passages for a query, and the number that matched."""
        parsed = self.parse(q) if isinstance(q, str) else q
        try:
            results = self.searcher.search(parsed.keyword, limit=max(k, 1), filter=filter_query(filters))
        except wq.QueryError as exc:
            raise QueryError(f"cannot run query: {exc}") from None
        hits = [Hit(r["passage_id"], float(r.score)) for r in results]
        return Ranked(hits[:k], len(results))

    @property
    def _ids(self) -> list[str]:
        """Passage id of each Whoosh document number, read once."""
        if self._id_list is None:
            reader = self.searcher.reader()
            ids = [""] * reader.doc_count_all()
            for docnum, stored in reader.iter_docs():
                ids[docnum] = stored["passage_id"]
            self._id_list = ids
        return self._id_list

    def _unscored_ids(self, q: wq.Query, filters: Filters | None, limit: int | None) -> set[str]:
        fq = filter_query(filters)
        if fq is not None:
            q = wq.And([q, fq])
        ids = self._ids
        out = set()
        for docnum in self.searcher.docs_for_query(q):
            out.add(ids[docnum])
            if limit is not None and len(out) >= limit:
                break
        return out

    def matching_ids(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int | None = 100_000
                     ) -> set[str]:
        """Ids of the passages the keyword query matches, unscored (for constraints and facets)."""
        return self._unscored_ids(parsed.keyword, filters, limit)

    def filtered_ids(self, filters: Filters) -> set[str]:
        """Ids of every passage that passes the filters."""
        return self._unscored_ids(wq.Every(), filters, None)


def filter_query(filters: Filters | None) -> wq.Query | None:
    if filters is None or filters.is_empty():
        return None
    parts: list[wq.Query] = []
    if filters.region:
        parts.append(wq.Term("region", normalise(filters.region.strip())))
    if filters.issuer:
        parts.append(wq.Term("issuer", normalise(filters.issuer.strip())))
    if filters.doc_type:
        parts.append(wq.Term("doc_type", normalise(filters.doc_type.strip())))
    if filters.source:
        parts.append(wq.Prefix("source", filters.source.strip()))
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(wq.NumericRange("year", filters.year_from, filters.year_to))
    return wq.And(parts)

