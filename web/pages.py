"""The search page, the similar-passages page and the report view. Each renders
what the matching API call returns; Jinja escapes everything from the corpus."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from indexer.sections import ROLES
from search import reading
from search.checks import MAX_OFFSET
from search.matching import RULE_NAMES

from . import api, params
from .params import BadRequest

bp = Blueprint("pages", __name__)

MODE_LABELS = {"hybrid": "混合", "keyword": "关键词", "semantic": "语义"}
FACET_LABELS = {"region": "地区", "year": "年份", "issuer": "发文单位", "doc_type": "文种", "section": "部分"}
PAGE_PHRASES = 10  # formulations in the page's panel
FILTER_KEYS = ("region", "year", "issuer", "doc_type", "source", "section")  # shown as chips on the page
SEVERAL = ("region", "issuer", "doc_type", "section")  # filters that take several values (OR), comma-joined
CARRIED = ("q", "mode") + params.FILTER_NAMES  # what the search and the compare view hand each other


def shown(name: str, value) -> str:
    """A facet or filter value as the page shows it: section codes by their Chinese names."""
    return ROLES.get(value, value) if name == "section" else value


def url_with(**changes) -> str:
    """The current search URL with some parameters changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if v}
    if changes.get("year") is not None:  # one year replaces a range
        args.pop("year_from", None)
        args.pop("year_to", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    if "offset" in args and args["offset"] == "0":
        args.pop("offset")
    return "/?" + urlencode(args)


def export_url(fmt: str) -> str:
    """/api/export with the current search's parameters."""
    args = {k: v for k, v in request.args.items() if v}
    return "/api/export?" + urlencode({**args, "format": fmt})


@bp.app_context_processor
def helpers():
    return {"url_with": url_with, "export_url": export_url, "MODE_LABELS": MODE_LABELS, "FACET_LABELS": FACET_LABELS, "shown": shown,
            "ROLES": ROLES, "COMPARE_LABELS": COMPARE_LABELS, "compare_url": compare_url, "outline_url": outline_url,
            "MAX_OFFSET": MAX_OFFSET, "RULE_NAMES": RULE_NAMES}


@bp.get("/")
def search_page():
    q = request.args.get("q", "")
    context = {"q": q, "mode": request.args.get("mode") or "hybrid", "result": None, "error": None, "phrases_url": None,
               "active": {k: request.args[k] for k in FILTER_KEYS if request.args.get(k)}}
    # each filter's chosen values, for the facets' bold value and ＋ (search.html)
    context["picked"] = {k: context["active"][k].split(",") for k in SEVERAL if k in context["active"]}
    if q.strip():
        try:
            context["result"] = api.run_search(request.args, diversify="report")
            # The formulations panel is fetched by the page once the results show (app.js): ranking the
            # query a second time inside this request made the page wait for both.
            context["phrases_url"] = "/api/phrases?" + urlencode({**carried_args(), "k": PAGE_PHRASES})
            context["k"], context["offset"] = params.paging(request.args)
        except BadRequest as exc:
            context["error"] = exc.zh
            return render_template("search.html", **context), exc.status
    else:
        context["examples"] = [(label, ("/outline?" if args.pop("outline", None) else "/?") + urlencode(args),
                                args["q"]) for label, args in landing_examples()]
    return render_template("search.html", **context)


def landing_examples() -> list[tuple[str, dict]]:
    """Examples for the empty page, each a search this index answers: its most widespread
    formulations, its largest region and its latest year (`region:宁波` means nothing to an index
    without 宁波). A label and the search's parameters."""
    import numpy as np

    engine = api.engine()
    whole = np.ones(len(engine.retrieval.ids), dtype=bool)
    try:
        formulations = [p.text for p in engine.phrase_index.top(whole, 4)]
    except Exception:  # noqa: BLE001 - an index without formulations: no examples from them
        formulations = []
    facets = engine.facet_index.counts(whole, limit=1)
    out = []
    if formulations:
        out.append(("关键词", {"q": formulations[0]}))
    if len(formulations) > 1:
        out.append(("精确短语加引号", {"q": f'"{formulations[1]}"'}))
    words = formulations[2] if len(formulations) > 2 else formulations[0] if formulations else None
    if words and facets["region"]:
        out.append(("字段", {"q": f"{words} region:{facets['region'][0][0]}"}))
    if words and facets["year"]:
        out.append(("年份", {"q": f"{words} year:{facets['year'][0][0]}"}))
    if len(formulations) > 3:
        out.append(("只看存在问题", {"q": formulations[3], "section": "problems"}))
        out.append(("写作提纲", {"q": formulations[3], "outline": "1"}))
    return out


COMPARE_LABELS = {"region": "地区", "year": "年份", "issuer": "发文单位"}


@bp.get("/compare")
def compare_page():
    q = request.args.get("q", "")
    by = request.args.get("by") or "region"
    args = {k: v for k, v in request.args.items() if v}
    carried = carried_args()
    context = {"q": q, "by": by, "mode": args.get("mode") or "hybrid", "args": args, "result": None, "error": None,
               "search_url": "/?" + urlencode(carried),
               "expand_url": lambda value: "/?" + urlencode({**{k: v for k, v in carried.items()
                                                                 if not (by == "year" and k.startswith("year"))},
                                                              by: value})}
    if q.strip():
        try:
            query_args = dict(args)
            query_args.setdefault("groups", "100")
            context["result"] = api.run_compare(query_args)
        except BadRequest as exc:
            context["error"] = exc.zh
            return render_template("compare.html", **context), exc.status
    return render_template("compare.html", **context)


@bp.get("/outline")
def outline_page():
    q = request.args.get("q", "")
    args = {k: v for k, v in request.args.items() if v and k != "section"}
    context = {"q": q, "mode": args.get("mode") or "hybrid", "args": args, "result": None, "error": None,
               "search_url": "/?" + urlencode(carried_args(without="section")),
               "section_url": lambda role: "/?" + urlencode({**carried_args(), "section": role}),
               "outline_export": lambda fmt: "/api/outline/export?" + urlencode({**args, "format": fmt})}
    if q.strip():
        try:
            context["result"] = api.run_outline(args)
        except BadRequest as exc:
            context["error"] = exc.zh
            return render_template("outline.html", **context), exc.status
    return render_template("outline.html", **context)


def outline_url() -> str:
    """/outline for the current search: its query, mode and filters (every section)."""
    return "/outline?" + urlencode(carried_args(without="section"))


def carried_args(without: str | None = None) -> dict:
    """The current request's query, mode and filters (but `without`)."""
    return {k: v for k, v in request.args.items() if v and k in CARRIED and k != without}


def compare_url(by: str) -> str:
    """/compare for the current search: its query, mode and filters."""
    return "/compare?" + urlencode({**carried_args(), "by": by})


@bp.get("/similar/<passage_id>")
def similar_page(passage_id: str):
    try:
        source = api.get_passage(passage_id, context=0)
        result = api.run_similar(passage_id, request.args)
        k, offset = params.paging(request.args)
    except BadRequest as exc:
        return render_template("message.html", message=exc.zh), exc.status
    return render_template("similar.html", source=source, result=result, k=k, offset=offset,
                           by=request.args.get("by") or "")


@bp.get("/documents")
def documents_page():
    args = {k: v for k, v in request.args.items() if v}
    try:
        result = api.run_documents(request.args)
        k, offset = params.integer(request.args, "k", 20, 1, 100), params.integer(request.args, "offset", 0, 0)
    except BadRequest as exc:
        return render_template("message.html", message=exc.zh), exc.status
    page_url = lambda offset: "/documents?" + urlencode({**args, "offset": offset})  # noqa: E731
    return render_template("documents.html", result=result, args=args, k=k, offset=offset, page_url=page_url)


@bp.get("/documents/<doc_id>")
def document_page(doc_id: str):
    try:
        doc = api.get_document(doc_id)
    except BadRequest as exc:
        return render_template("message.html", message=exc.zh), exc.status
    target = request.args.get("p")
    citation = None
    if target and any(p["passage_id"] == target for p in doc["passages"]):
        citation = api.engine().chosen([target])[0]["citation"]
    return render_template("document.html", doc=doc, target=target, target_citation=citation,
                           blocks=reading.blocks(doc["passages"]))


@bp.get("/basket")
def basket_page():
    """素材篮: the passages a writer gathered, kept in the browser (app.js); exported through POST /api/export."""
    return render_template("basket.html", roles=list(ROLES.items()))  # a list: tojson sorts keys
