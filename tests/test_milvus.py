"""The Milvus backend's own parts: the BM25F rows it writes score as the ranking arrays do, queries
become the filter expressions that match what Whoosh matches, a build moves the alias and drops
the collections of builds gone, and bad set-ups are refused with one clear line. (The search
suites run against both backends through the `backend` fixture.)"""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.formats import milvus as milvus_format
from indexer.formats.keyword import ranking_arrays
from report_search.cli import main
from search import milvus_query
from search.engine import SearchSettings
from search.hits import Filters
from search.keyword import QueryReader, scoring_terms


def test_sparse_rows_score_every_passage_as_the_ranking_arrays_do(corpus_index):
    from indexer.layout import IndexDir

    build = IndexDir(corpus_index).active_build()
    postings = ranking_arrays(build.keyword)
    k1, b = SearchSettings.bm25_k1, SearchSettings.bm25_b
    rows = milvus_format.sparse_rows(postings, k1=k1, b=b)
    reader = QueryReader()
    for text in ["城市管理 工作总结", "垃圾分类", '"门前三包" 整治', "巾帼建功"]:
        terms = scoring_terms(reader.parse(text).keyword)
        want = postings.score(terms, k1, b)[0]
        query = milvus_query.query_vector(terms)
        got = np.array([sum(w * row.get(key, 0.0) for key, w in query.items()) for row in rows])
        assert want.max() > 0
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_both_backends_score_every_passage_to_the_same_bits(corpus_index):
    """The similarity a match is judged on is the same number on both backends: Milvus rescores with a
    passage's vectors kept as float16, and the build keeps every first-model vector at that precision.
    Before, the embedded backend scored the unrounded vectors: one passage of corpus/ scored 0.871760
    there and 0.871735 through Milvus, matched `工作总结` on one backend and not on the other (105 / 104)."""
    from search.engine import Engine

    engines = [Engine(corpus_index, backend=backend) for backend in ("embedded", "milvus")]
    try:
        every = np.ones(len(engines[0].retrieval.ids), dtype=bool)
        for query in ("工作总结", "垃圾分类", "老旧小区改造"):
            scores = [e.retrieval.similarity(e.retrieval.parse(query), every) for e in engines]
            assert np.array_equal(scores[0], scores[1]), query
            for mode in ("keyword", "semantic", "hybrid"):
                assert len({e.search(query, mode=mode, k=1)["total"] for e in engines}) == 1, (query, mode)
    finally:
        for e in engines:
            e.close()


@pytest.mark.parametrize("text, expected", [
    ('"门前三包"', 'chars like "%门前三包%"'),
    ("region:宁波 执法", 'array_contains(regions, "宁波")'),
    ("year:[2019 TO 2021] 城管", "(year >= 2019) and (year <= 2021)"),
    ("section:problems", 'section == "problems"'),
    ("垃圾 NOT 分类", "not ("),
])
def test_queries_become_milvus_expressions(text, expected):
    expr = milvus_query.expression(QueryReader().parse(text).keyword)
    assert expected in expr


def test_filters_become_milvus_expressions():
    expr = milvus_query.filter_expression(Filters(region="浙江省", year_from=2020, issuer="市城管局", source="corpus/0"))
    assert 'array_contains(regions, "浙江省")' in expr and "year >= 2020" in expr
    assert 'issuer == "市城管局"' in expr and 'source like "corpus/0%"' in expr
    # LIKE's own characters in a path are taken literally (stored and looked up in the same private form)
    assert milvus_query.filter_expression(Filters(source="c/0_a")) == 'source like "c/0\ue05fa%"'
    assert milvus_query.filter_expression(Filters()) is None
    # a quote in a value stays inside its string
    assert milvus_query.filter_expression(Filters(issuer='a" or pid != "')) == 'issuer == "a\\" or pid != \\""'


