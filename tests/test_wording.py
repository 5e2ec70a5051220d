"""Exact wording first, and plain words to official words (thesaurus expansion)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from report_search.cli import main
from search import thesaurus, wording
from search.fusion import Fused

# Hand-made reports: one passage holds each stock wording; the others share its words,
# scattered and more often, so that word counts alone would rank them first.
PASSAGES = {
    "exact": "三是坚持思路决定出路，不断创新工作方法，推动各项工作落地见效。",
    "scattered1": "工作思路不清，思路不宽。出路在哪里？思路问题决定了工作成效，要找准出路，拓宽思路，用好思路，"
                  "出路多，思路活；思路决策要快，确定出台措施。",
    "scattered2": "谋划思路、厘清思路，关键看出路；决定性因素在于思路和出路能否统一，思路对了出路就宽了，"
                  "出路靠思路，思路决策在先，商定出发时间。",
    "stock": "局党组高度重视、周密部署、狠抓落实，确保创建工作有序推进。",
    "stock_apart": "领导高度重视，会议多次研究部署；有关科室狠抓各项工作，确保周密部署之后逐项落实到位，高度重视督查。",
    "parking": "开展机动车违停专项整治，规范道路停车秩序，查处违停车辆一千余辆。",
    "dogs": "推进文明养犬宣传，规范犬只登记管理。",
}


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    from indexer.pipeline import build_index

    folder = tmp_path_factory.mktemp("wording")
    lines = [json.dumps({"id": key, "title": f"测试报告{i}", "text": text}, ensure_ascii=False)
             for i, (key, text) in enumerate(PASSAGES.items())]
    (folder / "reports.jsonl").write_text("\n".join(lines), encoding="utf-8")
    build_index([str(folder / "reports.jsonl")], folder / "index")
    return folder / "index"


def _first(engine, query, mode, **kw):
    result = engine.search(query, mode=mode, k=5, **kw)
    ext = {r[0]: r[1] for r in engine.store.db.execute("SELECT doc_id, external_id FROM documents")}
    return [ext[r["doc_id"]] for r in result["results"]], result


def test_wording_score_exact_near_and_scattered():
    assert wording.wording_score("思路决定出路", ["思路", "决定", "出路"], "坚持思路决定出路不断创新") == 1.0
    near = wording.wording_score("高度重视周密部署", ["高度重视", "周密部署"], "高度重视精心周密部署")
    assert 0 < near <= wording.NEAR_BASE
    # Out of order, or spread far beyond the query's length: no credit.
    assert wording.wording_score("高度重视周密部署", ["高度重视", "周密部署"], "周密部署高度重视") == 0.0
    far = "高度重视" + "工作" * 20 + "周密部署"
    assert wording.wording_score("高度重视周密部署", ["高度重视", "周密部署"], far) == 0.0
    words = wording.query_words("高度重视 周密部署 狠抓落实")  # whole words, in order, however jieba splits
    assert "".join(words) == "高度重视周密部署狠抓落实" and words[0] == "高度重视" and words[-1] == "狠抓落实"


def test_wording_score_of_a_query_in_parts():
    """Parts split by spaces are phrases the writer remembers: found whole, in any order and
    distance, they earn credit below an in-row match; one part alone earns none."""
    parts = wording.query_parts("高度重视 周密部署 狠抓落实")
    assert parts == ["高度重视", "周密部署", "狠抓落实"] and wording.query_parts("思路决定出路") == []
    words = wording.query_words("高度重视 周密部署 狠抓落实")
    spread = "狠抓落实" + "工作" * 30 + "高度重视" + "工作" * 30 + "周密部署"
    assert wording.wording_score("高度重视周密部署狠抓落实", words, spread, parts) == wording.PARTS_BASE
    two = wording.wording_score("高度重视周密部署狠抓落实", words, "高度重视" + "工作" * 30 + "狠抓落实", parts)
    assert two == pytest.approx(wording.PARTS_BASE * 2 / 3)
    assert wording.wording_score("高度重视周密部署狠抓落实", words, "高度重视工作重视部署", parts) == 0.0


def test_boost_reorders_hand_made_lists():
    fused = [Fused("a", 1.0), Fused("b", 0.9), Fused("c", 0.2)]
    out = wording.boost(fused, {"c": 1.0, "b": 0.15}, 1.0)
    assert [f.passage_id for f in out] == ["c", "b", "a"]
    assert out[0].sources["wording"] == (1, 1.0) and out[1].sources["wording"] == (2, 0.15)  # ranks from 1
    assert wording.boost(fused, {}, 1.0) == fused and wording.boost(fused, {"c": 1.0}, 0.0) == fused


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_exact_wording_outranks_scattered_words(small_index, mode):
    from search.engine import Engine, SearchSettings

    engine = Engine(small_index)
    assert _first(engine, "思路决定出路", mode)[0][0] == "exact"
    assert _first(engine, "高度重视 周密部署 狠抓落实", mode)[0][0] == "stock"
    if mode == "hybrid":  # the learned ranker keeps the exact wording first too
        learned = Engine(small_index, SearchSettings(ranker="learned"))
        assert _first(learned, "思路决定出路", mode)[0][0] == "exact"
        assert _first(learned, "高度重视 周密部署 狠抓落实", mode)[0][0] == "stock"
        learned.close()
    # Without the wording score, the scattered passages win on word counts: the test can fail.
    plain = Engine(small_index, SearchSettings(wording_weight=0.0))
    assert _first(plain, "思路决定出路", "keyword")[0][0] != "exact"
    engine.close()
    plain.close()


def test_quoted_phrases_stay_strict_filters(small_index):
    from search.engine import Engine

    engine = Engine(small_index)
    ids, result = _first(engine, '"思路决定出路"', "hybrid")
    assert ids == ["exact"] and result["total"] == 1
    engine.close()


def test_thesaurus_parse_and_errors(tmp_path):
    entries = thesaurus.parse("# c\n乱停车, 乱停乱放 => 违停，机动车违停\n\n遛狗不拴绳 => 文明养犬 # 3\n")
    assert entries == [("乱停车", ("违停", "机动车违停")), ("乱停乱放", ("违停", "机动车违停")),
                       ("遛狗不拴绳", ("文明养犬",))]
    with pytest.raises(thesaurus.ThesaurusError, match=r"mine\.txt, line 2"):
        thesaurus.parse("a => b\nno arrow here\n", "mine.txt")
    t = thesaurus.Thesaurus(tuple(entries))
    assert t.expansions("小区门口乱停车怎么办") == [("乱停车", ("违停", "机动车违停"))]
    assert t.expansions("违停乱停车") == [("乱停车", ("机动车违停",))]  # words already typed are not added
    # the other way, for the outline: the short forms reports use for an official term
    assert t.short_forms("机动车违停") == ["乱停车", "乱停乱放"] and t.short_forms("乱停车") == []
    assert "创文" in thesaurus.load().short_forms("创建文明城市")


def test_packaged_thesaurus_expands_colloquial_queries(small_index):
    from search.engine import Engine

    assert len(thesaurus.load()) >= 150
    engine = Engine(small_index)
    ids, result = _first(engine, "乱停车", "keyword", explain=True)
    assert ids[0] == "parking"
    assert any(e["term"] == "乱停车" for e in result["expansions"])
    assert _first(engine, "遛狗不拴绳", "keyword")[0][:1] == ["dogs"]
    engine.close()


def test_the_terms_a_query_was_searched_with_are_shown_and_marked(small_index):
    """Without --explain too: the answer says which official terms the thesaurus added, the page says
    it under the total, and a passage holding a term (not the user's words) has the term marked."""
    from search.engine import Engine
    from web.app import create_app

    engine = Engine(small_index)
    for mode in ("keyword", "semantic", "hybrid"):
        result = engine.search("乱停车", mode=mode, k=5)
        assert [e["term"] for e in result["expansions"]] == ["乱停车"], mode
        assert {"违停", "机动车违停"} <= set(result["expansions"][0]["added"]), mode
        assert "<mark>机动车违停</mark>" in result["results"][0]["highlight"], mode
    assert "expansions" not in engine.search("规范停车", mode="hybrid", k=5)
    engine.close()
    page = create_app({"INDEX_DIR": str(small_index), "TESTING": True}).test_client().get("/?q=乱停车")
    assert "口语词也按规范用语检索：乱停车 → 违停、" in page.get_data(as_text=True)
    run = CliRunner().invoke(main, ["search", "乱停车", "--index-dir", str(small_index), "-k", "1"])
    lines = run.output.splitlines()
    assert run.exit_code == 0 and any(line.startswith("also searched as official terms: 乱停车 → 违停") for line in lines)
    assert any(line.strip().startswith("matched") and "by the official terms for them" in line for line in lines)


def test_thesaurus_expansion_reaches_the_semantic_side(small_index, tmp_path):
    """The semantic side embeds the query with the official terms added: a made-up code name that
    means nothing to the model finds the passage of the terms a user's thesaurus maps it to."""
    from search.engine import Engine, SearchSettings

    mine = tmp_path / "mine.txt"
    mine.write_text("蓝天行动, 清风行动 => 文明养犬, 犬只登记\n", encoding="utf-8")
    assert thesaurus.load(str(mine)).expansions("清风行动") == [("清风行动", ("文明养犬", "犬只登记"))]
    for weight in (0.3, 0.0):
        engine = Engine(small_index, SearchSettings(thesaurus_file=str(mine), expansion_weight=weight))
        for query in ("蓝天行动", "清风行动"):
            ids, result = _first(engine, query, "semantic")
            if weight:  # the dog-keeping passage, by the meaning of the terms added
                assert ids[:1] == ["dogs"], (query, ids)
            else:  # without them nothing reaches the similarity floor: only the nearest passages, apart
                assert ids == [] and result["nearest"], (query, ids)
        engine.close()
    engine = Engine(small_index, SearchSettings(thesaurus_file=str(mine)))
    assert engine.retrieval.parse("清风行动").semantic_text == "清风行动（文明养犬、犬只登记）"
    assert engine.retrieval.parse("规范停车").semantic_text == "规范停车"
    engine.close()


def test_user_thesaurus_through_the_cli(small_index, tmp_path):
    mine = tmp_path / "mine.txt"  # a term the packaged thesaurus does not have
    mine.write_text("犬牌 => 犬只登记\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["search", "领犬牌", "--mode", "keyword", "--index-dir", str(small_index),
                                    "--thesaurus", str(mine), "--explain", "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["expansions"] == [{"term": "犬牌", "added": ["犬只登记"]}]
    assert "犬只登记" in data["results"][0]["text"]
    bad = tmp_path / "bad.txt"
    bad.write_text("狗证 犬只登记\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["search", "办狗证", "--index-dir", str(small_index), "--thesaurus", str(bad)])
    assert run.exit_code == 1 and "bad.txt, line 1" in run.output and "Traceback" not in run.output
