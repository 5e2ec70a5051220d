"""Report metadata: year, region, issuing body, document type, each with where it came from.

`declared`: the report says it of itself, in a field of the source (a JSONL record) or its title.
`inferred`: read from the body. Inference prefers no answer to a wrong one: a place only
mentioned (运往南通市, 与成都同向, 学习上海经验, 赴杭州考察) is not the report's region; a place
named in the opening, or named repeatedly by a report that speaks of 我市 / 本区, is. A year that
is a starting point, a cut-off, a target or a base of comparison (1958年以来, 截至2020年底,
到2035年, 比2007年) is not the report's year, nor is the past year a report looks back on; a
body named only as leading or helping with a task (市场监管局牵头, 会同市公安局, 由区城管局负责)
is not its issuer. bench/metadata_precision.py measures both against hand labels.
One file over ~350 lines because the four inferences share their rules of what a mention is.
"""
from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from .text import normalise, normalise_aligned

_TITLE_YEAR = re.compile(r"(?<!\d)((?:19[4-9]|20[0-4])\d)(?!\d)")
_ISSUER = re.compile(
    r"((?:[省市区县州]|[\u4e00-\u9fff]{2,4}?[省市区县])"
    r"[\u4e00-\u9fff]{1,7}?(?:局|妇联|总工会|团委|委员会|管委会|办公室|办事处|街道|人民政府))")
_TITLE_YEARS = re.compile(r"\d{4}\s*(?:-\s*\d{4}\s*)?年度?")
_NOT_ISSUER = re.compile(r"^[省市区县](?:委|政府|人大|政协)|^(?:全|我|本|该)[省市区县]")
# Ambiguous short names that are also common words or other places.
_AMBIGUOUS = {"中山", "吉林", "朝阳", "白山", "黄山", "山南", "海东", "中卫", "白城", "三明", "白银", "金昌", "普洱"}


DECLARED, INFERRED = "declared", "inferred"
FIELDS = ("year", "region", "issuer", "doc_type")


@dataclass(frozen=True)
class ReportMeta:
    title: str | None = None
    year: int | None = None
    region: str | None = None
    province: str | None = None
    issuer: str | None = None
    doc_type: str | None = None
    sources: dict = field(default_factory=dict)  # field -> DECLARED or INFERRED, for the fields found


