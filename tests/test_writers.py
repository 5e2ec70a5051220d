"""For writers: stock formulations (counted on hand-made reports with known wordings), export with
the source line (csv parsed, docx opened with python-docx, md read) and the citation."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from search.citation import citation

REPORTS = {
    "a.txt": "甲区2021年城管工作总结\n今年以来，我局高度重视、周密部署、狠抓落实，市容环境取得了明显成效。"
             "全局上下统一思想、提高认识，南京市，2021年。车辆进行清洗。志愿服务活动有序开展。"
             "深化要素市场化配置改革，以县城为重要载体。\n",
    "b.txt": "乙县2022年城管工作总结\n一年来，县局高度重视、周密部署、狠抓落实，占道经营治理取得了明显成效。"
             "我们要统一思想、提高认识。车辆进行登记。志愿服务活动蓬勃开展。推进要素市场化配置，以县城为重要载体。\n",
    "c.txt": "丙镇2023年工作总结\n镇党委高度重视、周密部署、狠抓落实，垃圾分类取得了明显成效，南京市。车辆进行检查。"
             "各部门协同推进。关于加强。各单位一定要，城市管理相关。\n",
    "d.txt": "丁街道2023年工作总结\n街道高度重视这项工作，建立了台账。各部门协同推进。关于加强。各单位一定要，城市管理相关。\n",
}


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory):
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    base = tmp_path_factory.mktemp("writers")
    for name, text in REPORTS.items():
        (base / "corpus").mkdir(exist_ok=True)
        (base / "corpus" / name).write_text(text, encoding="utf-8")
    build_index([str(base / "corpus")], base / "index", BuildOptions(embed=False))
    engine = Engine(base / "index", load_model=False)
    yield engine
    engine.close()


def test_formulations_are_whole_clauses_counted_by_report(small_engine):
    found = {p["text"]: p for p in small_engine.phrases(k=50)["phrases"]}
    assert found["高度重视、周密部署、狠抓落实"]["reports"] == 3
    assert found["取得了明显成效"]["reports"] == 3
    assert found["统一思想、提高认识"]["reports"] == 2  # `要统一思想、提高认识` counts as the same
    # the longest form wins over its fragments found as widely; no cut words; no places or dates
    assert "周密部署" not in found and "狠抓落实" not in found
    assert not any(t.startswith("重视、") or t.endswith("、周密部") for t in found)
    assert "南京市" not in found and not any("2021" in t for t in found)
    # `高度重视` alone is in a fourth report, but a manner word before a bare verb names no action on
    # anything: no formulation, however widespread (bench/labels/FORMULATIONS-GUIDE.md)
    assert "高度重视" not in found
    # nor does one end where the sentence goes on: 车辆进行 (three reports) needs its object; nor an
    # empty verb after its manner (协同推进: jieba tags 协同 a noun), nor a preposition and a verb
    assert "车辆进行" not in found and "协同推进" not in found and "关于加强" not in found
    assert "各单位一定要" not in found and "城市管理相关" not in found  # the verb or noun that follows is missing
    # a particle in front goes only where it is a word of its own (要统一思想, not the 要 of 要素), and
    # 以 stays in the frame 以…为…
    assert "要素市场化配置" in found and not any(t.startswith("素") for t in found)
    assert "以县城为重要载体" in found and "县城为重要载体" not in found
    ordered = [p["reports"] for p in small_engine.phrases(k=50)["phrases"]]
    assert ordered == sorted(ordered, reverse=True)
    example = found["高度重视、周密部署、狠抓落实"]["examples"]
    assert len(example) == 3 and len({e.rsplit("-", 2)[0] for e in example}) == 3  # one per report


def test_formulations_of_a_query_leave_out_the_query_words(small_engine):
    result = small_engine.phrases("狠抓落实", k=20, mode="keyword")
    texts = [p["text"] for p in result["phrases"]]
    assert result["query"] == "狠抓落实" and result["passages"] == 3
    assert "狠抓落实" not in texts and "高度重视、周密部署、狠抓落实" in texts
    assert small_engine.phrases("不存在的词语", mode="keyword")["phrases"] == []
    # the query and a generic noun says nothing more than the query
    assert small_engine.phrases(k=50)["phrases"][0]["text"] != "志愿服务活动"
    assert "志愿服务活动" in [p["text"] for p in small_engine.phrases(k=50)["phrases"]]
    assert "志愿服务活动" not in [p["text"] for p in small_engine.phrases("志愿服务", mode="keyword")["phrases"]]


def test_the_packaged_classifier_tells_set_wordings_from_plain_nouns_and_fragments():
    """Rules on words cannot tell 经济社会发展 or 高校毕业生 (plain nouns a writer types anyway) from
    全国统一大市场 (a policy term): the classifier over e5-small's vector, the share of reports using a
    wording and its length can (bench/train_formulations.py, from the labels in bench/labels/)."""
    import numpy as np

    from indexer.encoders import open_encoder
    from indexer.formats.formulations import Classifier

    classifier = Classifier.packaged()
    good = ["全国统一大市场", "优化营商环境", "创建全国文明城市", "坚持稳中求进工作总基调"]
    bad = ["经济社会发展", "全局干部职工", "高校毕业生", "违法犯罪", "单位的工作", "各族人民"]
    logits = classifier.embedding_logits(Classifier.vectors(open_encoder(Classifier.MODEL), good + bad))
    lengths = np.array([len(t) for t in good + bad])
    # each found in 20 of 134 reports, after and before punctuation or many different characters
    beside = np.tile([0.5, 0.1, 2.0, 0.6, 0.1, 1.5], (len(lengths), 1))
    scores = classifier.scores(logits, np.full(len(lengths), 20), 134, lengths, beside)
    assert (scores[:len(good)] >= classifier.threshold).all() and (scores[len(good):] < classifier.threshold).all()
    assert (classifier.scores(logits, np.full(len(lengths), 2), 134, lengths, beside) < scores).all()  # a rarer one less
    # the same wordings found always after one character and never after punctuation: cut from a longer one
    cut = np.tile([0.0, 1.0, 0.0, 0.6, 0.1, 1.5], (len(lengths), 1))
    assert (classifier.scores(logits, np.full(len(lengths), 20), 134, lengths, cut) < scores).all()


def test_how_a_formulation_sits_in_the_text_tells_a_fragment():
    """`neighbours`: over every place a formulation is found, the share after a clause's edge, the chance
    that two places have the same neighbour before it, and the entropy of what is before it (with
    Miller–Madow's correction, (kinds - 1) / 2n); the same after it. 素市场化配置 always follows 要 (cut
    from 要素市场化配置); 优化营商环境 stands after punctuation or different words and before punctuation."""
    from indexer.formats.formulations import neighbours

    norms = ["深化要素市场化配置改革。", "推进要素市场化配置,", ",优化营商环境。", "持续优化营商环境,全面优化营商环境"]
    keys = ["素市场化配置", "优化营商环境"]
    passage, phrase = np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1])
    fragment, whole = neighbours(norms, passage, phrase, keys)
    assert fragment[:3] == pytest.approx([0.0, 1.0, 0.0])  # before: 要 twice
    assert fragment[3:] == pytest.approx([0.5, 0.0, np.log(2) + 1 / 4])  # after: 改, then an edge
    assert whole[:3] == pytest.approx([1 / 3, 0.0, np.log(3) + 2 / 6])  # before: an edge, 续, 面
    assert whole[3:] == pytest.approx([1.0, 1.0, 0.0])  # after: an edge every time (the text's end too)


def test_the_panel_leaves_out_what_the_classifier_scores_low(embedded_engine):
    """The build scores every formulation it keeps (the corpus index is embedded); the panel, the
    outline and the landing examples show only those at the threshold or above. Without the scores
    (a build without embeddings), 进一步提高 (an empty verb, labelled bad) is among 城市管理's first."""
    index = embedded_engine.phrase_index
    assert index.reusable is not None and 0 < index.reusable.sum() < len(index.reusable)
    shown = [p["text"] for p in embedded_engine.phrases("城市管理", k=20, mode="keyword")["phrases"]]
    keep, index.reusable = index.reusable, None
    try:
        unscored = [p["text"] for p in embedded_engine.phrases("城市管理", k=20, mode="keyword")["phrases"]]
    finally:
        index.reusable = keep
    assert "进一步提高" in unscored and "进一步提高" not in shown
    assert "建设智慧城管" in shown and all(keep[index.keys.index(t)] for t in shown)


