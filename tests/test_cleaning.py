"""Each clean-up case on real text from the seed reports."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import seed_text

from indexer.cleaning import clean
from indexer.structure import passages, split_reports
from indexer.analysis import word_terms


def joined(prefix: str) -> str:
    return "\n".join(clean(seed_text(prefix)).lines)


def test_site_preambles_and_disclaimers_are_removed():
    assert "想要寫出一篇" not in joined("000")
    assert "每個職場人" not in joined("004")
    assert "中文期刊网精心挑选" not in joined("002")
    assert "免责声明" not in joined("001") and "来源:网络整理" not in joined("001")
    # ... and the report text around them stays
    assert joined("001").startswith("自2020年以来")
    assert "5.推进城市治理“创新”行动" in joined("001")


def test_document_sharing_header_and_footer_of_003_are_removed():
    cleaned = clean(seed_text("003"))
    text = "\n".join(cleaned.lines)
    for boilerplate in ("由会员分享", "配套讲稿", "特殊限制", "关 键 词", "禁止商用", "限制150内"):
        assert boilerplate not in text
    assert cleaned.title == "2022市区城市管理局工作报告"
    assert cleaned.removed["site footer lines"] == 7


def test_pinyin_readings_removed_and_real_parentheses_kept():
    text = joined("004")
    assert "創建文明城市工作總結報告篇1" in text
    assert "(chuàng)" not in text and "(jié)" not in text
    assert "局長xx任組長" in text
    assert "(體育東路社區" in text  # a real bracket after a character stays
    assert "协助优化gis三维地理信息地图" in joined("003")  # ascii in text untouched
    # brackets without a tone mark are not readings
    assert clean("平台(gis)建設總結(jié)報告").lines == ["平台(gis)建設總結報告"]


def test_lines_broken_mid_sentence_are_rejoined():
    text = joined("000")
    assert "1、繼續進行“最美辦公室”檢查評比工作,19—20學年度檢查評比結果下周公布。" in text
    assert "在下半年的工作中,工會將按照學校工作的總體安排,計劃開展以下活動:" in text
    assert "號召全校教師形成綠色生活方式。" in text
    assert "注重解決廣大教職工最關心、最直接、最現實的利益問題" in text
    # headings are not glued to the paragraph after them
    assert "二、以人為本,積極開展各項活動豐富教職工生活" in clean(seed_text("000")).lines


def test_a_paragraph_after_an_inline_heading_goes_on_across_a_break():
    """`（一）市容环境整治。今年以来，…清理占道经营` / `1200余处，…`: the heading's sentence ends within the
    line, the paragraph after it is broken before a number. Before, a line starting with a marker was
    joined only to a short tail ending a sentence, so the count went into a passage apart from what it
    counts. A heading with no sentence end of its own still stands apart from the paragraph below it."""
    text = ("某县城市管理局2023年工作总结\n\n一、主要工作\n（一）市容环境整治。今年以来，我局共清理占道经营\n1200余处，"
            "拆除违章广告牌匾300块，\n— 2 —\n市容环境明显改善。\n\f\n（二）垃圾分类。全县设置分类投放点\n150个，覆盖率达到\n"
            "- 3 -\n85%。\n第 4 页 共 10 页\n二、存在问题\n部分乡镇保洁力量不足。\n")
    found = [p.text for r in split_reports(clean(text).lines) for p in passages(r)]
    assert any(t.endswith("（一）市容环境整治。今年以来，我局共清理占道经营1200余处，拆除违章广告牌匾300块，市容环境明显改善。")
               for t in found), found
    assert "（二）垃圾分类。全县设置分类投放点150个，覆盖率达到85%。" in found, found
    heading = "某区环卫所2023年工作总结\n（一）坚持高位推动，强化组织保障\n今年以来，我所成立领导小组，定期研究部署。\n"
    assert "（一）坚持高位推动，强化组织保障" in clean(heading).lines


def test_a_second_reports_title_right_above_its_first_heading_is_its_title_not_a_passage():
    """Two reports in one file, the second's title straight above its `一、` with no opening paragraph:
    before, the title was taken for that report's introduction and became a passage of its own."""
    text = ("某区城管局2022年工作总结\n一、主要工作\n今年以来，我局开展市容环境专项整治，清理占道经营800余处。\n"
            "二、存在问题\n部分路段占道经营反弹。\n某区城管局2023年上半年工作总结\n一、主要工作\n"
            "上半年，我局开展夜市规范整治，新设便民疏导点12个。\n二、下步打算\n继续巩固整治成果。\n")
    reports = split_reports(clean(text).lines)
    assert [r.title for r in reports] == ["某区城管局2022年工作总结", "某区城管局2023年上半年工作总结"]
    found = [p.text for r in reports for p in passages(r)]
    assert not any("2023年上半年工作总结" in t for t in found) and len(found) == 4, found


