"""The JSON API. Each endpoint is one engine call; errors come from one handler."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from search import export as exporting
from search.checks import MAX_K, MAX_OFFSET, SearchError
from search.compare import COMPARE_BY, MAX_COMPARE_K, MAX_GROUPS
from search.hits import split_values
from search.query import QueryError

from . import params
from .openapi import spec
from .params import BadRequest

bp = Blueprint("api", __name__)
FILTERS = params.FILTER_NAMES
SEARCH_PARAMS = ("q", "mode", "k", "offset", "explain", "diversify") + FILTERS
DIVERSIFY = ("report", "off")  # off: as ranked; report: at most 2 passages of a report in the top 10


def engine(on=None):
    """The engine a call runs on: `on` where given (report_search/mcp_server.py passes its own), else
    the app's."""
    return on if on is not None else current_app.extensions["engine"].get()


def answer(call, *args, **kwargs) -> dict:
    """An engine call; a bad query or parameter becomes a 400 naming it."""
    try:
        return call(*args, **kwargs)
    except (QueryError, SearchError) as exc:
        raise BadRequest(f"parameter 'q': {exc}" if isinstance(exc, QueryError) else str(exc)) from None


def run_search(args, facets: bool = True, diversify: str | None = None, on=None) -> dict:
    """The search the API, the export and the page share (`diversify`: the default where the
    request names none)."""
    k, offset = params.paging(args)
    spread = params.choice(args, "diversify", DIVERSIFY, diversify)
    return with_year_note(answer(engine(on).search, params.query(args), mode=params.mode(args), k=k,
                                 offset=offset, filters=params.filters(args), explain=params.flag(args, "explain"),
                                 facets=facets, diversify=spread == "report"), args)


def with_year_note(result: dict, args) -> dict:
    """The answer, with the note that `year` was searched where `year_from` / `year_to` came with it."""
    note = params.year_note(args)
    if note:
        result.setdefault("notes", []).append(note)
    return result


def run_similar(passage_id: str, args, on=None) -> dict:
    k, offset = params.paging(args)
    try:
        return engine(on).similar(passage_id, k=k, offset=offset, filters=params.filters(args),
                                by=params.choice(args, "by", ("region",)))
    except KeyError:
        raise BadRequest(f"no passage with id '{passage_id}'", 404) from None
    except SearchError as exc:
        raise BadRequest(str(exc)) from None


def get_passage(passage_id: str, context: int = 2, on=None) -> dict:
    try:
        return engine(on).passage(passage_id, context=context)
    except KeyError:
        raise BadRequest(f"no passage with id '{passage_id}'", 404) from None


def get_document(doc_id: str, on=None) -> dict:
    try:
        return engine(on).document(doc_id)
    except KeyError:
        raise BadRequest(f"no document with id '{doc_id}'", 404) from None


@bp.get("/api/search")
def search():
    params.known_only(request.args, SEARCH_PARAMS)
    return jsonify(with_next(run_search(request.args), "/api/search"))


def with_next(result: dict, path: str) -> dict:
    """The URL of the next page, where there is one (the request's own parameters, the offset moved on)."""
    k, offset = params.paging(request.args)
    if offset + k < result["total"] and offset + k <= MAX_OFFSET:
        result["next"] = f"{path}?" + urlencode({**request.args.to_dict(), "offset": offset + k})
    return result


COMPARE_PARAMS = ("q", "by", "k", "groups", "mode", "series_by", "series") + FILTERS


def run_compare(args, on=None) -> dict:
    series = tuple(split_values(params.text(args, "series")))
    return answer(engine(on).compare, params.query(args), by=params.choice(args, "by", COMPARE_BY, "region"),
                  k=params.integer(args, "k", 3, 1, MAX_COMPARE_K),
                  groups=params.integer(args, "groups", 20, 1, MAX_GROUPS),
                  filters=params.filters(args), mode=params.mode(args),
                  series_by=params.choice(args, "series_by", ("region", "issuer"), "region" if series else None),
                  series=series)


@bp.get("/api/compare")
def compare():
    params.known_only(request.args, COMPARE_PARAMS)
    return jsonify(run_compare(request.args))


def run_phrases(args, on=None) -> dict:
    return answer(engine(on).phrases, params.optional_query(args), k=params.integer(args, "k", 20, 1, MAX_K),
                  filters=params.filters(args), mode=params.mode(args))


@bp.get("/api/phrases")
def phrases():
    params.known_only(request.args, ("q", "k", "mode") + FILTERS)
    return jsonify(run_phrases(request.args))