def test_a_milvus_lite_file_indexes_searches_and_keeps_only_live_collections(tmp_path):
    """The two commands of the README, with a Milvus Lite file; a second build moves the alias and
    the build before last's collections are dropped."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("某区2022年城管工作总结\n一、主要做法\n推行“城管进社区”，整治占道经营300余处。\n",
                                  encoding="utf-8")
    db = tmp_path / "reports.db"
    args = ["index", str(corpus), "--index-dir", str(tmp_path / "ix"), "--backend", "milvus", "--milvus-uri", str(db),
            "--quiet", "--second-model", "none", "--no-sentences"]
    names = []
    for extra in ["", "二、下一步打算\n深化垃圾分类。\n"]:
        if extra:
            (corpus / "a.txt").write_text((corpus / "a.txt").read_text(encoding="utf-8") + extra, encoding="utf-8")
        run = CliRunner().invoke(main, args)
        assert run.exit_code == 0, run.output
        names.append(json.loads((tmp_path / "ix" / "manifest.json").read_text(encoding="utf-8"))["milvus"]["collection"])
    found = CliRunner().invoke(main, ["search", "垃圾分类", "--index-dir", str(tmp_path / "ix"), "--json"])
    assert found.exit_code == 0, found.output
    result = json.loads(found.output)
    assert result["results"] and "垃圾分类" in result["results"][0]["text"]
    client = milvus_format.connect(str(db))
    try:
        live = set(client.list_collections())
        assert names[1] in live and names[0] in live  # the build before is kept for servers still on it
        assert client.describe_alias("report_search")["collection_name"] == names[1]
    finally:
        client.close()


def test_bad_milvus_set_ups_are_refused_with_one_line(tmp_path, corpus_index):
    (tmp_path / "r.txt").write_text("某区2022年城管工作总结\n整治占道经营。\n", encoding="utf-8")
    base = ["index", str(tmp_path / "r.txt"), "--index-dir", str(tmp_path / "ix"), "--no-embed", "--backend", "milvus"]
    no_uri = CliRunner().invoke(main, base)
    assert no_uri.exit_code == 2 and "--milvus-uri" in no_uri.output
    bad_alias = CliRunner().invoke(main, base + ["--milvus-uri", str(tmp_path / "m.db"), "--milvus-alias", "1-x"])
    assert bad_alias.exit_code == 2 and "--milvus-alias" in bad_alias.output
    unreachable = CliRunner().invoke(main, base + ["--milvus-uri", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 1 and "Milvus" in unreachable.output and "Traceback" not in unreachable.output
    embedded_only = tmp_path / "plain"
    assert CliRunner().invoke(main, ["index", str(tmp_path / "r.txt"), "--index-dir", str(embedded_only),
                                     "--no-embed", "--quiet"]).exit_code == 0
    refused = CliRunner().invoke(main, ["search", "城管", "--index-dir", str(embedded_only), "--backend", "milvus"])
    assert refused.exit_code == 1 and "--backend milvus" in refused.output


def test_building_for_a_milvus_server_logs_no_error(tmp_path, milvus_uri, caplog):
    """Milvus refusing an index on an array field (Milvus Lite does) is expected and handled: pymilvus's
    own error log of it, a traceback, does not reach the application's log."""
    from indexer.pipeline import BuildOptions, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("某区2022年城管工作总结\n一、主要做法\n推行“城管进社区”，整治占道经营300余处。\n",
                                  encoding="utf-8")
    build_index([str(corpus)], tmp_path / "ix", BuildOptions(backend="milvus", milvus_uri=milvus_uri,
                                                             second_model=None, sentences=False))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-2000:]


def test_passage_vectors_read_once_serve_later_queries_alike(corpus_index, monkeypatch):
    """A passage's vectors, read from Milvus for one query's scores, are kept for the next (a build's
    vectors never change): a repeated query reads none by id and answers the same; with nothing kept
    (the bound at 0 bytes) every query reads them again, and still answers the same."""
    from search import milvus as milvus_search
    from search.engine import Engine

    def counting(engine):
        calls = []
        query = engine.retrieval.client.query

        def spy(*args, **kwargs):
            calls.append(kwargs.get("filter", ""))
            return query(*args, **kwargs)
        monkeypatch.setattr(engine.retrieval.client, "query", spy)
        return calls

    engine = Engine(corpus_index, backend="milvus")
    try:
        calls = counting(engine)
        first = {mode: engine.search("城管 宁波", mode=mode, k=10, facets=True) for mode in ("keyword", "hybrid")}
        assert any(f.startswith("pid in") for f in calls)
        calls.clear()
        again = {mode: engine.search("城管  宁波", mode=mode, k=10, facets=True) for mode in ("keyword", "hybrid")}
        assert not [f for f in calls if f.startswith("pid in")], calls
        assert {m: r["results"] for m, r in again.items()} == {m: r["results"] for m, r in first.items()}
        assert {m: r["total"] for m, r in again.items()} == {m: r["total"] for m, r in first.items()}
    finally:
        engine.close()
    monkeypatch.setattr(milvus_search, "KEPT_BYTES", 0)
    engine = Engine(corpus_index, backend="milvus")
    try:
        calls = counting(engine)
        for _ in range(2):
            calls.clear()
            uncached = {mode: engine.search("城管 宁波", mode=mode, k=10, facets=True) for mode in ("keyword", "hybrid")}
            assert any(f.startswith("pid in") for f in calls)
            assert {m: r["results"] for m, r in uncached.items()} == {m: r["results"] for m, r in first.items()}
    finally:
        engine.close()