def test_citation_names_title_year_issuer_and_headings():
    assert (citation("2022年市区城市管理局工作报告", 2022, "市区城市管理局", None, ["二、主要工作", "(一)市容整治"])
            == "——《2022年市区城市管理局工作报告》（2022，市区城市管理局）二、主要工作 › (一)市容整治")
    assert citation("某报告", None, None, "宁波市", []) == "——《某报告》（宁波市）"
    assert citation("某报告", None, None, None, []) == "——《某报告》"


@pytest.fixture(scope="module")
def client(corpus_index, backend):
    from web.app import create_app

    return create_app({"INDEX_DIR": str(corpus_index), "TESTING": True,
                       "ENGINE_OPTIONS": {"backend": backend}}).test_client()


def test_export_csv_opens_with_every_field_and_the_source(client, engine):
    r = client.get("/api/export", query_string={"q": "门前三包", "k": 5, "format": "csv", "section": "measures"})
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    expected = engine.search("门前三包", k=5, filters=__import__("search.hits").hits.Filters(section="measures"))
    assert [row["passage_id"] for row in rows] == [x["passage_id"] for x in expected["results"]]
    assert all(row["section"] == "measures" and row["citation"].startswith("——《") for row in rows)
    assert rows[0]["text"] == expected["results"][0]["text"] and rows[0]["rank"] == "1"


