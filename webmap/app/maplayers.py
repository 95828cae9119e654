"""The offline map's layers as GeoJSON (``/api/maplayers/<name>``), and the basemap setting
the pages draw with.

Layer data come from :data:`webmap.layers.DISPLAY_LAYERS` (the model's roads, townships and
their names, villages and service points — selected and simplified, coordinates rounded to
1e-5°), encoded once per app model and served with an ``ETag`` (``If-None-Match`` answers
304), ``Cache-Control: public, max-age=3600`` and gzip when the client accepts it. All
coordinates are WGS84: on a GCJ-02 basemap the browser shifts them for display.

:func:`register` puts the resolved basemap (:func:`webmap.basemaps.resolve_basemap`) in
``app.extensions["doorstep_basemap"]``, gives every template its page config (``ds_config``:
the basemap, the service point styles of :func:`webmap.layers.tier_config`, the
travel-time classes of :func:`webmap.layers.minute_config` and the what-if colours of
:data:`webmap.layers.COVERAGE_COLOUR`, which ``static/common.js`` and ``static/plan.js`` draw
with) and lets the tile host into the Content-Security-Policy's ``img-src``.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, request

from doorstep.webmap.basemaps import TileSource
from doorstep.webmap.layers import (
    COVERAGE_COLOUR,
    DISPLAY_LAYERS,
    geojson_text,
    minute_config,
    tier_config,
)

from .errors import ApiError
from .security import BASEMAP_EXTENSION
from .state import get_state

bp = Blueprint("maplayers", __name__, url_prefix="/api/maplayers")
MAX_AGE_S = 3600
MIMETYPE = "application/geo+json"
EXTENSION = BASEMAP_EXTENSION


@dataclass(frozen=True)
class EncodedLayer:
    """A layer's GeoJSON bytes, their gzip and their ETag (a hash of the bytes)."""

    body: bytes
    gzipped: bytes
    etag: str


def encode_layer(text: str) -> EncodedLayer:
    """Encode a GeoJSON text once: UTF-8, gzip (level 9, fixed mtime) and a strong ETag."""
    body = text.encode("utf-8")
    return EncodedLayer(
        body, gzip.compress(body, 9, mtime=0), hashlib.sha256(body).hexdigest()[:32]
    )


@bp.get("/<name>")
def layer(name: str) -> Response:
    """One display layer (see module docstring); 404 naming the layers for another name."""
    if name not in DISPLAY_LAYERS:
        raise ApiError(404, f"unknown map layer {name!r}; use {', '.join(DISPLAY_LAYERS)}")
    doc: EncodedLayer = get_state().map_layer(
        name, lambda m: encode_layer(geojson_text(DISPLAY_LAYERS[name](m)))
    )
    headers = {
        "ETag": f'"{doc.etag}"',
        "Cache-Control": f"public, max-age={MAX_AGE_S}",
        "Vary": "Accept-Encoding",
    }
    if doc.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        headers["Content-Encoding"] = "gzip"
        return Response(doc.gzipped, mimetype=MIMETYPE, headers=headers)
    return Response(doc.body, mimetype=MIMETYPE, headers=headers)


def register(app: Flask, source: TileSource) -> None:
    """Store ``source`` (the security headers read it for the CSP's tile host), serve the
    layers and pass the page config (basemap, tier styles, travel-time classes, what-if colours)."""
    app.extensions[EXTENSION] = source
    app.register_blueprint(bp)
    page = {  # constant for the app's life: built once, not per rendered page
        "basemap": source.page_config(),
        "tiers": tier_config(),
        "minutes": minute_config(),
        "coverage": dict(COVERAGE_COLOUR),
    }

    @app.context_processor
    def _config() -> dict[str, Any]:
        return {"ds_config": page}
