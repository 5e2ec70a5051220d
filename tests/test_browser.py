"""The page in a real headless browser (Debian's chromium via Playwright) against a real server."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import CORPUS, ROOT, build_both, running_server, warm_cache

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
XSS_FILE = "某区2021年城管工作总结：<script>window.__xss = 1</script>整治<b>占道经营</b>，清理<img src=x onerror=\"window.__xss=2\">流动摊贩300余处。\n"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (./run.sh test installs it)")


@pytest.fixture(scope="module")
def web_index(tmp_path_factory, milvus_uri, corpus_index):
    base = tmp_path_factory.mktemp("web")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "xss.txt").write_text(XSS_FILE, encoding="utf-8")
    build_both([str(corpus)], warm_cache(base / "index", corpus_index / "cache"), milvus_uri)
    return base / "index"


@pytest.fixture(scope="module")
def server(web_index, backend):
    with running_server(web_index, backend) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg = context.new_page()
    yield pg
    context.close()


def test_search_filter_similar_report_and_copy(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/")
    page.fill("input[name=q]", "志愿者文明劝导")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".result")
    assert page.locator(".result mark").count() > 0
    assert "q=" in page.url  # the search is in the URL: bookmarkable
    page.screenshot(path=str(ARTIFACTS / "search-desktop.png"), full_page=False)

    # mode switch re-runs the search in that mode
    page.check("input[name=mode][value=keyword]")
    page.wait_for_url("**mode=keyword**")
    assert page.locator(".result").count() > 0

    # apply a facet filter: every result then carries that value, and the total shown above the
    # results (the pager's below) is the facet's count
    facet = page.locator(".facet[data-facet=doc_type] a").first
    value = facet.inner_text()
    count = int(page.locator(".facet[data-facet=doc_type] .count").first.inner_text())
    facet.click()
    page.wait_for_selector(".active-filters")
    assert "doc_type=" in page.url
    tags = page.locator(".result .meta").all_inner_texts()
    assert tags and all(value in t for t in tags)
    assert int(page.locator(".match-summary .total").inner_text()) == count == \
        int(page.locator(".pager .total").inner_text())

    # 复制 copies the passage with its source line, 复制原文 the words alone (once the page's script runs)
    page.wait_for_load_state("load")
    first_text = page.locator(".result .text").first.inner_text()
    title = page.locator(".result a.title").first.inner_text()
    page.locator(".result button.copy").first.click()
    page.wait_for_function("document.querySelector('.result button.copy').textContent === '已复制'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(first_text + "\n——《" + title + "》")
    page.locator(".result button.copy-bare").first.click()
    page.wait_for_function("document.querySelector('.result button.copy-bare').textContent === '已复制'")
    assert page.evaluate("navigator.clipboard.readText()") == first_text

    # similar passages
    page.locator(".result a.similar").first.click()
    page.wait_for_selector(".source-passage")
    assert page.locator(".result").count() > 0

    # the report view opens at the passage
    page.locator(".result a.source").first.click()
    page.wait_for_selector(".report .passage-block.target")
    target = page.locator(".report .passage-block.target")
    assert target.count() == 1 and target.is_visible()


def test_pagination_keeps_the_query(page, server):
    page.goto(server + "/?q=" + quote("城市管理") + "&mode=keyword&k=5")
    first = page.locator(".result .text").first.inner_text()
    page.click("a[rel=next]")
    page.wait_for_url("**offset=5**")
    assert "q=" in page.url and page.locator(".result .text").first.inner_text() != first
    assert page.locator("a[rel=prev]").count() == 1


def test_phone_width_is_readable(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    pg = context.new_page()
    pg.goto(server + "/?q=" + quote("垃圾分类"))
    pg.wait_for_selector(".result")
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing forces sideways scrolling
    pg.screenshot(path=str(ARTIFACTS / "search-phone.png"))
    context.close()


def test_corpus_and_query_html_render_as_text(page, server):
    page.goto(server + "/?q=" + quote("占道经营 流动摊贩") + "&mode=keyword")
    page.wait_for_selector(".result")
    body = page.locator(".results").inner_text()
    assert "<script>window.__xss = 1</script>" in body and "<img src=x" in body
    assert page.evaluate("window.__xss") is None
    page.goto(server + "/?q=" + quote('<img src=x onerror="window.__xss=3">'))
    assert page.locator("input[name=q]").input_value() == '<img src=x onerror="window.__xss=3">'
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0


def test_page_uses_nothing_from_outside(page, server):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server + "/?q=" + quote("门前三包"))
    page.wait_for_selector(".result")
    assert requests and all(u.startswith(server) for u in requests)


def test_section_filter_and_phrase_panel(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/")
    page.fill("input[name=q]", "城市管理")
    page.select_option("select[name=section]", "plans")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".result")
    assert "section=plans" in page.url
    sections = page.locator(".result .tag.section").all_inner_texts()
    assert sections and set(sections) == {"下一步打算"}
    # the chosen section stands out; the others are listed with their totals, ＋ adds one (any of them)
    assert page.locator(".facet[data-facet=section] li.on > a").all_inner_texts() == ["下一步打算"]
    others = page.locator(".facet[data-facet=section] li:not(.on)")
    assert others.count() >= 1 and others.locator("a.also").count() == others.count()
    page.wait_for_selector(".phrases a")  # the panel is fetched after the results (/api/phrases)
    page.screenshot(path=str(ARTIFACTS / "search-section-phrases.png"), full_page=False)

    # the panel's numbers count reports and say so (the facets' count passages)
    phrases = page.request.get(server + page.locator("section.phrases").get_attribute("data-src")).json()["phrases"]
    assert page.locator(".phrases .count").all_inner_texts() == [f"{p['reports']} 份" for p in phrases]
    # a formulation from the panel is searched as a quoted phrase, the section filter kept
    link = page.locator(".phrases a").first
    phrase = link.inner_text()
    link.click()
    page.wait_for_selector(".result")
    assert page.locator("input[name=q]").input_value() == f'"{phrase}"' and "section=plans" in page.url
    assert page.locator(".result:has(mark)").count() > 0  # (a phrase found in a heading is not marked)
    assert all(t == "下一步打算" for t in page.locator(".result .tag.section").all_inner_texts())

    # the export links carry the search
    href = page.locator(".export a[data-format=csv]").get_attribute("href")
    assert href.startswith("/api/export?") and "section=plans" in href and "format=csv" in href


def test_compare_view_keeps_the_search_and_draws_its_chart(page, browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/?q=" + quote("垃圾分类") + "&mode=keyword&section=measures")
    page.wait_for_selector(".result")
    page.locator(".compare-links a[data-by=year]").click()
    page.wait_for_selector("table.groups tr.group")
    assert "/compare?" in page.url and "by=year" in page.url and "mode=keyword" in page.url
    assert "section=measures" in page.url
    # the compare page has the search's controls itself, set as the search was
    assert page.locator("input[name=mode][value=keyword]").is_checked()
    assert page.locator("select[name=section]").input_value() == "measures"
    rows = page.locator("table.groups tr.group")
    values = [rows.nth(i).get_attribute("data-value") for i in range(rows.count())]
    known = [v for v in values if v != "未知"]
    assert known and known == sorted(known, key=int) and (values[-1] == "未知" or "未知" not in values)
    # the chart is drawn (uPlot, served by the app) and its numbers are in a plain table beside it
    page.wait_for_selector("#chart[data-rendered=true] canvas")
    assert page.locator("table.series-table tbody tr").count() == len(known)
    page.screenshot(path=str(ARTIFACTS / "compare-desktop.png"), full_page=True)
    # 展开 leads to the search filtered to that year, with the mode and section kept, and its total
    count = int(rows.first.locator("td.count").first.inner_text())
    rows.first.locator("a.expand").click()
    page.wait_for_selector(".result")
    assert f"year={known[0]}" in page.url and "mode=keyword" in page.url and "section=measures" in page.url
    total = int(page.locator(".pager .total").inner_text())
    assert total == count

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    pg = phone.new_page()
    pg.goto(server + "/compare?" + "q=" + quote("垃圾分类") + "&by=year")
    pg.wait_for_selector("#chart[data-rendered=true] canvas")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(ARTIFACTS / "compare-phone.png"), full_page=True)
    phone.close()


def test_a_query_nothing_answers_says_so(page, server):
    page.goto(server + "/?q=" + quote("如何烤一个戚风蛋糕"))
    page.wait_for_selector(".empty")
    assert "没有找到足够相关的段落" in page.locator(".empty").inner_text()
    assert "不在这些报告的范围内" in page.locator(".notes").inner_text()  # the domain check says why
    assert page.locator(".results .result").count() == page.locator(".nearest .result").count()
    page.goto(server + "/?q=" + quote("垃圾") + "&year=abc")
    assert "年份应为整数" in page.locator(".error").inner_text()


def test_basket_gathers_orders_annotates_and_exports(page, browser, server, tmp_path):
    """素材篮: passages from two searches and a report view, grouped by section role, reordered,
    annotated, kept over a reload, exported to Word (opened with python-docx)."""
    from docx import Document

    picked = []
    for q, section in (("下一步", "plans"), ("存在问题", "problems")):
        page.goto(f"{server}/?q={q}&mode=keyword&section={section}")
        buttons = page.locator(".result button.basket-add")
        for i in range(2):
            buttons.nth(i).click()
            picked.append((buttons.nth(i).get_attribute("data-passage"), section))
        assert buttons.nth(0).inner_text() == "已在素材篮"
    assert page.locator(".basket-count").inner_text() == "（4）"
    page.locator(".result a.source").first.click()  # the report view of a problems passage, already in the basket
    page.wait_for_selector(".report .passage-block.target")
    page.wait_for_load_state("load")  # app.js, at the end of the body, marks the basket's passages
    assert page.locator(".actions button.basket-add").inner_text() == "已在素材篮"

    page.goto(server + "/basket")
    groups = page.locator(".basket-group")
    assert [groups.nth(i).get_attribute("data-section") for i in range(groups.count())] == ["problems", "plans"]
    problems = [pid for pid, s in picked if s == "problems"]
    first = page.locator(".basket-group[data-section=problems] .basket-item")
    assert [first.nth(i).get_attribute("data-passage") for i in range(2)] == problems
    first.nth(0).locator("button", has_text="下移").click()  # the second problem passage first
    first.nth(0).locator("textarea.note").fill("放在问题部分开头")
    first.nth(0).locator("textarea.note").dispatch_event("change")
    page.reload()
    first = page.locator(".basket-group[data-section=problems] .basket-item")
    assert [first.nth(i).get_attribute("data-passage") for i in range(2)] == problems[::-1]
    assert first.nth(0).locator("textarea.note").input_value() == "放在问题部分开头"
    page.fill("input[name=title]", "城管局半年总结素材")
    with page.expect_download() as download:
        page.click("button[data-export=docx]")
    path = tmp_path / "basket.docx"
    download.value.save_as(path)
    paragraphs = [p.text for p in Document(str(path)).paragraphs]
    assert paragraphs[0] == "城管局半年总结素材" and "一、存在问题" in paragraphs and "二、下一步打算" in paragraphs
    assert paragraphs.index("批注：放在问题部分开头") < paragraphs.index("二、下一步打算")
    assert page.locator(".basket-status").inner_text() == "已导出 4 段"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    pg = phone.new_page()
    pg.goto(server + "/")
    pg.evaluate("items => localStorage.setItem('report-search-basket', items)",
                page.evaluate("localStorage.getItem('report-search-basket')"))
    pg.goto(server + "/basket")
    assert pg.locator(".basket-item").count() == 4
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(ARTIFACTS / "basket-phone.png"), full_page=True)
    phone.close()
    page.screenshot(path=str(ARTIFACTS / "basket-desktop.png"), full_page=False)
    first.nth(1).locator("button.remove").click()
    assert page.locator(".basket-item").count() == 3 and page.locator(".basket-count").inner_text() == "（3）"


def test_report_view_reads_as_a_report(page, browser, server):
    """The report view: headings styled as headings with an outline, the target passage opening with
    the passage before it in view, 返回结果 back to the search."""
    page.goto(server + "/?q=加强宣传发动&mode=keyword")
    search_url = page.url
    link = page.locator(".result a.source").nth(1)
    link.click()
    page.wait_for_selector(".report .passage-block.target")
    assert page.locator(".report .passage.heading").count() >= 2
    assert page.locator(".outline a").count() >= 2
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the page's own scroll to the target (app.js) has run
    before, top = page.evaluate("""() => {
        const t = document.querySelector('.report .passage-block.target');
        const prev = t.previousElementSibling;
        return [prev ? prev.getBoundingClientRect().top : null, t.getBoundingClientRect().top]; }""")
    # the passage before it begins on screen too, or, where the two do not fit, the target begins at the top
    assert before is not None and (0 <= before < top or 0 <= top <= 16), (before, top)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-desktop.png"))
    from docx import Document

    with page.expect_download() as download:  # the whole report as it reads, in Word
        page.click(".report-nav a[data-format=docx]")
    saved = ARTIFACTS / "report.docx"
    download.value.save_as(saved)
    texts = [p.text for p in Document(str(saved)).paragraphs]
    assert texts[-1].startswith("——《") and len(texts) > 10
    heading = page.locator(".outline a").first
    target_id = heading.get_attribute("href")
    heading.click()
    assert page.locator(target_id).is_visible()
    page.locator("a[data-back]").click()
    page.wait_for_url(search_url)
    assert page.locator(".result").count() > 0

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    pg = phone.new_page()
    pg.goto(server + page.locator(".result a.source").nth(1).get_attribute("href"))
    pg.wait_for_selector(".report .passage-block.target")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    assert pg.locator(".report .passage-block.target").is_visible()
    pg.screenshot(path=str(ARTIFACTS / "report-phone.png"))
    phone.close()


def test_outline_page_gathers_a_topic_by_section_and_fills_the_basket(page, browser, server):
    """写作提纲 from the search page: the sections in a report's order with passages and their sources,
    each section's count leading to the search with its filter, everything into the basket at once."""
    page.goto(server + "/?q=" + quote("环境卫生"))
    page.click("a.outline-link")
    page.wait_for_selector(".outline-part")
    parts = page.locator(".outline-part")
    assert [parts.nth(i).get_attribute("data-section") for i in range(parts.count())] == [
        "overview", "measures", "problems", "plans", "lessons"]
    items = page.locator(".outline-item")
    assert items.count() >= 4 and page.locator(".outline-item .cite").first.inner_text().startswith("——《")
    measures = page.locator(".outline-part[data-section=measures] h2 .count a")
    count = int(measures.inner_text().split(" 段")[0])
    assert "含“环境卫生”的词语" in page.locator(".outline-part[data-section=measures] h2 .count").inner_text()
    measures.click()
    page.wait_for_selector(".result")
    assert "section=measures" in page.url and int(page.locator(".pager .total").inner_text()) == count
    page.go_back()
    page.wait_for_selector(".outline-part")
    page.click("button.basket-add-all")
    assert page.locator(".basket-count").inner_text() == f"（{items.count()}）"
    assert page.locator(".outline-item button.basket-add").first.inner_text() == "已在素材篮"
    page.screenshot(path=str(ARTIFACTS / "outline-desktop.png"), full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    pg = phone.new_page()
    pg.goto(page.url)
    pg.wait_for_selector(".outline-part")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(ARTIFACTS / "outline-phone.png"), full_page=True)
    phone.close()


def test_landing_examples_come_from_the_index_and_each_finds_something(page, server):
    page.goto(server + "/")
    links = page.locator(".examples a")
    assert links.count() >= 4
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        page.goto(server + href)
        page.wait_for_selector(".result, .outline-item")
        assert page.locator(".result, .outline-item").count() > 0, href


def test_an_empty_list_names_the_filter_that_emptied_it_and_drops_it(page, server):
    page.goto(server + "/?q=" + quote("垃圾分类") + "&mode=keyword&region=" + quote("拉萨"))
    page.wait_for_selector(".empty")
    drop = page.locator(".empty a.drop-filter")
    assert drop.count() == 1 and "地区：拉萨" in drop.inner_text()
    drop.click()
    page.wait_for_selector(".result")
    assert "region" not in page.url and page.locator(".result").count() > 0
