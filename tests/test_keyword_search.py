"""Keyword search: phrases, boolean operators, filters, scripts, highlights, errors."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from indexer.structure import HEADING_JOINS_BELOW
from indexer.text import CJK, WORD_CHAR, normalise
from report_search.cli import main
from conftest import seed_text
from search.engine import Engine
from search.hits import Filters
from search.query import QueryError

CONTRACT = {"passage_id", "doc_id", "title", "heading_path", "text", "highlight", "score", "region", "year",
            "issuer", "doc_type", "source"}


def compact(text: str) -> str:
    return "".join(WORD_CHAR.findall(normalise(text)))


def all_passages(engine):
    return [(p, d) for p, d in engine.store.iter_passages()]


@pytest.mark.parametrize("phrase", ["营造浓厚氛围", "思路决定出路", "强化组织领导", "门前三包", "城管进小区"])
def test_quoted_phrase_returns_exactly_the_passages_that_contain_it(engine, phrase):
    want = {p.passage_id for p, _ in all_passages(engine)
            if compact(phrase) in compact(" ".join(p.heading_path + (p.text,)))}
    got = engine.search(f'"{phrase}"', mode="keyword", k=100)
    assert want, "the phrase should occur in the corpus"
    assert {r["passage_id"] for r in got["results"]} | _folded(got) == want


@pytest.mark.parametrize("query", ["城市管理 工作总结", "存在问题 下一步打算", "垃圾分类", "强化组织领导 党建",
                                   '"门前三包" 整治', "环境 NOT 卫生", "region:宁波 执法"])
def test_ranking_arrays_score_as_whoosh_bm25f_does(embedded_engine, query):
    """The NumPy ranking gives every matching passage the score Whoosh's BM25F gives it
    (Whoosh adds 1 for a matched metadata field, the same for every match)."""
    kw = embedded_engine.keyword
    parsed = kw.parse(query)
    whoosh = {r["passage_id"]: r.score for r in kw.searcher.search(parsed.keyword, limit=None)}
    ours = kw.search(parsed, k=len(whoosh) + 1)
    assert whoosh and len(ours.hits) == len(whoosh)  # every match, and no more
    assert {h.passage_id for h in ours.hits} == set(whoosh)
    shift = 1.0 if "region:" in query else 0.0
    for hit in ours.hits:
        assert hit.score + shift == pytest.approx(whoosh[hit.passage_id], rel=1e-6)


def _folded(result):
    return {d for r in result["results"] for d in r.get("duplicates", [])}


def test_phrase_found_where_jieba_splits_it_differently(engine):
    # jieba reads 城管进小区 as 城管/进/小区 in one sentence; the bigram field does not care
    got = engine.search('"管进小"', mode="keyword", k=50)
    assert got["results"] and all("管进小" in compact(r["text"] + "".join(r["heading_path"]))
                                  for r in got["results"])


def test_boolean_operators(engine):
    both = engine.search("垃圾 AND 分类", mode="keyword", k=100)["results"]
    assert both and all("垃圾" in compact(r["text"]) and "分类" in compact(r["text"]) for r in both)
    without = engine.search("垃圾 NOT 分类", mode="keyword", k=100)["results"]
    assert without and all("分类" not in compact(r["text"] + r["title"] + "".join(r["heading_path"]))
                           for r in without)
    either = engine.search("巾帼 OR 志愿者", mode="keyword", k=100)["total"]
    assert either > engine.search("巾帼", mode="keyword", k=100)["total"]


def test_operators_join_the_words_as_each_matches_alone(engine):
    """With AND / OR / NOT each word matches as it would alone (held whole, by parts covering it, in a
    row) and the operators join those sets: `环境卫生 AND 垃圾分类` is not every passage holding a piece
    of each (环境 and 垃圾). So the counts add up, in keyword and in hybrid mode, on both backends."""
    alone = {q: engine.search(q, mode="keyword", k=1)["matched_by"]["words"] for q in ("环境卫生", "垃圾分类")}
    for mode in ("keyword", "hybrid"):
        both, without, either = (engine.search(f"环境卫生 {op} 垃圾分类", mode=mode, k=1)["total"]
                                 for op in ("AND", "NOT", "OR"))
        assert 0 < both < alone["垃圾分类"], mode
        assert both + without == alone["环境卫生"], mode
        assert either == alone["环境卫生"] + alone["垃圾分类"] - both, mode


def test_two_words_typed_together_match_where_both_are_held(engine, embedded_engine):
    """`城市管理` is two words to jieba; half of two words' weight is always the rarer one alone, so every
    passage holding 城市 matched by its words. Typed together, both are needed; typed apart
    (`城市 管理`), either may do."""
    texts = [p.norm + "".join(p.heading_path) for p, _ in embedded_engine.store.iter_passages()]
    both = sum("城市" in t and "管理" in t for t in texts)
    together = engine.search("城市管理", mode="keyword", k=1)["matched_by"]["words"]
    apart = engine.search("城市 管理", mode="keyword", k=1)["matched_by"]["words"]
    assert 0 < together <= both < apart
    three = sum(all(w in t for w in ("道路", "环境", "整治")) for t in texts)  # 53 matched by their words before
    assert engine.search("道路环境整治", mode="keyword", k=1)["matched_by"]["words"] <= three


def test_an_operator_with_nothing_on_one_side_is_left_out(engine):
    alone = engine.search("垃圾分类", mode="keyword", k=5)
    for query in ("垃圾分类 AND", "OR 垃圾分类"):
        got = engine.search(query, mode="keyword", k=5)
        assert got["total"] == alone["total"]
        assert [r["passage_id"] for r in got["results"]] == [r["passage_id"] for r in alone["results"]]
        assert any("nothing on one side" in str(n) for n in got["notes"]), query


def test_field_filters_in_query_and_as_parameters(engine):
    # (浙江's one report, 宁波's, is a 妇联 summary: `城市管理` matched it by 城市之间 alone, before two
    # words typed together had to be held both)
    in_query = engine.search("家庭教育 region:宁波", mode="keyword", k=50)["results"]
    as_filter = engine.search("工作", mode="keyword", k=50, filters=Filters(region="浙江"))["results"]
    assert in_query and all(r["region"] == "宁波市" for r in in_query)
    assert as_filter and all(r["region"] in ("宁波市", "舟山市", "浙江省") for r in as_filter)
    by_year = engine.search("城市管理", mode="keyword", k=50, filters=Filters(year_from=2020, year_to=2022))
    assert by_year["results"] and all(2020 <= r["year"] <= 2022 for r in by_year["results"])
    by_type = engine.search("工作", mode="keyword", k=50, filters=Filters(doc_type="工作报告"))["results"]
    assert by_type and all(r["doc_type"] == "工作报告" for r in by_type)


def test_traditional_query_finds_simplified_passages_and_the_reverse(engine):
    trad = engine.search("城區河道綜合整治", mode="keyword", k=5)["results"]
    assert any("城区河道" in r["text"] for r in trad)  # 002 is in simplified script
    simp = engine.search("文明劝导志愿服务", mode="keyword", k=5)["results"]
    assert any("勸導" in r["text"] for r in simp)  # 004 is in traditional script


def test_results_follow_the_json_contract_and_highlight_matches(engine):
    result = engine.search("巾帼人才招聘会", mode="keyword", k=3)
    assert set(result) == {"query", "mode", "total", "matched_by", "results"}
    assert sum(result["matched_by"].values()) == result["total"]
    first = result["results"][0]
    assert CONTRACT <= set(first)
    assert "<mark>巾幗</mark>" in first["highlight"] or "<mark>巾帼</mark>" in first["highlight"]


def test_highlight_escapes_html():
    from search.highlight import highlight

    assert highlight("<script>alert(1)</script>垃圾分类", ["垃圾"]) == \
        "&lt;script&gt;alert(1)&lt;/script&gt;<mark>垃圾</mark>分类"


def test_highlight_spans_punctuation_and_scripts():
    """A match runs over punctuation and spaces, in traditional script and full-width forms, marked on
    the original characters; a text whose normal form is longer (NFKC) keeps its places; a normalised
    text given beside it changes nothing."""
    from indexer.text import normalise
    from search.highlight import highlight

    cases = [("推進營商環境，優化服務", ["营商环境", "优化"], "推進<mark>營商環境</mark>，<mark>優化</mark>服務"),
             ("营商，环境 营商环境", ["营商环境"], "<mark>营商，环境</mark> <mark>营商环境</mark>"),
             ("ＡＢＣ城管局", ["abc城管"], "<mark>ＡＢＣ城管</mark>局"),
             ("㍻十年，城管执法", ["城管执法"], "㍻十年，<mark>城管执法</mark>"),  # ㍻ is 平成 under NFKC
             ("没有匹配", ["垃圾"], "没有匹配"),
             ("", ["垃圾"], "")]
    for text, needles, marked in cases:
        assert highlight(text, needles) == marked
        assert highlight(text, needles, normalise(text)) == marked


def test_pagination_with_offset(engine):
    page1 = engine.search("城市管理", mode="keyword", k=5)["results"]
    page2 = engine.search("城市管理", mode="keyword", k=5, offset=5)["results"]
    ten = engine.search("城市管理", mode="keyword", k=10)["results"]
    assert [r["passage_id"] for r in page1 + page2] == [r["passage_id"] for r in ten]


def test_same_results_after_save_and_load(corpus_index, engine):
    reopened = Engine(corpus_index, load_model=False, backend=engine.backend)
    for q in ['"门前三包"', "垃圾分类 NOT 农村", "城區河道綜合整治"]:
        assert reopened.search(q, mode="keyword") == engine.search(q, mode="keyword")


@pytest.mark.parametrize("query", ['"营造浓厚', "AND", "NOT", "(((", "region:", "x" * 2000, "year:abc",
                                   "\x00\x01", ")", "OR OR", '""', "unknownfield:宁波"])
def test_malformed_queries_give_a_message_not_a_traceback(engine, query):
    try:
        result = engine.search(query, mode="keyword")
    except QueryError as exc:
        assert str(exc)
    else:
        assert isinstance(result["results"], list)


def test_text_the_parser_cannot_use_is_searched_as_words_with_a_note(engine):
    colon = engine.search("目标:全面小康", mode="keyword")
    assert colon["results"] and "not a field" in colon["notes"][0]
    nothing = engine.search("NOT 的", mode="keyword")
    assert nothing["results"] == [] and nothing["total"] == 0 and "no searchable words" in nothing["notes"][-1]
    odd = engine.search("城管 AND (OR", mode="keyword")
    assert isinstance(odd["results"], list)
    assert "notes" not in engine.search("城管", mode="keyword")


def test_cli_search_json_and_clean_errors(corpus_index):
    runner = CliRunner()
    ok = runner.invoke(main, ["search", '"门前三包"', "--mode", "keyword", "--json", "--index-dir", str(corpus_index)])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["mode"] == "keyword" and data["results"] and CONTRACT <= set(data["results"][0])
    bad = runner.invoke(main, ["search", "x" * 2000, "--index-dir", str(corpus_index)])
    assert bad.exit_code == 1 and "query too long" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(main, ["search", "城管", "--index-dir", "/nonexistent/ix"])
    assert missing.exit_code == 1 and "report-search index" in missing.output
    stats = runner.invoke(main, ["stats", "--index-dir", str(corpus_index)])
    assert stats.exit_code == 0 and "18 reports" in stats.output
    # the text output: a heading the passage's own first line names is not printed again above it, and
    # every line of the passage is indented under its number
    text = runner.invoke(main, ["search", "城市管理逐步轉型升級", "--mode", "keyword", "-k", "5", "--index-dir",
                                str(corpus_index)]).output
    block = text.split("\n1. ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert block[1:] and all(line.startswith("   ") for line in block[1:])
    assert sum("逐步轉型升級" in line for line in block[1:]) == 1, block


def test_plain_queries_skip_the_parser_and_get_the_same_query(embedded_engine):
    """A query without syntax is built directly (search/query.plain_query): the same Whoosh query the
    parser makes, term for term and boost for boost."""
    from search.query import Word, is_plain, plain_query

    parser = embedded_engine.keyword.parser
    queries = ["城市管理 工作总结", "垃圾分类", "稳就业， 保民生！", "a", "2020 年 GDP", "創建文明城市", "　全角 空格",
               "新冠肺炎疫情防控期间如何申请补贴？"]
    assert all(is_plain(q) for q in queries)
    assert not any(is_plain(q) for q in ['"门前三包"', "region:宁波 执法", "环境 NOT 卫生", "(a)", "a-b", "year:2020"])
    def unwrapped(q):  # the parser marks each word typed (search.query.Word) for the match; the terms are these
        return q.child if isinstance(q, Word) else q if q.is_leaf() else q.apply(unwrapped)

    for q in queries:
        assert plain_query(q, parser) == unwrapped(parser.parse(q)).normalize(), q


def test_characters_in_a_row_match_the_same_passages_as_whoosh_phrases(embedded_engine):
    """The ranking arrays and the passages' texts find a phrase where Whoosh's phrase query does."""
    from indexer.analysis import phrase_chars

    searcher = embedded_engine.keyword
    texts = [p.norm for p, _ in embedded_engine.store.iter_passages()][::7]
    phrases = {phrase_chars(t)[i:i + n] for t in texts for n in (2, 3, 5, 9) for i in (0, 4, 11)} - {""}
    phrases |= {"组织领导", "城管进小区", "领导组织", "工作总结", "总结工作"}
    saved = searcher.exact_texts
    try:
        for chars in sorted(phrases):
            fast = searcher._phrase_mask(chars)
            searcher.exact_texts = None
            assert (searcher._phrase_mask(chars) == fast).all(), chars
            searcher.exact_texts = saved
    finally:
        searcher.exact_texts = saved


@pytest.mark.parametrize("query", ['"门前三包" 整治', "环境 NOT 卫生", "垃圾 AND 分类", "(城管 OR 执法) AND 小区",
                                   '"组织领导" OR "工作总结"', '"城" 管理', "region:宁波 执法", "year:[2018 TO 2020] 总结",
                                   '"领导" NOT "组织"', "城市管理 工作总结"])
def test_queries_match_the_passages_whoosh_matches(embedded_engine, query):
    """Words, phrases and operators are matched with the ranking arrays; the same passages as Whoosh."""
    searcher = embedded_engine.keyword
    q = searcher.parse(query).keyword
    assert (searcher._mask(q) == searcher._whoosh_mask(q)).all()


def test_a_keyword_index_opens_whatever_module_its_pickled_analyser_names(tmp_path, monkeypatch):
    """Whoosh pickles the schema's analyser classes by module: an index written before a move of
    them (search.analysis -> indexer.analysis) must still open, read with the format's own schema."""
    import sys
    import types

    from whoosh import index as whoosh_index

    from indexer import analysis
    from indexer.formats import keyword as keyword_format

    old = types.ModuleType("old_analysis")  # where the classes lived when the index was written
    for name in ("WordTokenizer", "BigramTokenizer"):
        moved = type(name, (getattr(analysis, name),), {"__module__": "old_analysis"})
        setattr(old, name, moved)
    monkeypatch.setitem(sys.modules, "old_analysis", old)
    schema = keyword_format.schema()
    for field in schema.names():
        tokenizer = getattr(schema[field], "analyzer", None)
        if tokenizer is not None and type(tokenizer).__name__ in ("WordTokenizer", "BigramTokenizer"):
            schema[field].analyzer = getattr(old, type(tokenizer).__name__)()
    writer = whoosh_index.create_in(str(tmp_path), schema).writer()
    writer.add_document(passage_id="p1", content="垃圾分类")
    writer.commit()
    monkeypatch.delitem(sys.modules, "old_analysis")
    with pytest.raises(ModuleNotFoundError):
        whoosh_index.open_dir(str(tmp_path))  # what Whoosh does with the pickled schema
    assert keyword_format.open_index(tmp_path).doc_count() == 1


