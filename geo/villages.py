"""Village points: user-surveyed replacements, suspect geocodes, imputation.

``location_quality`` of every village is one of:

* ``surveyed`` — from a user file (:func:`apply_village_overrides`);
* ``geocoded`` — a source geocode with no QA flag;
* ``geocoded_suspect`` — a flagged geocode (name collision, far from its seat) kept because it
  lies inside its own township and no other village of the collision keeps the point;
* ``imputed`` — no usable geocode; placed by :func:`geo.modelled.impute_points` inside its
  own township polygon.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ._errors import DataFileError
from .crscheck import check_gcj02_mislabel
from .modelled import impute_points
from .readers import points_table_to_gdf
from .sources import LayerInfo

log = logging.getLogger(__name__)


def apply_village_overrides(
    villages: pd.DataFrame, path: str | Path, *, crs: str | None, layers: dict[str, LayerInfo]
) -> pd.DataFrame:
    """Replace village points by surveyed ones from a CSV/XLSX (code, name, lon, lat, crs)."""
    user = points_table_to_gdf(path, crs=crs)
    known = set(villages["code"])
    unknown = [c for c in user["code"] if c not in known]
    if unknown:
        row = int(user.index[user["code"] == unknown[0]][0]) + 2
        raise DataFileError(
            path,
            f"village code {unknown[0]} is not in the {len(known)}-unit village list",
            row=row,
            field="code",
            fix="use the 12-digit NBS code of the village (see doorstep summary --villages)",
        )
    ref = villages.set_index("code")
    check_gcj02_mislabel(
        path,
        user.geometry.x.to_numpy(),
        user.geometry.y.to_numpy(),
        list(user["source_crs"]),
        user["code"].map(ref["lon"]).to_numpy(float),
        user["code"].map(ref["lat"]).to_numpy(float),
        rows=[int(i) + 2 for i in user.index],
    )
    v = villages.copy()
    pos = {c: i for i, c in enumerate(v["code"])}
    for c, g in zip(user["code"], user.geometry, strict=True):
        i = pos[c]
        v.loc[v.index[i], ["lon", "lat"]] = [g.x, g.y]
        v.loc[v.index[i], "qa_flags"] = "surveyed"
    layers["villages"] = LayerInfo(
        f"{layers['villages'].source}; {len(user)} points replaced by user file {Path(path).name}",
        False,
        layers["villages"].notes,
    )
    return v


def resolve_village_points(
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    polys: dict[str, shapely.Geometry],
    grid_m: float,
    warnings: list[str],
) -> pd.DataFrame:
    """Decide every village's final metric point and ``location_quality``.

    Suspect geocodes are kept only when inside their own township polygon; within a group of
    villages sharing one geocode, only the village whose own seat is nearest may keep it. All
    others, and villages with no geocode, are imputed inside their own township.
    """
    v = villages.copy()
    v["location_quality"] = ""
    v["location_note"] = ""
    surveyed = v["qa_flags"] == "surveyed"
    ok = v["usable"].to_numpy() & ~surveyed.to_numpy()
    v.loc[surveyed, "location_quality"] = "surveyed"
    v.loc[ok, "location_quality"] = "geocoded"
    v.loc[ok, "location_note"] = "geocode from source, no QA flag"
    x = v["x"].to_numpy(float)
    y = v["y"].to_numpy(float)
    has = np.isfinite(x)
    own_in = np.array(
        [
            bool(has[i]) and shapely.contains_xy(polys[v["town_code"].iloc[i]], x[i], y[i])
            for i in range(len(v))
        ]
    )
    suspect = (
        has & ~ok & ~surveyed.to_numpy() & ~v["qa_flags"].str.contains("outside_county").to_numpy()
    )
    key = pd.Series(
        np.where(has, np.round(x, 1).astype(str) + "," + np.round(y, 1).astype(str), ""),
        index=v.index,
    )
    taken = set(key[ok | surveyed.to_numpy()])
    dist = v.get("seat_distance_m", pd.Series(np.zeros(len(v)), index=v.index)).to_numpy(float)
    for i in np.argsort(np.where(suspect, dist, np.inf), kind="stable"):
        if not suspect[i]:
            continue
        if own_in[i] and key.iloc[i] not in taken:
            v.iloc[i, v.columns.get_loc("location_quality")] = "geocoded_suspect"
            v.iloc[i, v.columns.get_loc("location_note")] = (
                f"kept despite QA flags ({v['qa_flags'].iloc[i]})"
            )
            taken.add(key.iloc[i])
    need = v["location_quality"] == ""
    located = ~need
    for code in townships["code"]:
        idx = np.flatnonzero((need & (v["town_code"] == code)).to_numpy())
        if len(idx) == 0:
            continue
        existing = np.vstack(
            [
                v.loc[located, ["x", "y"]].to_numpy(float),
                townships[["seat_x", "seat_y"]].to_numpy(float),
            ]
        )
        pts = impute_points(polys[code], existing, len(idx), grid_m)
        for j, i in enumerate(idx):
            reason = "no geocode" if not has[i] else f"geocode rejected ({v['qa_flags'].iloc[i]})"
            v.iloc[i, v.columns.get_loc("x")] = pts[j, 0]
            v.iloc[i, v.columns.get_loc("y")] = pts[j, 1]
            v.iloc[i, v.columns.get_loc("location_quality")] = "imputed"
            v.iloc[i, v.columns.get_loc("location_note")] = (
                f"{reason}: placed inside its township, farthest from located settlements"
            )
        located = located | pd.Series(np.isin(np.arange(len(v)), idx), index=v.index)
    n_imp = int((v["location_quality"] == "imputed").sum())
    n_sus = int((v["location_quality"] == "geocoded_suspect").sum())
    if n_imp:
        warnings.append(f"{n_imp} village points are imputed (no usable geocode)")
    if n_sus:
        warnings.append(
            f"{n_sus} village geocodes are suspect but kept (inside their own township)"
        )
    return v
