"""The siting marginal curve: the share of the population covered against the number of new
service points (k = 0 … K), each k solved on its own by the analysis (:mod:`analysis.siting`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._svg import (
    axis_label,
    close_svg,
    grid_line,
    linear,
    open_svg,
    percent,
    source_line,
    tick_label,
    ticks,
)

LEFT = 80
RIGHT = 40
TOP = 50
PLOT_H = 220
BOTTOM = 70
COLOUR = "#08519c"


def marginal_curve_svg(
    points: Sequence[Mapping[str, Any]],
    *,
    title: str,
    source: str,
    x_unit: str = "新增服务点数 new service points (个 count)",
    y_unit: str = "覆盖人口比例 population covered (%)",
    width: int = 760,
) -> str:
    """Points (``k``, ``share`` 0–1, optional ``gain`` in persons) joined in order of ``k`` as
    a standalone SVG document: one ``<circle class="point">`` per point, the persons each new
    point adds written beside it."""
    x0, x1 = LEFT, width - RIGHT
    base, top = TOP + PLOT_H, TOP
    ks = [int(p["k"]) for p in points]
    shares = [float(p["share"]) for p in points]
    lo = min(shares, default=0.0)
    lo_axis = max(0.0, math.floor((lo - 0.02) * 10) / 10)  # a round 10 % below the lowest
    py = linear(lo_axis, 1.0, base, top)
    px = linear(0.0, float(max(ks, default=1) or 1), x0, x1)
    height = TOP + PLOT_H + BOTTOM
    parts = open_svg(width, height, "marginal-curve", title)
    for t in ticks(lo_axis, 1.0, 5):
        y = py(t)
        parts.append(grid_line(x0, y, x1, y) + tick_label(x0 - 6, y + 4, percent(t), anchor="end"))
    parts += [tick_label(px(k), base + 16, str(k)) for k in ks]
    if points:
        d = " L".join(f"{px(k):.2f},{py(s):.2f}" for k, s in zip(ks, shares, strict=True))
        parts.append(
            f'<path class="curve" d="M{d}" stroke="{COLOUR}" stroke-width="2" fill="none"/>'
        )
    for p, k, s in zip(points, ks, shares, strict=True):
        gain = p.get("gain")
        label = f"{s:.1%}" + ("" if gain is None else f" (+{float(gain):,.0f} 人 persons)")
        parts.append(
            f'<circle class="point" cx="{px(k):.2f}" cy="{py(s):.2f}" r="4" fill="{COLOUR}" '
            f'data-k="{k}" data-share="{s:.6f}"><title>k={k}: {label}</title></circle>'
            f'<text x="{px(k) + (-6 if k == max(ks) and k else 6):.1f}" y="{py(s) + 18:.1f}" '
            f'text-anchor="{"end" if k == max(ks) and k else "start"}">{label}</text>'
        )
    parts.append(axis_label((x0 + x1) / 2, base + 36, x_unit))
    parts.append(axis_label(22, (top + base) / 2, y_unit, rotate=True))
    parts.append(source_line(10, height - 8, source))
    return close_svg(parts)
