"""Readers, encodings and bad input: every file is indexed or reported by name."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from conftest import ROOT, seed_text

from indexer.pipeline import BuildOptions, build_index
from indexer.readers import Unreadable, decode, read
from report_search.cli import main
from search.engine import Engine

PARA = "一、加強宣傳發動,營造良好氛圍\n今年城管局印制了35萬份倡議書,已經分發到中心城區的商家店鋪和居民院落。\n"


def test_decodes_gb18030_big5_and_utf8_with_bom():
    simplified = "今年城管局印制了35万份倡议书，已经分发到中心城区的商家店铺和居民院落。" * 3
    traditional = "今年城管局印製了35萬份倡議書，已經分發到中心城區的商家店鋪和居民院落。" * 3
    assert decode(simplified.encode("gb18030"))[0] == simplified
    assert decode(traditional.encode("big5"))[0] == traditional
    assert decode(b"\xef\xbb\xbf" + simplified.encode("utf-8"))[0] == simplified


@pytest.mark.parametrize("text, encoding", [
    ("區政府推動騎樓無障礙通行整治計畫。", "big5"), ("区政府推动骑楼无障碍通行整治计划。", "gbk"),
    ("市府工作總結", "big5"), ("城管", "gbk"), ("城市管理工作总结", "gb18030")])
def test_one_line_chinese_files_are_read_as_chinese(text, encoding):
    assert decode(text.encode(encoding))[0] == text


def test_a_one_line_big5_file_indexes_and_is_found(tmp_path):
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "big5.txt").write_bytes("區政府推動騎樓無障礙通行整治計畫。".encode("big5"))
    (tmp_path / "c" / "gbk.txt").write_bytes("区城管局开展占道经营整治。".encode("gbk"))
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    assert engine.search("骑楼无障碍", mode="keyword")["results"][0]["text"] == "區政府推動騎樓無障礙通行整治計畫。"
    assert engine.search("占道经营", mode="keyword")["total"] == 1
    engine.close()


def test_reports_one_after_another_each_under_its_title_line_keep_their_titles(tmp_path):
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "two.txt").write_text(
        "区城管局2022年工作总结\n一、工作开展情况\n全年共处理投诉案件350件。\n二、下一步工作计划\n加强智慧城管建设。\n"
        "区城管局2023年工作总结\n一、工作开展情况\n全年共处理投诉案件420件，办结率98%。\n二、下一步工作计划\n推进垃圾分类。\n",
        encoding="utf-8")
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    docs = {d["title"]: d for d in engine.documents()["documents"]}
    assert set(docs) == {"区城管局2022年工作总结", "区城管局2023年工作总结"}
    assert {d["year"] for d in docs.values()} == {2022, 2023}
    assert all(d["title_source"] == "declared" for d in docs.values())
    found = engine.search("垃圾分类", mode="keyword")["results"]
    assert [(r["title"], r["year"]) for r in found] == [("区城管局2023年工作总结", 2023)]
    engine.close()


def test_a_sample_collection_s_numbered_pieces_and_a_one_line_report_get_their_own_titles(tmp_path):
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pieces.txt").write_text(
        "社区工作总结范文3篇\n篇一：2023年社区工作总结\n一、基本情况\n今年以来，社区共组织志愿活动25次。\n"
        "篇二：2023年社区上半年工作总结\n一、主要工作\n上半年，社区完成入户登记3200户。\n"
        "【篇三】2022年社区工作总结\n一、工作成效\n全年调解邻里纠纷46起。\n"
        "篇四 2021年社区工作总结\n一、工作成效\n全年新增网格员12名。\n", encoding="utf-8")
    (tmp_path / "c" / "scraped.txt").write_text(
        "2023年某镇农业农村工作总结 今年以来，我镇坚持农业农村优先发展。一、粮食生产。全年粮食总产量2.1万吨。",
        encoding="utf-8")
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    titles = sorted((d["title"], d["year"], d["title_source"]) for d in engine.documents()["documents"])
    assert titles == [("2021年社区工作总结", 2021, "declared"), ("2022年社区工作总结", 2022, "declared"),
                      ("2023年某镇农业农村工作总结", 2023, "declared"),
                      ("2023年社区上半年工作总结", 2023, "declared"), ("2023年社区工作总结", 2023, "declared")]
    assert not any(p.text.startswith(("篇", "【篇")) for p, _ in engine.store.iter_passages())
    engine.close()


def test_a_word_file_of_several_reports_is_split_like_a_text_file(tmp_path):
    import docx

    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    d = docx.Document()
    d.add_heading("社区工作总结范文2篇", 0)
    for line in ("篇一：2023年社区工作总结", "一、基本情况", "今年以来，社区共组织志愿活动25次。", "二、存在问题", "社区工作人员少。",
                 "篇二：2022年社区工作总结", "一、主要工作", "全年完成入户登记3200户。"):
        d.add_paragraph(line)
    (tmp_path / "c").mkdir()
    d.save(tmp_path / "c" / "pieces.docx")
    report = build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    assert not report.notes  # no empty report for the collection's title
    engine = Engine(tmp_path / "ix", load_model=False)
    assert sorted(d["title"] for d in engine.documents()["documents"]) == ["2022年社区工作总结", "2023年社区工作总结"]
    engine.close()


GOV_PAGE = """<html><head><title>2024年某市生态环境局工作总结_某市人民政府门户网站</title></head><body>
<div class="crumbs">首页 &gt; 政务公开 &gt; 工作总结</div>
<div class="tools">字号：大 中 小 | 打印本页 | 关闭窗口</div>
<h1>2024年某市生态环境局工作总结</h1>
<p class="meta">发布时间：2025-01-10 来源：市生态环境局 浏览次数：1234</p>
<p>2024年，市生态环境局坚持以习近平生态文明思想为指导，深入打好蓝天、碧水、净土保卫战，全市生态环境质量持续改善。</p>
<p>一、主要工作成效</p>
<p>（一）大气污染防治。全市PM2.5平均浓度降至28微克/立方米，同比下降6.7%，优良天数比例达到91.2%。</p>
<p>二、存在问题</p>
<p>一是部分区域臭氧污染问题突出；二是农村生活污水治理设施运维不到位。</p>
<div class="footer">主办单位：某市人民政府办公室 | 网站标识码：1234567890 | 京ICP备12345678号 | 网站地图 | 联系我们</div>
</body></html>"""


def test_a_government_page_s_chrome_stays_out_and_its_heading_is_the_title(tmp_path):
    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "page.html").write_text(GOV_PAGE, encoding="utf-8")
    build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    [doc] = engine.documents()["documents"]
    assert (doc["title"], doc["year"], doc["title_source"]) == ("2024年某市生态环境局工作总结", 2024, "declared")
    assert doc["issuer"] == "市生态环境局"  # not 年某市生态环境局: the body starts after the year
    texts = [p.text for p, _ in engine.store.iter_passages()]
    assert texts[0].startswith("2024年，市生态环境局坚持以习近平生态文明思想为指导")
    for chrome in ("首页", "字号", "打印本页", "浏览次数", "主办单位", "ICP备"):
        assert not any(chrome in t for t in texts), chrome
    engine.close()


def test_invalid_utf8_in_the_middle_keeps_the_text_and_says_so():
    data = ("城市管理精细化。" * 50).encode("utf-8") + b"\xff\xfe\xfa" + ("垃圾分类工作稳步实施。" * 50).encode()
    text, warnings = decode(data)
    assert "垃圾分类工作稳步实施" in text and "城市管理精细化" in text
    assert warnings and "undecodable" in warnings[0]


def test_a_gbk_file_with_stray_bytes_keeps_its_text_and_marks_them():
    """Before, two bad bytes in a GB18030 file skipped the whole file ("cannot decode text"); read with
    a plain replacement, the byte after them paired with the next and misread what followed
    (`全年清运垃圾` as `全\ue48b昵逶死`)."""
    data = "2023年某县环卫所工作总结\n一、主要工作\n全年清运垃圾5万吨，新建公厕12座。\n".encode("gb18030")
    at = data.index("年清运".encode("gb18030"))
    text, warnings = decode(data[:at] + b"\xff\xfe" + data[at:])
    assert "全\ufffd\ufffd年清运垃圾5万吨，新建公厕12座。" in text and text.startswith("2023年某县环卫所工作总结")
    assert warnings == ["2 undecodable bytes replaced with \ufffd"]


def test_a_file_of_utf8_and_gbk_parts_reads_each_part_in_its_encoding():
    """Two sources pasted into one file, one saved as UTF-8 and one as GBK. Before, the whole file was
    read as GB18030: the UTF-8 half came out as 鏌愬尯鍩庣… (unsearchable), with a warning of only
    10 undecodable bytes."""
    first = "某区城管局2023年工作总结\n一、主要工作\n今年以来，我局开展市容环境专项整治，清理占道经营1200余处。\n"
    second = "二、存在问题\n部分路段占道经营反弹，群众反映强烈，执法力量不足。\n三、下步打算\n继续巩固整治成果。\n"
    text, warnings = decode(first.encode("utf-8") + second.encode("gbk"))
    assert text == first + second
    assert warnings == ["mixed encodings: 3 lines read as UTF-8, 4 as GB18030"]


def test_word_97_wps_rtf_and_odt_files_are_read_through_libreoffice(tmp_path):
    """Offices keep their reports as .doc and .wps; LibreOffice (installed by ./run.sh test) reads them.
    A file it cannot read is skipped with the reason, and so is every such file where it is missing."""
    import docx

    d = docx.Document()
    for line in ("2023年某区城管局工作总结", "一、主要工作", "今年以来，我局开展市容环境专项整治，成效明显。"):
        d.add_paragraph(line)
    d.save(tmp_path / "made.docx")
    folder = tmp_path / "office"
    folder.mkdir()
    for fmt in ("doc", "rtf", "odt"):
        subprocess.run(["soffice", "--headless", "--convert-to", fmt, "--outdir", str(folder), str(tmp_path / "made.docx")],
                       check=True, capture_output=True, timeout=120)
    (folder / "made.doc").rename(folder / "report.doc")
    (folder / "kingsoft.wps").write_bytes((folder / "report.doc").read_bytes())  # WPS writes Word's format
    (folder / "broken.doc").write_bytes((folder / "report.doc").read_bytes()[:1024])
    result = CliRunner().invoke(main, ["index", str(folder), "--index-dir", str(tmp_path / "ix"), "--no-embed", "--quiet"])
    assert result.exit_code == 0 and "indexed 4 files" in result.output, result.output
    assert "broken.doc: corrupt .doc file: LibreOffice could not read it" in result.output
    engine = Engine(tmp_path / "ix", load_model=False)
    assert engine.search('"市容环境专项整治"', mode="keyword", k=10)["total"] == 4  # one passage from each
    documents = sorted(tuple(row) for row in engine.store.db.execute("SELECT source, title FROM documents"))
    assert documents == [(f"office/{name}", "2023年某区城管局工作总结")
                         for name in ("kingsoft.wps", "made.odt", "made.rtf", "report.doc")]
    engine.close()
    # without LibreOffice: each such file skipped, saying what to install
    missing = subprocess.run([sys.executable, "-c", "from pathlib import Path; from indexer.readers import read, Unreadable\n"
                              "try: list(read(Path(r'%s'), 'k'))\nexcept Unreadable as e: print(e)" % (folder / "report.doc")],
                             capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PATH": str(tmp_path)})
    assert "needs LibreOffice, which is not installed" in missing.stdout, missing.stderr


def test_office_files_skipped_for_want_of_libreoffice_are_read_once_it_is_installed(tmp_path):
    """Before, the build's fingerprint covered the files and options only: after installing LibreOffice,
    `report-search index` said nothing had changed and the .rtf stayed unread."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text("2023年某区环卫所工作总结\n今年以来，我所推进垃圾分类，成效明显。\n", encoding="utf-8")
    body = "2023年某区城管局工作总结\\par 今年以来，我局开展市容环境专项整治，成效明显。"
    (folder / "b.rtf").write_text("{\\rtf1\\ansi " + "".join(c if ord(c) < 128 else f"\\u{ord(c)}?" for c in body) + "}",
                                  encoding="ascii")
    command = [sys.executable, "-m", "report_search.cli", "index", str(folder), "--index-dir", str(tmp_path / "ix"),
               "--no-embed", "--quiet"]
    bare = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PATH": str(tmp_path)})
    assert "indexed 1 file:" in bare.stdout and "needs LibreOffice" in bare.stdout + bare.stderr, bare.stdout + bare.stderr
    installed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert "indexed 2 files" in installed.stdout, installed.stdout + installed.stderr
    engine = Engine(tmp_path / "ix", load_model=False)
    assert engine.search('"市容环境专项整治"', mode="keyword", k=10)["total"] == 1
    engine.close()


