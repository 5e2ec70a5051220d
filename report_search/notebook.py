"""The engine from Python, for notebooks: `Engine` opens an index directory in the process, `Client`
talks to a running `report-search serve`; both have the same methods, take filters as keywords
(`region="浙江省", year=2025` or `year_from=2023, year_to=2025`, `section="存在问题"`) and return
the API's JSON as an `Answer`: a dict, with `.rows()` and, where pandas is installed,
`.to_dataframe()`.

    from report_search import Engine
    engine = Engine(".report-search")
    engine.search("垃圾分类", region="宁波", k=5).to_dataframe()
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

class ReportSearchError(Exception):
    """A bad query or parameter, or an unknown id: the API's message."""


class Answer(dict):
    """An answer of the API as a dict; its rows (results, groups' or sections' results, formulations,
    reports) as a table."""

    def rows(self) -> list[dict]:
        if "groups" in self:  # compare: each group's passages, the group named
            return [{"group": g["value"], **r} for g in self["groups"] for r in g["results"]]
        if "sections" in self:  # outline: each section's passages, the section named
            return [{"section_name": s["name"], **r} for s in self["sections"] for r in s["results"]]
        for key in ("results", "phrases", "documents"):
            if key in self:
                return list(self[key])
        if isinstance(self.get("passages"), list):  # a document: its passages
            return list(self["passages"])
        return [dict(self)]

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas is not a dependency: `pip install pandas`)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.rows())


def _filters(values: dict):
    from search.hits import Filters

    year = values.pop("year", None)
    if year is not None:
        values.setdefault("year_from", int(year))
        values.setdefault("year_to", int(year))
    return Filters(**values)


class Engine:
    """An index directory opened in this process (search.engine.Engine underneath, as `.engine`)."""

    def __init__(self, index_dir: str | Path = ".report-search", **options):
        from search.engine import Engine as _Engine

        self.engine = _Engine(index_dir, **options)

    def _call(self, method, *args, **kwargs) -> Answer:
        from dataclasses import fields

        from search.checks import SearchError
        from search.hits import Filters
        from search.query import QueryError

        names = ("year", *(f.name for f in fields(Filters)))  # `year`: one year, as the API takes it
        filters = {name: value for name in names if (value := kwargs.pop(name, None)) is not None}
        if filters:
            kwargs["filters"] = _filters(filters)
        try:
            return Answer(method(*args, **kwargs))
        except (QueryError, SearchError) as exc:
            raise ReportSearchError(str(exc)) from None
        except KeyError as exc:
            raise ReportSearchError(f"no passage or document with id {exc}") from None

    def search(self, query: str, **kw) -> Answer:
        """Passages for a query (`mode`, `k`, `offset`, `explain`, `facets`, `diversify`, filters)."""
        return self._call(self.engine.search, query, **kw)

    def compare(self, query: str, by: str = "region", **kw) -> Answer:
        """A query's matches per region, year or issuer (`k`, `groups`, `mode`, filters)."""
        return self._call(self.engine.compare, query, by=by, **kw)

    def outline(self, topic: str, **kw) -> Answer:
        """写作提纲 for a topic (`k`, `phrases`, `mode`, filters but section)."""
        return self._call(self.engine.outline, topic, **kw)

    def phrases(self, query: str | None = None, **kw) -> Answer:
        """Formulations recurring across reports among a query's matches (`k`, `mode`, filters)."""
        return self._call(self.engine.phrases, query, **kw)

    def similar(self, passage_id: str, **kw) -> Answer:
        """Passages most like one, other reports first (`k`, `offset`, `by="region"`, filters)."""
        return self._call(self.engine.similar, passage_id, **kw)

    def passage(self, passage_id: str, context: int = 2) -> Answer:
        """A passage with its neighbours and its report's metadata."""
        return self._call(self.engine.passage, passage_id, context=context)

    def document(self, doc_id: str) -> Answer:
        """A report with its passages."""
        return self._call(self.engine.document, doc_id)

    def documents(self, **kw) -> Answer:
        """The reports that pass the filters, newest first (`k`, `offset`)."""
        return self._call(self.engine.documents, **kw)

    def stats(self) -> Answer:
        return Answer(self.engine.stats())

    def close(self) -> None:
        self.engine.close()


class Client:
    """A running `report-search serve` over HTTP, with the methods of `Engine`."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", timeout: float = 60):
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def _get(self, path: str, **params) -> Answer:
        query = urllib.parse.urlencode({k: _param(v) for k, v in params.items() if v is not None})
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return Answer(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise ReportSearchError(message) from None

    def search(self, query: str, **kw) -> Answer:
        return self._get("/api/search", q=query, **kw)

    def compare(self, query: str, by: str = "region", **kw) -> Answer:
        return self._get("/api/compare", q=query, by=by, **kw)

    def outline(self, topic: str, **kw) -> Answer:
        return self._get("/api/outline", q=topic, **kw)

    def phrases(self, query: str | None = None, **kw) -> Answer:
        return self._get("/api/phrases", q=query, **kw)

    def similar(self, passage_id: str, **kw) -> Answer:
        return self._get(f"/api/passages/{urllib.parse.quote(passage_id, safe='')}/similar", **kw)

    def passage(self, passage_id: str, context: int = 2) -> Answer:
        return self._get(f"/api/passages/{urllib.parse.quote(passage_id, safe='')}", context=context)

    def document(self, doc_id: str) -> Answer:
        return self._get(f"/api/documents/{urllib.parse.quote(doc_id, safe='')}")

    def documents(self, **kw) -> Answer:
        return self._get("/api/documents", **kw)

    def stats(self) -> Answer:
        return self._get("/api/stats")


def _param(value) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)
