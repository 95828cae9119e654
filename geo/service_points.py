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
from .atomic import atomic_path
from .crscheck import check_gcj02_mislabel
from .export import spreadsheet_safe, write_csv
from .readers import check_unique_codes, parse_points, read_table, require_columns
from .services import TIERS, ServicePointRules, service_rules
from .sources import CountySource

EDITABLE = (
    "name",
    "services",
    "opening_hours",
    "phone",
    "address",
    "staff",
    "windows",
    "hours_per_month",
    "staffed",
    "town_code",
    "village_code",
)
"""Columns a service-points file may edit (besides ``tier`` and ``lon, lat, crs``)."""
ALIASES = {"hours": "opening_hours"}
"""Other names a service-points file may use for an editable column."""
NUMBERS: dict[str, tuple[bool, float, str]] = {
    "staff": (True, 1000, "people"),
    "windows": (True, 100, "service windows"),
    "hours_per_month": (False, 744 * 100, "staffed hours a month, all staff"),
}
"""Numeric columns: (whole number?, largest value, what it counts)."""
MOVED_DEG = 1e-6
"""Coordinates closer than this (degrees, ~0.1 m) to the current point are not a move."""


def tier_row(rules: ServicePointRules, tier: str) -> dict[str, object]:
    """The default attributes of a point of ``tier`` (``data/params/service_points.toml``)."""
    t = rules.tiers[tier]
    return {
        "tier": tier,
        "tier_label": t.label_zh,
        "services": ";".join(rules.tier_services(tier)),
        "staff": t.staff,
        "windows": t.windows,
        "hours_per_month": t.hours_per_month,
        "staffed": t.staffed,
        "opening_hours": t.opening_hours,
        "phone": rules.hotline,
    }


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
        rows.append(
            {
                "id": pid,
                **tier_row(defaults, tier),
                "name": name,
                "town_code": town,
                "village_code": village,
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
    sp: gpd.GeoDataFrame,
    path: str | Path,
    *,
    crs: str | None,
    outline: shapely.Geometry,
    rules: ServicePointRules | None = None,
) -> gpd.GeoDataFrame:
    """Edit or add service points from a CSV/XLSX (UTF-8 or GBK).

    Columns: ``id`` (required), any of :data:`EDITABLE` (``hours`` is read as
    ``opening_hours``; ``services`` lists codes or Chinese names separated by ``;``/``、``/``,``),
    ``tier`` (code or Chinese label, e.g. 律师个人调解室) and ``lon, lat`` (+ ``crs``) to move a
    point; a new ``id`` also needs ``tier`` and ``lon, lat``. A cell equal to the point's current
    value changes nothing (a template written by :func:`write_service_points_template` reads
    back as the same model); rows that change something are marked ``modelled = False``. Every
    row is checked before anything is returned: a bad cell raises :class:`DataFileError` naming
    the file, row and field.
    """
    rules = rules or service_rules()
    df = read_table(path, dtype_str=("id", "town_code", "village_code", "phone"))
    df = df.rename(columns={a: c for a, c in ALIASES.items() if c not in df.columns})
    require_columns(df, ["id"], path)
    check_unique_codes(df, path, field="id")
    out = _with_columns(pd.DataFrame(sp.copy()).reset_index(drop=True), rules)
    moved = _moves(out, df, path, crs)
    for r, row in df.iterrows():
        rown = int(r) + 2
        pid = str(row["id"]).strip()
        edits = {f: _cell(rules, row[f], f, path, rown) for f in EDITABLE if f in df.columns}
        edits = {k: v for k, v in edits.items() if v is not None}
        tier = _tier_cell(rules, row, path, rown)
        if pid not in set(out["id"]):
            out = _add_point(out, rules, pid, tier, r in moved, path, rown)
        i = int(np.flatnonzero(out["id"].to_numpy() == pid)[0])
        if tier is not None and tier != out.at[i, "tier"]:
            base = tier_row(rules, tier)
            edits = {
                "tier": tier,
                "tier_label": base["tier_label"],
                "services": base["services"],
                **edits,
            }
        changed = {k: v for k, v in edits.items() if not _same(out.at[i, k], v)}
        for f, v in changed.items():
            out.at[i, f] = v
        if r in moved:
            if not outline.buffer(0.01).contains(moved[r]):
                raise DataFileError(
                    path,
                    f"point {pid} lies outside the county",
                    row=rown,
                    field="lon/lat",
                    fix="check the coordinates and their crs (GCJ02 vs WGS84)",
                )
            out.at[i, "geometry"] = moved[r]
            out.at[i, "location_quality"] = "user"
        if changed or r in moved:
            out.at[i, "modelled"] = False
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _add_point(
    out: pd.DataFrame,
    rules: ServicePointRules,
    pid: str,
    tier: str | None,
    placed: bool,
    path: str | Path,
    rown: int,
) -> pd.DataFrame:
    """``out`` with a new point ``pid`` of ``tier`` (its defaults; placed by the caller)."""
    if tier is None or not placed:
        raise DataFileError(
            path,
            f"new point {pid!r} needs a tier and lon/lat",
            row=rown,
            field="tier" if tier is None else "lon",
            fix=f"tier one of {list(TIERS)} (or its Chinese label); lon, lat and crs",
        )
    new = {
        **tier_row(rules, tier),
        "id": pid,
        "name": pid,
        "town_code": "",
        "village_code": "",
        "address": "",
        "location_quality": "user",
    }
    return pd.concat([out, pd.DataFrame([new])], ignore_index=True)


def _with_columns(out: pd.DataFrame, rules: ServicePointRules) -> pd.DataFrame:
    """``out`` with every editable column (``services`` from the tier, others empty)."""
    for f in (*EDITABLE, "tier_label", "location_quality", "modelled"):
        if f not in out.columns:
            out[f] = pd.Series([tier_row(rules, t).get(f) for t in out["tier"]], dtype=object)
    return out


def _same(current: object, new: object) -> bool:
    if current is None or (isinstance(current, float) and np.isnan(current)):
        return False
    if isinstance(new, bool | int | float):
        return bool(current == new)
    return str(current) == str(new)


def _cell(
    rules: ServicePointRules, val: object, f: str, path: str | Path, rown: int
) -> object | None:
    """One validated cell of column ``f`` (``None`` when empty: no change)."""
    if pd.isna(val) or str(val).strip() == "":
        return None
    if f in NUMBERS:
        whole, top, what = NUMBERS[f]
        v = pd.to_numeric(val, errors="coerce")
        if pd.isna(v) or not 0 <= v <= top or (whole and v != int(v)):
            kind = "a whole number" if whole else "a number"
            raise DataFileError(
                path,
                f"{f} {val!r} must be {kind} from 0 to {top:g} ({what})",
                row=rown,
                field=f,
                fix="write e.g. 2 staff, 1 window, 352 hours per month",
            )
        return int(v) if whole else float(v)
    if f == "staffed":
        return str(val).strip().lower() in ("1", "1.0", "true", "yes", "y", "是")
    if f == "services":
        return ";".join(rules.parse_services(val, path=path, row=rown))
    return str(val).strip()


def _tier_cell(rules: ServicePointRules, row: pd.Series, path: str | Path, rown: int) -> str | None:
    """The row's tier (code or Chinese label), ``None`` when the cell is absent or empty."""
    raw = row.get("tier")
    if raw is None or pd.isna(raw) or not str(raw).strip():
        return None
    tier = rules.tier_code(str(raw))
    if tier is None:
        raise DataFileError(
            path,
            f"unknown tier {raw!r}",
            row=rown,
            field="tier",
            fix=f"one of {list(TIERS)} or its Chinese label (e.g. 律师个人调解室)",
        )
    return tier


def _moves(
    sp: pd.DataFrame, df: pd.DataFrame, path: str | Path, crs: str | None
) -> dict[object, shapely.Point]:
    """Rows whose lon/lat put a point somewhere new (WGS84), checked for GCJ-02 mislabels."""
    if "lon" not in df.columns or "lat" not in df.columns:
        return {}
    rows = df[df["lon"].notna() | df["lat"].notna()]
    if not len(rows):
        return {}
    lon, lat, crs_list = parse_points(rows, path, crs=crs)
    cur = gpd.GeoSeries(sp["geometry"].to_numpy(), index=sp["id"].to_numpy())
    ids = rows["id"].astype(str).str.strip()
    clon = ids.map(cur.x).to_numpy(float)
    clat = ids.map(cur.y).to_numpy(float)
    new = ~(np.abs(lon - clon) < MOVED_DEG) | ~(np.abs(lat - clat) < MOVED_DEG)
    keep = np.flatnonzero(new)
    _check_gcj02(
        gpd.GeoDataFrame(sp, geometry="geometry", crs="EPSG:4326"),
        rows.iloc[keep],
        lon[keep],
        lat[keep],
        [crs_list[k] for k in keep],
        path,
    )
    return {rows.index[k]: shapely.Point(lon[k], lat[k]) for k in keep}


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


TEMPLATE_COLUMNS = (
    "id",
    "tier",
    "tier_label",
    "name",
    *EDITABLE[1:],
    "lon",
    "lat",
    "crs",
)
"""Columns of the service-points template, in order (``tier_label`` is for reading only)."""


def template_table(sp: gpd.GeoDataFrame) -> pd.DataFrame:
    """The service points as a fillable table (:data:`TEMPLATE_COLUMNS`, WGS84 lon/lat)."""
    df = _with_columns(pd.DataFrame(sp.drop(columns="geometry")), service_rules())
    df["lon"] = sp.geometry.x.round(7).to_numpy()
    df["lat"] = sp.geometry.y.round(7).to_numpy()
    df["crs"] = "WGS84"
    for c in TEMPLATE_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    return df[list(TEMPLATE_COLUMNS)].reset_index(drop=True)


def template_help() -> pd.DataFrame:
    """The second sheet of the template: each column, the service codes and the tiers."""
    rules = service_rules()
    rows = [
        ("id", "点位编号（新增点位写新编号）", "point id; a new id adds a point (tier, lon, lat)"),
        ("services", "服务代码，用 ; 、 或 , 分隔", "service codes separated by ; 、 or ,"),
        ("opening_hours", "开放时间（列名也可写 hours）", "opening hours (column may be 'hours')"),
        ("windows / staff", "窗口数 / 人员数，非负整数", "service windows / staff, whole ≥ 0"),
        ("staffed", "是否工作日有人值守（是/否）", "open on working days (true/false)"),
        ("lon, lat, crs", "坐标与坐标系（WGS84 或 GCJ02）", "coordinates and crs (WGS84/GCJ02)"),
    ]
    rows += [(f"service: {c}", v.name_zh, v.name_en) for c, v in rules.services.items()]
    rows += [(f"tier: {c}", t.label_zh, t.label_en) for c, t in rules.tiers.items()]
    return pd.DataFrame(rows, columns=["field", "说明", "meaning"])


def write_service_points_template(sp: gpd.GeoDataFrame, target: str | Path) -> Path:
    """Write the fillable template of ``sp`` to ``target`` (``.xlsx``: points + help sheet;
    ``.csv``: points only, UTF-8 with BOM), atomically. Reading it back with
    :func:`apply_service_overrides` unchanged gives the same points."""
    final = Path(target)
    table = template_table(sp)
    suffix = final.suffix.lower()
    if suffix == ".csv":
        return write_csv(table, final)
    if suffix != ".xlsx":
        raise DataFileError(final, f"unsupported template type {suffix!r}", fix="use .xlsx or .csv")
    with atomic_path(final) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        spreadsheet_safe(table).to_excel(xw, sheet_name="service_points", index=False)
        template_help().to_excel(xw, sheet_name="help", index=False)
    return final