def test_a_word_table_stays_under_its_heading_and_a_merged_cell_counts_once(tmp_path):
    """Before, a .docx's tables were appended after its last paragraph: the statistics under
    一、主要工作 were indexed under 二、存在问题 (the last heading) and a cell merged across three
    columns read three times."""
    import docx

    d = docx.Document()
    for line in ("2023年某区城管局工作总结", "一、主要工作", "今年以来，我局开展市容环境专项整治，成效明显。"):
        d.add_paragraph(line)
    table = d.add_table(rows=3, cols=3)
    for (r, c), text in {(0, 0): "项目", (0, 1): "2022年", (0, 2): "2023年", (1, 0): "清运生活垃圾（万吨）",
                         (1, 1): "4.8", (1, 2): "5.2"}.items():
        table.cell(r, c).text = text
    table.cell(2, 0).merge(table.cell(2, 2)).text = "全年清运量同比增长8.3%"
    for line in ("二、存在问题", "部分路段占道经营反弹，群众反映强烈。"):
        d.add_paragraph(line)
    (tmp_path / "r").mkdir()
    d.save(tmp_path / "r" / "report.docx")
    build_index([str(tmp_path / "r")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    rows = engine.store.db.execute("SELECT heading_path, text FROM passages").fetchall()
    engine.close()
    holding = [(json.loads(path), text) for path, text in rows if "清运生活垃圾" in text]
    assert holding and all(path[-1] == "一、主要工作" for path, _ in holding), rows
    assert sum(text.count("全年清运量同比增长8.3%") for _, text in rows) == 1
    # a whole report laid out in one cell (a letterhead table) is read as the report, paragraph by paragraph
    framed = docx.Document()
    cell = framed.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = "2023年某区城管局工作总结"
    for line in ("一、主要工作", "今年以来，我局开展市容环境专项整治，成效明显。", "二、存在问题", "部分路段占道经营反弹。"):
        cell.add_paragraph(line)
    framed.save(tmp_path / "framed.docx")
    assert list(read(tmp_path / "framed.docx", "framed.docx"))[0].text.splitlines() == [
        "2023年某区城管局工作总结", "一、主要工作", "今年以来，我局开展市容环境专项整治，成效明显。", "二、存在问题", "部分路段占道经营反弹。"]


def test_a_scraped_page_keeps_its_sentences_and_its_table_whole(tmp_path):
    """Before, every inline element (span, a, strong) began a line of its own, for cleaning to rejoin,
    and a table's cells came one per line: `项目2022年2023年清运生活垃圾（万吨）` and `4.8 5.2` were two
    passages, the numbers apart from what they count."""
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "a.html").write_text(
        "<html><body><article><h1>某区城管局2023年工作总结</h1><p><strong>一、主要工作</strong></p>"
        "<p>今年以来，我局按照<span>区委区政府</span>的部署，开展<a href='/x'>市容环境专项整治</a>，"
        "拆除违法建设<b>1.2万</b>平方米，成效明显。</p>"
        "<table><tr><th>项目</th><th>2022年</th><th>2023年</th></tr>"
        "<tr><td>清运生活垃圾（万吨）</td><td>4.8</td><td>5.2</td></tr></table>"
        "<p><strong>二、存在问题</strong></p><p>部分路段占道经营反弹，群众反映强烈。</p></article></body></html>",
        encoding="utf-8")
    assert "开展市容环境专项整治，拆除违法建设1.2万平方米" in list(read(tmp_path / "r" / "a.html", "a.html"))[0].text
    build_index([str(tmp_path / "r")], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    rows = [(json.loads(path), text) for path, text in engine.store.db.execute("SELECT heading_path, text FROM passages")]
    engine.close()
    assert (["一、主要工作"], "项目，2022年，2023年；清运生活垃圾（万吨），4.8，5.2。") in rows, rows
    # a table laying out the whole page (older government sites) is read as the page, its data table
    # inside as one paragraph
    (tmp_path / "layout.html").write_text(
        "<html><body><table><tr><td>首页</td></tr><tr><td><p>某区城管局2023年工作总结</p><p>一、主要工作</p>"
        "<p>今年以来，我局开展市容环境专项整治，成效明显。</p><table><tr><td>项目</td><td>2023年</td></tr>"
        "<tr><td>拆违（万平方米）</td><td>1.2</td></tr></table><p>二、存在问题</p><p>部分路段占道经营反弹。</p>"
        "</td></tr></table></body></html>", encoding="utf-8")
    lines = [line for line in list(read(tmp_path / "layout.html", "layout.html"))[0].text.splitlines() if line.strip()]
    assert lines[-5:] == ["一、主要工作", "今年以来，我局开展市容环境专项整治，成效明显。", "项目，2023年；拆违（万平方米），1.2。",
                          "二、存在问题", "部分路段占道经营反弹。"], lines
    # a page nested deeper than Python's recursion limit is read all the same
    (tmp_path / "deep.html").write_text("<html><body>" + "<div>" * 3000 + "今年以来，我局开展专项整治。" + "</div>" * 3000
                                        + "</body></html>", encoding="utf-8")
    assert "今年以来，我局开展专项整治。" in list(read(tmp_path / "deep.html", "deep.html"))[0].text


def test_docx_html_and_jsonl_are_read(tmp_path):
    import docx

    d = docx.Document()
    for line in PARA.splitlines():
        d.add_paragraph(line)
    d.save(tmp_path / "a.docx")
    (tmp_path / "b.html").write_text(
        f"<html><head><script>var x=1</script></head><body><nav>首页</nav><p>{PARA}</p></body></html>",
        encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(
        json.dumps({"id": "r1", "text": PARA, "title": "某市2021年工作总结", "year": 2021, "region": "宁波市"},
                   ensure_ascii=False) + "\nnot json\n", encoding="utf-8")
    assert "營造良好氛圍" in list(read(tmp_path / "a.docx", "a.docx"))[0].text
    html_text = list(read(tmp_path / "b.html", "b.html"))[0].text
    assert "營造良好氛圍" in html_text and "var x" not in html_text and "首页" not in html_text
    sources = list(read(tmp_path / "c.jsonl", "c.jsonl"))
    good = [s for s in sources if s.text]
    assert len(good) == 1 and good[0].fields["year"] == 2021
    assert any("line 2 skipped" in w for s in sources for w in s.warnings)


def test_pdf_text_layer_is_read(tmp_path):
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(_tiny_pdf("Annual work report 2021"))
    assert "Annual work report 2021" in list(read(pdf, "r.pdf"))[0].text


def test_a_printed_report_s_pdf_reads_as_its_paragraphs(tmp_path):
    """A Word report printed to PDF by LibreOffice: its title as every page's running head, `— n —` at
    every page's foot, numbered paragraphs wrapped across lines and pages, Latin and Chinese runs in
    different fonts."""
    import subprocess

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from indexer.pipeline import BuildOptions, build_index
    from search.engine import Engine

    title = "2023年某区城市管理局工作总结"
    body = "今年以来，我局深入开展市容环境整治，共清理占道经营1200余处，拆除违法建设3.2万平方米，查处渣土运输违规车辆85辆。"
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = title
    foot = d.sections[0].footer.paragraphs[0]
    foot.add_run("— ")
    page = OxmlElement("w:fldSimple")
    page.set(qn("w:instr"), "PAGE")
    foot._p.append(page)
    foot.add_run(" —")
    d.add_paragraph(title)
    d.add_paragraph("一、主要工作")
    paragraphs = [f"（{n}）第{n}项工作。" + body * 3 for n in "一二三四五六七八九十"]
    for text in paragraphs:
        d.add_paragraph(text)
    (tmp_path / "c").mkdir()
    d.save(tmp_path / "r.docx")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "c"), str(tmp_path / "r.docx")],
                   check=True, capture_output=True, timeout=180)
    report = build_index([str(tmp_path / "c")], tmp_path / "ix", BuildOptions(embed=False))
    assert any("running heads and page numbers" in note for _, note in report.notes)
    engine = Engine(tmp_path / "ix", load_model=False)
    [doc] = engine.documents()["documents"]
    assert doc["title"] == title
    texts = [p.text for p, _ in engine.store.iter_passages()]
    assert texts[0].startswith("一、主要工作\n")
    assert [t.removeprefix("一、主要工作\n") for t in texts] == paragraphs  # each whole, nothing else
    engine.close()


