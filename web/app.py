"""The Flask app: a Chinese search page and a JSON API over the same engine calls."""
from __future__ import annotations

import logging

from flask import Flask, jsonify

from .holder import EngineHolder
from .params import BadRequest

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 64 * 1024


def create_app(config: dict | None = None) -> Flask:
    """App factory. config: INDEX_DIR (required), LOAD_MODEL (default True),
    RELOAD_SECONDS (how often to look for a newly published index; default 1),
    THESAURUS (a user's thesaurus file, added to the packaged one),
    RANKER ("interpolate", the default, or "learned": how hybrid results are ordered),
    ENGINE_OPTIONS (search.engine.Engine's backend and milvus_uri)."""
    app = Flask(__name__)
    app.config.update({"MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES, **(config or {})})
    app.json.ensure_ascii = False
    from search.engine import SearchSettings

    settings = SearchSettings(thesaurus_file=app.config.get("THESAURUS"),
                              ranker=app.config.get("RANKER") or "interpolate")
    app.extensions["engine"] = EngineHolder(app.config["INDEX_DIR"], load_model=app.config.get("LOAD_MODEL", True),
                                            interval=app.config.get("RELOAD_SECONDS", 1.0), settings=settings,
                                            options=app.config.get("ENGINE_OPTIONS") or {})

    from . import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    _error_handlers(app)

    @app.before_request
    def refuse_large_bodies():
        from flask import request
        from werkzeug.exceptions import RequestEntityTooLarge

        limit = app.config["MAX_CONTENT_LENGTH"]
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge(f"request body too large: {request.content_length} bytes, at most {limit}")

    return app


def accept_unencoded_urls() -> None:
    """Let waitress take a request line whose URL holds raw UTF-8 (`curl 'http://…/api/search?q=城管'`):
    its bytes are percent-encoded as a browser would before waitress splits the URL, so the request
    reaches the app (and any error is the API's JSON) instead of waitress's plain-text `Bad URI`.
    Waitress refuses such lines outright (its parser.split_uri, as of 3.0); nothing else changes."""
    import re

    from waitress import parser

    if getattr(parser.split_uri, "encodes_raw_bytes", False):
        return
    split = parser.split_uri

    def split_uri(uri: bytes):
        return split(re.sub(rb"[\x80-\xff]", lambda m: b"%%%02X" % m.group()[0], uri))

    split_uri.encodes_raw_bytes = True
    parser.split_uri = split_uri


def error(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status


def _error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):
        return error("not_found" if exc.status == 404 else "bad_request", str(exc), exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response, status = error(exc.name.lower().replace(" ", "_"), exc.description or exc.name, exc.code or 500)
        if getattr(exc, "valid_methods", None):  # a 405 says which methods the URL takes (RFC 9110)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response, status

    from indexer.layout import IndexUnavailable

    @app.errorhandler(IndexUnavailable)
    def unavailable(exc: IndexUnavailable):  # e.g. the Milvus backend's server is down
        log.warning("index unavailable: %s", exc)
        return error("unavailable", str(exc), 503)

    @app.errorhandler(Exception)
    def internal(exc: Exception):
        log.exception("unhandled error")
        return error("internal", "internal error", 500)
