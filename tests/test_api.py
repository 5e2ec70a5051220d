"""The JSON API through the test client: contract, OpenAPI conformance, errors, fuzzing."""
from __future__ import annotations

import random

import jsonschema
import pytest

from web.app import create_app
from web.openapi import spec


@pytest.fixture(scope="module")
def client(corpus_index, backend):
    app = create_app({"INDEX_DIR": str(corpus_index), "TESTING": True, "ENGINE_OPTIONS": {"backend": backend}})
    return app.test_client()


def validate(instance, name):
    schema = {**spec()["components"]["schemas"][name], "components": spec()["components"]}
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def test_search_matches_the_cli_contract_plus_facets(client, engine):
    r = client.get("/api/search", query_string={"q": "城管进社区", "k": 5, "mode": "keyword"})
    assert r.status_code == 200
    data = r.get_json()
    validate(data, "SearchResults")
    assert set(data["facets"]) == {"region", "year", "issuer", "doc_type", "section"}
    assert data["results"] == engine.search("城管进社区", mode="keyword", k=5)["results"]


def test_facets_count_the_whole_match_set(client):
    data = client.get("/api/search", query_string={"q": "城市管理", "mode": "keyword", "k": 1}).get_json()
    counted = sum(f["count"] for f in data["facets"]["doc_type"])
    assert len(data["results"]) == 1 and counted > 10


def test_every_endpoint_returns_what_the_openapi_document_says(client, engine):
    hit = engine.search('"门前三包"', mode="keyword", k=1)["results"][0]
    validate(client.get(f"/api/passages/{hit['passage_id']}").get_json(), "PassageInContext")
    validate(client.get(f"/api/passages/{hit['passage_id']}/similar?k=3").get_json(), "SimilarResults")
    validate(client.get(f"/api/documents/{hit['doc_id']}").get_json(), "Document")
    validate(client.get("/api/stats").get_json(), "Stats")
    assert client.get("/healthz").get_json() == {"status": "ok"}
    paths = set(spec()["paths"])
    assert paths == {"/api/search", "/api/phrases", "/api/compare", "/api/outline", "/api/outline/export",
                     "/api/export", "/api/passages/{id}", "/api/passages/{id}/similar", "/api/documents",
                     "/api/documents/{id}", "/api/documents/{id}/export", "/api/stats", "/healthz"}
    validate(client.get("/api/outline?q=垃圾分类").get_json(), "Outline")
    validate(client.get("/api/compare?q=垃圾分类&by=year").get_json(), "Compare")
    validate(client.get("/api/phrases?q=门前三包").get_json(), "PhraseList")
    validate(client.get("/api/documents?k=3").get_json(), "DocumentList")
    assert client.get("/openapi.json").get_json()["openapi"].startswith("3.")


def test_passage_comes_with_its_neighbours(client, engine):
    hit = engine.search('"门前三包"', mode="keyword", k=1)["results"][0]
    data = client.get(f"/api/passages/{hit['passage_id']}?context=2").get_json()
    assert data["passage"]["text"] == hit["text"]
    positions = [p["position"] for p in data["before"] + [data["passage"]] + data["after"]]
    assert positions == sorted(positions) and len(positions) >= 3


@pytest.mark.parametrize("url, status, word", [
    ("/api/search", 400, "'q'"),
    ("/api/search?q=", 400, "'q'"),
    ("/api/search?q=城管&k=abc", 400, "'k'"),
    ("/api/search?q=城管&k=-3", 400, "'k'"),
    ("/api/search?q=城管&k=1000", 400, "'k'"),
    ("/api/search?q=城管&offset=-1", 400, "'offset'"),
    ("/api/search?q=城管&offset=x", 400, "'offset'"),
    ("/api/search?q=城管&mode=fuzzy", 400, "'mode'"),
    ("/api/search?q=城管&year=twenty", 400, "'year'"),
    ("/api/search?q=" + "城" * 10_000, 400, "too long"),
    ("/api/passages/no-such-id", 404, "no passage"),
    ("/api/passages/no-such-id/similar", 404, "no passage"),
    ("/api/documents/no-such-doc", 404, "no document"),
    ("/api/nothing-here", 404, ""),
])
def test_errors_have_one_shape_and_name_the_parameter(client, url, status, word):
    r = client.get(url)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert set(error) == {"code", "message"} and word in error["message"]


