"""Security headers on every response, and guards for file names taken from requests.

:func:`register` adds an ``after_request`` hook setting a Content-Security-Policy that allows
only this site (plus map tiles as images; no inline or remote scripts, no framing),
``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, a same-origin referrer policy
and ``Cache-Control: no-store`` on JSON.

File names and paths derived from request values (downloads, exports):

A value that ends up in a file name (a lawyer's name in ``<lawyer>.ics``, a month folder) must
never let a request read or write outside its folder: no path separators, no ``..``, no hidden
or absolute names, no control characters; and the joined path is re-checked with
:func:`werkzeug.security.safe_join`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response
from werkzeug.security import safe_join

from .errors import ApiError

BASEMAP_EXTENSION = "doorstep_basemap"
"""``app.extensions`` key of the app's resolved basemap (:class:`webmap.basemaps.TileSource`)."""


def content_security_policy(tile_origin: str | None = None) -> str:
    """The site's CSP: everything from the site itself, images also from the basemap's tile
    host (``None``: offline, no external host at all)."""
    img = "img-src 'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"{img}; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    )


HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}


def register(app: Flask) -> None:
    """Add the security headers to every response (a view may set its own stricter ones)."""

    @app.after_request
    def _headers(resp: Response) -> Response:
        for k, v in response_headers(app, resp.mimetype).items():
            resp.headers.setdefault(k, v)
        return resp


def response_headers(app: Flask, mimetype: str | None) -> dict[str, str]:
    """The headers every response carries (unless a view set its own), by content type."""
    out = dict(HEADERS)
    source = app.extensions.get(BASEMAP_EXTENSION)
    out["Content-Security-Policy"] = content_security_policy(
        None if source is None else source.origin()
    )
    if mimetype == "application/json":
        out["Cache-Control"] = "no-store"
    if app.config.get("HTTPS"):
        out["Strict-Transport-Security"] = "max-age=31536000"
    return out


_FORBIDDEN = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}


def safe_name(value: str, field: str, *, max_len: int = 64) -> str:
    """Return ``value`` if it is usable as one file-name component, else a 400 naming ``field``."""
    v = value.strip()
    if (
        not v
        or len(v) > max_len
        or v.startswith(".")
        or ".." in v
        or any(ch in _FORBIDDEN for ch in v)
    ):
        raise ApiError(
            400,
            f"'{field}' may not contain path characters (/ \\ : .. or a leading dot)",
            field,
        )
    return v


def inside(folder: str | Path, name: str) -> Path:
    """``folder / name``, refused (404) if the result would leave ``folder``."""
    joined = safe_join(str(folder), name)
    if joined is None:
        raise ApiError(404, "no such file")
    p = Path(joined)
    if Path(folder).resolve() not in p.resolve().parents:
        raise ApiError(404, "no such file")
    return p