@pytest.mark.parametrize("name, content, reason", [
    ("empty.txt", b"", "empty file"),
    ("binary.txt", b"\x00\x01\x02" * 100, "binary"),
    ("noise.txt", bytes(range(128, 256)) * 40, "cannot decode"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt"),
    ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
    ("picture.png", b"\x89PNG\r\n", "unsupported file type"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Unreadable, match=reason):
        list(read(path, name))


def test_zip_bomb_disguised_as_docx_is_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\x00" * (50 * 1024 * 1024))
    with pytest.raises(Unreadable, match="zip bomb"):
        list(read(path, "bomb.docx"))


def test_one_bad_file_does_not_stop_the_corpus_and_is_reported(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "good.txt").write_text(seed_text("001"), encoding="utf-8")
    (folder / "gbk.txt").write_bytes(seed_text("002").encode("gb18030"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.md").write_bytes(b"\x00\xff" * 500)
    result = CliRunner().invoke(main, ["index", str(folder), "--index-dir", str(tmp_path / "ix"), "--no-embed",
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    assert "indexed 2 files: 7 reports" in result.output
    assert "skipped 2 files" in result.output
    assert "empty.txt: empty file" in result.output
    assert "binary.md: binary file" in result.output
    engine = Engine(tmp_path / "ix", load_model=False)
    assert engine.search("城市长效管理", mode="keyword")["total"] > 0
    assert engine.stats()["counts"]["skipped_files"] == 2


def test_hostile_files_are_reported_by_name_and_the_rest_indexes(tmp_path):
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "good.txt").write_text(seed_text("001"), encoding="utf-8")
    text = seed_text("002").encode("utf-8")
    (folder / "bad-bytes.txt").write_bytes(text[:3000] + b"\xff\xfe\xc3" + text[3000:])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_tiny_pdf("Annual work report 2021"))))
    writer.encrypt("secret")
    writer.write(folder / "locked.pdf")
    (folder / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)  # OLE: encrypted Office
    with zipfile.ZipFile(folder / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\x00" * (50 * 1024 * 1024))
    with open(folder / "one-line.txt", "wb") as handle:  # 50 MB, no line break
        handle.write("城市管理工作总结".encode("utf-8") * (50 * 1024 * 1024 // 24 + 1))
    with open(folder / "big.jsonl", "wb") as handle:
        handle.write(json.dumps({"id": "a", "text": seed_text("004")}, ensure_ascii=False).encode("utf-8") + b"\n")
        handle.write(b'{"id": "huge", "text": "' + "长".encode("utf-8") * (6 * 1024 * 1024) + b'"}\n')
    result = CliRunner().invoke(main, ["index", str(folder), "--index-dir", str(tmp_path / "ix"), "--no-embed",
                                       "--quiet"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    out = result.output
    assert "indexed 3 files" in out
    assert "locked.pdf: encrypted PDF" in out
    assert "locked.docx: corrupt or encrypted .docx" in out
    assert "bomb.docx: refused" in out and "zip bomb" in out
    assert "one-line.txt: too large for a report file: 50.0 MB" in out
    assert "big.jsonl: line 2 skipped: longer than 16 MB" in out
    assert "bad-bytes.txt: 3 undecodable bytes" in out
    engine = Engine(tmp_path / "ix", load_model=False)
    sources = {row[0] for row in engine.store.db.execute("SELECT source FROM documents")}
    assert {s.split("/")[-1] for s in sources} == {"good.txt", "bad-bytes.txt", "big.jsonl"}
    assert engine.search('"城管进小区"', mode="keyword")["results"]


def test_index_dir_carries_a_manifest(corpus_index):
    manifest = json.loads((corpus_index / "manifest.json").read_text())
    assert manifest["format_version"] == 6
    assert manifest["counts"]["passages"] > 400 and manifest["counts"]["documents"] == 18
    assert manifest["model"] == "e5-small" and manifest["dimension"] == 384
    spec = manifest["encoder_spec"]
    assert spec["backend"] == "e5-onnx" and spec["query_prefix"] == "query: " and len(spec["fingerprint"]) == 16
    assert manifest["built_at"]


def test_passage_ids_do_not_change_when_other_files_change(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_text("001"), encoding="utf-8")
    build_index([str(folder)], tmp_path / "ix", BuildOptions(embed=False))
    before = Engine(tmp_path / "ix", load_model=False).store.document_passages
    ids_before = [p.passage_id for d in _doc_ids(tmp_path / "ix") for p in before(d)]
    (folder / "b.txt").write_text(seed_text("003"), encoding="utf-8")
    build_index([str(folder)], tmp_path / "ix", BuildOptions(embed=False))
    engine = Engine(tmp_path / "ix", load_model=False)
    assert set(ids_before) <= {p.passage_id for p, _ in engine.store.iter_passages()}
    assert engine.store.passages(ids_before)[ids_before[3]].text == before(ids_before[3].rsplit("-", 1)[0])[3].text


def _doc_ids(index_dir):
    return [row[0] for row in Engine(index_dir, load_model=False).store.db.execute("SELECT doc_id FROM documents")]


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF with a text layer (Helvetica, ASCII)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_clean_up_notes_name_the_record_and_repeat_at_most_five_times(tmp_path):
    """A JSONL file's clean-up notes are summed per kind, naming the first five records and counting the
    rest; --all-notes prints each. What could not be read is always printed."""
    broken = "今年城管局印制了35万份倡议书，已经分发到中心城区的\n商家店铺和居民院落，收到良好效果。\n"
    with open(tmp_path / "r.jsonl", "w", encoding="utf-8") as handle:
        for i in range(8):
            text = broken + ("无法识别的字符\ufffd\ufffd。\n" if i in (2, 6) else "")
            handle.write(json.dumps({"id": f"r{i}", "title": f"某市城管局工作总结{i}", "text": text},
                                    ensure_ascii=False) + "\n")
    args = ["index", str(tmp_path / "r.jsonl"), "--index-dir", str(tmp_path / "ix"), "--no-embed", "--quiet"]
    out = CliRunner().invoke(main, args).output
    cleaned = [line for line in out.splitlines() if "cleaned: " in line]
    assert cleaned == [f"  note: {tmp_path / 'r.jsonl'}: cleaned: 8 broken lines rejoined in 8 records "
                       "(r0, r1, r2, r3, r4) and 3 more (--all-notes lists each)"]
    assert "record r2: 2 garbled characters" in out and "record r6: 2 garbled characters" in out
    everything = CliRunner().invoke(main, args + ["--force", "--all-notes"]).output
    assert sum("cleaned: " in line for line in everything.splitlines()) == 8 and "more (" not in everything