@functools.lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, str], dict[str, str]]:
    """(city short name -> province, province short name -> province)."""
    cities, provinces = {}, {}
    text = resources.files("indexer").joinpath("data/regions.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        province, _, names = line.partition(":")
        short = re.sub(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "", province)
        provinces[short] = province
        for name in names.split():
            cities[name] = province
    return cities, provinces


def extract(title: str | None, text: str, given: dict | None = None) -> ReportMeta:
    """A report's metadata: the source's own fields (`given`) and its title first (declared), then
    what the body shows (inferred)."""
    given = given or {}
    norm_title, norm_text = normalise(title or ""), normalise(text)
    values: dict = {}
    sources: dict = {}

    def put(name: str, value, source: str) -> None:
        if value not in (None, "") and name not in values:
            values[name], sources[name] = value, source

    put("year", _int(given.get("year")), DECLARED)
    if given.get("region"):
        region, province = canonical_region(str(given["region"]))
        put("region", region, DECLARED)
        values["province"] = province
    put("issuer", canonical_issuer(given["issuer"]) if given.get("issuer") else None, DECLARED)
    put("doc_type", given.get("doc_type"), DECLARED)
    title_year = _TITLE_YEAR.search(norm_title)
    put("year", int(title_year.group(1)) if title_year else None, DECLARED)
    region, province = find_region(norm_title)
    if region and "region" not in values:
        put("region", region, DECLARED)
        values["province"] = province
    put("issuer", canonical_issuer(find_issuer(norm_title, "")), DECLARED)
    put("doc_type", find_doc_type(norm_title, ""), DECLARED)
    put("year", find_year("", norm_text), INFERRED)
    region, province = find_own_region(norm_text)
    if region and "region" not in values:
        put("region", region, INFERRED)
        values["province"] = province
    put("issuer", canonical_issuer(find_issuer("", norm_text)), INFERRED)
    put("doc_type", find_doc_type("", norm_text), INFERRED)
    return ReportMeta(title=title, year=values.get("year"), region=values.get("region"),
                      province=values.get("province"), issuer=values.get("issuer"),
                      doc_type=values.get("doc_type"), sources=sources)


def _int(value) -> int | None:
    """A source field's whole number (2021, "2021", 2021.0), None where it is none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0"}
# A year in figures or in Chinese numerals (`2025年`, `一九五八年`, `二〇二六年`).
_ANY_YEAR = (r"(?:19[4-9]|20[0-4])\d|一九[四五六七八九][〇零○一二三四五六七八九]|"
             r"二[〇零○][〇零○一二三四][〇零○一二三四五六七八九]")
_YEAR_MENTION = re.compile(rf"(?<![\d〇零○一二三四五六七八九])({_ANY_YEAR})\s*年")
_DAY = r"\s*[\d一二三四五六七八九十]{1,3}\s*"
# The date a report was delivered on, in its opening: `2024年3月5日在第十四届全国人民代表大会第二次会议上`,
# `2025年1月15日龚正市长在上海市第十六届人民代表大会第三次会议上`.
_DELIVERED = re.compile(rf"(?<![\d〇零○一二三四五六七八九])({_ANY_YEAR})\s*年{_DAY}月{_DAY}日[^。\n]{{0,20}}?"
                        r"在[^。\n]{0,40}?(?:会议|大会)")
# The year a report sets out its work for: `二、2025年经济社会发展总体要求和政策取向`, `同意报告提出的
# 2017年工作总体部署`, `努力完成2016年各项工作任务`, `关于1955年国家决算和1956年国家预算的报告`.
_PLAN_YEAR = re.compile(rf"(?<![\d〇零○一二三四五六七八九])({_ANY_YEAR})\s*年度?(?:的)?"
                        r"(?:国民经济和社会发展|经济社会发展|经济和社会发展|国民经济|经济|政府|国内)?(?:工作)?的?"
                        r"(?:总体要求|总体部署|预期目标|主要目标|目标任务|主要任务|各项工作任务|各项任务|工作任务|"
                        r"工作安排|工作部署|重点工作|基本方针|计划|国家预算|预算)(?!产量|指标|数)")
# A plan already carried out is a past year's: `完成了八届全国人大二次会议确定的1994年的工作任务`.
_PLAN_DONE = re.compile(r"(?:完成|实现|超额完成)[^。,;\n]{0,20}$")
# A plan set out for 明年: the report is written the year before the year it plans for.
_PLANS_NEXT_YEAR = re.compile(r"明年(?:的)?[^。,;\n]{0,12}?(?:主要任务|任务|计划|目标|预算)")
# A year that is a starting point, a cut-off, a target or a base of comparison, not the report's own:
# `1958年以来`, `截至2020年底`, `自2020年以来`, `从2008年开始`, `到2035年`, `比2007年增加`, `*—2008年所需经费`,
# `按一九五二年的不变价格`, `下降为一九五二年的百分之三十九`.
_YEAR_NOT_OWN_BEFORE = re.compile(r"(?:自|从|由|截至|截止|截止到|截至到|到|至|直至|直到|迄|比|较|同|与|对比|"
                                  r"面向|展望|早在|始于|按|为|[-—–~～])\s*$")
_YEAR_NOT_OWN_AFTER = re.compile(r"^\s*(?:以来|来|以前|以后|之前|之后|前|起|开始|伊始|至|到|[-—–~～]|"
                                 r"的?不变价|的?价格|为基|相比|比较)")
# A report that looks back on a past year (`一、2024年工作回顾`, `过去一年`, `去年…` in the report for
# 2025; not a comparison, `比去年同期`) speaks of that year most: its own is not the year it mentions most.
_LOOKS_BACK = re.compile(rf"过去(?:的)?(?:一|五)年|(?<![比较与同])去年(?!同期)|刚刚过去的|"
                         rf"(?:{_ANY_YEAR})\s*年(?:政府|国内)?工作(?:的)?回顾|回顾(?:{_ANY_YEAR})\s*年")


def _year(digits: str) -> int:
    return int("".join(_CN_DIGITS.get(c, c) for c in digits))


def find_year(norm_title: str, norm_text: str) -> int | None:
    """The title's year; else the year the body dates itself by: the date it was delivered on (in
    its opening), the year it sets out its work for (the year before, where it calls that 明年);
    else the year it talks about most, counting only the years that are its own (not `1958年以来`,
    `截至2020年底`, `从2008年开始`, `到2035年`, `比2007年`), where that year stands out and the report
    is not one looking back on a past year. None otherwise."""
    m = _TITLE_YEAR.search(norm_title)
    if m:
        return int(m.group(1))
    m = _DELIVERED.search(norm_text[:OPENING * 2])
    if m:
        return _year(m.group(1))
    plans = collections.Counter(_year(m.group(1)) for m in _PLAN_YEAR.finditer(norm_text)
                                if not _PLAN_DONE.search(norm_text[max(0, m.start() - 30):m.start()]))
    if plans:
        ranked = plans.most_common(2)
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None
        return ranked[0][0] - 1 if _PLANS_NEXT_YEAR.search(norm_text) else ranked[0][0]
    head = norm_text[:3000]
    years: collections.Counter[int] = collections.Counter()
    for m in _YEAR_MENTION.finditer(head):
        before, after = head[max(0, m.start() - 4):m.start()], head[m.end():m.end() + 4]
        if not _YEAR_NOT_OWN_BEFORE.search(before) and not _YEAR_NOT_OWN_AFTER.match(after):
            years[_year(m.group(1))] += 1
    if not years or _LOOKS_BACK.search(head):
        return None
    ranked = years.most_common(2)
    # The year a report talks about most, where it stands out: at least twice as often as any
    # other, and the latest (a report that goes on to later years, as a five-year plan goes on
    # from its base year, is telling history).
    if (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]) and ranked[0][0] == max(years):
        return ranked[0][0]
    return None


def canonical_region(name: str) -> tuple[str, str]:
    """A region's official full name and its province: 新疆 → 新疆维吾尔自治区, 宁波 → 宁波市 (浙江省);
    a name the gazetteer does not know stays as given (全国)."""
    cities, provinces = _gazetteer()
    norm = normalise(name).strip()
    if norm in provinces.values():
        return norm, norm
    if norm in provinces:
        return provinces[norm], provinces[norm]
    short = re.sub(r"市$", "", norm)
    if short in cities and short not in provinces:
        province = cities[short]
        return (province, province) if province.endswith("市") and short + "市" == province else (short + "市", province)
    return norm, norm


# What follows a place's short name in a government body's name (`广西人民政府`, `新疆人大常委会`).
_GOVERNMENT_BODY = re.compile(r"(?:人民政府|政府|人民代表大会|人大|政协|人民检察院|人民法院)")


def canonical_issuer(name: str | None) -> str | None:
    """A government body named with its place's official full name, as regions are (canonical_region):
    广西人民政府 → 广西壮族自治区人民政府, 宁波政府 → 宁波市政府, so that a facet, a filter and a compare
    by issuer count one body once. Other names stay as given (国务院, 市场监管局, 江西财经大学)."""
    if not name:
        return name
    norm = normalise(name).strip()
    for short in _place_names():
        if norm.startswith(short) and _GOVERNMENT_BODY.match(norm, len(short)):
            return canonical_region(short)[0] + norm[len(short):]
    return name


@functools.lru_cache(maxsize=1)
def _place_names() -> tuple[str, ...]:
    """The gazetteer's short names of provinces and (unambiguous) cities, longest first."""
    cities, provinces = _gazetteer()
    return tuple(sorted({*provinces, *(c for c in cities if c not in _AMBIGUOUS)}, key=lambda n: (-len(n), n)))


