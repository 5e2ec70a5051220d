"""The source line that goes with a copied or exported passage:
`——《2022年市区城市管理局工作报告》（2022，市区城市管理局）二、主要工作 › （一）…`."""
from __future__ import annotations

from typing import Collection, Sequence


INFERRED_NAMES = {"year": "年份", "issuer": "发文单位", "region": "地区"}


def citation(title: str, year: int | None, issuer: str | None, region: str | None,
             heading_path: Sequence[str], inferred: Collection[str] = ()) -> str:
    """Title, then year and issuer (the region where no issuer is known), then the heading path. Of the
    values shown, those read from the body rather than declared (`inferred`: year, issuer, region)
    are named: `（2022，市城管局；年份据正文推断）`, so a writer quoting it can check them."""
    shown = [(name, v) for name, v in (("year", year), ("issuer", issuer) if issuer else ("region", region)) if v]
    details = "，".join(str(v) for _, v in shown)
    guessed = "、".join(INFERRED_NAMES[name] for name, _ in shown if name in inferred)
    if guessed:
        details += f"；{guessed}据正文推断"
    line = f"——《{title}》" + (f"（{details}）" if details else "")
    return line + " › ".join(heading_path)
