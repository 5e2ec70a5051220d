"""Request arguments → engine arguments, shared by the API and the page. Every
bad value becomes a BadRequest naming the parameter."""
from __future__ import annotations

import re

from flask import has_request_context, request

from indexer.sections import ROLES, role_code
from search.checks import MAX_K, MAX_OFFSET, MODES
from search.export import FORMATS
from search.hits import Filters, Note, split_values
from search.query import MAX_QUERY_CHARS

MAX_FILTER_CHARS = 500
# The filter parameters every search-like request takes (the API, the page, the compare view).
FILTER_NAMES = ("region", "year", "year_from", "year_to", "issuer", "doc_type", "source", "section")
MIN_YEAR, MAX_YEAR = 0, 9999


# How the page names each parameter in its (Chinese) messages.
LABELS = {"q": "查询", "k": "每页条数", "offset": "起始位置", "mode": "模式", "year": "年份", "year_from": "起始年份",
          "year_to": "截止年份", "region": "地区", "issuer": "发文单位", "doc_type": "文种", "source": "来源",
          "section": "部分", "by": "对比维度", "groups": "分组数", "format": "格式", "diversify": "分散",
          "explain": "解释", "context": "上下文"}


class BadRequest(Exception):
    """A bad parameter: `message` for programs (the API's), `zh` for the page's readers."""

    def __init__(self, message: str, status: int = 400, zh: str | None = None):
        super().__init__(message)
        self.status = status
        self.zh = zh or message


def label(name: str) -> str:
    return LABELS.get(name, name)


def _blank(name: str, value: str | None, kind: str) -> bool:
    """Whether a typed parameter (a number, a choice, a flag) was left out: absent, or blank from the
    page's forms (an HTML form sends `year=`). The JSON API's schema types them strictly, so there a
    blank value is refused, naming the parameter; the MCP tools and the page take it as the default."""
    if value is None:
        return True
    if value.strip():
        return False
    if has_request_context() and request.blueprint == "api":
        raise BadRequest(f"parameter '{name}' is empty: give {kind}, or leave it out for the default",
                         zh=f"{label(name)}为空")
    return True


def integer(args, name: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    value = args.get(name)
    if _blank(name, value, "a whole number"):
        return default
    if name.startswith("year") and re.fullmatch(r"[0-9]{1,4}\s*年", value.strip()):
        value = value.strip()[:-1].strip()  # `2020年` is the year 2020
    if not re.fullmatch(r"-?[0-9]+", value):  # as the schema says: no spaces, signs or other digits
        raise BadRequest(f"parameter '{name}' must be a whole number, not '{value[:40]}'",
                         zh=f"{label(name)}应为整数（如 2020），而不是“{value[:40]}”")
    number = int(value)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise BadRequest(f"parameter '{name}' must be from {lo} to {hi}",
                         zh=f"{label(name)}应在 {lo} 到 {hi} 之间，而不是 {number}")
    return number


def text(args, name: str, limit: int = MAX_FILTER_CHARS) -> str | None:
    value = args.get(name)
    if value is not None and len(value) > limit:
        raise BadRequest(f"parameter '{name}' is too long: at most {limit} characters",
                         zh=f"{label(name)}太长：最多 {limit} 个字符")
    if value is None or not value.strip():
        return None
    return value.strip()


def query(args) -> str:
    q = args.get("q")
    if not q:  # a blank one is searched: it has nothing to search, and the answer says so
        raise BadRequest("parameter 'q' is required", zh="请输入要查找的内容")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"parameter 'q' is too long: {len(q)} characters, at most {MAX_QUERY_CHARS}",
                         zh=f"查询太长：{len(q)} 个字符，最多 {MAX_QUERY_CHARS} 个")
    return q


def optional_query(args) -> str | None:
    """`q` where it may be left out (the whole corpus)."""
    q = args.get("q")
    if q is None or not q.strip():
        return None
    return query(args)


def mode(args) -> str | None:
    return choice(args, "mode", MODES)