def test_an_exports_header_names_the_filters_as_the_results_do():
    """A filter typed in a short or informal form is named in the header by the official name its
    results carry, and several values of one filter are listed, not left comma-joined."""
    from search.export import describe
    from search.hits import Filters

    assert describe(Filters(region="广西,浙江", issuer="广西人民政府", section="problems,plans", year_from=2025,
                            year_to=2025)) == ("年份：2025 年；地区：广西壮族自治区、浙江省；发文单位：广西壮族自治区人民政府；"
                                               "部分：存在问题、下一步打算")
    assert describe(Filters()) == "不限范围"


def test_export_docx_and_markdown(client, tmp_path):
    from docx import Document

    r = client.get("/api/export", query_string={"q": "垃圾分类", "k": 4, "format": "docx"})
    assert r.status_code == 200
    (tmp_path / "r.docx").write_bytes(r.data)
    paragraphs = Document(str(tmp_path / "r.docx")).paragraphs
    assert paragraphs[0].text == "“垃圾分类”检索结果摘编" and paragraphs[0].style.name == "Title"
    assert paragraphs[1].text == "混合检索；不限范围" and paragraphs[2].text.endswith("本文件收第 1–4 条")
    labels = [p for p in paragraphs if p.style.name == "Heading 2"]
    sources = [p for p in paragraphs if p.style.name == "Quote"]
    assert len(labels) == len(sources) == 4 and labels[0].text.startswith("（一）《")
    assert all(p.text.startswith("——《") for p in sources)  # each passage, then its source
    md = client.get("/api/export", query_string={"q": "垃圾分类", "k": 2, "format": "md"}).data.decode()
    assert md.startswith("# “垃圾分类”检索结果摘编") and md.count("\n——《") == 2
    bad = client.get("/api/export", query_string={"q": "垃圾分类", "format": "pdf"})
    assert bad.status_code == 400 and "format" in bad.get_json()["error"]["message"]


def test_cli_writes_the_export_and_phrases(corpus_index, backend, tmp_path):
    out = tmp_path / "r.csv"
    subprocess.run([sys.executable, "-m", "report_search.cli", "search", "城管", "--index-dir", str(corpus_index),
                    "--backend", backend, "-k", "3", "--format", "csv", "-o", str(out)], cwd=ROOT, check=True, capture_output=True)
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))) == 3
    docx = subprocess.run([sys.executable, "-m", "report_search.cli", "search", "城管", "--index-dir",
                           str(corpus_index), "--format", "docx"], cwd=ROOT, capture_output=True, text=True)
    assert docx.returncode == 2 and "-o FILE" in docx.stderr
    phrases = subprocess.run([sys.executable, "-m", "report_search.cli", "phrases", "--index-dir", str(corpus_index),
                              "--backend", backend, "-k", "5"], cwd=ROOT, check=True, capture_output=True, text=True)
    assert "reports" in phrases.stdout and len(phrases.stdout.strip().splitlines()) == 6


def test_phrases_api(client):
    data = client.get("/api/phrases", query_string={"q": "环境卫生", "section": "measures", "k": 5}).get_json()
    assert data["query"] == "环境卫生" and 0 < len(data["phrases"]) <= 5
    assert all(p["reports"] >= 2 and p["examples"] for p in data["phrases"])
    whole = client.get("/api/phrases").get_json()
    assert whole["query"] == "" and whole["passages"] > 450
    assert client.get("/api/phrases", query_string={"k": "0"}).status_code == 400


