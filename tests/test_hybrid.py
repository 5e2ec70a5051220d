"""Semantic and hybrid search, filters in every mode, collapse, similar passages, the embedding cache."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import CORPUS, seed_text, warm_cache

from indexer import e5_onnx
from indexer.onnx_encoder import INT8_VERSION
from indexer.pipeline import BuildOptions, build_index
from indexer.text import compact, normalise
from report_search.cli import main
from search.engine import Engine, SearchError
from search.hits import Filters

MODES = ["keyword", "semantic", "hybrid"]


def test_semantic_search_finds_the_same_initiative_in_other_words(engine):
    # No passage says 困难职工送温暖 in these words; 004 speaks of 訪貧問苦 慰問.
    texts = [r["text"] for r in engine.search("给困难职工送温暖", mode="semantic", k=10)["results"]]
    assert any("慰問" in t or "慰问" in t for t in texts)


@pytest.mark.parametrize("mode", MODES)
def test_filters_apply_before_the_top_k_cut(engine, mode):
    filters, zhejiang = Filters(region="浙江"), ("宁波市", "舟山市", "浙江省")
    result = engine.search("工作", mode=mode, k=10, filters=filters)
    results = result["results"]
    # Every match the filter keeps, up to k. How many passages of 浙江 match 工作 by meaning alone
    # moves with the CPU's int8 arithmetic (9 on an AVX2 CPU, 10 or more with VNNI).
    assert len(results) == min(10, result["total"]) and len(results) >= 5
    assert all(r["region"] in zhejiang for r in results)
    # Applied after the cut, the filter would keep only the unfiltered top 10's passages of 浙江.
    unfiltered = engine.search("工作", mode=mode, k=10)["results"]
    assert len(results) > sum(r["region"] in zhejiang for r in unfiltered)
    by_type = engine.search("工作", mode=mode, k=5, filters=Filters(doc_type="工作报告"))
    assert by_type["results"] and all(r["doc_type"] == "工作报告" for r in by_type["results"])


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_phrases_constrain_every_mode(engine, mode):
    results = engine.search('"门前三包"', mode=mode, k=20)["results"]
    # punctuation inside a phrase is ignored: 门前“三包” matches
    assert results and all("门前三包" in compact(normalise(r["text"] + "".join(r["heading_path"]))) for r in results)


def test_hybrid_results_explain_themselves(engine):
    result = engine.search("志愿者文明劝导", mode="hybrid", k=10, explain=True)
    assert result["results"]
    for r in result["results"]:
        assert set(r["explain"]) <= {"keyword", "semantic"} and r["explain"]
        for part in r["explain"].values():
            assert part["rank"] >= 1
    assert any(len(r["explain"]) == 2 for r in result["results"])


def test_near_duplicates_are_returned_once(tmp_path, corpus_index):
    folder = tmp_path / "reports"
    folder.mkdir()
    text = seed_text("001")
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text.replace("2020年", "2021年"), encoding="utf-8")
    build_index([str(folder)], warm_cache(tmp_path / "ix", corpus_index / "cache"))
    engine = Engine(tmp_path / "ix")
    for mode in MODES:
        results = engine.search("城管进小区", mode=mode, k=10)["results"]
        texts = [r["text"] for r in results]
        assert len(texts) == len(set(texts)), mode
        assert any(r.get("duplicates") for r in results), mode


def test_similar_passages_prefer_other_reports(engine):
    source = engine.search('"城管进小区"', mode="keyword", k=1)["results"][0]
    similar = engine.similar(source["passage_id"], k=8)["results"]
    assert similar and source["passage_id"] not in {r["passage_id"] for r in similar}
    other = [r["doc_id"] != source["doc_id"] for r in similar]
    assert other[0] and other == sorted(other, reverse=True)  # all other-report passages come first
    with pytest.raises(KeyError):
        engine.similar("no-such-passage")


def test_similar_passages_page_without_gaps_under_one_total(engine):
    """Before, the list reached three times past the page asked for: its total grew with the offset (on
    gov-reports 100, 300, 630, 2,972 for offsets 0, 90, 200, 990) and a later page's order could differ."""
    source = engine.search('"城管进小区"', mode="keyword", k=1)["results"][0]["passage_id"]
    whole = engine.similar(source, k=100)
    pages = [engine.similar(source, k=10, offset=offset) for offset in range(0, whole["total"] + 10, 10)]
    assert {p["total"] for p in pages} == {whole["total"]} and whole["total"] > 100
    paged = [r["passage_id"] for p in pages for r in p["results"]]
    assert len(paged) == len(set(paged)) == whole["total"] and paged[:100] == [r["passage_id"] for r in whole["results"]]


