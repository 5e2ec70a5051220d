"""For researchers: compare across cities, years and issuers (a hand-made corpus with known cities,
declared in JSONL fields), diversified result lists, similar passages by region."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, build_both
from search.fusion import diversify

CITIES = {
    "宁波市": ["宁波市全面推行垃圾分类，居民垃圾分类知晓率达到95%。", "宁波市垃圾分类督导员进小区。",
              "宁波市垃圾分类设施提升改造。", "宁波市开展垃圾分类积分兑换活动。"],
    "杭州市": ["杭州市垃圾分类工作走在前列，建成分类示范小区120个。"],
    "成都市": ["成都市推进生活垃圾分类，厨余垃圾日处理能力提升。", "成都市老旧小区改造完成300个。"],
}


@pytest.fixture(scope="module")
def cities_index(tmp_path_factory, milvus_uri):
    base = tmp_path_factory.mktemp("cities")
    with open(base / "reports.jsonl", "w", encoding="utf-8") as out:
        for n, (city, paragraphs) in enumerate(CITIES.items()):
            for year in (2021, 2022):
                out.write(json.dumps({"id": f"{city}-{year}", "title": f"{year}年{city}城市管理工作总结",
                                      "region": city, "year": year, "issuer": f"{city}城管局",
                                      "text": "\n".join(f"{year}年，{p}" for p in paragraphs)},
                                     ensure_ascii=False) + "\n")
        out.write(json.dumps({"id": "none", "title": "某单位工作总结", "text": "垃圾分类宣传进社区。"},
                             ensure_ascii=False) + "\n")
    build_both([str(base / "reports.jsonl")], base / "index", milvus_uri)
    return base / "index"


@pytest.fixture(scope="module")
def cities_engine(cities_index, backend):
    from search.engine import Engine

    engine = Engine(cities_index, backend=backend)
    yield engine
    engine.close()


def test_compare_groups_by_declared_region_best_first_unknown_last(cities_engine):
    result = cities_engine.compare("垃圾分类", by="region", k=2, mode="keyword")
    values = [g["value"] for g in result["groups"]]
    assert set(values) == {"宁波市", "杭州市", "成都市", "未知"} and values[-1] == "未知"
    ningbo = next(g for g in result["groups"] if g["value"] == "宁波市")
    assert ningbo["reports"] == 2 and ningbo["passages"] == 8 and len(ningbo["results"]) == 2
    assert all(r["region"] == "宁波市" and r["region_source"] == "declared" for r in ningbo["results"])
    chengdu = next(g for g in result["groups"] if g["value"] == "成都市")
    assert chengdu["passages"] == 2  # 老旧小区改造 does not match
    # groups with most matching passages first; years in order
    assert values[:-1] == ["宁波市", "成都市", "杭州市"]
    by_year = cities_engine.compare("垃圾分类", by="year", k=1, mode="keyword")
    assert [g["value"] for g in by_year["groups"]] == [2021, 2022, "未知"]
    assert result["total"] == sum(g["passages"] for g in result["groups"]) == 13


def test_compare_takes_the_filters_and_checks_its_parameters(cities_engine):
    from search.engine import SearchError
    from search.hits import Filters

    only = cities_engine.compare("垃圾分类", filters=Filters(year_from=2022, year_to=2022), mode="keyword")
    assert all(r["year"] == 2022 for g in only["groups"] for r in g["results"])
    with pytest.raises(SearchError, match="by must be"):
        cities_engine.compare("垃圾分类", by="province")


def test_diversify_keeps_one_report_from_filling_the_first_page(cities_engine):
    plain = cities_engine.search("宁波市 垃圾分类", mode="keyword", k=10)["results"]
    spread = cities_engine.search("宁波市 垃圾分类", mode="keyword", k=10, diversify=True)["results"]
    count = lambda rs: max(sum(r["doc_id"] == d for r in rs) for d in {r["doc_id"] for r in rs})  # noqa: E731
    assert count(plain) > 2 and count(spread[:9]) <= 2
    # every report that matches is on the first page; a third passage of one only where none is left
    assert {r["doc_id"] for r in spread} == {r["doc_id"] for r in cities_engine.search(
        "宁波市 垃圾分类", mode="keyword", k=50)["results"]}


def test_diversify_is_a_pure_reordering():
    items = ["a1", "a2", "a3", "a4", "b1", "c1", "a5"]
    assert diversify(items, lambda x: x[0], per_report=2, window=4) == ["a1", "a2", "b1", "c1", "a3", "a4", "a5"]
    assert diversify(["a1", "a2", "a3"], lambda x: x[0]) == ["a1", "a2", "a3"]  # only one report matches


def test_similar_by_region_gives_the_best_passage_of_each_other_city(cities_engine):
    source = cities_engine.search('"宁波市全面推行垃圾分类"', mode="keyword", k=1)["results"][0]
    result = cities_engine.similar(source["passage_id"], by="region", k=10)
    regions = [r["region"] for r in result["results"]]
    assert sorted(regions) == ["成都市", "杭州市"]


def test_compare_in_the_api_and_the_cli(corpus_index, backend):
    from web.app import create_app

    client = create_app({"INDEX_DIR": str(corpus_index), "TESTING": True,
                         "ENGINE_OPTIONS": {"backend": backend}}).test_client()
    data = client.get("/api/compare", query_string={"q": "垃圾分类", "by": "year", "k": 2}).get_json()
    assert data["by"] == "year" and data["groups"] and data["groups"][-1]["value"] == "未知"
    assert client.get("/api/compare", query_string={"q": "垃圾分类", "by": "city"}).status_code == 400
    assert client.get("/api/search", query_string={"q": "城管", "diversify": "report"}).status_code == 200
    out = subprocess.run([sys.executable, "-m", "report_search.cli", "compare", "垃圾分类", "--index-dir",
                          str(corpus_index), "--by", "year", "--json", "--backend", backend], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout)["groups"]


@pytest.fixture(scope="module")
def years_engine(tmp_path_factory):
    """A term in one old report and in more and more of the recent ones (a keyword index: counts alone)."""
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    base = tmp_path_factory.mktemp("years")
    with open(base / "reports.jsonl", "w", encoding="utf-8") as out:
        for year, n in ((2001, 1), (2024, 4), (2025, 3), (2026, 2)):
            out.write(json.dumps({"id": f"r{year}", "title": f"{year}年工作报告", "year": year,
                                  "text": "\n".join(f"第{i + 1}项，推进垃圾分类工作{'。' * (i + 1)}" for i in range(n))},
                                 ensure_ascii=False) + "\n")
    build_index([str(base / "reports.jsonl")], base / "index", BuildOptions(embed=False))
    engine = Engine(base / "index", load_model=False)
    yield engine
    engine.close()


def test_compare_lists_the_groups_with_most_matches_and_says_how_many_there_are(years_engine):
    """Before, by year the first groups were the oldest: on gov-reports `新质生产力` listed 1955 … 1997 and
    left out 2024–2026, where 274 of its 406 matches are, without saying that any group was left out."""
    every = years_engine.compare("垃圾分类", by="year", mode="keyword")
    assert [g["value"] for g in every["groups"]] == [2001, 2024, 2025, 2026] and every["group_count"] == 4
    three = years_engine.compare("垃圾分类", by="year", groups=3, mode="keyword")
    assert [(g["value"], g["passages"]) for g in three["groups"]] == [(2024, 4), (2025, 3), (2026, 2)]
    assert three["group_count"] == 4 and three["total"] == 10
