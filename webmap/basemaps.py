"""Selectable basemaps and the GCJ-02 shift of overlays.

``none`` (default) draws no tiles at all — the map works with no network. ``osm`` and
``tianditu`` are WGS84 (Tianditu uses CGCS2000, which equals WGS84 at map scale); ``amap``
(高德) tiles are in GCJ-02, so every overlay is shifted with
:func:`geo.coords.geometry_wgs84_to_gcj02` before drawing, otherwise points would sit
~300–600 m off their roads and villages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doorstep.geo._errors import InputError


@dataclass(frozen=True)
class Basemap:
    """A tile source: URL template, attribution, datum and whether it needs a user key."""

    name: str
    label: str
    url: str | None
    attribution: str
    datum: str = "WGS84"  # or "GCJ02"
    needs_key: bool = False
    subdomains: str = "abc"

    def tiles_url(self, key: str | None = None) -> str | None:
        """Tile URL with the user key filled in (``None`` for the offline basemap)."""
        if self.url is None:
            return None
        if self.needs_key:
            if not key:
                raise InputError(
                    f"basemap {self.name!r} needs a user key (天地图 token); "
                    "pass --tianditu-key or choose --basemap none"
                )
            return self.url.replace("{key}", key)
        return self.url


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图（离线）No basemap (offline)", None, ""),
    "osm": Basemap(
        "osm",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    "tianditu": Basemap(
        "tianditu",
        "天地图 Tianditu",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu",
        needs_key=True,
        subdomains="01234567",
    ),
    "amap": Basemap(
        "amap",
        "高德地图 Amap (GCJ-02)",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        datum="GCJ02",
        subdomains="1234",
    ),
}


def get_basemap(name: str) -> Basemap:
    """Look up a basemap by name (``none``, ``osm``, ``tianditu``, ``amap``)."""
    try:
        return BASEMAPS[name]
    except KeyError:
        raise InputError(f"unknown basemap {name!r}; choose one of {', '.join(BASEMAPS)}") from None


def shift_for(basemap: Basemap, gdf: Any) -> Any:
    """Return ``gdf`` (EPSG:4326) shifted to the basemap's datum (a copy when shifted)."""
    if basemap.datum != "GCJ02" or gdf is None or len(gdf) == 0:
        return gdf
    from doorstep.geo.coords import geometry_wgs84_to_gcj02  # numpy: not needed for the names

    out = gdf.copy()
    out["geometry"] = [geometry_wgs84_to_gcj02(g) for g in out.geometry]
    return out