@pytest.mark.parametrize("mode", MODES)
def test_a_longer_page_keeps_the_order_of_a_shorter_one(engine, mode):
    """Asking for 100 results (as the eval does) or 40 pages of 10 gives the first 10 in the order
    a page of 10 has: fusion and wording see each list's first `candidates` whatever the size."""
    for query in ["垃圾分类", "给困难职工送温暖", "城市管理 执法 宣传", "思路决定出路"]:
        ten = [r["passage_id"] for r in engine.search(query, mode=mode, k=10)["results"]]
        long_page = engine.search(query, mode=mode, k=100)["results"]
        hundred = [r["passage_id"] for r in long_page]
        assert hundred[:10] == ten
        page = [r["passage_id"] for r in engine.search(query, mode=mode, k=10, offset=60)["results"]]
        assert page == hundred[60:70]
        scores = [r["score"] for r in long_page]
        assert scores == sorted(scores, reverse=True)


def test_mode_k_and_offset_are_checked(engine):
    for bad in [dict(mode="fuzzy"), dict(k=0), dict(k=1000), dict(offset=-1)]:
        with pytest.raises(SearchError):
            engine.search("城管", **bad)


def test_reindexing_reuses_the_embedding_cache(tmp_path, corpus_index):
    folder = tmp_path / "reports"
    shutil.copytree(CORPUS, folder)
    from indexer.pipeline import build_index as build

    # the corpus index's cache (its build embedded every text) in a new folder: texts are found by
    # what they say, wherever the file lies
    first = build([str(folder)], warm_cache(tmp_path / "ix", corpus_index / "cache"))
    again = build([str(folder)], tmp_path / "ix")
    assert first.embedded == 0 and again.embedded == 0 and first.passages > 400
    (folder / "003_fc0292999588b085.txt").write_text(seed_text("003").replace("智慧城管", "智能城管"),
                                                     encoding="utf-8")
    changed = build([str(folder)], tmp_path / "ix")
    assert 0 < changed.embedded < 30  # only 003's changed passages
    assert Engine(tmp_path / "ix").search('"智能城管"', mode="hybrid")["results"]


def test_a_model_mismatch_says_to_reindex(tmp_path, index_copy):
    import json

    from indexer.layout import IndexUnavailable

    manifest_path = index_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # Other weights than the ones installed (a newer package, another model at the same path).
    manifest["encoder_spec"]["fingerprint"] = "0123456789abcdef"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="weights 0123456789abcdef.*re-run `report-search index`"):
        Engine(index_copy)
    manifest["encoder_spec"].update(backend="sentence-transformers", model="m3e-small", dimension=512)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="re-run `report-search index`"):
        Engine(index_copy)
    run = CliRunner().invoke(main, ["search", "垃圾分类", "--index-dir", str(index_copy)])
    assert run.exit_code == 1 and "re-run `report-search index`" in run.output and "Traceback" not in run.output


def test_an_index_embedded_by_an_earlier_conversion_is_rebuilt_by_a_plain_index_run(tmp_path):
    """An index from before a conversion change (its encoder spec has no revision) is refused at query
    time with "re-run `report-search index`"; that run rebuilds it although no file or option changed."""
    from indexer.layout import IndexUnavailable

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "004.txt").write_text(seed_text("004"), encoding="utf-8")
    options = BuildOptions(sentences=False, second_model=None)
    build_index([str(folder)], tmp_path / "ix", options)
    manifest_path = tmp_path / "ix" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["encoder_spec"]["revision"] == e5_onnx.CONVERTER_VERSION
    del manifest["encoder_spec"]["revision"]  # as an index of the first conversion records it
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="re-run `report-search index`"):
        Engine(tmp_path / "ix")
    report = build_index([str(folder)], tmp_path / "ix", options)
    assert not report.up_to_date and report.passages > 0
    assert Engine(tmp_path / "ix").search("给困难职工送温暖", mode="semantic")["results"]
    assert build_index([str(folder)], tmp_path / "ix", options).up_to_date


