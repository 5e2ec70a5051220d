"""Queries as Milvus sees them (search/milvus.py): the keyword query's (field, term) keys and
weights as a sparse vector, its phrases, operators and fields and the search filters as Milvus
filter expressions, matching what Whoosh matches in the embedded backend. Pure functions."""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np
from whoosh import query as wq

from indexer.formats.keyword import FIELD_BOOSTS
from indexer.formats.milvus import source_key, term_key
from indexer.metadata import canonical_issuer
from indexer.text import normalise

from .hits import Filters
from .query import ExactPhrase, ExactTerm, QueryError, Word

QUERY_FIELDS = ("content", "heading", "title", "doctitle", "exact")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def literal(value) -> str:
    """A value in a Milvus expression. Milvus knows no escape for other control characters: they become
    U+FFFD, so that such a value matches nothing, as in the embedded backend."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = _CONTROL.sub("\ufffd", str(value))
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


def like(chars: str) -> str:
    parts = [p for p in re.split(r"[%_\\]", chars) if p]  # LIKE's own characters never stand in a phrase's
    return " and ".join(f"chars like {literal('%' + p + '%')}" for p in parts) or None


def all_of(parts: Iterable[str | None]) -> str | None:
    """The conjunction of expressions; None (everything) where none restricts."""
    found = [p for p in parts if p is not None]
    if not found:
        return None
    return found[0] if len(found) == 1 else " and ".join(f"({p})" for p in found)


NOTHING = 'pid == ""'  # no passage has an empty id


def expression(q: wq.Query) -> str | None:
    """A parsed keyword query as a Milvus filter expression (None: every passage), matching the
    passages Whoosh matches in the embedded backend."""
    if isinstance(q, Word):  # any of its pieces, as Whoosh (the engine matches words: search/matching.py)
        return expression(q.child)
    if isinstance(q, (ExactPhrase, wq.Phrase)) and q.fieldname == "exact":
        return like(q.words[0] + "".join(w[1:] for w in q.words[1:]))
    if isinstance(q, ExactTerm) or (isinstance(q, wq.Prefix) and q.fieldname == "exact"):
        return like(q.text)
    if isinstance(q, wq.Phrase):  # a quoted value of a word field: its words together
        return all_of(expression(wq.Term(q.fieldname, w)) for w in q.words)
    if isinstance(q, wq.NumericRange):
        return all_of([None if q.start is None else f"{q.fieldname} >= {int(q.start)}",
                     None if q.end is None else f"{q.fieldname} <= {int(q.end)}"]) or f"{q.fieldname} >= 0"
    if isinstance(q, (wq.Term, wq.Prefix)):
        return _term(q)
    if isinstance(q, wq.Not):
        inner = expression(q.query)
        return NOTHING if inner is None else f"not ({inner})"
    if isinstance(q, wq.AndNot):
        inner = expression(q.b)
        return all_of([expression(q.a), None if inner is None else f"not ({inner})"])
    if isinstance(q, wq.AndMaybe):  # the optional part only ranks
        return expression(q.a)
    if isinstance(q, (wq.And, wq.Require)):
        subs = q.subqueries if isinstance(q, wq.And) else [q.a, q.b]
        return all_of(expression(s) for s in subs)
    if isinstance(q, wq.Or):
        subs = [expression(s) for s in q.subqueries]
        if not subs:
            return NOTHING
        return None if None in subs else " or ".join(f"({s})" for s in subs)
    if isinstance(q, wq.Every):
        return None
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return NOTHING
    raise QueryError(f"this kind of query is not supported on the Milvus backend: {q}")


def _year_field():
    from .keyword import schema

    return schema()["year"]


def _term(q: wq.Term | wq.Prefix) -> str:
    field, text = q.fieldname, q.text
    if field == "source":
        key = source_key(text)
        return f"source like {literal(key + '%')}" if isinstance(q, wq.Prefix) else f"source == {literal(key)}"
    if isinstance(q, wq.Prefix):
        raise QueryError(f"prefix queries on {field} are not supported on the Milvus backend")
    if field == "region":
        return f"array_contains(regions, {literal(text)})"
    if field in ("issuer", "doc_type", "section"):
        return f"{field} == {literal(text)}"
    if field == "year":  # `year:2020` parses to Whoosh's sortable bytes
        return f"year == {int(_year_field().from_bytes(text) if isinstance(text, bytes) else text)}"
    if field in QUERY_FIELDS:
        return f"array_contains(terms, {term_key('doctitle' if field == 'title' else field, text)})"
    raise QueryError(f"unknown field {field}")


def _any_of(parts: list[str]) -> str | None:
    """Several values of one filter: any of them."""
    return None if not parts else parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def filter_expression(filters: Filters | None) -> str | None:
    """The filters as a Milvus expression (the embedded backend's keyword.filter_query)."""
    if filters is None or filters.is_empty():
        return None
    return all_of([
        _any_of([f"array_contains(regions, {literal(normalise(v).lower())})" for v in filters.values("region")]),
        _any_of([f"issuer == {literal(canonical_issuer(normalise(v)))}" for v in filters.values("issuer")]),
        _any_of([f"doc_type == {literal(normalise(v))}" for v in filters.values("doc_type")]),
        filters.source and f"source like {literal(source_key(filters.source.strip()) + '%')}",
        _any_of([f"section == {literal(v)}" for v in filters.values("section")]),
        None if filters.year_from is None else f"year >= {int(filters.year_from)}",
        None if filters.year_to is None else f"year <= {int(filters.year_to)}",
    ])


def query_vector(terms: Iterable[tuple[str, str, float]]) -> dict[int, float]:
    """(field, term, boost) triples as a sparse query: its inner product with a passage's row is BM25F."""
    vector: dict[int, float] = {}
    for field, text, boost in terms:
        if field in FIELD_BOOSTS:  # the fields with ranking arrays (`title:` only matches)
            key = term_key(field, text)
            vector[key] = vector.get(key, 0.0) + boost
    return vector
