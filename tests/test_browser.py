"""The page in a real headless browser (Debian's chromium via Playwright) against a real server."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import CORPUS, ROOT, build_both, running_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
XSS_FILE = "某区2021年城管工作总结：<script>window.__xss = 1</script>整治<b>占道经营</b>，清理<img src=x onerror=\"window.__xss=2\">流动摊贩300余处。\n"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (./run.sh test installs it)")


@pytest.fixture(scope="module")
def web_index(tmp_path_factory, milvus_uri):
    base = tmp_path_factory.mktemp("web")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "xss.txt").write_text(XSS_FILE, encoding="utf-8")
    build_both([str(corpus)], base / "index", milvus_uri)
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

    # apply a facet filter: every result then carries that value
    facet = page.locator(".facet[data-facet=doc_type] a").first
    value = facet.inner_text()
    facet.click()
    page.wait_for_selector(".active-filters")
    assert "doc_type=" in page.url
    tags = page.locator(".result .meta").all_inner_texts()
    assert tags and all(value in t for t in tags)

    # 复制 copies the passage with its source line, 复制原文 the words alone
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
    page.wait_for_selector(".report .passage.target")
    target = page.locator(".report .passage.target")
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
    assert page.locator(".facet[data-facet=section] a").all_inner_texts() == ["下一步打算"]
    page.screenshot(path=str(ARTIFACTS / "search-section-phrases.png"), full_page=False)

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


def test_compare_view(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/?q=" + quote("垃圾分类"))
    page.wait_for_selector(".result")
    page.locator(".compare-links a[data-by=year]").click()
    page.wait_for_selector(".compare .group")
    assert "/compare?" in page.url and "by=year" in page.url
    groups = page.locator(".compare .group")
    values = [groups.nth(i).get_attribute("data-value") for i in range(groups.count())]
    assert len(values) >= 3 and values[-1] == "未知" and all(v.isdigit() for v in values[:-1])
    first = groups.first
    assert first.locator(".result").count() >= 1 and "段" in first.locator("h3 .count").inner_text()
    years = set(first.locator(".result .tag[data-field=year]").all_inner_texts())
    assert years == {values[0]}
    page.screenshot(path=str(ARTIFACTS / "compare-desktop.png"), full_page=False)
    # a group expands into the search filtered to its value
    expand = first.locator("a.expand")
    if expand.count():
        expand.click()
        page.wait_for_selector(".result")
        assert f"year={values[0]}" in page.url