def test_keyword_only_index_still_answers_keyword_queries(tmp_path):
    build_index([str(CORPUS)], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix")
    assert engine.search("门前三包", mode="keyword")["results"]
    with pytest.raises(SearchError, match="no embeddings"):
        engine.search("门前三包", mode="semantic")


def test_int8_index_embeds_through_the_int8_onnx_export_and_finds_by_meaning(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "004.txt").write_text(seed_text("004"), encoding="utf-8")
    report = build_index([str(folder)], tmp_path / "ix", BuildOptions(model="m3e-small", int8=True, sentences=False))
    int8 = Engine(tmp_path / "ix")
    spec = int8.manifest["encoder_spec"]
    assert int8.manifest["int8"] is True and report.embedded > 0  # its own cache entries, not the float ones
    assert spec["backend"] == "onnx-int8" and spec["int8"] is True and spec["revision"] == INT8_VERSION
    meta = json.loads((tmp_path / "ix" / int8.manifest["query_encoder"] / "meta.json").read_text())
    assert meta["int8"] == INT8_VERSION  # passages and queries through the same quantised model
    texts = [r["text"] for r in int8.search("给困难职工送温暖", mode="semantic", k=10)["results"]]
    assert any("慰問" in t or "慰问" in t for t in texts)
    # int8 vectors stay close to the float model's, for passages and queries alike.
    from indexer.embedding import encode, load_model

    plain, quantised = encode(load_model("m3e-small"), texts), int8.semantic.encoder.encode_passages(texts)
    cosines = (plain * quantised).sum(axis=1)
    assert float(cosines.min()) > 0.99
    # ... and are int8's: export_int8 once carried the float model's optimised graph into the export,
    # and every session computed the float model's vectors (cosine 1.0000) at the float model's speed.
    assert float(cosines.mean()) < 0.9999
    import onnx

    from indexer.onnx_encoder import optimised_path

    graph = onnx.load(str(optimised_path(tmp_path / "ix" / int8.manifest["query_encoder"] / "model.onnx")))
    assert any("MatMulInteger" in n.op_type or "QuantizeMatMul" in n.op_type for n in graph.graph.node)
    for q in QUERIES_FOR_ENCODER:
        theirs = load_model("m3e-small").encode([q], normalize_embeddings=True)[0]
        assert float(int8.semantic.embed_query(q) @ theirs) > 0.99


def test_an_int8_export_made_once_serves_every_new_index(tmp_path, monkeypatch):
    """The second model's int8 export is made once per user and weights (7 s for m3e-small: the PyTorch
    model loaded, exported, quantised, checked) and copied into each new index directory."""
    from indexer import encoders
    from indexer.layout import user_cache

    cache = tmp_path / "cache"
    cache.mkdir()
    for converted in user_cache().glob("e5-small-onnx-*"):  # e5-small's conversion is another matter
        (cache / converted.name).symlink_to(converted)
    monkeypatch.setenv("REPORT_SEARCH_CACHE", str(cache))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "a.txt").write_text("某区城管局2024年工作总结\n开展夜间烧烤专项整治，取缔露天烧烤摊点42处。\n",
                                                encoding="utf-8")
    build_index([str(tmp_path / "reports")], tmp_path / "one", BuildOptions(sentences=False))
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text(encoding="utf-8"))
    spec = manifest["second_encoder_spec"]
    kept = encoders.kept_int8_export(spec["model"], spec["fingerprint"], spec["max_tokens"])
    made = tmp_path / "one" / manifest["second_query_encoder"]
    assert (kept / "model.onnx").read_bytes() == (made / "model.onnx").read_bytes()
    meta = json.loads((kept / "meta.json").read_text(encoding="utf-8"))
    (kept / "meta.json").write_text(json.dumps({**meta, "copied": True}), encoding="utf-8")  # to tell a copy
    build_index([str(tmp_path / "reports")], tmp_path / "two", BuildOptions(sentences=False))
    second = json.loads((tmp_path / "two" / "manifest.json").read_text(encoding="utf-8"))["second_query_encoder"]
    assert json.loads((tmp_path / "two" / second / "meta.json").read_text(encoding="utf-8")).get("copied")
    assert Engine(tmp_path / "two").search("烧烤整治", mode="semantic")["results"]


