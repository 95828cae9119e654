"""Village points: user-surveyed replacements, suspect geocodes, imputation.

``location_quality`` of every village is one of:

* ``surveyed`` — from a user file (:func:`apply_village_overrides`);
* ``geocoded`` — a source geocode with no QA flag;
* ``geocoded_suspect`` — a flagged geocode (name collision, far from its seat) kept because it
  lies inside its own township and no other village of the collision keeps the point;
* ``imputed`` — no usable geocode; placed by the method with the smallest leave-one-out error
  (:mod:`geo.imputation`), with an uncertainty radius ``uncertainty_m`` (0 for located points).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ._errors import DataFileError
from .crscheck import check_gcj02_mislabel
from .imputation import (
    ImputationParams,
    ImputationReport,
    code_ordinals,
    impute_xy,
    inside_polygon,
    leave_one_out,
)
from .readers import points_table_to_gdf
from .sources import LayerInfo

log = logging.getLogger(__name__)

TO_CONFIRM = "待核实位置 location to be confirmed"
"""Status of anything (a proposed site, a gap) that stands on an imputed village point."""
CONFIRMED = "confirmed"


def imputed_flags(villages: pd.DataFrame, codes: pd.Series | list[str]) -> np.ndarray:
    """``True`` where the village with that code stands on an imputed point (unknown codes: False)."""
    q = dict(zip(villages["code"].astype(str), villages["location_quality"], strict=True))
    return np.array([q.get(str(c), "") == "imputed" for c in codes], dtype=bool)


def location_status(imputed: bool) -> str:
    """:data:`TO_CONFIRM` for a point resting on an imputed village, else :data:`CONFIRMED`."""
    return TO_CONFIRM if imputed else CONFIRMED


def apply_village_overrides(
    villages: pd.DataFrame, path: str | Path, *, crs: str | None, layers: dict[str, LayerInfo]
) -> pd.DataFrame:
    """Replace village points by surveyed ones from a CSV/XLSX (code, name, lon, lat, crs).

    A row may leave lon and lat empty: that village's point is then imputed (its source geocode
    is dropped) and flagged ``user_no_coord``; non-numeric coordinates are an error.
    """
    user = points_table_to_gdf(path, crs=crs, allow_empty=True)
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
    given = user[user.geometry.notna()]
    check_gcj02_mislabel(
        path,
        given.geometry.x.to_numpy(),
        given.geometry.y.to_numpy(),
        list(given["source_crs"]),
        given["code"].map(ref["lon"]).to_numpy(float),
        given["code"].map(ref["lat"]).to_numpy(float),
        rows=[int(i) + 2 for i in given.index],
    )
    v = villages.copy()
    pos = {c: i for i, c in enumerate(v["code"])}
    for c, g in zip(user["code"], user.geometry, strict=True):
        i = v.index[pos[c]]
        if g is None:  # the user says: no known point -> imputed, flagged
            v.loc[i, ["lon", "lat"]] = [np.nan, np.nan]
            v.loc[i, "qa_flags"] = "no_coord;user_no_coord"
        else:
            v.loc[i, ["lon", "lat"]] = [g.x, g.y]
            v.loc[i, "qa_flags"] = "surveyed"
    layers["villages"] = LayerInfo(
        f"{layers['villages'].source}; {len(given)} points replaced by user file "
        f"{Path(path).name}"
        + (
            f", {len(user) - len(given)} left empty there (imputed)"
            if len(given) < len(user)
            else ""
        ),
        False,
        layers["villages"].notes,
    )
    return v


def resolve_village_points(
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    polys: dict[str, shapely.Geometry],
    params: ImputationParams,
    warnings: list[str],
) -> tuple[pd.DataFrame, ImputationReport]:
    """Decide every village's final metric point, ``location_quality`` and ``uncertainty_m``.

    Suspect geocodes are kept only when inside their own township polygon; within a group of
    villages sharing one geocode, only the village whose own seat is nearest may keep it. All
    others, and villages with no geocode, are imputed (:func:`impute_villages`).
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
    v, report = impute_villages(v, townships, polys, params)
    n_imp = int((v["location_quality"] == "imputed").sum())
    n_sus = int((v["location_quality"] == "geocoded_suspect").sum())
    if n_imp:
        warnings.append(f"{n_imp} village points are imputed (no usable geocode)")
    if n_sus:
        warnings.append(
            f"{n_sus} village geocodes are suspect but kept (inside their own township)"
        )
    if n_imp and report.radius_m is not None:
        warnings.append(
            f"imputed village points: method {report.chosen}, uncertainty radius "
            f"{report.radius_m:,.0f} m (leave-one-out {report.quantile:.0%} error)"
        )
    return v, report


def impute_villages(
    v: pd.DataFrame,
    townships: pd.DataFrame,
    polys: dict[str, shapely.Geometry],
    params: ImputationParams,
) -> tuple[pd.DataFrame, ImputationReport]:
    """Place every village with an empty ``location_quality`` by the method leave-one-out picks.

    The truth set is the villages located cleanly (``geocoded`` or ``surveyed``); each imputed
    point uses the clean points of its own township (:func:`geo.imputation.impute_xy`), is moved
    just inside its township polygon if it falls outside, and gets ``uncertainty_m`` = the
    chosen method's leave-one-out quantile error (or, when too few cases exist, the equal-area
    radius of its township, :math:`\\sqrt{A/\\pi}`). Located points get ``uncertainty_m = 0``.
    """
    v = v.copy()
    clean = v["location_quality"].isin(["geocoded", "surveyed"]).to_numpy()
    seats = {
        str(c): (float(x), float(y))
        for c, x, y in zip(townships["code"], townships["seat_x"], townships["seat_y"], strict=True)
    }
    report = leave_one_out(v.loc[clean, ["x", "y", "town_code", "code"]], seats, params)
    need = (v["location_quality"] == "").to_numpy()
    ords = code_ordinals(v["code"])
    towns = v["town_code"].astype(str).to_numpy()
    xy = v[["x", "y"]].to_numpy(float)
    v["uncertainty_m"] = 0.0
    qa = v["qa_flags"].astype(str).to_numpy()
    for i in np.flatnonzero(need):
        mine = clean & (towns == towns[i])
        px, py = impute_xy(
            report.chosen, int(ords[i]), xy[mine], ords[mine], seats[towns[i]], params.neighbours
        )
        px, py, moved = inside_polygon(polys[towns[i]], px, py)
        if "user_no_coord" in qa[i]:
            reason = "user file gives no coordinates"
        elif not np.isfinite(xy[i, 0]):
            reason = "no geocode"
        else:
            reason = f"geocode rejected ({qa[i]})"
        radius = report.radius_m
        if radius is None:
            radius = float(np.sqrt(polys[towns[i]].area / np.pi))
        row = v.index[i]
        v.loc[row, ["x", "y", "uncertainty_m"]] = [px, py, radius]
        v.loc[row, "location_quality"] = "imputed"
        v.loc[row, "location_note"] = (
            f"{reason}: imputed by {report.chosen} from {int(mine.sum())} located villages of its "
            f"township, ±{radius:,.0f} m" + ("; moved inside its township" if moved else "")
        )
    return v, replace(report, n_imputed=int(need.sum()))
