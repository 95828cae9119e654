"""Offline web assets: Leaflet and jQuery shipped in ``webmap/static/vendor`` (no CDN).

Folium maps normally pull Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; the county
office machines often have no internet, so every map built here references local copies
(:func:`offline_map`) and :func:`copy_vendor` puts them next to the published pages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import folium

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

#: (name, path relative to the vendor folder) — the only JS/CSS the maps need.
VENDOR_JS: list[tuple[str, str]] = [
    ("leaflet", "leaflet/leaflet.js"),
    ("jquery", "jquery/jquery.min.js"),
]
VENDOR_CSS: list[tuple[str, str]] = [("leaflet_css", "leaflet/leaflet.css")]


def offline_map(prefix: str = "vendor", **kwargs: object) -> folium.Map:
    """A :class:`folium.Map` whose JS/CSS links point to ``{prefix}/...`` instead of CDNs.

    Parameters
    ----------
    prefix
        URL prefix of the vendor folder as seen from the page (relative for ``file://`` sites,
        ``/static/vendor`` for the Flask app).
    **kwargs
        Passed to :class:`folium.Map` (``tiles=None`` is the default: no basemap).
    """
    kwargs.setdefault("tiles", None)
    m = folium.Map(**kwargs)  # type: ignore[arg-type]
    m.default_js = [(n, f"{prefix}/{p}") for n, p in VENDOR_JS]
    m.default_css = [(n, f"{prefix}/{p}") for n, p in VENDOR_CSS]
    return m


def copy_vendor(dest: str | Path) -> Path:
    """Copy the vendor folder to ``dest/vendor`` (replacing an older copy) and return it."""
    target = Path(dest) / "vendor"
    tmp = Path(dest) / ".vendor.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(VENDOR_DIR, tmp, ignore=shutil.ignore_patterns("*.map"))
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target