QUERIES_FOR_ENCODER = ["给困难职工送温暖", "城管进小区", "垃圾分类 宣传", "2021年工作打算", "河长制 水环境治理"]


@pytest.fixture(scope="module")
def m3e_index(tmp_path_factory):
    """Seed report 004 embedded by m3e-small through sentence-transformers (the other backend); its
    passages only: the tests here are of its query side."""
    folder = tmp_path_factory.mktemp("m3e")
    (folder / "reports").mkdir()
    (folder / "reports" / "004.txt").write_text(seed_text("004"), encoding="utf-8")
    build_index([str(folder / "reports")], folder / "ix", BuildOptions(model="m3e-small", sentences=False))
    return folder / "ix"


def test_queries_are_embedded_by_the_onnx_export_as_by_the_model(m3e_index):
    from indexer.embedding import load_model
    from indexer.onnx_encoder import OnnxEncoder

    engine = Engine(m3e_index)
    assert engine.manifest["model"] == "m3e-small" and engine.manifest["dimension"] == 512
    assert engine.manifest["query_encoder"].startswith("cache/onnx/")
    assert isinstance(engine.semantic.encoder._onnx(), OnnxEncoder)
    model = load_model(engine.manifest["model"], engine.manifest["max_seq_length"])
    for q in QUERIES_FOR_ENCODER:
        ours = engine.semantic.embed_query(q)
        theirs = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)[0]
        assert float(ours @ theirs) > 0.9999
        assert [h.passage_id for h in engine.semantic.search_vector(ours, 10).hits] == \
               [h.passage_id for h in engine.semantic.search_vector(theirs, 10).hits]


