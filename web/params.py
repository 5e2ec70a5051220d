"""Request arguments → engine arguments, shared by the API and the page. Every
bad value becomes a BadRequest naming the parameter."""
from __future__ import annotations

import re

from indexer.sections import ROLES
from search.engine import MAX_K, MAX_OFFSET, MODES
from search.hits import Filters
from search.query import MAX_QUERY_CHARS

MAX_FILTER_CHARS = 500
MIN_YEAR, MAX_YEAR = 0, 9999


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def integer(args, name: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    value = args.get(name)
    if value is None or value.strip() == "":
        return default
    if not re.fullmatch(r"-?[0-9]+", value):  # as the schema says: no spaces, signs or other digits
        raise BadRequest(f"parameter '{name}' must be a whole number, not '{value[:40]}'")
    number = int(value)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise BadRequest(f"parameter '{name}' must be from {lo} to {hi}")
    return number


def text(args, name: str, limit: int = MAX_FILTER_CHARS) -> str | None:
    value = args.get(name)
    if value is not None and len(value) > limit:
        raise BadRequest(f"parameter '{name}' is too long: at most {limit} characters")
    if value is None or not value.strip():
        return None
    return value.strip()


def query(args) -> str:
    q = args.get("q")
    if not q:  # a blank one is searched: it has nothing to search, and the answer says so
        raise BadRequest("parameter 'q' is required")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"parameter 'q' is too long: {len(q)} characters, at most {MAX_QUERY_CHARS}")
    return q


def optional_query(args) -> str | None:
    """`q` where it may be left out (the whole corpus)."""
    q = args.get("q")
    if q is None or not q.strip():
        return None
    return query(args)


def mode(args) -> str | None:
    return choice(args, "mode", MODES)


def paging(args) -> tuple[int, int]:
    return integer(args, "k", 10, 1, MAX_K), integer(args, "offset", 0, 0, MAX_OFFSET)


def filters(args) -> Filters:
    year = integer(args, "year", None, MIN_YEAR, MAX_YEAR)
    year_from = integer(args, "year_from", None, MIN_YEAR, MAX_YEAR)
    year_to = integer(args, "year_to", None, MIN_YEAR, MAX_YEAR)
    if year is not None:
        year_from = year_to = year
    return Filters(region=text(args, "region"), year_from=year_from, year_to=year_to, issuer=text(args, "issuer"),
                   doc_type=text(args, "doc_type"), source=text(args, "source"),
                   section=choice(args, "section", ROLES))


def choice(args, name: str, allowed, default: str | None = None) -> str | None:
    """A parameter with a closed set of values (a blank one means `default`)."""
    value = text(args, name)
    if value is None:
        return default
    if value not in allowed:
        raise BadRequest(f"parameter '{name}' must be one of {', '.join(allowed)}")
    return value


def flag(args, name: str) -> bool:
    value = (args.get(name) or "").strip().lower()
    if value not in ("", "1", "0", "true", "false", "yes", "no", "on", "off"):
        raise BadRequest(f"parameter '{name}' must be true or false, not '{value[:40]}'")
    return value in ("1", "true", "yes", "on")