def canonical_value(name: str, value: str) -> str:
    """A region's or an issuer's official form (canonical_region, canonical_issuer); any other value as given."""
    if name == "region":
        return canonical_region(value)[0]
    return canonical_issuer(value) if name == "issuer" else value


def find_region(norm_text: str) -> tuple[str | None, str | None]:
    """(most mentioned city, or province; its province)."""
    cities, provinces = _gazetteer()
    counts: collections.Counter[str] = collections.Counter()
    for name in cities:
        if name not in norm_text:
            continue
        with_suffix = norm_text.count(name + "市")
        # A bare name counts unless it names a street, road or village (`新余街`).
        bare = 0 if name in _AMBIGUOUS else len(re.findall(name + r"(?![市街路道村巷镇桥园区县])", norm_text))
        if with_suffix or bare:
            counts[name] = 2 * with_suffix + bare
    if counts:
        name = max(counts, key=lambda n: (counts[n], -norm_text.find(n)))
        province = cities[name]
        if province.endswith("市"):
            return province, province
        return name + "市", province
    found = [(norm_text.find(short), full) for short, full in provinces.items() if short in norm_text]
    if found:
        full = min(found)[1]
        return full, full
    return None, None


# A place only mentioned: where something goes, whom the report follows, learns from or visits.
_MENTION_BEFORE = re.compile(r"(?:运往|运至|运到|送往|送至|发往|销往|与|同|向|跟|和|学习|借鉴|赴|到|去|前往|来自|对标|参照|"
                             r"比照|对接|融入|毗邻|邻近|超过|不如|像|如|至|往|对口|支援|援助|帮扶|协作)$")