def test_request_body_over_the_limit_is_refused_with_the_limit(client):
    r = client.get("/api/search?q=城管", data=b"x" * 100_000)
    assert r.status_code == 413
    assert "at most 65536" in r.get_json()["error"]["message"]


FUZZ = ['"', '"""', "AND", "OR", "NOT", "NOT NOT", "(", ")", "((城管", "城管))", "region:", ":", "year:[",
        "year:[2020 TO", "\x00", "\x07\x1b[31m", "\u202e城管", "*", "?", "~", "^", "\\", "城管^2", "title:",
        "<img src=x onerror=alert(1)>", "' OR 1=1 --", "%s%s%s", "{{7*7}}", "../../etc/passwd", "🙂" * 50]


def test_fuzzed_queries_never_give_a_500(client):
    rng = random.Random(7)
    pieces = FUZZ + ["城管", "垃圾分类", "宁波", "2020", " "]
    queries = FUZZ + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(120)]
    for q in queries:
        for mode in ("keyword", "semantic", "hybrid"):
            r = client.get("/api/search", query_string={"q": q, "mode": mode, "k": rng.randint(1, 20)})
            assert r.status_code in (200, 400), (q, mode, r.status_code)
            body = r.get_json()
            assert ("results" in body) if r.status_code == 200 else ("error" in body)


def _query_params(path: str) -> dict:
    return {p["name"]: p["schema"] for p in spec()["paths"][path]["get"]["parameters"] if p["in"] == "query"}


def test_the_openapi_bounds_are_the_servers_bounds(client):
    """Every declared bound holds both ways: at the bound accepted, one past it refused; a blank
    number, choice or flag is refused, naming it (the schema types them strictly), while the page
    takes a blank from its forms as the default."""
    checked = 0
    for name, schema in _query_params("/api/search").items():
        if schema.get("type") != "integer":
            assert "anyOf" not in schema, name
            continue
        for value, ok in [(schema["minimum"], True), (schema["maximum"], True),
                          (schema["minimum"] - 1, False), (schema["maximum"] + 1, False), ("", False), (" ", False)]:
            r = client.get("/api/search", query_string={"q": "城市管理", "mode": "keyword", name: value})
            assert (r.status_code == 200) == ok, (name, value, r.status_code)
            assert ok or name in r.get_json()["error"]["message"]
            checked += 1
    assert checked >= 5 * 6  # k, offset, year, year_from, year_to
    for name in ("mode", "explain", "diversify"):
        r = client.get("/api/search", query_string={"q": "城市管理", name: ""})
        assert r.status_code == 400 and f"'{name}' is empty" in r.get_json()["error"]["message"], name
    assert client.get("/", query_string={"q": "城市管理", "year": "", "k": "", "mode": "", "section": ""}).status_code == 200
    for odd in (" 3", "+3", "3_0", "٣", "3.0"):  # not whole numbers as the schema writes them
        assert client.get("/api/search", query_string={"q": "城市管理", "k": odd}).status_code == 400, odd
    too_long = "x" * (_query_params("/api/search")["issuer"]["maxLength"] + 1)
    assert client.get("/api/search", query_string={"q": "城市管理", "issuer": " " * len(too_long)}).status_code == 400


def test_a_405_names_the_allowed_methods(client):
    r = client.post("/api/search?q=城市管理")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    assert r.get_json()["error"]["code"] == "method_not_allowed"


