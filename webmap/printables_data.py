"""What the printable plans (排班表, route sheets) show, gathered from a planned month.

:class:`PrintablePlan` holds the month's plan as analysis left it (routes, stops, minutes, km,
the calendar), the route lines of :func:`analysis.circuits.export.routes_geojson`, the county
outline and the roster's phones. The printables render only this: nothing is computed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .printing import CJK_FONT_STACK, page_css

if TYPE_CHECKING:
    from doorstep.analysis.circuits.county import CountyMonth
    from doorstep.analysis.circuits.plan import MonthPlan
    from doorstep.geo.model import CountyModel

HOTLINE = "12348"


@dataclass(frozen=True)
class PrintablePlan:
    """A planned month ready to print.

    ``source`` says who assigned the villages (staff roster, modelled roster or the planner);
    ``phones`` maps lawyer id to phone (roster; empty without one); ``coords`` WGS84 lon/lat of
    every place key; ``lines`` the drawn line of each day route keyed by (lawyer id, ISO date);
    ``outline`` the county outline (WGS84) or ``None``; ``generated`` when the plan was printed.
    """

    plan: MonthPlan
    county: str
    source: str
    phones: Mapping[str, str]
    coords: Mapping[str, tuple[float, float]]
    lines: Mapping[tuple[str, str], BaseGeometry]
    outline: BaseGeometry | None
    generated: dt.datetime
    line_source: str = "straight legs between stops"

    @classmethod
    def from_county_month(
        cls,
        cm: CountyMonth,
        model: CountyModel,
        routes: Mapping[str, Any],
        *,
        generated: dt.datetime | None = None,
    ) -> PrintablePlan:
        """From :func:`analysis.circuits.county.plan_county_month`'s result, the model it was
        planned on and the routes GeoJSON (:func:`analysis.circuits.export.routes_geojson`)."""
        outline = None
        if len(model.county):
            outline = model.county.to_crs("EPSG:4326").geometry.union_all()
        feats = routes.get("features", [])
        lines = {
            (str(f["properties"]["lawyer_id"]), str(f["properties"]["date"])): shape(f["geometry"])
            for f in feats
        }
        src = str(feats[0]["properties"].get("geometry_source", "")) if feats else ""
        return cls(
            plan=cm.plan,
            county=f"{model.name}（{model.code}）",
            source=cm.plan_source,
            phones={lw.id: cm.phone_of(lw.id) for lw in cm.lawyers},
            coords=dict(cm.travel.coords),
            lines=lines,
            outline=outline,
            generated=generated or dt.datetime.now(dt.UTC).replace(microsecond=0),
            line_source=src or "straight legs between stops",
        )

    def phone(self, lawyer_id: str) -> str:
        """The adviser's phone, or a dash when the roster gives none."""
        return self.phones.get(lawyer_id) or "—"

    def footer(self) -> str:
        """The page footer: county, month, generation time, and that times are modelled."""
        return (
            f"{self.county} {self.plan.month} · 生成 generated {self.generated:%Y-%m-%d %H:%M} UTC"
            " · 时间与里程为模型估算 times and km are modelled"
        )


def document(title: str, css: str, body: str, *, orientation: str, footer: str) -> str:
    """A self-contained print-ready HTML document (inline CSS, A4 ``@page`` of
    :func:`webmap.printing.page_css`)."""
    base = (
        f"{page_css(orientation, footer=footer)}"
        f" body {{ font-family: {CJK_FONT_STACK}; color: #111; margin: 0; }}"
        " h1 { font-size: 14pt; margin: 0 0 2mm; }"
        " .meta { font-size: 8pt; color: #333; margin: 0 0 2mm; }"
        " table { border-collapse: collapse; }"
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{base}{css}</style></head>"
        f"<body>{body}</body></html>"
    )
