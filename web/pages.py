"""The search page, the similar-passages page and the report view. Each renders
what the matching API call returns; Jinja escapes everything from the corpus."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from indexer.sections import ROLES

from . import api, params
from .params import BadRequest

bp = Blueprint("pages", __name__)

MODE_LABELS = {"hybrid": "混合", "keyword": "关键词", "semantic": "语义"}
FACET_LABELS = {"region": "地区", "year": "年份", "issuer": "发文单位", "doc_type": "文种", "section": "部分"}
PAGE_PHRASES = 10  # formulations in the page's panel
FILTER_KEYS = ("region", "year", "issuer", "doc_type", "source", "section")


def shown(name: str, value) -> str:
    """A facet or filter value as the page shows it: section codes by their Chinese names."""
    return ROLES.get(value, value) if name == "section" else value


def url_with(**changes) -> str:
    """The current search URL with some parameters changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if v}
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
            "ROLES": ROLES, "COMPARE_LABELS": COMPARE_LABELS}


@bp.get("/")
def search_page():
    q = request.args.get("q", "")
    context = {"q": q, "mode": request.args.get("mode") or "hybrid", "result": None, "error": None, "phrases": [],
               "active": {k: request.args[k] for k in FILTER_KEYS if request.args.get(k)}}
    if q.strip():
        try:
            context["result"] = api.run_search(request.args, diversify="report")
            context["phrases"] = api.run_phrases(request.args)["phrases"][:PAGE_PHRASES]
            context["k"], context["offset"] = params.paging(request.args)
        except BadRequest as exc:
            context["error"] = str(exc)
            return render_template("search.html", **context), exc.status
    return render_template("search.html", **context)


COMPARE_LABELS = {"region": "地区", "year": "年份", "issuer": "发文单位"}


@bp.get("/compare")
def compare_page():
    q = request.args.get("q", "")
    context = {"q": q, "by": request.args.get("by") or "region", "result": None, "error": None}
    if q.strip():
        try:
            context["result"] = api.run_compare(request.args)
        except BadRequest as exc:
            context["error"] = str(exc)
            return render_template("compare.html", **context), exc.status
    return render_template("compare.html", **context)


@bp.get("/similar/<passage_id>")
def similar_page(passage_id: str):
    try:
        source = api.get_passage(passage_id, context=0)
        result = api.run_similar(passage_id, request.args)
        k, offset = params.paging(request.args)
    except BadRequest as exc:
        return render_template("message.html", message=str(exc)), exc.status
    return render_template("similar.html", source=source, result=result, k=k, offset=offset,
                           by=request.args.get("by") or "")


@bp.get("/documents/<doc_id>")
def document_page(doc_id: str):
    try:
        doc = api.get_document(doc_id)
    except BadRequest as exc:
        return render_template("message.html", message=str(exc)), exc.status
    return render_template("document.html", doc=doc, target=request.args.get("p"))
