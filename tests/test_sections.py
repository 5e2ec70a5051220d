"""Section roles: the hand-labelled passages (tests/data/section_labels.jsonl: whole reports from
the bundled corpus and gov-reports, every code present) and the section filter end to end."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.sections import DEFAULT, load, pairs, per_code
from indexer.sections import ROLES, roles

from conftest import ROOT


@pytest.fixture(scope="module")
def figures():
    return per_code(pairs(load([DEFAULT])))


def test_labelled_passages_are_classified_above_the_targets(figures):
    assert figures["all"]["support"] >= 300
    assert all(figures[code]["support"] >= 15 for code in ROLES), "every code labelled"
    assert figures["all"]["accuracy"] >= 0.90
    assert figures["problems"]["recall"] >= 0.85
    assert figures["plans"]["recall"] >= 0.85


def test_a_heading_names_the_role_of_everything_below_it():
    paths = [(), ("一、主要工作",), ("一、主要工作", "(一)加强领导"), ("三、存在的问题",),
             ("三、存在的问题", "(一)思想认识不到位"), ("四、下一步打算",), ("四、下一步打算", "(二)解决群众反映的问题")]
    texts = ["现将上半年工作总结如下:", "今年以来,我局开展了专项整治。", "成立了领导小组。", "一是人员不足。",
             "个别同志认识不到位。", "我们将继续深化改革。", "着力解决停车难。"]
    assert roles("上半年工作总结", paths, texts, 2022) == [
        "overview", "measures", "measures", "problems", "problems", "plans", "plans"]


def test_where_headings_say_nothing_the_words_do():
    texts = ["现将我局2021年工作总结如下。", "全年共清理违章广告1200处,完成了道路保洁任务。",
             "工作中还存在一些问题和不足:", "1、执法人员不足。", "2、经费紧张。",
             "下一步,我们将重点抓好以下工作:", "1、加强队伍建设。"]
    got = roles("2021年工作总结", [()] * len(texts), texts, 2021)
    assert got == ["overview", "measures", "problems", "problems", "problems", "plans", "plans"]


def test_a_government_report_maps_onto_the_same_codes():
    paths = [(), ("一、2024年工作回顾",), ("一、2024年工作回顾",), ("二、2025年经济社会发展总体要求",),
             ("三、2025年政府工作任务", "(一)扩大内需"), ("四、加强政府自身建设",), ("四、加强政府自身建设",)]
    texts = ["各位代表:", "过去一年,经济运行总体平稳。", "我们也清醒看到,发展面临不少困难和挑战。",
             "做好今年政府工作,要坚持稳中求进。", "实施提振消费专项行动。", "各级政府要坚持依法行政。",
             "各位代表!让我们更加紧密地团结在一起,为实现全年目标而努力奋斗!"]
    assert roles("2025年政府工作报告", paths, texts, 2025) == [
        "overview", "measures", "problems", "plans", "plans", "plans", "other"]


def test_every_result_has_a_section_and_the_filter_keeps_only_that_role(engine):
    whole = engine.search("城市管理", mode="keyword", k=50, facets=True)
    assert all(r["section"] in ROLES for r in whole["results"])
    counted = {f["value"]: f["count"] for f in whole["facets"]["section"]}
    assert {"measures", "plans", "problems"} <= set(counted)
    from search.hits import Filters

    only = engine.search("城市管理", mode="hybrid", k=20, filters=Filters(section="problems"), facets=True)
    assert only["results"] and all(r["section"] == "problems" for r in only["results"])
    # the section facet, its own filter set, counts as if it were not: every section, problems among
    # them with the total shown (the page's ＋ adds another)
    sections = {f["value"]: f["count"] for f in only["facets"]["section"]}
    unfiltered = engine.search("城市管理", mode="hybrid", k=1, facets=True)["facets"]["section"]
    assert sections == {f["value"]: f["count"] for f in unfiltered} and sections["problems"] == only["total"]


def test_stored_sections_of_the_corpus_agree_with_the_labels(engine):
    rows = [r for doc in load([DEFAULT]) for r in doc if r["label"] and r["corpus"] == "seeds"]
    stored = engine.store.passages(r["passage_id"] for r in rows)
    assert len(stored) == len(rows), "the labelled seed passages keep their ids"
    right = sum(stored[r["passage_id"]].section == r["label"] for r in rows)
    assert right / len(rows) >= 0.90


def test_section_filter_in_the_cli_and_the_api(corpus_index, backend):
    from web.app import create_app

    client = create_app({"INDEX_DIR": str(corpus_index), "TESTING": True,
                         "ENGINE_OPTIONS": {"backend": backend}}).test_client()
    data = client.get("/api/search", query_string={"q": "存在问题", "section": "problems"}).get_json()
    assert data["results"] and {r["section"] for r in data["results"]} == {"problems"}
    bad = client.get("/api/search", query_string={"q": "存在问题", "section": "issues"})
    assert bad.status_code == 400 and "section" in bad.get_json()["error"]["message"]
    out = subprocess.run([sys.executable, "-m", "report_search.cli", "search", "下一步", "--index-dir", str(corpus_index),
                          "--section", "plans", "--mode", "keyword", "--json", "--backend", backend], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    results = json.loads(out.stdout)["results"]
    assert results and {r["section"] for r in results} == {"plans"}
    wrong = subprocess.run([sys.executable, "-m", "report_search.cli", "search", "下一步", "--index-dir",
                            str(corpus_index), "--section", "nope"], cwd=ROOT, capture_output=True, text=True)
    assert wrong.returncode == 2 and "--section" in wrong.stderr