OUTLINE_PARAMS = ("q", "mode", "k", "phrases") + tuple(f for f in FILTERS if f != "section")


def run_outline(args, on=None) -> dict:
    from search.outline import MAX_OUTLINE_K, MAX_OUTLINE_PHRASES

    return with_year_note(answer(engine(on).outline, params.query(args), filters=params.filters(args),
                                 mode=params.mode(args), k=params.integer(args, "k", 3, 1, MAX_OUTLINE_K),
                                 phrases=params.integer(args, "phrases", 8, 0, MAX_OUTLINE_PHRASES)), args)


@bp.get("/api/outline")
def outline():
    """写作提纲: per section role, the topic's best passages from different reports and its formulations."""
    params.known_only(request.args, OUTLINE_PARAMS)
    return jsonify(run_outline(request.args))


@bp.get("/api/outline/export")
def export_outline():
    """The outline of /api/outline as a file: md or docx (csv: its passages as rows)."""
    params.known_only(request.args, OUTLINE_PARAMS + ("format", "simplified"))
    fmt = params.choice(request.args, "format", exporting.FORMATS, "docx")
    data = exporting.export_outline(run_outline(request.args), fmt, params.filters(request.args),
                                    params.flag(request.args, "simplified"))
    return attachment(data, fmt, "提纲-" + params.query(request.args).strip()[:40])


@bp.get("/api/export")
def export():
    """The results of /api/search as a file: csv (UTF-8 with BOM), md or docx."""
    params.known_only(request.args, SEARCH_PARAMS + ("format", "simplified"))
    fmt = params.choice(request.args, "format", exporting.FORMATS, "csv")
    result = run_search(request.args, facets=False)
    data = exporting.export(result, fmt, params.paging(request.args)[1], params.filters(request.args),
                            params.flag(request.args, "simplified"))
    return attachment(data, fmt, params.query(request.args).strip()[:40])


@bp.post("/api/export")
def export_passages():
    """Chosen passages (the page's 素材篮, or a program's) as a file, grouped by section role."""
    body = params.export_body(request.get_json(silent=True))
    try:
        results = engine().chosen(body["passage_ids"])
    except KeyError as exc:
        raise BadRequest(f"no passage with id '{exc.args[0]}'", 404, zh=f"找不到段落 {exc.args[0]}") from None
    data = exporting.export_passages(results, body["format"], body["title"], body["notes"], body["simplified"])
    return attachment(data, body["format"], body["title"] or exporting.BASKET_TITLE)


def attachment(data: bytes, fmt: str, name: str) -> Response:
    mimetype, suffix = exporting.FORMATS[fmt]
    name = f"report-search-{name}.{suffix}"
    return Response(data, content_type=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=\"report-search.{suffix}\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@bp.get("/api/passages/<passage_id>/similar")
def similar(passage_id: str):
    params.known_only(request.args, ("k", "offset", "by") + FILTERS)
    return jsonify(with_next(run_similar(passage_id, request.args),
                             f"/api/passages/{quote(passage_id, safe='')}/similar"))


@bp.get("/api/passages/<passage_id>")
def passage(passage_id: str):
    params.known_only(request.args, ("context",))
    return jsonify(get_passage(passage_id, params.integer(request.args, "context", 2, 0, 20)))


def run_documents(args, on=None) -> dict:
    k, offset = params.integer(args, "k", 20, 1, MAX_K), params.integer(args, "offset", 0, 0, MAX_OFFSET)
    return answer(engine(on).documents, filters=params.filters(args), k=k, offset=offset)


@bp.get("/api/documents")
def documents():
    params.known_only(request.args, ("k", "offset") + FILTERS)
    return jsonify(run_documents(request.args))


@bp.get("/api/documents/<doc_id>")
def document(doc_id: str):
    return jsonify(get_document(doc_id))


@bp.get("/api/documents/<doc_id>/export")
def export_document(doc_id: str):
    """A report as it reads (or the top-level section of its passage `part`): docx or md."""
    params.known_only(request.args, ("format", "part", "simplified"))
    fmt = params.choice(request.args, "format", exporting.REPORT_FORMATS, "docx")
    doc = get_document(doc_id)
    try:
        data = exporting.export_document(doc, fmt, params.text(request.args, "part"),
                                         params.flag(request.args, "simplified"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return attachment(data, fmt, doc["title"][:40])


@bp.get("/api/stats")
def stats():
    return jsonify(engine().stats())


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
