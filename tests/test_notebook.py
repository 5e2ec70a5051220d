"""The engine from Python (report_search/notebook.py): `Engine` in the process and `Client` over HTTP
give the API's answers, filters as keywords, tables with pandas, errors as ReportSearchError."""
from __future__ import annotations

import pytest

from conftest import running_server
from report_search import Client, Engine, ReportSearchError


def test_engine_and_client_answer_alike_as_tables(corpus_index):
    engine = Engine(corpus_index)
    found = engine.search("垃圾分类", k=3, year=2020, mode="keyword")
    table = found.to_dataframe()
    assert list(table["passage_id"]) == [r["passage_id"] for r in found["results"]] and set(table["year"]) == {2020}
    first = found["results"][0]["passage_id"]
    assert engine.outline("环境卫生", k=2).to_dataframe()["section_name"].iloc[0] in (
        "基本情况", "主要做法与成效", "存在问题", "下一步打算", "经验体会")
    compared = engine.compare("垃圾分类", by="year")
    by_group = compared.to_dataframe().groupby("group", sort=False).size()
    assert dict(by_group) == {g["value"]: len(g["results"]) for g in compared["groups"] if g["results"]}
    assert len(engine.phrases("城市管理", k=3).rows()) == 3
    assert engine.passage(first)["passage"]["passage_id"] == first
    with pytest.raises(ReportSearchError, match="k must be"):
        engine.search("垃圾分类", k=0)
    with pytest.raises(ReportSearchError, match="no-such"):
        engine.document("no-such")
    with running_server(corpus_index) as url:
        client = Client(url)
        same = client.search("垃圾分类", k=3, year=2020, mode="keyword")
        assert [r["passage_id"] for r in same["results"]] == [r["passage_id"] for r in found["results"]]
        assert client.similar(first, k=2).rows() and client.stats()["counts"]["passages"] > 400
        assert client.document(found["results"][0]["doc_id"]).to_dataframe()["passage_id"].is_unique
        with pytest.raises(ReportSearchError, match="'k'"):
            client.search("垃圾分类", k=0)
    engine.close()