_MENTION_AFTER = re.compile(r"^(?:等地|等城市|等市|等省|经验|先进经验|的经验|同向|同行|考察|学习|参观|取经|"
                            r"对口|方向|方面|指定|一带|周边|地区的)")
_SELF = re.compile(r"我(?:市|区|县|省|州)|本(?:市|区|县|省)|全(?:市|区|县|省)")
OPENING = 200  # characters of the body where a report names its own place
_NATIONAL = re.compile(r"我代表国务院|国务院总理")


def find_own_region(norm_text: str) -> tuple[str | None, str | None]:
    """The report's own place from its body, or (None, None) where the body does not show it:
    a place named in the opening (outside a mere mention), or the one place named at least twice
    (outside mentions) in a report that speaks of 我市 / 本区 / 全县."""
    if _NATIONAL.search(norm_text[:OPENING * 3]):
        return "全国", "全国"  # `我代表国务院，向大会报告政府工作`
    cities, provinces = _gazetteer()
    names = {name: (province if province.endswith("市") else name + "市", province)
             for name, province in cities.items() if name not in _AMBIGUOUS}
    names.update({short: (full, full) for short, full in provinces.items()})
    opening, counts = set(), collections.Counter()
    for name, answer in names.items():
        start = norm_text.find(name)
        while start >= 0:
            end = start + len(name)
            before, after = norm_text[max(0, start - 4):start], norm_text[end:end + 6]
            # Only a named administrative unit counts (`成都市`, `江西省`): a bare name is as often a
            # label (`成都理念`, `成都标准`) or part of another name.
            named = re.match(r"(?:市|省|区|县|州|自治区|特别行政区)", after)
            if named and not _MENTION_BEFORE.search(before) and not _MENTION_AFTER.match(after[1:]):
                if not answer[0].endswith("特别行政区"):  # named by national reports as parts of the country
                    counts[answer] += 1
                if start < OPENING:
                    opening.add(answer)
            start = norm_text.find(name, end)
    # A city and its own province name one place: the city.
    opening = {a for a in opening if not any(a[0] == b[1] and a != b for b in opening)}
    for a in list(counts):
        if any(a[0] == b[1] and a != b for b in counts):
            del counts[a]
    if len(opening) == 1:
        return next(iter(opening))
    if opening or not _SELF.search(norm_text):
        return None, None
    ranked = counts.most_common(2)
    if ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[1][1] * 2 < ranked[0][1]):
        return ranked[0][0]
    return None, None


