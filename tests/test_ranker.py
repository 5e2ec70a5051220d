"""The learned ranker (search/ranker.py): the packaged model, the features of a candidate block,
learned ordering end to end, and the fallback to interpolation."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from report_search.cli import main
from search import ranker
from search.engine import Engine, SearchSettings
from conftest import seed_text

LEARNED = SearchSettings(ranker="learned")


def test_the_packaged_model_loads_with_its_features():
    model = ranker.packaged()
    assert list(model.booster.feature_name()) == list(ranker.FEATURES)
    assert model.meta["models"] == {"model": "e5-small", "second": "m3e-small", "sentences": True}
    assert set(model.meta["cross_validated"]) >= {"ncp", "stard", "seeds"}
    assert ranker.MODEL_FILE.stat().st_size < 4_000_000


def _block() -> ranker.Signals:
    """Three candidates: a and c from one report, b from another."""
    c = {name: np.zeros(3) for name in ranker.SIGNALS}
    c.update(fused=np.array([2.0, 1.5, 0.5]), kw_score=np.array([10.0, 0.0, 5.0]),
             kw_rank=np.array([1.0, ranker.ABSENT_RANK, 2.0]), content=np.array([6.0, 0.0, 3.0]),
             expansion=np.array([0.0, 0.0, 3.0]), cos_best=np.array([0.80, 0.90, 0.85]),
             cos_second=np.array([np.nan, np.nan, np.nan]), report=np.array([7.0, 3.0, 7.0]),
             in_a_row=np.array([0.0, 0.0, 1.0]))
    return ranker.Signals(c, {"query_chars": 4.0, "query_words": 2.0, "query_idf": 9.5, "query_expansions": 1.0})


def test_features_of_a_hand_made_block():
    x = ranker.features(_block())
    col = {name: x[:, i] for i, name in enumerate(ranker.FEATURES)}
    assert x.shape == (3, len(ranker.FEATURES)) and x.dtype == np.float32
    assert col["position"].tolist() == [0, 1, 2]
    assert col["fused_gap"].tolist() == [0.0, -0.5, -1.5]
    assert col["kw_rel"].tolist() == [1.0, 0.0, 0.5]
    assert col["expansion_share"].tolist() == [0.0, 0.0, 0.5]  # 3 of 3 + 3
    assert col["cos_best_order"].tolist() == [2, 0, 1]
    assert col["report_count"].tolist() == [2, 1, 2]
    assert col["report_rank"].tolist() == [0, 0, 1]  # c is its report's second
    assert col["report_best_gap"].tolist() == [0.0, -0.5, 0.0]
    assert np.allclose(col["report_cos_gap"], [-0.05, 0.0, -0.05])
    assert np.isnan(col["cos_second"]).all() and (col["cos_second_z"] == 0).all()
    assert col["in_a_row"].tolist() == [0, 0, 1]
    assert (col["query_idf"] == np.float32(9.5)).all() and (col["query_expansions"] == 1).all()
    assert ranker.features(ranker.Signals({n: np.zeros(0) for n in ranker.SIGNALS}, _block().query)).shape \
        == (0, len(ranker.FEATURES))


def test_learned_ranking_orders_the_same_matches(corpus_index):
    """Hybrid results ordered by the model: the same match set and total, the first page drawn from
    the same candidates; each result's explain names the ranker's score and features; keyword mode
    and quoted phrases are as before."""
    plain, learned = Engine(corpus_index, backend="embedded"), Engine(corpus_index, LEARNED, backend="embedded")
    try:
        for query in ("垃圾分类", "城管执法存在的问题"):
            a, b = plain.search(query, k=100), learned.search(query, k=100, explain=True)
            assert a["total"] == b["total"] > 0 and "notes" not in b
            assert {r["passage_id"] for r in a["results"]} == {r["passage_id"] for r in b["results"]}
            top = b["results"][0]["explain"]["ranker"]
            assert top["rank"] == 1 and top["features"] and {"name", "contribution"} <= set(top["features"][0])
            scores = [r["score"] for r in b["results"]]
            assert scores == sorted(scores, reverse=True)
        assert plain.search("垃圾分类", mode="keyword") == learned.search("垃圾分类", mode="keyword")
        assert plain.search('"垃圾分类"')["total"] == learned.search('"垃圾分类"')["total"]
        with pytest.raises(Exception, match="ranker must be one of"):
            Engine(corpus_index, replace(LEARNED, ranker="magic"))
    finally:
        plain.close()
        learned.close()


def test_another_model_falls_back_to_interpolation_with_a_note(tmp_path):
    from indexer.pipeline import BuildOptions, build_index

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text(seed_text("003")[:3000], encoding="utf-8")
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(second_model=None))
    plain, learned = Engine(tmp_path / "ix"), Engine(tmp_path / "ix", LEARNED)
    try:
        a, b = plain.search("城管执法"), learned.search("城管执法")
        assert b["results"] == a["results"] and "notes" not in a
        assert any("second model m3e-small" in n and "interpolation" in n for n in b["notes"])
    finally:
        plain.close()
        learned.close()


def test_the_cli_takes_the_ranker(corpus_index):
    def run(*args):
        return CliRunner().invoke(main, ["search", "垃圾分类", "--index-dir", str(corpus_index), "--ranker", "learned",
                                         "--explain", "--json", "-k", "3", *args])

    out = run("--backend", "embedded")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert all("ranker" in r["explain"] for r in result["results"]) and "notes" not in result
    milvus = json.loads(run("--backend", "milvus").output)  # not there: interpolation, and a note says so
    assert milvus["results"] and not any("ranker" in r["explain"] for r in milvus["results"])
    assert any("embedded backend" in n for n in milvus["notes"])
    bad = CliRunner().invoke(main, ["search", "垃圾分类", "--index-dir", str(corpus_index), "--ranker", "magic"])
    assert bad.exit_code == 2 and "--ranker" in bad.output
