"""Service points of the three-tier public legal service platform, modelled and user-edited.

Tiers: ``county_centre`` (县公共法律服务中心) and ``correction_centre`` (县社区矫正中心) at the
county seat, ``township_station`` (乡镇工作站, in the 司法所) at each township seat, and
``village_room`` (村居法务室) at every village. Staffing, monthly staffed hours (the supply used by
accessibility scores), opening hours and contacts come from ``data/params/service_points.toml``;
a CSV/XLSX edits any point (by ``id``) or adds new ones. Which points count for coverage, siting
and each service is defined in :mod:`geo.services`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import DataFileError
from .crscheck import check_gcj02_mislabel
from .readers import check_unique_codes, parse_points, read_table, require_columns
from .services import TIERS, ServicePointRules
from .sources import CountySource

EDITABLE = ("name", "staff", "hours_per_month", "staffed", "opening_hours", "phone", "address")


def model_service_points(
    src: CountySource,
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    defaults: ServicePointRules,
    crs: str,
) -> gpd.GeoDataFrame:
    """The default service-point network of a county (flagged modelled)."""
    rows: list[dict[str, object]] = []

    def _row(
        pid: str,
        tier: str,
        name: str,
        town: str,
        village: str,
        lon: float,
        lat: float,
        quality: str,
        address: str,
    ) -> None:
        t = defaults.tiers[tier]
        rows.append(
            {
                "id": pid,
                "tier": tier,
                "tier_label": t.label_zh,
                "name": name,
                "town_code": town,
                "village_code": village,
                "staff": t.staff,
                "hours_per_month": t.hours_per_month,
                "staffed": t.staffed,
                "opening_hours": t.opening_hours,
                "phone": defaults.hotline,
                "address": address,
                "location_quality": quality,
                "modelled": True,
                "lon": lon,
                "lat": lat,
            }
        )

    slon, slat = src.county_seat
    seat_town = ""
    if len(townships):
        d = (townships["seat_lon"] - slon) ** 2 + (townships["seat_lat"] - slat) ** 2
        seat_town = str(townships["code"].iloc[int(np.argmin(d.to_numpy()))])
    _row(
        f"{src.code}-C",
        "county_centre",
        f"{src.name}公共法律服务中心",
        seat_town,
        "",
        slon,
        slat,
        "modelled (county seat)",
        f"{src.name}县城",
    )
    # ~150 m east of the centre: a separate building in the county seat (location modelled)
    _row(
        f"{src.code}-K",
        "correction_centre",
        f"{src.name}社区矫正中心",
        seat_town,
        "",
        slon + 0.0015,
        slat,
        "modelled (county seat)",
        f"{src.name}县城",
    )
    for _, t in townships.iterrows():
        q = (
            "modelled (town seat)"
            if t["seat_quality"] == "geocoded"
            else "modelled (seat itself modelled)"
        )
        _row(
            f"{t['code']}-S",
            "township_station",
            f"{t['name']}公共法律服务工作站",
            str(t["code"]),
            "",
            float(t["seat_lon"]),
            float(t["seat_lat"]),
            q,
            f"{t['name']}司法所",
        )
    for _, v in villages.iterrows():
        _row(
            f"{v['code']}-R",
            "village_room",
            f"{v['name']}法务室",
            str(v["town_code"]),
            str(v["code"]),
            float(v.geometry.x),
            float(v.geometry.y),
            f"village point ({v['location_quality']})",
            f"{v['town_name']}{v['name']}村部",
        )
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs="EPSG:4326",
    )


def apply_service_overrides(
    sp: gpd.GeoDataFrame, path: str | Path, *, crs: str | None, outline: shapely.Geometry
) -> gpd.GeoDataFrame:
    """Edit or add service points from a CSV/XLSX.

    Columns: ``id`` (required), any of ``name, staff, hours_per_month, staffed, opening_hours,
    phone, address``, and ``lon, lat`` (+ ``crs``) to move a point; a new ``id`` also needs ``tier``.
    Edited rows are marked ``modelled = False`` (their values come from the user).
    """
    df = read_table(path, dtype_str=("id", "town_code", "village_code", "phone"))
    require_columns(df, ["id"], path)
    check_unique_codes(df, path, field="id")
    out = sp.copy()
    pos = {pid: i for i, pid in enumerate(out["id"])}
    has_xy = "lon" in df.columns and "lat" in df.columns
    if has_xy:
        xy_rows = df[df["lon"].notna() | df["lat"].notna()]
        lon, lat, crs_list = (
            parse_points(xy_rows, path, crs=crs)
            if len(xy_rows)
            else (np.array([]), np.array([]), [])
        )
        moved = dict(zip(xy_rows.index, zip(lon, lat, strict=True), strict=True))
        _check_gcj02(out, xy_rows, lon, lat, crs_list, path)
    else:
        moved = {}
    for r, row in df.iterrows():
        rown = int(r) + 2
        pid = str(row["id"]).strip()
        for f in ("staff", "hours_per_month"):
            if f in df.columns and not pd.isna(row[f]):
                v = pd.to_numeric(row[f], errors="coerce")
                if pd.isna(v) or v < 0 or (f == "hours_per_month" and v > 744 * 100):
                    raise DataFileError(
                        path,
                        f"{f} {row[f]!r} must be a non-negative number",
                        row=rown,
                        field=f,
                        fix="write e.g. 2 staff, 352 hours per month",
                    )
        if pid not in pos:
            tier = str(row.get("tier", "")).strip()
            if tier not in TIERS:
                raise DataFileError(
                    path,
                    f"new point {pid!r} needs a tier",
                    row=rown,
                    field="tier",
                    fix=f"one of {list(TIERS)}",
                )
            if r not in moved:
                raise DataFileError(
                    path,
                    f"new point {pid!r} needs lon/lat",
                    row=rown,
                    field="lon",
                    fix="give its coordinates and crs",
                )
            base = out[out["tier"] == tier].iloc[0].to_dict()
            base.update({"id": pid, "name": pid, "village_code": "", "location_quality": "user"})
            out = pd.concat(
                [out, gpd.GeoDataFrame([base], geometry=[shapely.Point(0, 0)], crs="EPSG:4326")],
                ignore_index=True,
            )
            pos[pid] = len(out) - 1
        i = out.index[pos[pid]]
        for f in EDITABLE:
            if f in df.columns and not pd.isna(row[f]):
                val = row[f]
                if f == "staff":
                    val = int(val)
                elif f == "hours_per_month":
                    val = float(val)
                elif f == "staffed":
                    val = str(val).strip().lower() in ("1", "true", "yes", "y", "是")
                out.at[i, f] = val
        for f in ("tier", "town_code"):
            if f in df.columns and not pd.isna(row[f]):
                out.at[i, f] = str(row[f]).strip()
        if r in moved:
            pt = shapely.Point(*moved[r])
            if not outline.buffer(0.01).contains(pt):
                raise DataFileError(
                    path,
                    f"point {pid} lies outside the county",
                    row=rown,
                    field="lon/lat",
                    fix="check the coordinates and their crs (GCJ02 vs WGS84)",
                )
            out.at[i, "geometry"] = pt
            out.at[i, "location_quality"] = "user"
        out.at[i, "modelled"] = False
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _check_gcj02(
    sp: gpd.GeoDataFrame,
    rows: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    crs_list: list,
    path: str | Path,
) -> None:
    """Refuse GCJ-02 points labelled WGS84, using existing points placed at real geocodes."""
    q = sp["location_quality"].astype(str)
    trusted = (
        q.str.contains("geocoded") | q.str.contains("surveyed") | (q == "modelled (town seat)")
    ) & ~q.str.contains("suspect")
    ref = sp[trusted.to_numpy()].set_index("id").geometry
    ids = rows["id"].astype(str).str.strip()
    rlon = ids.map(ref.x).to_numpy(float) if len(ref) else np.full(len(ids), np.nan)
    rlat = ids.map(ref.y).to_numpy(float) if len(ref) else np.full(len(ids), np.nan)
    check_gcj02_mislabel(
        path, lon, lat, crs_list, rlon, rlat, rows=[int(i) + 2 for i in rows.index]
    )
