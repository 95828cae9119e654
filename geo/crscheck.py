"""Detect GCJ-02 (Amap/高德) coordinates that a user file labels WGS84.

The mistake is common: coordinates are copied from a Chinese web map (GCJ-02) into a table whose
``crs`` column says ``WGS84``. Each point is then ~400–600 m (about 470 m in Huayuan) from its true
place — too little to fall outside the county, enough to move villages across ridges and skew
travel times. When the same codes have reference geocodes, the error is recognisable: the user
points sit almost exactly at ``wgs84_to_gcj02(reference)``.

Rule (conservative, to avoid false alarms on genuine surveys): among the WGS84-labelled rows
with a reference point, the file is refused when at least one point, and more than half of them,
lie within ``tol_m`` of the GCJ-02-shifted reference, and more of them lie there than within
``tol_m`` of the reference itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ._errors import CRSError
from .coords import haversine_m, looks_like_gcj02_shift

log = logging.getLogger(__name__)

GCJ02_MISLABEL_MESSAGE = (
    "these look like GCJ-02 (Amap) coordinates labelled WGS84 — set crs to GCJ02"
)


def check_gcj02_mislabel(
    path: str | Path | None,
    lon: ArrayLike,
    lat: ArrayLike,
    crs_list: Sequence[str],
    ref_lon: ArrayLike,
    ref_lat: ArrayLike,
    *,
    rows: Sequence[int] | None = None,
    field: str = "crs",
    tol_m: float = 150.0,
) -> None:
    """Raise :class:`~geo._errors.CRSError` if WGS84-labelled points look like GCJ-02.

    Parameters
    ----------
    path
        The user file (for the message).
    lon, lat
        The user's coordinates as written in the file (degrees).
    crs_list
        The coordinate system each row declares (``"WGS84"`` or ``"GCJ02"``).
    ref_lon, ref_lat
        Reference WGS84 points of the same codes (NaN where none is known).
    rows
        1-based file row of each point (header = row 1); default ``i + 2``.
    tol_m
        How close (metres) a point must be to the shifted reference to count; the GCJ-02 offset
        itself is ~470 m here, so 150 m separates the two hypotheses cleanly.
    """
    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    rlo = np.asarray(ref_lon, dtype=float)
    rla = np.asarray(ref_lat, dtype=float)
    wgs = np.array([c == "WGS84" for c in crs_list], dtype=bool)
    use = wgs & np.isfinite(lo) & np.isfinite(la) & np.isfinite(rlo) & np.isfinite(rla)
    n = int(use.sum())
    if n == 0:
        return
    shifted = np.zeros(len(lo), dtype=bool)
    shifted[use] = looks_like_gcj02_shift(rlo[use], rla[use], lo[use], la[use], tol_m=tol_m)
    near = np.zeros(len(lo), dtype=bool)
    near[use] = haversine_m(rlo[use], rla[use], lo[use], la[use]) < tol_m
    k = int(shifted.sum())
    if k >= 1 and 2 * k > n and k > int(near.sum()):
        i = int(np.flatnonzero(shifted)[0])
        row = int(rows[i]) if rows is not None else i + 2
        off = float(np.median(haversine_m(rlo[shifted], rla[shifted], lo[shifted], la[shifted])))
        raise CRSError(
            path,
            f"{GCJ02_MISLABEL_MESSAGE} ({k} of {n} WGS84-labelled points sit at the GCJ-02 "
            f"offset, median {off:.0f} m, from the reference geocodes of the same codes)",
            row=row,
            field=field,
            fix="write GCJ02 in the crs column (or pass --crs GCJ02) if the points come from "
            "Amap/高德 or Tencent maps",
        )
    if k:
        log.warning(
            "%s: %d of %d WGS84 points sit at the GCJ-02 offset from their reference geocodes",
            path,
            k,
            n,
        )
