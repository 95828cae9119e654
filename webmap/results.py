"""Adapters from :mod:`analysis` results (siting, circuits) to map layers.

Nothing is computed here: these functions call the analysis glue for the county model and
reshape its output into the GeoDataFrames :class:`webmap.layers.MapLayers` draws.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd

from geo._errors import InputError

log = logging.getLogger(__name__)


def proposed_sites(model: Any, k: int, mode: str = "car") -> gpd.GeoDataFrame:
    """Proposed new sites (points with ``name``, ``note``) from :mod:`analysis.siting`."""
    try:
        from analysis.siting import county as siting_county  # type: ignore[attr-defined]
    except ImportError as exc:
        raise InputError(
            "siting for the county model is not available yet (analysis.siting.county)"
        ) from exc
    raise InputError(f"siting adapter not wired yet ({siting_county.__name__})")


def circuit_routes(model: Any, month: str) -> gpd.GeoDataFrame:
    """Lawyer day routes of ``month`` (LineStrings) from :mod:`analysis.circuits`."""
    raise InputError(
        "circuit routes for the county model are not available yet (analysis.circuits)"
    )
