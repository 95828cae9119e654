"""The sensitivity tornado chart.

:func:`tornado_svg` draws the one-at-a-time sensitivity of :mod:`analysis.uncertainty` as a
tornado chart: one bar per parameter from the county share at the parameter's low end to the
share at its high end, largest swing on top, a vertical line at the nominal share. It only
draws what it is given; the shares are computed in the analysis layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ._svg import (
    MUTED,
    Scale,
    close_svg,
    grid_line,
    linear,
    open_svg,
    percent,
    tick_label,
    ticks,
)

LABEL_W = 250  # px for the parameter names
VALUE_W = 120  # px for the swing text on the right
ROW_H = 22
TOP = 58
BOTTOM = 40
LOWER_COLOUR = "#d95f02"  # the high end lowers the share
RAISE_COLOUR = "#1b9e77"  # the high end raises the share


def _scale(lo: float, hi: float, x0: float, x1: float) -> tuple[float, float, Scale]:
    """Padded domain ``[lo, hi]`` of shares mapped to pixels ``[x0, x1]``."""
    span = hi - lo
    pad = span * 0.05 if span > 0 else 0.01
    lo, hi = max(0.0, lo - pad), min(1.0, hi + pad)
    if hi <= lo:
        lo, hi = max(0.0, lo - 0.01), min(1.0, hi + 0.01)
    return lo, hi, linear(lo, hi, x0, x1)


def _bar(i: int, row: Mapping[str, Any], px: Scale, x0: float) -> str:
    """One row: label, bar from the low-end to the high-end share, swing in points."""
    a, b = float(row["share_at_low"]), float(row["share_at_high"])
    y = TOP + i * ROW_H
    left, right = px(min(a, b)), px(max(a, b))
    colour = RAISE_COLOUR if b >= a else LOWER_COLOUR
    name = escape(str(row["parameter"]))
    rng = f"{float(row['low']):g} … {float(row['high']):g}"
    tip = f"{name} {rng}: {a:.1%} (low) → {b:.1%} (high)"
    return (
        f'<text x="{x0 - 8}" y="{y + 15}" text-anchor="end">{name} '
        f'<tspan fill="#666">[{escape(rng)}]</tspan></text>'
        f'<rect class="bar" x="{left:.1f}" y="{y + 4}" width="{max(right - left, 0.0):.1f}" '
        f'height="{ROW_H - 8}" fill="{colour}" data-parameter="{name}" '
        f'data-share-low="{a:.6f}" data-share-high="{b:.6f}"><title>{tip}</title></rect>'
        f'<text x="{right + 6:.1f}" y="{y + 15}" fill="#333">'
        f"Δ {100 * abs(b - a):.1f} pp</text>"
    )


def tornado_svg(rows: Sequence[Mapping[str, Any]], *, mode: str, width: int = 760) -> str:
    """A tornado chart of one-at-a-time sensitivity rows (``parameter``, ``low``, ``high``,
    ``share_at_low``, ``share_at_high``, ``share_nominal``; shares as fractions 0–1) as a
    standalone SVG document. One ``<rect class="bar">`` per row, in the given order."""
    x0, x1 = LABEL_W, width - VALUE_W
    vals = [float(r[k]) for r in rows for k in ("share_at_low", "share_at_high")]
    nominal = float(rows[0]["share_nominal"]) if rows else math.nan
    if math.isfinite(nominal):
        vals.append(nominal)
    lo, hi, px = _scale(min(vals, default=0.0), max(vals, default=1.0), x0, x1)
    height = TOP + ROW_H * max(len(rows), 1) + BOTTOM
    y_end = TOP + ROW_H * len(rows)
    parts = open_svg(
        width,
        height,
        "tornado",
        f"敏感性：县域达标人口比例 County share meeting the target (%, {mode})",
        "模拟 Modelled: each parameter at the low / high end of its range, others nominal; "
        "bar = low-end to high-end share",
        accessible_title="敏感性（单因素）Sensitivity, one at a time",
    )
    for t in ticks(lo, hi):
        x = px(t)
        parts.append(grid_line(x, TOP - 4, x, y_end) + tick_label(x, y_end + 16, percent(t)))
    parts += [_bar(i, r, px, x0) for i, r in enumerate(rows)]
    if math.isfinite(nominal):
        xn = px(nominal)
        parts.append(
            f'<line class="nominal" x1="{xn:.1f}" y1="{TOP - 8}" x2="{xn:.1f}" y2="{y_end}" '
            f'stroke="#000" stroke-dasharray="4 3"/><text x="{xn:.1f}" y="{TOP - 10}" '
            f'text-anchor="middle">名义 nominal {nominal:.1%}</text>'
        )
    parts.append(
        f'<text x="{x0}" y="{y_end + 32}" fill="{MUTED}">'
        f'<tspan fill="{RAISE_COLOUR}">■</tspan> high end raises the share  '
        f'<tspan fill="{LOWER_COLOUR}">■</tspan> high end lowers it · '
        "Δ = swing in percentage points (pp)</text>"
    )
    return close_svg(parts)