@pytest.fixture(scope="module")
def widespread_engine(tmp_path_factory):
    """Ten reports sharing two formulations (and their fragments) in all ten, then fewer in fewer."""
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    base = tmp_path_factory.mktemp("widespread")
    (base / "corpus").mkdir()
    for i, place in enumerate("甲乙丙丁戊己庚辛壬癸"):
        lines = [f"{place}区2024年工作总结", "今年以来，持续优化营商环境，高效办成一件事。"]
        lines += ["我们坚持规范涉企执法。"] * (i < 6) + ["着力解决拖欠企业账款问题。"] * (i < 4)
        (base / "corpus" / f"{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index([str(base / "corpus")], base / "index", BuildOptions(embed=False))
    engine = Engine(base / "index", load_model=False)
    yield engine
    engine.close()


def test_a_formulation_the_classifier_leaves_out_still_stands_for_its_fragments(widespread_engine):
    """The longest form found as widely stands for its fragments even where the classifier does not show
    it: on gov-reports 中国特色社会主义 (110 reports) scored just below the threshold and its fragment
    特色社会主义 (110, scored above) headed the whole corpus's list and the landing page's examples."""
    index = widespread_engine.phrase_index
    assert index.reusable is None  # built without embeddings: every formulation shown
    everything = [p["text"] for p in widespread_engine.phrases(k=50)["phrases"]]
    assert "坚持规范涉企执法" in everything and "规范涉企执法" not in everything
    index.reusable = np.array([key != "坚持规范涉企执法" for key in index.keys])
    try:
        shown = [p["text"] for p in widespread_engine.phrases(k=50)["phrases"]]
    finally:
        index.reusable = None
    assert "坚持规范涉企执法" not in shown and "规范涉企执法" not in shown and "涉企执法" not in shown
    assert shown == [t for t in everything if t != "坚持规范涉企执法"]


def test_a_passage_holding_a_formulation_twice_counts_once(tmp_path):
    """A formulation's `passages` counts passages: one that holds it in two clauses (一是优化营商环境 …
    三是优化营商环境) counted twice before (环境卫生整治 on corpus/: 10 passages shown, 7 hold it)."""
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    (tmp_path / "corpus").mkdir()
    for i, place in enumerate("甲乙"):
        text = f"{place}区2024年工作总结\n一是优化营商环境，二是扩大高水平对外开放，三是优化营商环境。\n"
        (tmp_path / "corpus" / f"{i}.txt").write_text(text, encoding="utf-8")
    build_index([str(tmp_path / "corpus")], tmp_path / "index", BuildOptions(embed=False))
    engine = Engine(tmp_path / "index", load_model=False)
    try:
        found = {p["text"]: p for p in engine.phrases(k=20)["phrases"]}
    finally:
        engine.close()
    assert found["优化营商环境"]["reports"] == 2 and found["优化营商环境"]["passages"] == 2


def test_asking_for_k_formulations_gives_the_first_k_of_the_list(widespread_engine):
    """Before, the candidates were cut at 80% of the k-th most widespread, fragments included: asking
    for 3 or 4 gave the two found in all ten reports (their fragments crowding out the rest), and a
    short list could differ from the first items of a longer one (on gov-reports, 营商环境 with k=5
    showed 涉企执法 where k=10 shows 规范涉企执法)."""
    everything = [p["text"] for p in widespread_engine.phrases(k=50)["phrases"]]
    assert len(everything) >= 4
    for k in range(1, len(everything) + 1):
        assert [p["text"] for p in widespread_engine.phrases(k=k)["phrases"]] == everything[:k]


def test_a_retrained_formulation_classifier_rebuilds_an_embedded_index(tmp_path, monkeypatch):
    """The classifier's file is part of an embedded build's fingerprint: after bench/train_formulations.py
    writes a new one, `report-search index` scores the formulations again rather than saying nothing
    changed. A build without embeddings does not depend on it."""
    from indexer import pipeline
    from indexer.formats import formulations

    (tmp_path / "a.txt").write_text(REPORTS["a.txt"], encoding="utf-8")
    embedded, keyword_only = pipeline.BuildOptions(), pipeline.BuildOptions(embed=False)
    before = [pipeline.fingerprint([str(tmp_path / "a.txt")], o) for o in (embedded, keyword_only)]
    retrained = tmp_path / "classifier.json"
    found = json.loads(formulations.CLASSIFIER_FILE.read_text(encoding="utf-8"))
    retrained.write_text(json.dumps({**found, "threshold": found["threshold"] + 0.05}), encoding="utf-8")
    monkeypatch.setattr(formulations, "CLASSIFIER_FILE", retrained)
    after = [pipeline.fingerprint([str(tmp_path / "a.txt")], o) for o in (embedded, keyword_only)]
    assert after[0] != before[0] and after[1] == before[1]