def test_no_passage_is_only_punctuation_or_a_bare_number():
    # 004's meeting script elides where a video plays: `…………` on its own line ends the line above
    lines = clean(seed_text("004")).lines
    assert "第一項議程:觀看創衛工作匯報片和媒體暗訪曝光片,請工作人員播放視頻短片。…………" in lines
    assert not any(set(line) <= set("…. ") for line in lines)
    # gov-reports: a heading broken after its bracket (2026 云南), a number alone above its paragraph (1986)
    report = "\n".join(["（二）产业发展提质增效、转型加快。", "非烟非能工业增加值增长8.1%。", "（",
                        "三）改革开放持续深化、互促共进。", "“云南方案”成为全国开展市场准入效能评估的基础性方案。",
                        "（一）", "进一步为经济体制改革创造良好的经济环境和社会环境。"])
    found = [p for r in split_reports(clean(report).lines) for p in passages(r)]
    assert [p.text for p in found] == [
        "（二）产业发展提质增效、转型加快。", "非烟非能工业增加值增长8.1%。", "（三）改革开放持续深化、互促共进。",
        "“云南方案”成为全国开展市场准入效能评估的基础性方案。", "（一）进一步为经济体制改革创造良好的经济环境和社会环境。"]
    assert found[3].heading_path == ("（三）改革开放持续深化、互促共进。",)


def test_utf8_read_as_latin1_or_windows1252_is_read_back():
    import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252: Windows-1252, its 5 gaps as Latin-1)

    lines = clean(seed_text("001")).lines[:6]
    for wrong in ("latin-1", "sloppy-windows-1252"):  # a site or an editor decoded UTF-8 with the wrong table
        garbled = "\n".join(line.encode("utf-8").decode(wrong) for line in lines)
        assert "å" in garbled
        cleaned = clean(garbled)
        assert cleaned.lines == lines, wrong
        assert cleaned.removed["lines of mojibake repaired"] == len(lines)
    # text that only looks Western is left alone: pinyin readings, letters in a report
    assert clean("平台(gis)建設，À la carte 服务").lines == ["平台(gis)建設，À la carte 服务"]


def test_printed_page_numbers_go_and_the_sentences_they_cut_rejoin():
    # a report exported from Word or PDF: the official `— 1 —`, `第 2 页 共 3 页`, `-3-`, `Page 4 of 4`
    cleaned = clean("2023年某区城市管理局工作总结\n一、主要工作\n今年以来，我局共清理占道经营1200余处，拆除违法建设\n"
                    "— 1 —\n3.2万平方米。\n二、存在问题\n执法力量不足，\n第 2 页 共 3 页\n智慧城管建设滞后。\n-3-\n"
                    "三、下一步打算\n推进垃圾分类。\nPage 4 of 4")
    assert cleaned.lines == ["2023年某区城市管理局工作总结", "一、主要工作",
                             "今年以来，我局共清理占道经营1200余处，拆除违法建设3.2万平方米。", "二、存在问题",
                             "执法力量不足，智慧城管建设滞后。", "三、下一步打算", "推进垃圾分类。"]
    assert cleaned.removed["page numbers"] == 4
    # a number that says something stays
    assert clean("完成率达到3/4以上。\n第3页的表格列出了明细。").lines == ["完成率达到3/4以上。", "第3页的表格列出了明细。"]


