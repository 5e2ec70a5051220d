"""A writer takes passages home (issue "writer's workbench"): chosen passages exported through
POST /api/export, grouped by section role with notes; Word files in the layout of GB/T 9704-2012,
checked in their XML and rendered by LibreOffice to a page image in test-artifacts/."""
from __future__ import annotations

import csv
import io
import subprocess
import zipfile

import pytest

from conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def client(corpus_index):
    from web.app import create_app

    return create_app({"INDEX_DIR": str(corpus_index), "TESTING": True}).test_client()


def _ids(client, q: str, k: int, **args) -> list[dict]:
    return client.get("/api/search", query_string={"q": q, "k": k, "mode": "keyword", **args}).get_json()["results"]


def test_chosen_passages_come_back_grouped_by_section_with_notes(client):
    plans = _ids(client, "下一步", 2, section="plans")
    problems = _ids(client, "存在问题", 2, section="problems")
    chosen = [plans[0], problems[0], plans[1], problems[1]]  # the writer's order, sections mixed
    ids = [r["passage_id"] for r in chosen]
    r = client.post("/api/export", json={"passage_ids": ids, "format": "md", "title": "城管局半年总结素材",
                                         "notes": {ids[1]: "放在第二部分开头"}})
    assert r.status_code == 200 and r.content_type.startswith("text/markdown")
    md = r.data.decode()
    assert md.startswith("# 城管局半年总结素材")
    # 存在问题 before 下一步打算 (a report's order), each group in the writer's order
    assert md.index("## 存在问题") < md.index("## 下一步打算")
    order = [md.index(f"\n{r['citation']}\n") for r in (problems[0], problems[1], plans[0], plans[1])]
    assert order == sorted(order)
    assert md.index("批注：放在第二部分开头") < md.index(problems[0]["citation"])
    rows = client.post("/api/export", json={"passage_ids": ids, "format": "csv"}).data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(rows)))  # a passage's heading line and paragraph: one quoted cell
    assert table[0][:2] == ["rank", "passage_id"] and len(table) == 5


def test_export_converts_traditional_script_when_asked(client):
    [passage] = _ids(client, "創建文明城市", 1)
    assert "創" in passage["text"] + passage["title"]
    body = {"passage_ids": [passage["passage_id"]], "format": "md"}
    kept = client.post("/api/export", json=body).data.decode()
    simplified = client.post("/api/export", json={**body, "simplified": True}).data.decode()
    assert "創" in kept and "創" not in simplified and "创" in simplified
    searched = client.get("/api/export", query_string={"q": "創建文明城市", "k": 1, "mode": "keyword", "format": "md",
                                                       "simplified": "true"}).data.decode()
    assert "創" not in searched.split("\n", 1)[1]  # the query in the title stays as typed


def test_bad_export_requests_are_named(client):
    some = _ids(client, "城管", 1)[0]["passage_id"]
    cases = [({"passage_ids": []}, 400, "passage_ids"), ({"passage_ids": [some], "format": "pdf"}, 400, "format"),
             ({"passage_ids": [some], "secton": 1}, 400, "secton"), ({"passage_ids": [some, "no-such"]}, 404, "no-such"),
             ({"passage_ids": [some], "format": ["docx"]}, 400, "format"),
             ({"passage_ids": [some], "notes": {some: 3}}, 400, "notes"), ("not json", 400, "JSON object")]
    for body, status, named in cases:
        r = (client.post("/api/export", json=body) if isinstance(body, dict)
             else client.post("/api/export", data=body, content_type="text/plain"))
        assert r.status_code == status and named in r.get_json()["error"]["message"], (body, r.get_json())


def test_word_export_follows_the_official_document_standard(client, tmp_path):
    from docx import Document

    r = client.get("/api/export", query_string={"q": "垃圾分类", "k": 3, "format": "docx", "year_from": 2019,
                                                "section": "measures"})
    path = tmp_path / "export.docx"
    path.write_bytes(r.data)
    doc = Document(str(path))
    assert doc.paragraphs[0].text == "“垃圾分类”检索结果摘编"
    assert doc.paragraphs[1].text == "混合检索；年份：2019 年以来；部分：主要做法与成效"
    assert doc.core_properties.author.startswith("report-search") and doc.core_properties.language == "zh-CN"
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]  # a 156 x 225 mm type area
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        from lxml import etree

        styles = etree.fromstring(z.read("word/styles.xml"))
        fonts = etree.fromstring(z.read("word/fontTable.xml"))
        grid = etree.fromstring(z.read("word/document.xml")).find(f".//{W}docGrid")
    lang = styles.find(f"{W}docDefaults//{W}lang")
    assert lang.get(f"{W}val") == lang.get(f"{W}eastAsia") == "zh-CN"

    def style(name: str) -> tuple[str, int]:
        node = next(s for s in styles.findall(f"{W}style") if s.find(f"{W}name").get(f"{W}val") == name)
        return (node.find(f"{W}rPr/{W}rFonts").get(f"{W}eastAsia"), int(node.find(f"{W}rPr/{W}sz").get(f"{W}val")) // 2)

    assert style("Normal") == ("仿宋_GB2312", 16) and style("Title") == ("方正小标宋简体", 22)  # 三号, 二号
    assert style("heading 1") == ("黑体", 16) and style("heading 2") == ("楷体_GB2312", 16)
    alternatives = {f.get(f"{W}name"): f.find(f"{W}altName").get(f"{W}val")
                    for f in fonts.findall(f"{W}font") if f.find(f"{W}altName") is not None}
    assert alternatives["仿宋_GB2312"] == "仿宋" and alternatives["楷体_GB2312"] == "楷体"
    assert grid.get(f"{W}linePitch") == "579"  # 22 lines in 225 mm
    # LibreOffice renders it (fonts substituted where missing); the first page as an image to look at.
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(tmp_path / "export.pdf"))
    page = pdf[0]
    assert (round(page.get_width() / 72 * 25.4), round(page.get_height() / 72 * 25.4)) == (210, 297)
    assert "垃圾分类" in page.get_textpage().get_text_range()
    ARTIFACTS.mkdir(exist_ok=True)
    page.render(scale=1.2).to_pil().save(str(ARTIFACTS / "export-docx-page1.png"))