# `现将上半年工作总结和下半年打算报告如下`: the report names itself.
_NAMES_ITSELF = re.compile(r"现将(?:我[^\s,，。]{0,8}?)?((?:[^\s,，。]{0,20}?)(?:工作)?(?:总结|计划|打算|报告|情况|要点|安排))"
                           r"(?:报告|汇报|总结)?如下")


_GENERIC_TITLES = {"工作总结", "有关工作总结", "相关工作总结", "工作情况", "有关情况", "总结", "报告"}


def fallback_title(opening: str, found: ReportMeta) -> str:
    """A readable title for a report that gives none: what its opening calls it, else issuer +
    year + type, else its opening words; never a file name."""
    head = opening[:300]
    m = _NAMES_ITSELF.search(normalise_aligned(head))
    if m and normalise(m.group(1)) not in _GENERIC_TITLES:
        return head[m.start(1):m.end(1)]
    if found.issuer:
        return "".join(str(v) for v in (found.issuer, f"{found.year}年" if found.year else None,
                                         found.doc_type or "工作报告") if v)
    first = re.split(r"[。!?！？]", opening.strip())[0]
    return first if len(first) <= 24 else first[:24] + "…"


_GOVERNMENT = (r"(?:中华人民共和国)?国务院|中央人民政府|"
               r"[\u4e00-\u9fff]{0,8}?[省市区县州]委、[\u4e00-\u9fff]{0,8}?[省市区县州](?:人民)?政府|"
               r"[\u4e00-\u9fff]{0,8}?[省市区县州](?:人民)?政府")
# The body the speaker of a report speaks for: `我代表国务院,向大会报告政府工作`, `我代表江苏省人民政府向大会
# 报告工作`, `我谨代表市委、市政府`, `我受国务院的委托`, `我现在根据国务院的决定`.
_SPEAKS_FOR = re.compile(rf"我(?:们)?(?:谨|现在)?(?:代表({_GOVERNMENT})(?=[,、向作对在就。]|$)|"
                         rf"受(?:[^,。]{{0,8}}?和)?({_GOVERNMENT})的?委托|根据({_GOVERNMENT})的决定)")
# A resolution is issued by the session that heard the report:
# `第十四届全国人民代表大会第三次会议听取和审议了`.
_HEARD_BY = re.compile(r"(?<![\u4e00-\u9fff])((?:[\u4e00-\u9fff]{2,8}?[省市区县])?)第[一二三四五六七八九十]+届"
                       r"(全国)?人民代表大会(常务委员会)?第[一二三四五六七八九十]+次会议(?:听取|审议)")
# A body that names itself as it introduces its report: `__社区现将本周工作总结如下`.
_NAMES_SELF = re.compile(r"(?<![\u4e00-\u9fff])((?:[省市区县州]|[\u4e00-\u9fff]{2,4}?[省市区县])?"
                         r"[\u4e00-\u9fff]{0,7}?(?:局|妇联|总工会|工会|团委|委员会|管委会|办公室|办事处|街道|社区|"
                         r"人民政府))现将[^。]{0,30}?如下")
# In the body, a name counts only where it starts a phrase (`,市城管局坚持…`), not inside one
# (`城市管理局`, `组织市生态环境局`).
_BODY_ISSUER = re.compile(r"(?<![\u4e00-\u9fff])" + _ISSUER.pattern)
# A body named only as leading or helping with a task, with its people or its systems, is not the
# report's issuer: `市场监管局牵头`, `会同市公安局`, `由区城管局负责`,
# `省妇女儿童工作委员会主任陈美云一同参加`.
_ROLE_AFTER = re.compile(r"(?:牵头|负责|配合|协助|协调|协同|会同|联合|参与|参加|共同|一同|一起|等(?:部门|单位)|"
                         r"[、和与及]|(?:副)?(?:主任|局长|主席|书记|处长|科长|部长|委员|负责人)|领导|同志|"
                         r"工作人员|执法人员|监控|网络|平台|系统|检查|督查|考核|下发|印发|出台|《)")