def test_the_openapi_links_lead_from_results_to_passages_and_documents(client):
    """Follow every link the document declares from a real response of its operation."""
    operations = {op["operationId"]: path for path, item in spec()["paths"].items() for op in item.values()
                  if "operationId" in op}
    responses = {"search": client.get("/api/search", query_string={"q": "门前三包", "k": 3}).get_json()}
    followed = set()
    for _ in range(2):  # the passage and document responses have links of their own
        for op_id, body in list(responses.items()):
            links = spec()["paths"][operations[op_id]]["get"]["responses"]["200"].get("links", {})
            for link in links.values():
                pointer = link["parameters"]["id"].split("#", 1)[1]
                value = body
                for part in pointer.strip("/").split("/"):
                    value = value[int(part)] if isinstance(value, list) else value[part]
                target = operations[link["operationId"]].replace("{id}", value)
                r = client.get(target)
                assert r.status_code == 200, target
                responses[link["operationId"]] = r.get_json()
                followed.add(link["operationId"])
    assert followed == {"getPassage", "similarPassages", "getDocument"}


def test_an_outline_counts_as_the_search_does_and_takes_each_passage_from_another_report(client):
    """写作提纲: the sections in a report's order; each section's count is the search's total with that
    section's filter; its passages come from different reports; a formulation stands in one section."""
    data = client.get("/api/outline", query_string={"q": "环境卫生", "k": 3, "phrases": 8}).get_json()
    assert [s["section"] for s in data["sections"]] == ["overview", "measures", "problems", "plans", "lessons"]
    for part in data["sections"]:
        search = client.get("/api/search", query_string={"q": "环境卫生", "section": part["section"], "k": 1}).get_json()
        assert part["passages"] == search["total"], part["section"]
        assert len({r["doc_id"] for r in part["results"]}) == len(part["results"]) <= 3
        assert all(r["section"] == part["section"] for r in part["results"])
        assert part["naming"] <= part["passages"] and len(part["results"]) <= part["naming"]
        assert all("卫生" in r["text"] or "衛生" in r["text"] for r in part["results"])  # matched by its words
    assert sum(len(s["results"]) for s in data["sections"]) >= 4
    phrases = [p["text"] for s in data["sections"] for p in s["phrases"]]
    assert phrases and len(phrases) == len(set(phrases))
    r = client.get("/api/outline", query_string={"q": "垃圾分类", "section": "problems"})
    assert r.status_code == 400 and "section" in r.get_json()["error"]["message"]


def test_an_outline_exports_to_word_with_its_sections_and_formulations(client):
    import io

    from docx import Document

    r = client.get("/api/outline/export", query_string={"q": "环境卫生", "format": "docx"})
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    texts = [p.text for p in Document(io.BytesIO(r.data)).paragraphs]
    assert texts[0] == "“环境卫生”写作提纲"
    assert any(t.endswith("、主要做法与成效") for t in texts) and any(t.startswith("常用表述：") for t in texts)
    assert sum(t.startswith("——《") for t in texts) >= 4  # every passage with its source line


def test_a_report_or_one_of_its_sections_exports_as_it_reads(client, engine):
    import io

    from docx import Document

    hit = engine.search("存在的不足", mode="keyword", k=1)["results"][0]
    doc = client.get(f"/api/documents/{hit['doc_id']}").get_json()
    whole = client.get(f"/api/documents/{hit['doc_id']}/export", query_string={"format": "docx"})
    assert whole.status_code == 200
    paragraphs = Document(io.BytesIO(whole.data)).paragraphs
    texts = [p.text for p in paragraphs]
    assert texts[0] == doc["title"] and texts[-1].startswith(f"——《{doc['title']}》")
    heading = hit["text"].split("\n")[0]  # `五、存在的不足`: a heading line, styled as one
    assert next(p for p in paragraphs if p.text == heading).style.name.startswith("Heading")
    assert sum(len(p["text"]) for p in doc["passages"]) <= sum(len(t) for t in texts)  # nothing left out
    part = client.get(f"/api/documents/{hit['doc_id']}/export",
                      query_string={"format": "md", "part": hit["passage_id"]}).data.decode()
    assert part.startswith(f"# {doc['title']} · {hit['heading_path'][0]}") and heading in part
    assert len(part) < len(client.get(f"/api/documents/{hit['doc_id']}/export?format=md").data.decode())
    assert client.get("/api/documents/no-such/export").status_code == 404
    bad = client.get(f"/api/documents/{hit['doc_id']}/export", query_string={"part": "no-such"})
    assert bad.status_code == 400 and "'part'" in bad.get_json()["error"]["message"]