def test_a_printed_page_s_running_head_goes_where_it_cuts_a_sentence():
    head = "2023年某区城市管理局工作总结"
    cleaned = clean("\n".join([head, "一、主要工作", "今年以来，我局共清理占道经营1200余处，拆除违法建设", head,
                                "3.2万平方米。", "二、存在问题", "执法力量不足，", head, "智慧城管建设滞后。"]))
    assert cleaned.lines == [head, "一、主要工作", "今年以来，我局共清理占道经营1200余处，拆除违法建设3.2万平方米。",
                             "二、存在问题", "执法力量不足，智慧城管建设滞后。"]
    assert cleaned.removed["running heads of printed pages"] == 2
    # a heading that recurs in a file of several reports is no running head: it follows a sentence's end
    twice = ["一、主要做法", "开展宣传活动。", "二、存在问题", "人手不足。", "一、主要做法", "加强执法。", "二、存在问题", "经费不足。"]
    assert clean("\n".join(twice)).lines == twice


def test_a_site_footer_goes_with_everything_after_it_but_a_sentence_about_icp_stays():
    assert clean("今年完成网站建设。\n京ICP备12345678号-1\n网站地图").lines == ["今年完成网站建设。"]
    report = ["一、开展网站ICP备案专项检查，共核查网站1200家。", "二、下一步打算", "继续加强网站管理。"]
    assert clean("\n".join(report)).lines == report


def test_a_text_wrapped_at_a_fixed_width_keeps_its_numbered_paragraphs_whole():
    # copied out of a PDF: every line as wide as the page, a numbered paragraph's first line included
    lines = clean("\n".join([
        "一、主要工作", "(一)今年以来，我局深入开展市容环境整治，共清理占道经营1200余处，拆除违法建",
        "设3.2万平方米，查处渣土运输违规车辆85辆，城市精细化管理水平不断提升。今年以",
        "来，我局深入开展市容环境整治。", "(二)加强智慧城管建设。全年接入视频监控点位320个，建成数字城管指挥平台，案",
        "件处置率达到98%。", "二、存在问题", "执法力量不足。"])).lines
    assert lines == ["一、主要工作",
                     "(一)今年以来，我局深入开展市容环境整治，共清理占道经营1200余处，拆除违法建设3.2万平方米，查处渣土"
                     "运输违规车辆85辆，城市精细化管理水平不断提升。今年以来，我局深入开展市容环境整治。",
                     "(二)加强智慧城管建设。全年接入视频监控点位320个，建成数字城管指挥平台，案件处置率达到98%。",
                     "二、存在问题", "执法力量不足。"]


def test_page_fragments_of_003_are_rejoined_into_the_sentences_they_cut():
    text = joined("003")
    assert "下发了xx区智慧城管工作考核办法等规范性文件" in text
    assert "2、作考核办法" not in text
    assert "基层管理优势,多方联动" in text


def test_bullet_debris_becomes_list_markers():
    lines = clean(seed_text("004")).lines
    assert "• 開展職工文體活動" in lines
    assert not any(line.startswith("??") for line in lines)


def test_placeholders_stay_in_text_but_are_not_index_terms():
    text = joined("001")
    assert "组建党员先锋队X支" in text
    terms = {t.text for t in word_terms("组建党员先锋队X支,累计处罚xx件,__年上半年,20xx年")}
    assert not terms & {"x", "xx", "_", "__", "20xx"}
    assert {"党员", "先锋队", "处罚"} <= terms


