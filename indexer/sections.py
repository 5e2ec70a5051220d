"""The role of the section a passage stands in: 基本情况, 主要做法与成效, 存在问题, 下一步打算,
经验体会 or 其他.

A report's headings name its sections (`三、存在的问题`, `二、2025年工作任务`); the outermost
heading that names a role decides for every passage below it. Where the headings say nothing,
the passages' own words do (`…还存在一些不足：`, `下一步，我们将…`), and a role found that way
holds for the passages that follow under the same headings until other words change it.
"""
from __future__ import annotations

import re
from typing import Sequence

from .headings import marker_of
from .text import CJK, normalise

ROLES = {
    "overview": "基本情况",
    "measures": "主要做法与成效",
    "problems": "存在问题",
    "plans": "下一步打算",
    "lessons": "经验体会",
    "other": "其他",
}


def role_code(value: str) -> str | None:
    """A section role by its code (`problems`) or the name the page shows (`存在问题`); None if neither."""
    if value in ROLES:
        return value
    return next((code for code, name in ROLES.items() if name == value), None)

# A heading that names its section's role; the first pattern that matches wins.
_HEADING_CUES: list[tuple[str, re.Pattern]] = [
    ("problems", re.compile(r"存在的?(?:主要)?(?:问题|不足|困难)|问题(?:和|与|及)不足|不足(?:之处|和问题)?$|"
                            r"^(?:存在的?)?(?:主要)?(?:差距|短板|薄弱环节)|困难和问题|问题和困难|面临的(?:困难|挑战|问题)|"
                            r"^(?:主要)?问题$|中的困难$")),
    ("lessons", re.compile(r"经验|体会|启示|几点认识|收获")),
    ("measures", re.compile(r"回顾|[抓做干]了|主要(?:工作|做法|措施|成绩|成效)|(?:工作|取得的?)(?:成效|成绩|成果)|所做的?工作|"
                            r"(?:开展|完成|落实|进展)情况|工作情况|做法|成效|成绩|亮点|已完成")),
    ("plans", re.compile(r"下一步|下半年|下阶段|明年|今后|工作(?:思路|打算|安排|计划|设想|重点|目标|任务|部署)|"
                         r"打算|总体要求|目标|(?:主要|重点|重大)任务|重点工作|今年|新的一年|政府自身建设|努力方向|"
                         r"原则|工作要求|保障措施|"
                         r"意见建议|建议|措施和?建议|对策")),
    ("overview", re.compile(r"基本情况|总体情况|概况|概述|工作综述|总体评价")),
]
# `2025年工作任务` in a report of 2025: the year ahead.
_YEAR_WORK = re.compile(r"(\d{4})年")
_YEAR_BACK = re.compile(r"(?:过去|上)一?年|(\d{4})年(?:工作)?回顾|五年|十年|以来")

# A passage's own words that open a section with no heading.
_TEXT_CUES: list[tuple[str, re.Pattern]] = [
    ("other", re.compile(r"著作权法|public domain|国家机关的决议、决定|维基文库|^本作品|万岁!?$|^(?:分享|政府信息公开|打印本页|关闭窗口)[:]?$|"
                         r"^第.{1,3}项议程|^.{0,16}在.{2,24}代表大会.{0,16}会议上(?!.*各位代表)")),
    ("problems", re.compile(r"^.{0,50}?(?:存在(?:的|着|许多|不少|一些)?(?:主要)?(?:问题|不足|薄弱|短板|差距)|"
                            r"(?:问题|困难)(?:和|与)(?:不足|挑战)|不足之处|(?:清醒|也)(?:地)?(?:看到|认识到)|"
                            r"还(?:存在|有)(?:一些|不少|许多)?(?:问题|不足|差距|困难)|差距和不足)|"
                            r"^.{0,40}?(?:虽然|尽管).{0,80}?但|成绩的同时|面临(?:的|诸多|不少|一些)?(?:困难|挑战|问题)(?:和|与)?(?:困难|挑战|问题)?[:,]")),
    ("lessons", re.compile(r"^.{0,30}?(?:(?:几点|主要|工作)体会|体会(?:是|有)|经验(?:和|与)体会|(?:几点|主要)经验|"
                           r"经验(?:是|有以下)|启示|(?:深刻|深深|深切)(?:地)?(?:认识|体会|感受)到)|"
                           r"把握(?:好|住)?以下(?:一些|几个)?(?:几点|要点)")),
    ("plans", re.compile(r"^.{0,12}?(?:下一步|下半年|下阶段|明年|今后(?:一个时期|一段时间)?|新的一年|今年(?:是|的?主要|工作)|"
                         r"(?:我们|我局|我委|我会|我市|我区|我县)(?:将|要|打算)|(?:\d{4}|今)年(?:的)?工作(?:思路|打算|安排|重点))|"
                         r"^.{0,16}(?:几点|[两三四五]点|以下)意见")),
    ("overview", re.compile(r"^.{0,30}?(?:基本情况|总体情况|现将.{0,30}(?:总结|汇报|报告)(?:如下)?|"
                            r"我代表.{0,10}(?:政府|国务院)|向大会报告)")),
    ("measures", re.compile(r"^.{0,10}?(?:过去的?一年|一年来|(?:上|今)半年以来|今年以来)")),
]
# Roles whose words override a heading of measures: a review often closes with its problems and lessons.
_CLOSING_ROLES = ("problems", "lessons", "other")
_CLOSING = re.compile(r"^(?:各位代表|同志们)[!,].{0,300}让我们")
_RESOLUTION = re.compile(r"决议")
_TITLE = re.compile(r"(?:工作)?(?:报告|总结)$")
# Future and prescriptive wording against past and accomplished: `要…`, `将…`, `确保` against `…了`, `完成`, `累计`.
_AHEAD = re.compile(r"(?<![主重需只不])要(?![求素点闻])|将(?![军近])|必须|应当|务必|确保|力争|争取|计划|拟")
# A report's title tips the balance where its words do not: a 总结 looks back, a 计划 or 意见 ahead.
_TITLE_BACK = re.compile(r"总结|回顾|汇报")
_TITLE_AHEAD = re.compile(r"计划|意见|方案|打算|要点|安排|讲话")
_DONE = re.compile(r"了|已经?|累计|共计|同比|比上年|较上年|先后|圆满|全年共")