def test_a_heading_is_found_with_the_paragraph_it_heads(engine):
    """`五、存在的不足` is no result on its own: the search finds it as the first line of the
    paragraph below it, whose heading path ends with it."""
    results = engine.search("存在的不足", mode="keyword", k=10)["results"]
    top = results[0]
    first_line, _, body = top["text"].partition("\n")
    assert top["heads"] == 1 and "存在的不足" in first_line and len(body) > 20
    assert top["heading_path"][-1] == first_line.rstrip(":：")
    # A heading alone, with a paragraph under it after it, is a long one (a statement of what was done).
    passages = [p for p, _ in all_passages(engine)]
    alone = [p.text for p, after in zip(passages, passages[1:]) if p.doc_id == after.doc_id
             and p.heads == len(p.text.split("\n")) and after.heading_path[:len(p.heading_path)] == p.heading_path]
    assert alone and all(len(CJK.findall(text.split("\n")[-1])) >= HEADING_JOINS_BELOW for text in alone), alone[:5]


def test_cli_outline_prints_the_sections_in_order_and_writes_word(corpus_index, tmp_path):
    from docx import Document

    runner = CliRunner()
    out = runner.invoke(main, ["outline", "环境卫生", "--index-dir", str(corpus_index)])
    assert out.exit_code == 0, out.output
    names = ["基本情况", "主要做法与成效", "存在问题", "下一步打算", "经验体会"]
    places = [out.output.index(f". {name}  (") for name in names]
    assert places == sorted(places) and "常用表述" in out.output and out.output.count("——《") >= 4
    # each passage's one line shows why it matched: from a little before its first highlighted word
    excerpts = [line for line in out.output.splitlines() if line.startswith("   - ")]
    assert excerpts and all("【" in line for line in excerpts), excerpts
    path = tmp_path / "outline.docx"
    word = runner.invoke(main, ["outline", "垃圾分类", "--format", "docx", "-o", str(path), "--index-dir",
                                str(corpus_index)])
    assert word.exit_code == 0 and Document(str(path)).paragraphs[0].text == "“垃圾分类”写作提纲"
    bad = runner.invoke(main, ["outline", "垃圾分类", "--section", "problems", "--index-dir", str(corpus_index)])
    assert bad.exit_code == 2 and "every section" in bad.output


def test_the_stored_jieba_dictionary_splits_as_the_whole_one(tmp_path, monkeypatch):
    """A query reads jieba's frequencies from SQLite one word at a time (no 0.7 s load of the whole);
    the words are the same, before and after it loads the whole dictionary after many look-ups."""
    import jieba

    from indexer import analysis

    full = analysis._full_jieba()
    analysis._store(full, tmp_path / "freq.sqlite")
    stored = jieba.Tokenizer()
    stored.FREQ = analysis._StoredFrequencies(tmp_path / "freq.sqlite", stored)
    stored.total, stored.initialized = stored.FREQ.total, True
    assert stored.total == full.total
    texts = ["营商环境持续优化", "小区乱停车怎么办", "創建文明城市工作總結", "门前三包责任制落实不到位", "新质生产力"] \
        + [seed_text("001")[i:i + 300] for i in range(0, 6000, 300)]
    monkeypatch.setattr(analysis, "LOAD_AFTER_LOOKUPS", 2_000)  # so that the load happens among these texts
    words = [list(stored.tokenize(t, mode="search")) for t in texts]
    assert isinstance(stored.FREQ, dict) and len(stored.FREQ) == len(full.FREQ)
    assert words == [list(full.tokenize(t, mode="search")) for t in texts]