def test_without_the_onnx_export_queries_fall_back_to_the_model(m3e_index, tmp_path):
    copy = tmp_path / "ix"
    shutil.copytree(m3e_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    shutil.rmtree(copy / manifest["query_encoder"])
    fallback, engine = Engine(copy), Engine(m3e_index)
    assert fallback.semantic.encoder._onnx() is None  # queries through sentence-transformers
    for q in QUERIES_FOR_ENCODER[:3]:
        assert [r["passage_id"] for r in fallback.search(q, mode="semantic")["results"]] == \
               [r["passage_id"] for r in engine.search(q, mode="semantic")["results"]]


def _unit(*parts: float) -> np.ndarray:
    v = np.array(parts + (0.0,) * (8 - len(parts)), dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("ann_threshold", [100_000, 0])  # flat and HNSW indexes
def test_a_passage_scores_by_its_best_sentence_too(tmp_path, ann_threshold):
    from indexer.formats import vectors
    from search import semantic

    # p0 is mostly about something else, but one of its sentences is the query; p1 is half-related.
    passages = np.stack([_unit(1, 0.3), _unit(0, 1, 1.5), _unit(0, 0, 0, 1)])
    sentences = np.stack([_unit(1), _unit(0, 1), _unit(0, 1, 1.5), _unit(0, 0, 0, 1)])
    owners = np.array([0, 0, 1, 2])
    path = tmp_path / "vectors.faiss"
    vectors.build(path, ["p0", "p1", "p2"], passages, ann_threshold=ann_threshold, sentences=(sentences, owners))
    query = _unit(0, 1)
    mixed = semantic.SemanticSearcher(path, encoder=None, sentence_weight=0.5)
    hits = mixed.search_vector(query, k=3).hits
    assert [h.passage_id for h in hits[:2]] == ["p0", "p1"]
    own = float(passages[0] @ query)
    assert hits[0].score == pytest.approx(0.5 * own + 0.5 * 1.0, abs=1e-5)
    filtered = mixed.search_vector(query, k=3, allowed={"p0", "p1", "p2"}).hits
    assert [(h.passage_id, round(h.score, 5)) for h in filtered] == [(h.passage_id, round(h.score, 5)) for h in hits]
    assert [h.passage_id for h in mixed.search_vector(query, k=2, exclude={"p0"}).hits] == ["p1", "p2"]
    alone = semantic.SemanticSearcher(path, encoder=None, sentence_weight=0.0)
    assert [h.passage_id for h in alone.search_vector(query, k=2).hits] == ["p1", "p0"]


@pytest.mark.parametrize("count", [0, 1, 37])
def test_a_flat_vector_file_reads_without_faiss_as_faiss_reads_it(tmp_path, count):
    """Importing FAISS took 0.2 s of every command's start, and a flat index is its vectors: they are
    read from FAISS's file directly, the same numbers as FAISS reads; an HNSW index goes to FAISS."""
    import faiss

    from indexer.formats import vectors

    rng = np.random.default_rng(count)
    matrix = rng.standard_normal((count, 24)).astype(np.float32)
    sentences = rng.standard_normal((2 * count, 24)).astype(np.float32)
    owners = np.repeat(np.arange(count), 2)
    path = tmp_path / "vectors.faiss"
    vectors.build(path, [f"p{i}" for i in range(count)], matrix, sentences=(sentences, owners) if count else None)
    flat = vectors.read_vectors(path)
    assert isinstance(flat, vectors.FlatVectors) and flat.ntotal == count
    assert np.array_equal(vectors.matrix_of(flat), vectors.matrix_of(faiss.read_index(str(path))))
    assert np.array_equal(vectors.matrix_of(flat), matrix.reshape(count, -1) if count else np.zeros((0, 1)))
    if count:
        files = vectors.VectorFiles(path)
        assert np.array_equal(vectors.matrix_of(files.sentences), sentences)
        assert np.array_equal(files.index.reconstruct(3 % count), matrix[3 % count])
        hnsw = tmp_path / "hnsw.faiss"
        vectors.build(hnsw, [f"p{i}" for i in range(count)], matrix, ann_threshold=0)
        assert hasattr(vectors.read_vectors(hnsw), "hnsw")
    truncated = tmp_path / "truncated.faiss"
    truncated.write_bytes(path.read_bytes()[:-4] if count else b"IxFI")
    with pytest.raises(RuntimeError):  # not a whole flat index: FAISS reads it, and says what is wrong
        vectors.read_vectors(truncated)


def test_sentence_pieces_and_the_sentence_vectors_of_a_build(tmp_path):
    from indexer.embedding import sentence_pieces

    assert sentence_pieces("一是开展夜间烧烤整治。二是清理。三是加强路灯维护，亮灯率达98%！") == \
        ["一是开展夜间烧烤整治。二是清理。", "三是加强路灯维护，亮灯率达98%！"]
    assert sentence_pieces("没有句号的一句话") == ["没有句号的一句话"]
    (tmp_path / "r.txt").write_text("某区城管局2024年工作总结\n一、主要工作\n开展夜间烧烤专项整治，取缔露天烧烤摊点42处。"
                                    "推进路灯维护，主干道亮灯率达到98%。\n", encoding="utf-8")
    # the first model's sentences are what is tested: no second model
    with_sentences = build_index([str(tmp_path / "r.txt")], tmp_path / "ix", BuildOptions(second_model=None))
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sentence_vectors"] >= 2 and with_sentences.embedded >= 3
    run = CliRunner().invoke(main, ["index", str(tmp_path / "r.txt"), "--index-dir", str(tmp_path / "ix2"),
                                    "--no-sentences", "--second-model", "none", "--quiet"])
    assert run.exit_code == 0, run.output
    assert json.loads((tmp_path / "ix2" / "manifest.json").read_text(encoding="utf-8"))["sentence_vectors"] == 0


def test_a_second_model_joins_the_semantic_side(engine, corpus_index, tmp_path):
    from dataclasses import replace

    manifest = json.loads((corpus_index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["second_encoder_spec"]["model"] == "m3e-small" and engine.retrieval.has_second
    # embedded through its int8 ONNX export, which embeds its queries too
    assert manifest["second_encoder_spec"]["backend"] == "onnx-int8" and manifest["second_query_encoder"]
    assert engine.stats()["second_model"] == "m3e-small"
    both = engine.search("给困难职工送温暖", mode="semantic", k=20)["results"]
    engine.settings = replace(engine.settings, second_weight=0.0)
    try:
        alone = engine.search("给困难职工送温暖", mode="semantic", k=20)["results"]
    finally:
        engine.settings = replace(engine.settings, second_weight=0.5)
    assert [r["passage_id"] for r in both] != [r["passage_id"] for r in alone]
    # one model only, on request
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text(seed_text("003")[:2000], encoding="utf-8")
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(second_model=None))
    single = Engine(tmp_path / "ix")
    assert single.second is None and single.search("城管", mode="hybrid")["results"]
    single.close()


def test_the_semantic_side_beside_the_words_gives_the_same_answers(corpus_index):
    """`serve` computes a hybrid query's semantic side in a thread of its own (Engine side_by_side),
    and a query with thesaurus terms is embedded without them beside the lists too: the same results,
    totals and facets as one thread."""
    from search.engine import Engine

    one, two = Engine(corpus_index, backend="embedded"), Engine(corpus_index, backend="embedded", side_by_side=True)
    try:
        with_terms = ("老头乐满大街乱窜", "电线杆上贴满办证、通下水道的小纸条")
        assert all(two.retrieval.parse(q).officials for q in with_terms)
        for q in ("城管进小区", "垃圾分类 宁波", '"门前三包" 整治', "路灯不亮找谁", "存在问题 下一步打算") + with_terms:
            a, b = one.search(q, mode="hybrid", facets=True), two.search(q, mode="hybrid", facets=True)
            assert a["results"] and a == b, q
        for q in with_terms:
            assert one.search(q, mode="keyword") == two.search(q, mode="keyword"), q
    finally:
        one.close()
        two.close()


def test_a_commands_query_encoders_load_while_the_engine_opens(corpus_index, embedded_engine):
    """`report-search search` opens the index's query encoders in a thread before it imports and opens
    the engine (start-up, bench/README.md): the engine takes those encoders, and answers as one that
    opened its own."""
    from indexer import encoders
    from indexer.layout import IndexDir
    from search.engine import Engine

    directory = IndexDir(corpus_index)
    mine = lambda: {k: f for k, f in encoders._warming.items() if k[0] == str(directory.path)}  # noqa: E731
    encoders.warm_query_encoders(directory)
    warming = mine()
    assert len(warming) == 2  # e5-small and m3e-small
    engine = Engine(corpus_index, backend="embedded", load_model=False)
    try:
        page = engine.search("垃圾分类 宣传", mode="hybrid", k=5)
        assert not mine()  # both taken
        taken = {id(f.result()) for f in warming.values()}
        assert {id(engine.semantic.encoder), id(engine.second.encoder)} == taken
        fresh = embedded_engine.search("垃圾分类 宣传", mode="hybrid", k=5)
        assert [r["passage_id"] for r in page["results"]] == [r["passage_id"] for r in fresh["results"]]
        assert page["total"] == fresh["total"] > 0
    finally:
        engine.close()


def test_a_command_that_stops_early_leaves_no_encoder_waiting(corpus_index):
    """A search that fails before the engine takes its warmed encoders (here: an offset past 1,000)
    forgets them, so that a later engine in the same process opens its own."""
    from click.testing import CliRunner

    from indexer import encoders
    from report_search.cli import main

    before = set(encoders._warming)
    result = CliRunner().invoke(main, ["search", "垃圾分类", "--index-dir", str(corpus_index), "--backend",
                                       "embedded", "--mode", "hybrid", "--offset", "5000"])
    assert result.exit_code != 0
    assert set(encoders._warming) == before


def test_keyword_mode_warms_the_first_model_only_where_its_similarity_decides_matches(corpus_index, m3e_index):
    """A keyword search warms e5-small's query encoder (its overlap rule needs the query's similarity)
    but no encoder for an index of a model the floors were not calibrated for (m3e-small here: its
    matches are by words alone, search/matching.py); hybrid mode warms every model of the index."""
    from indexer import encoders
    from indexer.layout import IndexDir
    from report_search.cli import _warmed

    def warming(index_dir, mode):
        with _warmed(str(index_dir), mode):
            return sorted(k[1] for k in encoders._warming if k[0] == str(IndexDir(index_dir).path))

    assert warming(corpus_index, "keyword") == ["e5-small"]
    assert warming(corpus_index, "hybrid") == ["e5-small", "m3e-small"]
    assert warming(m3e_index, "keyword") == []
    assert warming(m3e_index, "hybrid") == ["m3e-small"]
    result = CliRunner().invoke(main, ["search", "慰问", "--index-dir", str(m3e_index), "--mode", "keyword"])
    assert result.exit_code == 0 and "慰" in result.output
