"""Report metadata: year, region, issuing body, document type, each with where it came from.

`declared`: the report says it of itself, in a field of the source (a JSONL record) or its title.
`inferred`: read from the body. Inference prefers no answer to a wrong one: a place only
mentioned (运往南通市, 与成都同向, 学习上海经验, 赴杭州考察) is not the report's region; a place
named in the opening, or named repeatedly by a report that speaks of 我市 / 本区, is.
"""
from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from .text import normalise, normalise_aligned

_YEAR = re.compile(r"(?<!\d)((?:19[4-9]|20[0-4])\d)\s*年")
_TITLE_YEAR = re.compile(r"(?<!\d)((?:19[4-9]|20[0-4])\d)(?!\d)")
_ISSUER = re.compile(
    r"((?:[省市区县州]|[\u4e00-\u9fff]{2,4}?[省市区县])"
    r"[\u4e00-\u9fff]{1,7}?(?:局|妇联|总工会|团委|委员会|管委会|办公室|办事处|街道|人民政府))")
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
        put("region", given["region"], DECLARED)
        values["province"] = given["region"]
    for name in ("issuer", "doc_type"):
        put(name, given.get(name), DECLARED)
    title_year = _TITLE_YEAR.search(norm_title)
    put("year", int(title_year.group(1)) if title_year else None, DECLARED)
    region, province = find_region(norm_title)
    if region and "region" not in values:
        put("region", region, DECLARED)
        values["province"] = province
    put("issuer", find_issuer(norm_title, ""), DECLARED)
    put("doc_type", find_doc_type(norm_title, ""), DECLARED)
    put("year", find_year("", norm_text), INFERRED)
    region, province = find_own_region(norm_text)
    if region and "region" not in values:
        put("region", region, INFERRED)
        values["province"] = province
    put("issuer", find_issuer("", norm_text), INFERRED)
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


def find_year(norm_title: str, norm_text: str) -> int | None:
    m = _TITLE_YEAR.search(norm_title)
    if m:
        return int(m.group(1))
    years = collections.Counter(int(y) for y in _YEAR.findall(norm_text[:3000]))
    if not years:
        return None
    # The year a report talks about most; on a tie, the latest.
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


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


def find_issuer(norm_title: str, norm_text: str) -> str | None:
    for source in (norm_title, norm_text[:600]):
        for m in _ISSUER.finditer(source):
            name = m.group(1)
            if not _NOT_ISSUER.match(name) and not re.search(r"[了以的和在还对为与及把被将是]", name):
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