def test_files_with_several_reports_are_split_with_titles():
    c002 = clean(seed_text("002"))
    titles = [r.title for r in split_reports(c002.lines, c002.title)]
    assert titles == [f"城市长效管理总结范文{i}" for i in range(1, 7)]
    c004 = clean(seed_text("004"))
    titles = [r.title for r in split_reports(c004.lines, c004.title)]
    assert titles == [f"創建文明城市工作總結報告篇{i}" for i in range(1, 8)]


def test_unmarked_reports_in_000_split_where_numbering_restarts():
    c000 = clean(seed_text("000"))
    reports = split_reports(c000.lines, c000.title)
    starts = [r.lines[0][:12] for r in reports]
    assert len(reports) == 3
    assert starts[1].startswith("工會工作是學校")
    assert starts[2].startswith("__年上半年,市城管局")


def test_passages_carry_heading_paths():
    c000 = clean(seed_text("000"))
    report = split_reports(c000.lines, c000.title)[2]
    by_start = {p.text.split("\n")[-1][:8]: p for p in passages(report)}  # after its headings
    p = by_start["一是宣傳進村入戶"]
    assert p.heading_path == ("一、城鄉環境綜合治理持續深入開展", "(一)加強宣傳發動,營造良好氛圍", "一是宣傳進村入戶")


def test_long_paragraphs_are_split_at_sentence_ends():
    c004 = clean(seed_text("004"))
    report = split_reports(c004.lines, c004.title)[3]
    chunks = passages(report)
    assert max(len(p.text) for p in chunks) <= 600
    long_ones = [p for p in chunks if len(p.text) > 200]
    assert all(p.text.endswith(("。", "!", "？", "?", "；", ";")) for p in long_ones[:-1])


def test_a_long_line_ending_in_a_file_name_is_text_not_a_title():
    text = "关于开展扫码行动的通告 为全力做好疫情防控工作,决定开展扫码行动。" * 5 + " 相关链接:通告(附件).doc"
    cleaned = clean(text)
    assert cleaned.title is None and len(cleaned.lines) == 1


def test_runs_of_spaces_of_any_kind_become_one_space():
    # A scraped notice (ncp-dev) pads its signature with no-break and en spaces: that tail was
    # once a passage of 331 characters that showed as blank.
    body = "五、本公告自2020年1月1日起施行，截止日期视疫情情况另行公告。" * 8
    text = body + " \xa0" * 80 + "财政部\u2002税务总局" + " \xa0" * 80 + "2020年2月6日\n一、\u3000\u3000总体\t\t情况"
    lines = clean(text).lines
    assert lines[0].endswith("另行公告。 财政部 税务总局 2020年2月6日")
    assert lines[1] == "一、 总体 情况"
    chunks = passages(split_reports(lines)[0])
    assert all(p.text.strip() for p in chunks) and not any("  " in p.text for p in chunks)


def gov_excerpt(number: int) -> str:
    """Real government reports as scraped (tests/data/gov_excerpts.jsonl: Wikisource's 2017 and 2007
    national reports, a provincial government's 2026 page), cut short."""
    path = Path(__file__).parent / "data" / "gov_excerpts.jsonl"
    return json.loads(path.read_text(encoding="utf-8").splitlines()[number])["text"]


def test_a_wiki_page_s_link_texts_rejoin_their_sentence_and_its_licence_goes():
    cleaned = clean(gov_excerpt(0))
    text = "\n".join(cleaned.lines)
    assert "\n党的十八届六中全会正式明确习近平总书记的核心地位，体现了" in text
    assert "“十三五”实现了良好开局。" in text
    for debris in ("公有领域", "维基文库", "Public domain", "false"):
        assert debris not in text
    assert cleaned.removed["soft line breaks rejoined"] >= 5 and cleaned.removed["site footer lines"] >= 1
    # The address joins the paragraph it opens instead of standing alone.
    assert any(line.startswith("各位代表！") and len(line) > 20 for line in cleaned.lines)
    assert "各位代表！" not in cleaned.lines


