"""The OpenAPI 3 description of the JSON API (checked against real responses by the tests)."""
from __future__ import annotations

from indexer.sections import ROLES
from search.checks import MAX_K, MAX_OFFSET
from search.compare import COMPARE_BY, MAX_COMPARE_K, MAX_GROUPS
from search.matching import RULES
from search.outline import MAX_OUTLINE_K, MAX_OUTLINE_PHRASES

from .params import MAX_EXPORT_PASSAGES, MAX_FILTER_CHARS, MAX_NOTE_CHARS, MAX_TITLE_CHARS, MAX_YEAR, MIN_YEAR

_NULLABLE_STR = {"type": ["string", "null"]}
_YEAR = {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR}
# Where a metadata value came from: one named enum, null where the value is unknown (a generated
# client then has one enum class for every *_source field, typed `ValueSource | None`).
_VALUE_SOURCE = {"type": "string", "enum": ["declared", "inferred"],
                 "description": "declared: a field of the source or the title; inferred: read from the body"}
_SOURCE = {"anyOf": [{"$ref": "#/components/schemas/ValueSource"}, {"type": "null"}]}
_SOURCES = {f"{name}_source": _SOURCE for name in ("year", "region", "issuer", "doc_type")}
_SECTION = {"type": "string", "enum": list(ROLES),
            "description": "role of the passage's section: " + ", ".join(f"{k} {v}" for k, v in ROLES.items())}
_HEADS = {"type": "integer", "minimum": 0,
          "description": "leading lines of text that are the report's headings (the last entries of heading_path): "
                         "a heading joins the paragraph below it"}
_RESULT = {
    "type": "object",
    "required": ["passage_id", "doc_id", "title", "heading_path", "heads", "text", "highlight", "score", "region",
                 "year", "issuer", "doc_type", "source", "section", "citation"],
    "properties": {
        "passage_id": {"type": "string"}, "doc_id": {"type": "string"}, "title": {"type": "string"},
        "heading_path": {"type": "array", "items": {"type": "string"}},
        "heads": _HEADS,
        "text": {"type": "string", "description": "the passage's original text"},
        "highlight": {"type": "string", "description": "text as escaped HTML, matches in <mark>"},
        "score": {"type": "number"}, "region": _NULLABLE_STR, "year": {"type": ["integer", "null"]},
        "issuer": _NULLABLE_STR, "doc_type": _NULLABLE_STR, "source": {"type": "string"},
        "section": _SECTION,
        **_SOURCES,
        "citation": {"type": "string", "description": "source line: ——《title》（year，issuer）heading path"},
        "duplicates": {"type": "array", "items": {"type": "string"}},
        "explain": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["rank", "score"],
            "properties": {"rank": {"type": "integer", "minimum": 1,
                                    "description": "from 1, in that list (wording: among the passages "
                                                   "holding the query's wording; ranker: in the learned order)"},
                           "score": {"type": "number"},
                           "features": {"type": "array", "description": "ranker: the features that moved its "
                                        "score most (LightGBM's pred_contrib), largest first",
                                        "items": {"type": "object", "required": ["name", "contribution"],
                                                  "properties": {"name": {"type": "string"},
                                                                 "contribution": {"type": "number"}}}}}}},
    },
}
_MATCHED_BY = {"type": "object", "required": list(RULES),
               "description": "the total split by the first rule each match meets (README: What counts as a "
                              "match): the query's main words; the official terms the thesaurus added for them; "
                              "a similarity at the floor; some of the words and a similarity at the lower "
                              "floor. The four add up to total",
               "properties": {rule: {"type": "integer", "minimum": 0} for rule in RULES}}
_FACET = {"type": "array", "items": {"type": "object", "required": ["value", "count"],
                                     "properties": {"value": {"type": ["string", "integer"]},
                                                    "count": {"type": "integer"}}}}
