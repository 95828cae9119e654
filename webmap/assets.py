"""Offline web assets: Leaflet and jQuery shipped in ``webmap/static/vendor`` (no CDN).

Folium maps normally pull Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; the county
office machines often have no internet, so every map built here references local copies
(:func:`offline_map`) and :func:`copy_vendor` puts them next to the published pages.
"""

from __future__ import annotations

import base64
import re
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


def _data_uris(css: str, folder: Path) -> str:
    """Replace ``url(relative.png)`` in ``css`` (relative to ``folder``) by data: URIs."""

    def one(m: re.Match[str]) -> str:
        ref = m.group(1).strip("'\"")
        f = folder / ref
        if ref.startswith(("#", "data:")) or not f.is_file():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(f.read_bytes()).decode()})"

    return re.sub(r"url\(([^)]+)\)", one, css)


def inline_vendor(page: str, prefix: str = "vendor") -> str:
    """A page whose ``{prefix}/...`` scripts and style sheets are written into it (images of
    the style sheets as data: URIs): one self-contained HTML file that can be e-mailed."""

    def script(m: re.Match[str]) -> str:
        code = (VENDOR_DIR / m.group(1)).read_text(encoding="utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def style(m: re.Match[str]) -> str:
        f = VENDOR_DIR / m.group(1)
        return "<style>" + _data_uris(f.read_text(encoding="utf-8"), f.parent) + "</style>"

    p = re.escape(prefix)
    page = re.sub(rf'<script src="{p}/([^"]+)"></script>', script, page)
    return re.sub(rf'<link rel="stylesheet" href="{p}/([^"]+)"\s*/?>', style, page)