_ROLE_BEFORE = re.compile(r"^(?:由|会同|配合|协助|协调|协同|联合|与|同|向|请|邀请|经|在|根据|按照|受|对|陪同|组织|"
                          r"督促|要求|报请|上报|报送|提请)(?=[省市区县州])")
# Not a body: a person's post (`省长刘小涛代表省人民政府`), `全省…全局`, `…大局`, `我局`.
_NOT_A_BODY = re.compile(r"代表|[省市区县州]长|全[省市区县州]|(?:[全大格布结当开变时残骗新胜定僵棋赌饭])局$|"
                         r"^(?:我|本|该|全|各|贵)")


def _government(name: str) -> str:
    """A government's name as a body: `中华人民共和国国务院` -> 国务院, `省政府` -> 省人民政府."""
    name = name.removeprefix("中华人民共和国")
    if re.search(r"[省市区县州]政府$", name) and "、" not in name:
        name = name[:-2] + "人民政府"
    return name


def find_issuer(norm_title: str, norm_text: str) -> str | None:
    """The title's issuing body; else the body's: the session that heard the report (a resolution),
    the government its speaker speaks for (`我代表…`), a body naming itself as it introduces its
    report (`…现将…总结如下`), or a body that starts a phrase of the opening, not one named only as
    leading or helping with a task (`…牵头`, `会同…`, `由…负责`) or by its people. None otherwise."""
    # `2024年某市生态环境局工作总结`: the body starts after the year, not at its 年
    for m in _ISSUER.finditer(_TITLE_YEARS.sub(" ", norm_title)):
        name = m.group(1)
        if not _NOT_ISSUER.match(name) and not re.search(r"[了以的和在还对为与及把被将是]", name):
            return name
    m = _HEARD_BY.search(norm_text[:OPENING * 2])
    if m:
        return m.group(1) + ("全国" if m.group(2) else "") + "人民代表大会" + (m.group(3) or "")
    m = _SPEAKS_FOR.search(norm_text[:3000])
    if m:
        return _government(next(g for g in m.groups() if g))
    opening = norm_text[:600]
    m = _NAMES_SELF.search(opening)
    if m and not _NOT_ISSUER.match(m.group(1)) and not _NOT_A_BODY.search(m.group(1)):
        return m.group(1)
    mentioned = None  # where the last body named only in passing ends: the next one listed with it is too
    for m in _BODY_ISSUER.finditer(opening):
        name = m.group(1)
        if _NOT_ISSUER.match(name) or re.search(r"[了以的和在还对为与及把被将是]", name) or _NOT_A_BODY.search(name):
            continue
        listed = mentioned is not None and opening[mentioned:m.start()] == "、"  # `会同市公安局、市交通局开展`
        if listed or _ROLE_BEFORE.match(name) or _ROLE_AFTER.match(opening, m.end()):
            mentioned = m.end()
            continue
        return name
    return None


_DOC_TYPES = [
    ("政府工作报告", re.compile(r"政府工作报告")),
    ("决议", re.compile(r"决议")),
    ("讲话", re.compile(r"讲话|致辞|发言")),
    ("工作计划", re.compile(r"计划|打算|要点")),
    ("工作总结", re.compile(r"总结")),
    ("工作报告", re.compile(r"报告|汇报")),
]


def find_doc_type(norm_title: str, norm_text: str) -> str | None:
    if norm_title.endswith("决议") or "的决议" in norm_title:
        return "决议"
    for name, pattern in _DOC_TYPES:
        if pattern.search(norm_title):
            return name
    opening = norm_text.lstrip()[:20]
    if opening.startswith(("同志们", "各位代表", "各位委员")):
        return "讲话" if opening.startswith("同志们") else "工作报告"
    return None
