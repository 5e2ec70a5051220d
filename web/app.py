"""The Flask app: a JSON API over the search engine (the page comes with the web issue)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request

from search.engine import Engine, SearchError
from search.hits import Filters
from search.query import QueryError

log = logging.getLogger(__name__)


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def create_app(config: dict | None = None) -> Flask:
    """App factory. config: INDEX_DIR (required), LOAD_MODEL (default True)."""
    app = Flask(__name__)
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.extensions["engine"] = Engine(app.config["INDEX_DIR"], load_model=app.config.get("LOAD_MODEL", True))

    def engine() -> Engine:
        return app.extensions["engine"]

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):
        code = "not_found" if exc.status == 404 else "bad_request"
        return jsonify({"error": {"code": code, "message": str(exc)}}), exc.status

    @app.errorhandler(404)
    def not_found(_):
        return jsonify({"error": {"code": "not_found", "message": "no such endpoint"}}), 404

    @app.errorhandler(Exception)
    def internal(exc):
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal", "message": "internal error"}}), 500

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/api/stats")
    def stats():
        return jsonify(engine().stats())

    @app.get("/api/search")
    def search():
        args = request.args
        q = args.get("q")
        if not q or not q.strip():
            raise BadRequest("parameter 'q' is required")
        try:
            result = engine().search(q, mode=args.get("mode") or None, k=_int(args, "k", 10),
                                     offset=_int(args, "offset", 0), filters=_filters(args),
                                     explain=args.get("explain") in ("1", "true"))
        except (QueryError, SearchError) as exc:
            raise BadRequest(str(exc)) from None
        return jsonify(result)

    return app


def _int(args, name: str, default: int) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"parameter '{name}' must be a whole number") from None


def _filters(args) -> Filters:
    year_from = _int(args, "year_from", 0) or None
    year_to = _int(args, "year_to", 0) or None
    if args.get("year"):
        year_from = year_to = _int(args, "year", 0)
    return Filters(region=args.get("region") or None, year_from=year_from, year_to=year_to,
                   issuer=args.get("issuer") or None, doc_type=args.get("doc_type") or None,
                   source=args.get("source") or None)
