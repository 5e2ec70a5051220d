"""The source line that goes with a copied or exported passage:
`——《2022年市区城市管理局工作报告》（2022，市区城市管理局）二、主要工作 › （一）…`."""
from __future__ import annotations

from typing import Sequence


def citation(title: str, year: int | None, issuer: str | None, region: str | None,
             heading_path: Sequence[str]) -> str:
    """Title, then year and issuer (the region where no issuer is known), then the heading path."""
    details = "，".join(str(v) for v in (year, issuer or region) if v)
    line = f"——《{title}》" + (f"（{details}）" if details else "")
    return line + " › ".join(heading_path)