def known_only(args, allowed) -> None:
    """A parameter an endpoint does not know is named, not ignored (a misspelt `yaer` would
    otherwise search every year)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
                         zh=f"无法识别的参数：{'、'.join(unknown)}")


def paging(args) -> tuple[int, int]:
    return integer(args, "k", 10, 1, MAX_K), integer(args, "offset", 0, 0, MAX_OFFSET)


def filters(args) -> Filters:
    year = integer(args, "year", None, MIN_YEAR, MAX_YEAR)
    year_from = integer(args, "year_from", None, MIN_YEAR, MAX_YEAR)
    year_to = integer(args, "year_to", None, MIN_YEAR, MAX_YEAR)
    if year is not None:
        year_from = year_to = year
    return Filters(region=text(args, "region"), year_from=year_from, year_to=year_to, issuer=text(args, "issuer"),
                   doc_type=text(args, "doc_type"), source=text(args, "source"), section=section(args))


def year_note(args) -> str | None:
    """Where `year` and a range are both given: the note saying that `year` was searched (the schema
    cannot forbid the pair, so it is answered, and said)."""
    if text(args, "year") and (text(args, "year_from") or text(args, "year_to")):
        return Note(f"year {text(args, 'year')} searched; year_from / year_to ignored",
                    f"同时给出年份和起止年份：已按年份 {text(args, 'year')} 检索")
    return None


def section(args) -> str | None:
    """A section role by its code (`problems`) or the name the page shows (`存在问题`)."""
    value = text(args, "section")
    if value is None:
        return None
    codes = []
    for part in split_values(value):
        code = role_code(part)
        if code is None:
            raise BadRequest(f"parameter 'section' must be one of {', '.join(ROLES)} (or {', '.join(ROLES.values())}), "
                             f"several separated by commas",
                             zh=f"部分应为 {'、'.join(ROLES.values())} 之一，而不是“{part[:40]}”")
        codes.append(code)
    return ",".join(dict.fromkeys(codes)) or None



def choice(args, name: str, allowed, default: str | None = None) -> str | None:
    """A parameter with a closed set of values (a blank one means `default`, but in the API)."""
    if _blank(name, args.get(name), f"one of {', '.join(allowed)}"):
        return default
    value = text(args, name)
    if value not in allowed:
        raise BadRequest(f"parameter '{name}' must be one of {', '.join(allowed)}",
                         zh=f"{label(name)}应为 {'、'.join(allowed)} 之一，而不是“{value[:40]}”")
    return value


def flag(args, name: str) -> bool:
    if _blank(name, args.get(name), "true or false"):
        return False
    value = args.get(name).strip().lower()
    if value not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise BadRequest(f"parameter '{name}' must be true or false, not '{value[:40]}'",
                         zh=f"{label(name)}应为 true 或 false，而不是“{value[:40]}”")
    return value in ("1", "true", "yes", "on")


MAX_EXPORT_PASSAGES, MAX_TITLE_CHARS, MAX_NOTE_CHARS = 200, 100, 1000
EXPORT_FIELDS = ("passage_ids", "format", "title", "notes", "simplified")


def export_body(body) -> dict:
    """The JSON body of POST /api/export, checked: passage ids (1 to 200), a format, a title, notes
    by passage id, whether to convert to simplified script."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'passage_ids'", zh="请求体应为 JSON 对象")
    unknown = sorted(set(body) - set(EXPORT_FIELDS))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}; known: {', '.join(EXPORT_FIELDS)}",
                         zh=f"无法识别的字段：{'、'.join(unknown)}")
    ids = body.get("passage_ids")
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_EXPORT_PASSAGES
            or not all(isinstance(i, str) and 0 < len(i) <= 200 for i in ids)):
        raise BadRequest(f"field 'passage_ids' must be a list of 1 to {MAX_EXPORT_PASSAGES} passage ids",
                         zh=f"段落编号应为 1 到 {MAX_EXPORT_PASSAGES} 个")
    fmt = body.get("format", "docx")
    if not isinstance(fmt, str) or fmt not in FORMATS:  # a list or object is no key of FORMATS
        raise BadRequest(f"field 'format' must be one of {', '.join(FORMATS)}", zh=f"格式应为 {'、'.join(FORMATS)} 之一")
    title = body.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE_CHARS):
        raise BadRequest(f"field 'title' must be a string of at most {MAX_TITLE_CHARS} characters",
                         zh=f"标题最多 {MAX_TITLE_CHARS} 个字符")
    notes = body.get("notes") or {}
    if not isinstance(notes, dict) or not all(isinstance(v, str) and len(v) <= MAX_NOTE_CHARS for v in notes.values()):
        raise BadRequest(f"field 'notes' must map passage ids to strings of at most {MAX_NOTE_CHARS} characters",
                         zh=f"批注最多 {MAX_NOTE_CHARS} 个字符")
    simplified = body.get("simplified", False)
    if not isinstance(simplified, bool):
        raise BadRequest("field 'simplified' must be true or false", zh="“转为简体”应为 true 或 false")
    return {"passage_ids": ids, "format": fmt, "title": (title or "").strip() or None, "notes": notes,
            "simplified": simplified}