def test_wiki_markup_leftovers_go_and_the_sentence_they_sat_on_stays():
    lines = clean(gov_excerpt(1)).lines
    assert "——改革开放进一步深化。" in lines
    assert not any("粗体文字" in line or line.endswith("'") or line == "'" for line in lines)


def test_a_news_page_s_chrome_and_related_links_go():
    cleaned = clean(gov_excerpt(2))
    text = "\n".join(cleaned.lines)
    for chrome in ("【字体", "四川日报", "07时41分", "分享", "责任编辑", "李莎莎", "扫一扫", "abcd39f1", "热议", "关闭窗口"):
        assert chrome not in text, chrome
    assert "在四川省第十四届人民代表大会第五次会议上" in text
    assert "推进系统治理、源头治理、综合治理。" in text


def test_a_sites_navigation_bar_and_copyright_line_go():
    page = ["首页 | 新闻中心 | 政务公开 | 联系我们", "2024年某区城管局工作总结", "一、主要工作",
            "今年以来，我局开展市容环境专项整治，取得明显成效。", "网站首页 · 办事服务 · 互动交流",
            "Copyright © 2024 某区人民政府 All Rights Reserved", "版权所有 © 2024 某某网站"]
    text = "\n".join(clean("\n".join(page)).lines)
    assert text == "2024年某区城管局工作总结\n一、主要工作\n今年以来，我局开展市容环境专项整治，取得明显成效。"
    # the same words in a report's sentences stay
    kept = ["一是加强领导 | 二是强化宣传 | 三是狠抓落实", "本单位版权所有的资料严禁转载。"]
    assert all(line in "".join(clean("\n".join(kept)).lines) for line in kept)


def test_a_reading_lost_to_question_marks_is_marked_unreadable():
    cleaned = clean(seed_text("004"))
    text = "\n".join(cleaned.lines)
    assert "??h" not in text and "關閉了河渠沿線養殖場\ufffd內河道" in text


def test_a_heading_joins_the_paragraph_below_it():
    report = split_reports(clean(gov_excerpt(0)).lines)[0]
    found = passages(report)
    assert not any(p.text == "一、2016年工作回顾" for p in found)  # not a result on its own
    first = next(p for p in found if p.text.startswith("一、2016年工作回顾\n"))
    assert first.heads == 1 and first.heading_path == ("一、2016年工作回顾",)
    assert first.text.split("\n")[1].startswith("过去一年，我国发展面临")
    # A section that opens with a subsection: both headings join its first paragraph. A heading
    # that heads nothing stays a passage, in the report's order, so its words stay searchable; so
    # does a long one, a statement of what was done that writers reuse.
    lines = ["一、主要工作", "(一)加强领导", "成立了领导小组。", "(二)强化宣传", "(三)加大人力客运三轮车整治力度",
             "目前我市人力客运三轮车2088辆。", "二、存在的不足", "三、下一步工作", "(一)推进城乡环卫一体化改革"]
    assert [(p.text, p.heads, p.heading_path) for p in passages(split_reports(lines)[0])] == [
        ("一、主要工作\n(一)加强领导\n成立了领导小组。", 2, ("一、主要工作", "(一)加强领导")),
        ("(二)强化宣传", 1, ("一、主要工作", "(二)强化宣传")),
        ("(三)加大人力客运三轮车整治力度", 1, ("一、主要工作", "(三)加大人力客运三轮车整治力度")),
        ("目前我市人力客运三轮车2088辆。", 0, ("一、主要工作", "(三)加大人力客运三轮车整治力度")),
        ("二、存在的不足", 1, ("二、存在的不足",)),
        ("三、下一步工作\n(一)推进城乡环卫一体化改革", 2, ("三、下一步工作", "(一)推进城乡环卫一体化改革"))]