_RESULTS = {
    "type": "object", "required": ["query", "mode", "total", "results"],
    "properties": {
        "query": {"type": "string"}, "mode": {"type": "string"},
        "total": {"type": "integer", "description": "passages the query matches (README: What counts as a match); "
                                                    "the same on every page; near-duplicates count each"},
        "matched_by": {"$ref": "#/components/schemas/MatchedBy"},
        "notes": {"type": "array", "items": {"type": "string"},
                  "description": "what the query could not use as typed (searched as words), or that it has nothing to search"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        "nearest": {"type": "array", "items": {"$ref": "#/components/schemas/Result"},
                    "description": "where nothing matches: the nearest passages, not counted as matches"},
        "facets": {"type": "object", "properties": {name: _FACET for name in ("region", "year", "issuer", "doc_type", "section")}},
        "expansions": {"type": "array", "description": "official terms the thesaurus added, per colloquial query term: searched "
                                                     "besides the query's own words (README: Ranking, plain words to official words)",
                       "items": {"type": "object", "required": ["term", "added"],
                                 "properties": {"term": {"type": "string"},
                                                "added": {"type": "array", "items": {"type": "string"}}}}},
        "next": {"type": "string", "description": "the URL of the next page (/api/search), where there is one"},
    },
}
_SIMILAR = {
    "type": "object", "required": ["passage_id", "total", "results"],
    "properties": {
        "passage_id": {"type": "string", "description": "the passage the results are like"},
        "by": {"type": "string", "enum": ["region"], "description": "where asked: one passage per other region"},
        "total": {"type": "integer", "description": "similar passages the filters allow (other reports first)"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        "next": {"type": "string", "description": "the URL of the next page, where there is one"},
    },
}
_COMPARE = {
    "type": "object", "required": ["query", "by", "mode", "groups", "group_count"],
    "properties": {
        "query": {"type": "string"}, "by": {"type": "string"}, "mode": {"type": "string"},
        "total": {"type": "integer", "description": "matching passages in all (as /api/search's total)"},
        "matched_by": {"$ref": "#/components/schemas/MatchedBy"},
        "reports": {"type": "integer", "description": "reports holding a matching passage"},
        "group_count": {"type": "integer", "description": "groups holding a match; groups lists the ones with most "
                                                          "matches (years then in order), as many as asked for"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "series": {"type": "array", "description": "matches per year: all of them (全部), then each value of series",
                   "items": {"type": "object", "required": ["name", "points"], "properties": {
                       "name": {"type": "string"},
                       "points": {"type": "array", "items": {"type": "object", "required": ["year", "passages", "reports"],
                                                             "properties": {"year": {"type": "integer"},
                                                                            "passages": {"type": "integer"},
                                                                            "reports": {"type": "integer"}}}}}}},
        "groups": {"type": "array", "items": {
            "type": "object", "required": ["value", "known", "passages", "reports", "results"],
            "properties": {"value": {"type": ["string", "integer"], "description": "未知 for reports whose value is not known"},
                           "known": {"type": "boolean"},
                           "passages": {"type": "integer", "description": "matching passages in the group"},
                           "reports": {"type": "integer"},
                           "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}}},
    },
}
_PHRASES = {
    "type": "object", "required": ["query", "passages", "phrases"],
    "properties": {
        "query": {"type": "string"}, "passages": {"type": "integer", "description": "passages the query matched"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "phrases": {"type": "array", "items": {
            "type": "object", "required": ["text", "reports", "passages", "examples"],
            "properties": {"text": {"type": "string"},
                           "reports": {"type": "integer", "description": "distinct reports using it"},
                           "passages": {"type": "integer"},
                           "examples": {"type": "array", "items": {"type": "string"},
                                        "description": "passage ids, one per report first"}}}},
    },
}
_PHRASE = _PHRASES["properties"]["phrases"]["items"]
_OUTLINE = {
    "type": "object", "required": ["query", "mode", "sections"],
    "properties": {
        "query": {"type": "string"}, "mode": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "sections": {"type": "array", "description": "基本情况, 主要做法与成效, 存在问题, 下一步打算, 经验体会, in that order",
                     "items": {"type": "object", "required": ["section", "name", "passages", "naming", "reports",
                                                              "results", "phrases"],
                               "properties": {
                                   "section": _SECTION, "name": {"type": "string"},
                                   "passages": {"type": "integer", "description": "matching passages in sections of "
                                                "this role (as /api/search's total with this section)"},
                                   "naming": {"type": "integer", "description": "of those, the passages that match "
                                              "by the topic's words, not by meaning alone: the results "
                                              "and formulations come from these"},
                                   "reports": {"type": "integer", "description": "reports holding those"},
                                   "results": {"type": "array", "description": "the best passages, one per report",
                                               "items": {"$ref": "#/components/schemas/Result"}},
                                   "phrases": {"type": "array", "description": "formulations recurring in this "
                                               "section more than in the others", "items": _PHRASE}}}},
    },
}
_PASSAGE = {"type": "object",
            "required": ["passage_id", "doc_id", "position", "heading_path", "text", "section", "heads"],
            "properties": {"passage_id": {"type": "string"}, "doc_id": {"type": "string"},
                           "position": {"type": "integer"},
                           "heading_path": {"type": "array", "items": {"type": "string"}},
                           "text": {"type": "string"}, "section": _SECTION,
                           "heads": _HEADS}}
_DOCUMENT = {"type": "object", "required": ["doc_id", "title", "year", "region", "issuer", "doc_type", "source"],
             "properties": {"doc_id": {"type": "string"}, "title": {"type": "string"},
                            "year": {"type": ["integer", "null"]}, "region": _NULLABLE_STR, "issuer": _NULLABLE_STR,
                            "doc_type": _NULLABLE_STR, "source": {"type": "string"}, "url": _NULLABLE_STR,
                            "n_passages": {"type": "integer"}, "title_source": _SOURCE, **_SOURCES,
                            "passages": {"type": "array", "items": {"$ref": "#/components/schemas/Passage"}}}}
_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "object", "required": ["code", "message"],
                                   "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}


# Numbers, choices and flags are typed strictly: a blank one is refused with a 400 naming it (the
# page's forms may send blanks to the page, not to the API; web/params.py).
def _param(name, schema, description, required=False, where="query"):
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


_ROLE = "(?:" + "|".join([*ROLES, *ROLES.values()]) + ")"
_SECTIONS = rf"^\s*(?:{_ROLE}(?:\s*[,，]\s*{_ROLE})*)?\s*$"  # codes or names, comma-separated; blank: none
_FILTERS = [
    _param("region", {"type": "string", "maxLength": MAX_FILTER_CHARS},
           "city or province (宁波, 浙江省, 新疆 = 新疆维吾尔自治区); a province takes in its cities; several "
           "separated by commas match any"),
    _param("year", _YEAR, "one year"),
    _param("year_from", _YEAR, "first year of a range"),
    _param("year_to", _YEAR, "last year of a range"),
    _param("issuer", {"type": "string", "maxLength": MAX_FILTER_CHARS}, "issuing body (several: commas)"),
    _param("doc_type", {"type": "string", "maxLength": MAX_FILTER_CHARS}, "document type (several: commas)"),
    _param("source", {"type": "string", "maxLength": MAX_FILTER_CHARS}, "source file path prefix"),
    _param("section", {"type": "string", "maxLength": MAX_FILTER_CHARS, "pattern": _SECTIONS},
           "only passages of sections of this role, by code or name (problems = 存在问题); several: commas. "
           + ", ".join(f"{k} {v}" for k, v in ROLES.items())),
]
_PAGING = [_param("k", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "results per page"),
           _param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                  "results to skip (pages reach the first MAX_OFFSET + k results)")]
_Q = _param("q", {"type": "string", "minLength": 1, "maxLength": 1000},
             'query: words, "phrases", AND/OR/NOT, field:value', required=True)
_MODE = _param("mode", {"type": "string", "enum": ["hybrid", "keyword", "semantic"]}, "retrieval mode (default hybrid)")
_SEARCH_PARAMS = [_Q, _MODE, _param("explain", {"type": "boolean"}, "per-retriever rank and score"),
                  _param("diversify", {"type": "string", "enum": ["report", "off"]},
                         "report: at most 2 passages of one report in the top 10 (4 in 20 …) while others match"),
                  *_PAGING, *_FILTERS]
_ID = _param("id", {"type": "string"}, "passage id", required=True, where="path")


def _file_params(default: str, formats: str) -> list[dict]:
    """An export's format and script."""
    return [_param("format", {"type": "string", "enum": ["csv", "md", "docx"], "default": default}, formats),
            _param("simplified", {"type": "boolean", "default": False},
                   "traditional script converted to simplified in the file")]
_OUTLINE_PARAMS = [_Q, _MODE,
                   _param("k", {"type": "integer", "minimum": 1, "maximum": MAX_OUTLINE_K, "default": 3},
                          "passages per section, from different reports"),
                   _param("phrases", {"type": "integer", "minimum": 0, "maximum": MAX_OUTLINE_PHRASES, "default": 8},
                          "formulations per section"),
                   *[p for p in _FILTERS if p["name"] != "section"]]


# Where a response names a passage or a document, the operations that read it (clients and
# Schemathesis' stateful phase follow them).
_LINKS = {
    "SimilarResults": {"passage": ("getPassage", "$response.body#/results/0/passage_id")},
    "SearchResults": {"passage": ("getPassage", "$response.body#/results/0/passage_id"),
                "similar": ("similarPassages", "$response.body#/results/0/passage_id"),
                "document": ("getDocument", "$response.body#/results/0/doc_id")},
    "PassageInContext": {"document": ("getDocument", "$response.body#/passage/doc_id"),
                         "similar": ("similarPassages", "$response.body#/passage/passage_id")},
    "Document": {"passage": ("getPassage", "$response.body#/passages/0/passage_id")},
    "PhraseList": {"example": ("getPassage", "$response.body#/phrases/0/examples/0")},
    "Compare": {"passage": ("getPassage", "$response.body#/groups/0/results/0/passage_id")},
    "Outline": {"passage": ("getPassage", "$response.body#/sections/1/results/0/passage_id")},
}


def _responses(schema_ref: str, not_found: bool = False) -> dict:
    links = {name: {"operationId": op, "parameters": {"id": value}}
             for name, (op, value) in _LINKS.get(schema_ref.rsplit("/", 1)[1], {}).items()}
    out = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": schema_ref}}},
                   **({"links": links} if links else {})},
           "400": {"description": "bad parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
           **_COMMON}
    if not_found:
        out["404"] = {"description": "unknown id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    return out


_BINARY = {"schema": {"type": "string", "format": "binary"}}  # the file's bytes, whatever its format
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
# What any operation may answer besides its own: a route this server lacks (an older one), a method it
# does not take, a body or URL too large, the index being unavailable.
_COMMON = {"404": {"description": "not found (an unknown id or route)", "content": _ERROR_JSON},
           "405": {"description": "method not allowed (the Allow header names those allowed)", "content": _ERROR_JSON},
           "413": {"description": "request too large", "content": _ERROR_JSON},
           "503": {"description": "index unavailable (not built yet, or its Milvus unreachable)", "content": _ERROR_JSON}}
_FILE_RESPONSES = {
    # application/octet-stream first: generated clients (openapi-python-client) then read every format
    # as bytes; the response's own Content-Type is one of the three after it.
    "200": {"description": "the file (csv: UTF-8 with BOM; md: UTF-8; docx)", "content": {
        "application/octet-stream": _BINARY,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _BINARY,
        "text/csv": _BINARY, "text/markdown": _BINARY}},
    "400": {"description": "bad parameter", "content": _ERROR_JSON}, **_COMMON}


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "report-search API", "version": "1.0",
                 "description": "Keyword, semantic and hybrid search over Chinese work reports."},
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Search passages",
                "parameters": _SEARCH_PARAMS,
                "responses": _responses("#/components/schemas/SearchResults")}},
            "/api/compare": {"get": {
                "operationId": "compare",
                "summary": "The best passages for a query per region, year or issuer",
                "parameters": [_Q, _MODE,
                               _param("by", {"type": "string", "enum": list(COMPARE_BY), "default": "region"},
                                      "what to group by"),
                               _param("k", {"type": "integer", "minimum": 1, "maximum": MAX_COMPARE_K, "default": 3},
                                      "passages per group"),
                               _param("groups", {"type": "integer", "minimum": 1, "maximum": MAX_GROUPS,
                                                 "default": 20}, "groups at most (the unknown group counts)"),
                               _param("series_by", {"type": "string", "enum": ["region", "issuer"]},
                                      "what series names (default region)"),
                               _param("series", {"type": "string", "maxLength": MAX_FILTER_CHARS},
                                      "comma-separated values of series_by: matches per year for each"),
                               *_FILTERS],
                "responses": _responses("#/components/schemas/Compare")}},
            "/api/phrases": {"get": {
                "operationId": "phrases",
                "summary": "Stock formulations recurring across reports among the passages a query matches",
                "parameters": [_param("q", {"type": "string", "maxLength": 1000},
                                      "query choosing the passages (the whole corpus without one)"),
                               _MODE,
                               _param("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 20},
                                      "formulations to return"),
                               *_FILTERS],
                "responses": _responses("#/components/schemas/PhraseList")}},
            "/api/outline": {"get": {
                "operationId": "outline",
                "summary": "写作提纲: per section role, a topic's best passages from different reports and the "
                           "formulations of that section",
                "parameters": _OUTLINE_PARAMS,
                "responses": _responses("#/components/schemas/Outline")}},
            "/api/outline/export": {"get": {
                "operationId": "exportOutline",
                "summary": "The outline of /api/outline as a file (md, docx; csv: its passages as rows)",
                "parameters": [*_file_params("docx", "docx, md or csv"), *_OUTLINE_PARAMS],
                "responses": _FILE_RESPONSES}},
            "/api/export": {"get": {
                "operationId": "export",
                "summary": "The results of /api/search as a file, each passage with its source line",
                "parameters": [*_file_params("csv", "csv (UTF-8 with BOM), md or docx"),
                               *[p for p in _SEARCH_PARAMS if p["name"] != "explain"]],
                "responses": _FILE_RESPONSES},
                "post": {
                "operationId": "exportPassages",
                "summary": "Chosen passages (a writer's 素材篮) as a file, grouped by section role in a report's "
                           "order, each with its source line and note",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["passage_ids"], "additionalProperties": False,
                    "properties": {
                        "passage_ids": {"type": "array", "minItems": 1, "maxItems": MAX_EXPORT_PASSAGES,
                                        "items": {"type": "string", "minLength": 1, "maxLength": 200},
                                        "description": "passages in the writer's order (within each section role)"},
                        "format": {"type": "string", "enum": ["csv", "md", "docx"], "default": "docx"},
                        "title": {"type": ["string", "null"], "maxLength": MAX_TITLE_CHARS,
                                  "description": "the document's title (default 素材摘编)"},
                        "notes": {"type": "object", "additionalProperties": {"type": "string",
                                                                             "maxLength": MAX_NOTE_CHARS},
                                  "description": "the writer's note per passage id"},
                        "simplified": {"type": "boolean", "default": False}}}}}},
                "responses": {**_FILE_RESPONSES, "404": {"description": "unknown passage id", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}}}},
            "/api/passages/{id}": {"get": {
                "operationId": "getPassage",
                "summary": "A passage with its neighbours in its report",
                "parameters": [_ID, _param("context", {"type": "integer", "minimum": 0, "maximum": 20, "default": 2},
                                           "passages before and after")],
                "responses": _responses("#/components/schemas/PassageInContext", not_found=True)}},
            "/api/passages/{id}/similar": {"get": {
                "operationId": "similarPassages",
                "summary": "Passages most like this one, other reports first",
                "parameters": [_ID, _param("by", {"type": "string", "enum": ["region"]},
                                           "region: the most similar passage of each other region"),
                               *_PAGING, *_FILTERS],
                "responses": _responses("#/components/schemas/SimilarResults", not_found=True)}},
            "/api/documents": {"get": {
                "operationId": "listDocuments",
                "summary": "The reports that pass the filters, with their metadata and its source; newest first",
                "parameters": [_param("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 20},
                                      "reports per page"),
                               _param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                                      "reports to skip"),
                               *_FILTERS],
                "responses": _responses("#/components/schemas/DocumentList")}},
            "/api/documents/{id}": {"get": {
                "operationId": "getDocument",
                "summary": "A cleaned report with its passages",
                "parameters": [_param("id", {"type": "string"}, "document id", required=True, where="path")],
                "responses": _responses("#/components/schemas/Document", not_found=True)}},
            "/api/documents/{id}/export": {"get": {
                "operationId": "exportDocument",
                "summary": "A report as it reads (headings as headings, its source line at the end), or one "
                           "top-level section of it, as a file",
                "parameters": [_param("id", {"type": "string"}, "document id", required=True, where="path"),
                               _param("format", {"type": "string", "enum": ["docx", "md"], "default": "docx"},
                                      "docx (GB/T 9704) or md"),
                               _param("part", {"type": "string", "maxLength": MAX_FILTER_CHARS},
                                      "a passage id of the report: only the top-level section holding it"),
                               _param("simplified", {"type": "boolean", "default": False},
                                      "traditional script converted to simplified in the file")],
                "responses": {**_FILE_RESPONSES, "404": {"description": "unknown document id",
                                                         "content": _ERROR_JSON}}}},
            "/api/stats": {"get": {"operationId": "getStats", "summary": "What the index holds",
                                   "responses": {"200": {"description": "OK", "content": {"application/json": {
                                       "schema": {"$ref": "#/components/schemas/Stats"}}}}}}},
            "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness",
                                 "responses": {"200": {"description": "OK", "content": {"application/json": {
                                     "schema": {"type": "object", "required": ["status"],
                                                "properties": {"status": {"type": "string"}}}}}}}}},
        },
        "components": {"schemas": {
            "Result": _RESULT, "SearchResults": _RESULTS, "SimilarResults": _SIMILAR, "PhraseList": _PHRASES, "Compare": _COMPARE, "Outline": _OUTLINE, "Passage": _PASSAGE, "Document": _DOCUMENT, "ErrorResponse": _ERROR, "ValueSource": _VALUE_SOURCE, "MatchedBy": _MATCHED_BY,
            "DocumentList": {"type": "object", "required": ["total", "documents"],
                             "properties": {"total": {"type": "integer"},
                                            "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}},
            "PassageInContext": {"type": "object", "required": ["passage", "document", "before", "after"],
                                 "properties": {"passage": {"$ref": "#/components/schemas/Passage"},
                                                "document": {"$ref": "#/components/schemas/Document"},
                                                "before": {"type": "array", "items": {"$ref": "#/components/schemas/Passage"}},
                                                "after": {"type": "array", "items": {"$ref": "#/components/schemas/Passage"}}}},
            "Stats": {"type": "object", "required": ["counts"],
                      "properties": {"counts": {"type": "object"}, "model": _NULLABLE_STR,
                                     "second_model": _NULLABLE_STR, "vector_index": _NULLABLE_STR,
                                     "backend": {"type": "string", "enum": ["embedded", "milvus"]}, "build": _NULLABLE_STR,
                                     "skipped_files": {"type": "array", "items": {"type": "object"},
                                                       "description": "files the last build could not read, and why"},
                                     "dimension": {"type": ["integer", "null"]}, "built_at": _NULLABLE_STR,
                                     "sentence_vectors": {"type": "integer", "minimum": 0,
                                                          "description": "sentences embedded besides passages"}}},
        }},
    }
