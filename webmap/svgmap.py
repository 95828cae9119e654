"""Static maps as inline SVG for printables (report, route sheets): no tiles, no external request.

A :class:`Frame` maps WGS84 longitude/latitude onto a pixel box with a local equirectangular
projection (x scaled by cos of the mid latitude, which at county scale differs from Web
Mercator by well under a pixel). Layers are drawn in order; every map carries a scale bar in
km, a north arrow and a legend, so a printed page can be read without the app.

It draws only what it is given: geometries are chosen and coloured by the caller from model
layers; nothing here computes a figure.

>>> f = Frame.fit((109.2, 28.3, 109.7, 28.8), width=400, height=400)
>>> x, y = f.xy(109.45, 28.55)
>>> round(x), round(y)
(200, 200)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from shapely.geometry.base import BaseGeometry

EARTH_KM_PER_DEG = 111.32


@dataclass(frozen=True)
class Frame:
    """Pixel box ``width`` × ``height`` showing lon/lat ``bounds`` (minx, miny, maxx, maxy)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    width: int
    height: int
    scale: float  # px per degree of latitude
    ox: float  # pixel offsets that centre the bounds in the box
    oy: float

    @classmethod
    def fit(
        cls, bounds: Sequence[float], *, width: int = 640, height: int = 480, margin: int = 12
    ) -> Frame:
        """The frame that fits ``bounds`` (lon/lat) into the box with ``margin`` px on each side."""
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        if not (maxx >= minx and maxy >= miny) or any(map(math.isnan, (minx, miny, maxx, maxy))):
            raise ValueError(f"bounds must be (minx, miny, maxx, maxy), got {tuple(bounds)}")
        if maxx - minx < 1e-6:
            minx, maxx = minx - 0.005, maxx + 0.005
        if maxy - miny < 1e-6:
            miny, maxy = miny - 0.005, maxy + 0.005
        kx = math.cos(math.radians((miny + maxy) / 2))
        inner_w, inner_h = max(width - 2 * margin, 1), max(height - 2 * margin, 1)
        scale = min(inner_w / ((maxx - minx) * kx), inner_h / (maxy - miny))
        ox = (width - (maxx - minx) * kx * scale) / 2
        oy = (height - (maxy - miny) * scale) / 2
        return cls(minx, miny, maxx, maxy, width, height, scale, ox, oy)

    @property
    def kx(self) -> float:
        return math.cos(math.radians((self.miny + self.maxy) / 2))

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel position of a lon/lat point (y grows downwards)."""
        return (
            self.ox + (lon - self.minx) * self.kx * self.scale,
            self.oy + (self.maxy - lat) * self.scale,
        )

    def px_per_km(self) -> float:
        return self.scale / EARTH_KM_PER_DEG


@dataclass(frozen=True)
class Layer:
    """Geometries (WGS84) drawn with one style; ``labels`` (same length) name points or lines.

    ``radius`` is used for points, ``stroke``/``width``/``dash`` for lines and outlines,
    ``fill`` for polygons and points. ``legend`` is the text shown in the legend (none if empty).
    """

    geometries: Sequence[BaseGeometry]
    stroke: str = "#333"
    width: float = 1.0
    fill: str = "none"
    radius: float = 3.0
    dash: str = ""
    opacity: float = 1.0
    labels: Sequence[str] | None = None
    legend: str = ""
    css_class: str = ""
    label_size: float = 10.0
    fills: Sequence[str] | None = field(default=None)  # per-geometry fill, overrides ``fill``


def _ring(coords: Iterable[Sequence[float]], frame: Frame, close: bool) -> str:
    pts = [frame.xy(c[0], c[1]) for c in coords]
    if not pts:
        return ""
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    return d + ("Z" if close else "")


def path_d(geom: BaseGeometry, frame: Frame) -> str:
    """SVG path data of a line or polygon geometry (any multi-part or collection)."""
    kind = geom.geom_type
    if kind == "LineString" or kind == "LinearRing":
        return _ring(geom.coords, frame, close=False)
    if kind == "Polygon":
        parts = [_ring(geom.exterior.coords, frame, True)]
        parts += [_ring(r.coords, frame, True) for r in geom.interiors]
        return " ".join(parts)
    if hasattr(geom, "geoms"):
        return " ".join(path_d(g, frame) for g in geom.geoms if not g.is_empty)
    return ""


def _layer_svg(layer: Layer, frame: Frame) -> str:
    out: list[str] = []
    cls = f' class="{escape(layer.css_class)}"' if layer.css_class else ""
    out.append(f'<g{cls} opacity="{layer.opacity:g}">')
    dash = f' stroke-dasharray="{layer.dash}"' if layer.dash else ""
    for i, geom in enumerate(layer.geometries):
        if geom is None or geom.is_empty:
            continue
        fill = layer.fills[i] if layer.fills is not None else layer.fill
        if geom.geom_type in ("Point", "MultiPoint"):
            pts = [geom] if geom.geom_type == "Point" else list(geom.geoms)
            for p in pts:
                x, y = frame.xy(p.x, p.y)
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{layer.radius:g}" fill="{fill}" '
                    f'stroke="{layer.stroke}" stroke-width="{layer.width:g}"/>'
                )
        else:
            poly_fill = fill if "Polygon" in geom.geom_type else "none"
            out.append(
                f'<path d="{path_d(geom, frame)}" fill="{poly_fill}" stroke="{layer.stroke}" '
                f'stroke-width="{layer.width:g}"{dash} stroke-linejoin="round" fill-rule="evenodd"/>'
            )
        if layer.labels is not None and i < len(layer.labels) and layer.labels[i]:
            anchor = geom if geom.geom_type == "Point" else geom.representative_point()
            x, y = frame.xy(anchor.x, anchor.y)
            dx = layer.radius + 2 if geom.geom_type == "Point" else 0
            anchor_attr = "" if dx else ' text-anchor="middle"'
            at = f'x="{x + dx:.1f}" y="{y + 3:.1f}" font-size="{layer.label_size:g}"{anchor_attr}'
            text = escape(layer.labels[i])
            # the halo is a white copy underneath (WeasyPrint ignores ``paint-order``)
            out.append(
                f'<text class="halo" {at} fill="#fff" stroke="#fff" stroke-width="2.5">{text}</text>'
                f'<text {at} fill="#111">{text}</text>'
            )
    out.append("</g>")
    return "".join(out)


def _nice_km(target: float) -> float:
    """A round length (1, 2, 5 × 10^k km) close to ``target`` km."""
    if target <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(target))
    return min((m * base for m in (1, 2, 5, 10)), key=lambda v: abs(v - target))


def _furniture(frame: Frame) -> str:
    km = _nice_km(frame.width * 0.2 / frame.px_per_km())
    bar = km * frame.px_per_km()
    x0, y0 = 10.0, frame.height - 12.0
    label = f"{km:g} km"
    return (
        f'<g class="scale-bar"><rect x="{x0 - 4}" y="{y0 - 16}" width="{bar + 48}" height="22" '
        f'fill="#fff" opacity="0.8"/><path d="M{x0},{y0 - 4} V{y0} H{x0 + bar:.1f} V{y0 - 4}" '
        f'stroke="#111" fill="none" stroke-width="1.5"/><text x="{x0 + bar + 4:.1f}" y="{y0}" '
        f'font-size="10">{label}</text></g>'
        f'<g class="north" transform="translate({frame.width - 18},{22})"><path d="M0,-12 L5,4 '
        f'L0,0 L-5,4Z" fill="#111"/><text x="0" y="14" font-size="9" text-anchor="middle">'
        f"N</text></g>"
    )


def _legend(layers: Sequence[Layer], frame: Frame) -> str:
    rows = [lay for lay in layers if lay.legend]
    if not rows:
        return ""
    h = 8 + 16 * len(rows)
    w = 12 + max(len(lay.legend) for lay in rows) * 9
    x0 = frame.width - w - 6
    y0 = frame.height - h - 6
    out = [
        f'<g class="legend"><rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="#fff" '
        f'opacity="0.88" stroke="#999" stroke-width="0.5"/>'
    ]
    for i, lay in enumerate(rows):
        y = y0 + 12 + 16 * i
        fill = lay.fills[0] if lay.fills else lay.fill
        if (
            lay.radius
            and fill != "none"
            and lay.stroke != "none"
            and not lay.dash
            and lay.width <= 1
        ):
            sym = f'<circle cx="{x0 + 10}" cy="{y}" r="4" fill="{fill}" stroke="{lay.stroke}"/>'
        elif fill != "none":
            sym = f'<rect x="{x0 + 5}" y="{y - 5}" width="10" height="10" fill="{fill}" stroke="{lay.stroke}"/>'
        else:
            dash = f' stroke-dasharray="{lay.dash}"' if lay.dash else ""
            sym = (
                f'<path d="M{x0 + 3},{y} H{x0 + 17}" stroke="{lay.stroke}" '
                f'stroke-width="{max(lay.width, 1.5):g}"{dash}/>'
            )
        out.append(
            sym + f'<text x="{x0 + 22}" y="{y + 4}" font-size="10">{escape(lay.legend)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def svg_map(
    frame: Frame,
    layers: Sequence[Layer],
    *,
    title: str = "",
    source: str = "",
    css_class: str = "map",
) -> str:
    """An ``<svg>`` element: ``layers`` in order, then scale bar, north arrow and legend.

    ``title`` becomes the accessible name (``<title>``); ``source`` (e.g. "roads: OSM (real) +
    modelled local roads") is printed along the bottom edge.
    """
    body = "".join(_layer_svg(layer, frame) for layer in layers)
    src = (
        f'<text x="{frame.width / 2:.0f}" y="{frame.height - 3}" font-size="8" fill="#444" '
        f'text-anchor="middle">{escape(source)}</text>'
        if source
        else ""
    )
    ttl = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" height="{frame.height}" '
        f'font-family="sans-serif">{ttl}<rect width="100%" height="100%" fill="#fbfaf7"/>'
        f"{body}{_furniture(frame)}{_legend(layers, frame)}{src}</svg>"
    )


def geometries(frame_like: Any) -> list[BaseGeometry]:
    """Geometries of a GeoSeries/GeoDataFrame in WGS84 (reprojected if needed; CRS required)."""
    geo = getattr(frame_like, "geometry", frame_like)
    crs = getattr(geo, "crs", None)
    if crs is None:
        raise ValueError("geometries need a CRS to be drawn (set_crs first)")
    if crs.to_epsg() != 4326:
        geo = geo.to_crs(4326)
    return list(geo)