def roles(title: str | None, heading_paths: Sequence[Sequence[str]], texts: Sequence[str],
          year: int | None = None) -> list[str]:
    """The role code of each passage of one report, in document order."""
    if title and _RESOLUTION.search(title):
        return ["other"] * len(texts)
    norms = [normalise(text).strip() for text in texts]
    paths = [tuple(path) for path in heading_paths]
    moods = [_mood(norm) for norm in norms]
    doc_mood = sum(moods)
    bias = -1 if title and _TITLE_BACK.search(normalise(title)) else (
        1 if title and _TITLE_AHEAD.search(normalise(title)) else 0)
    blocks: dict[str, int] = {}
    for path, mood in zip(paths, moods):
        blocks[_block(path)] = blocks.get(_block(path), 0) + mood
    out: list[str] = []
    carried: tuple[tuple[str, ...], str] | None = None  # a role the words gave, and the headings it holds under
    seen_body = False
    for i, (path, norm) in enumerate(zip(paths, norms)):
        role = _from_headings(path, year)
        own = None if role else _own_heading(norm, year)
        if own:
            role, carried = own, (path, own)  # an unnumbered heading line names what follows it
        cue = None if _is_heading_line(norm) else _from_words(norm)
        if carried and not ((path == carried[0] and not _opens_section(norm))
                            or (carried[0] and path[:len(carried[0])] == carried[0] and len(path) > len(carried[0]))):
            carried = None
        if cue and (not role or cue == "other" or (role in ("measures", "overview") and cue in _CLOSING_ROLES)):
            role = cue
            # A problem named on the way to what must be done (`…但还存在不少问题。必须…`) opens no section.
            ahead = cue == "problems" and moods[i] > 0 and not norm.endswith((";", ":"))
            carried = None if cue == "overview" or ahead else (path, cue)
        elif carried and (role is None or (role == "measures" and carried[1] in _CLOSING_ROLES)):
            role = carried[1]
        if i >= len(texts) * 0.85 and _CLOSING.match(norm) and seen_body:
            role = "other"  # the closing call: 各位代表！让我们…
        if (not role and not seen_body and not path and not marker_of(norm)
                and (i == 0 or (out[-1] == "overview" and len(norms[i - 1]) <= 12))):
            role = "overview"  # the opening paragraph (after a salutation)
        if not role and not CJK.search(norm):
            role = "other"  # `…………`, a lone number: nothing to read
        if not role:
            ahead = (blocks[_block(path)] if path else sum(moods[max(0, i - 1):i + 2])) + bias
            role = "plans" if ahead > 0 or (ahead == 0 and doc_mood > 0) else "measures"
        seen_body = seen_body or bool(path) or role != "overview"
        out.append(role)
    return out


def _opens_section(norm: str) -> bool:
    """A passage that starts a new top-level item (`一、`, `第二,`), ending a role its words began;
    a numbered list (`1、`) goes on with it."""
    marker = marker_of(norm)
    return bool(marker) and marker.style in ("cn", "ordinal")


def _mood(norm: str) -> int:
    return len(_AHEAD.findall(norm)) - len(_DONE.findall(norm))


def _block(path: tuple[str, ...]) -> str:
    """The top numbered heading a passage stands under (its section)."""
    for heading in path:
        if marker_of(normalise(heading)):
            return heading
    return path[0] if path else ""


def _from_headings(path: tuple[str, ...], year: int | None) -> str | None:
    """The role the outermost heading that names one gives; a `一、` heading first, as the parser may
    have nested it under an unnumbered line."""
    norms = [normalise(heading) for heading in path]
    top = [i for i, h in enumerate(norms) if (marker_of(h) or (None,))[0] == "cn"]
    # Above a `一、` heading the parser may have kept an unnumbered line (a salutation, a book title,
    # `首先报告2001年的工作`) that does not in fact hold the numbered sections: it is not asked.
    for heading in norms[top[0]:] if top else norms:
        role = _heading_role(heading, year)
        if role:
            return role
    return None


def _is_heading_line(norm: str) -> bool:
    marker = marker_of(norm)
    return len(norm) <= 40 and bool(marker) and "。" not in norm[:-1]


def _own_heading(norm: str, year: int | None) -> str | None:
    """A passage that is itself a short heading line takes the role it names."""
    marker = marker_of(norm)
    if len(norm) > 40 or (not marker and (len(norm) > 20 or norm.endswith("。"))) or "。" in norm[:-1]:
        return None
    return _heading_role(norm, year)


def _heading_role(heading: str, year: int | None) -> str | None:
    heading = heading.rstrip(":")
    if _TITLE.search(heading):
        return None  # the report's own title, repeated as a heading
    m = _YEAR_WORK.search(heading)
    if m and not _YEAR_BACK.search(heading):
        if year is not None:
            return "plans" if int(m.group(1)) >= year else "measures"
    for role, pattern in _HEADING_CUES:
        if pattern.search(heading):
            return role
    return None


def _from_words(norm: str) -> str | None:
    for role, pattern in _TEXT_CUES:
        if pattern.search(norm):
            return role
    return None
