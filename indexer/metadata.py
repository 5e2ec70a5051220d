"""Report metadata read from the text: year, region, issuing body, document type."""
from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass
from importlib import resources

from .text import normalise

_YEAR = re.compile(r"(?<!\d)((?:19[4-9]|20[0-4])\d)\s*年")
_TITLE_YEAR = re.compile(r"(?<!\d)((?:19[4-9]|20[0-4])\d)(?!\d)")
_ISSUER = re.compile(
    r"((?:[省市区县州]|[\u4e00-\u9fff]{2,4}?[省市区县])"
    r"[\u4e00-\u9fff]{1,7}?(?:局|妇联|总工会|团委|委员会|管委会|办公室|办事处|街道|人民政府))")
_NOT_ISSUER = re.compile(r"^[省市区县](?:委|政府|人大|政协)|^(?:全|我|本|该)[省市区县]")
# Ambiguous short names that are also common words or other places.
_AMBIGUOUS = {"中山", "吉林", "朝阳", "白山", "黄山", "山南", "海东", "中卫", "白城", "三明", "白银", "金昌", "普洱"}


@dataclass(frozen=True)
class ReportMeta:
    title: str | None = None
    year: int | None = None
    region: str | None = None
    province: str | None = None
    issuer: str | None = None
    doc_type: str | None = None


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


def extract(title: str | None, text: str) -> ReportMeta:
    """Best reading of a report's metadata from its title and text."""
    norm_title, norm_text = normalise(title or ""), normalise(text)
    region, province = find_region(norm_title + "\n" + norm_text)
    return ReportMeta(
        title=title,
        year=find_year(norm_title, norm_text),
        region=region,
        province=province,
        issuer=find_issuer(norm_title, norm_text),
        doc_type=find_doc_type(norm_title, norm_text),
    )


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
