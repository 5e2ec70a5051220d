"""`report-search mcp`: the engine as tools for AI agents, a Model Context Protocol server on the
official Python SDK (`mcp`), over stdio (the default) or streamable HTTP (`--http`).

Tools: search (filters, section, mode, paging), compare, phrases, similar, passage (with its
neighbours) and document; their results are the JSON API's, every passage with its `citation`.
Resource: `report-search://stats`, what the index holds. Arguments are checked as the API checks
its parameters (web/params.py: the same limits and messages); a bad one is a tool error naming it.
"""
from __future__ import annotations

import json
from typing import Any

from web import params
from web.params import BadRequest

INSTRUCTIONS = (
    "Search Chinese work reports (工作总结, 工作报告, 政府工作报告) for reusable passages. Each passage comes "
    "with `citation`, the source line to quote it by. `total` counts the passages that match the query "
    "(`matched_by`: how many by its words, by the official terms the thesaurus adds for them, by meaning, "
    "and by some of its words with a close meaning); "
    "`section` filters by the role of a passage's section: overview 基本情况, measures 主要做法与成效, "
    "problems 存在问题, plans 下一步打算, lessons 经验体会, other 其他.")


def build(engine) -> Any:
    """An MCP server over an open search.engine.Engine. Each tool runs the JSON API's own call
    (web/api.py) on this engine: the same checks, limits, defaults and messages."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from web import api

    server = MCPServer("report-search", instructions=INSTRUCTIONS)

    def checked(call, *args, **kwargs) -> dict[str, Any]:
        """An API call; what the API answers 400 or 404 becomes a tool error with the API's message."""
        try:
            return call(*args, on=engine, **kwargs)
        except BadRequest as exc:
            raise ToolError(str(exc)) from None

    def args_of(**values) -> dict[str, str]:
        """Tool arguments as the API's query parameters (strings; None left out)."""
        return {name: str(value) for name, value in values.items() if value is not None}

    @server.tool(structured_output=True)
    def search(query: str, mode: str = "hybrid", k: int = 10, offset: int = 0, region: str | None = None,
               year: str | None = None, year_from: int | None = None, year_to: int | None = None,
               issuer: str | None = None, doc_type: str | None = None, section: str | None = None) -> dict[str, Any]:
        """Search passages: words, "exact phrases", AND / OR / NOT, field:value. Returns the total of
        matching passages and one page of results, each with its citation. `region`, `issuer`,
        `doc_type`, `section` take several values separated by commas; `year` one year or 2018-2022."""
        years: dict[str, Any] = {"year": year, "year_from": year_from, "year_to": year_to}
        if year and "-" in year:  # a range: its two ends checked as year_from and year_to
            first, last = year.split("-", 1)
            years = {"year_from": first, "year_to": last}
        return checked(api.run_search, args_of(q=query, mode=mode, k=k, offset=offset, region=region, issuer=issuer,
                                               doc_type=doc_type, section=section, **years))

    @server.tool(structured_output=True)
    def compare(query: str, by: str = "region", k: int = 3, groups: int = 20, mode: str = "hybrid",
                section: str | None = None, year_from: int | None = None, year_to: int | None = None) -> dict[str, Any]:
        """A query's matches counted per region, year or issuer (`by`), each group with its best
        passages, and matches per year. The `groups` with most matches are listed (years in order);
        `group_count` says how many groups hold a match."""
        return checked(api.run_compare, args_of(q=query, by=by, k=k, groups=groups, mode=mode, section=section,
                                                year_from=year_from, year_to=year_to))

    @server.tool(structured_output=True)
    def phrases(query: str | None = None, k: int = 20, section: str | None = None) -> dict[str, Any]:
        """Stock formulations (常用表述) recurring across reports among the passages a query matches
        (the whole corpus without a query), with how many reports use each."""
        return checked(api.run_phrases, args_of(q=query, k=k, section=section))

    @server.tool(structured_output=True)
    def outline(topic: str, k: int = 3, phrases: int = 8, mode: str = "hybrid", region: str | None = None,
                year_from: int | None = None, year_to: int | None = None) -> dict[str, Any]:
        """写作提纲 for a topic: for each section of a report in order (基本情况, 主要做法与成效,
        存在问题, 下一步打算, 经验体会), how many passages match, the best passages from different
        reports (each with its citation) and the formulations of that section."""
        return checked(api.run_outline, args_of(q=topic, k=k, phrases=phrases, mode=mode, region=region,
                                                year_from=year_from, year_to=year_to))

    @server.tool(structured_output=True)
    def similar(passage_id: str, k: int = 10, by_region: bool = False) -> dict[str, Any]:
        """Passages most like a given one, other reports first; `by_region`: the nearest of each other region."""
        return checked(api.run_similar, passage_id, args_of(k=k, by="region" if by_region else None))

    @server.tool(structured_output=True)
    def passage(passage_id: str, context: int = 2) -> dict[str, Any]:
        """A passage with the passages before and after it in its report, and the report's metadata."""
        a = args_of(context=context)
        return checked(lambda on: api.get_passage(passage_id, params.integer(a, "context", 2, 0, 20), on=on))

    @server.tool(structured_output=True)
    def documents(region: str | None = None, year_from: int | None = None, year_to: int | None = None,
                  issuer: str | None = None, doc_type: str | None = None, k: int = 20, offset: int = 0
                  ) -> dict[str, Any]:
        """The reports the index holds (newest first): how many pass the filters, and a page of them with
        their metadata and where each value came from (declared by the report or inferred from it)."""
        return checked(api.run_documents, args_of(region=region, year_from=year_from, year_to=year_to, issuer=issuer,
                                                  doc_type=doc_type, k=k, offset=offset))

    @server.tool(structured_output=True)
    def document(doc_id: str) -> dict[str, Any]:
        """A whole report: its metadata (and where each value came from) and its passages in order."""
        return checked(api.get_document, doc_id)

    @server.resource("report-search://stats", name="stats", mime_type="application/json",
                     description="What the index holds: passages, reports, model, when it was built")
    def stats() -> str:
        return json.dumps(engine.stats(), ensure_ascii=False)

    return server
