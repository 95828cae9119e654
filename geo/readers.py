"""Readers for user files that replace a layer: tables (CSV/XLSX) and vector files.

Every reader validates what it reads and raises :class:`~geo._errors.DataFileError` naming the
file, the row (1-based, header = row 1) and the field, with a suggested fix.
CSV files are read as UTF-8 (with or without BOM) or, failing that, GBK/GB18030 — the encoding
Excel on Chinese Windows writes.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._errors import CRSError, DataFileError
from .coords import CRSName, normalize_crs_name, to_wgs84

log = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xls"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip"}
MAX_TABLE_BYTES = 200 * 1024 * 1024


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise DataFileError(p, "file not found", fix="check the path")
    if p.is_dir():
        raise DataFileError(p, "is a folder, not a file", fix="give the file inside it")
    if p.stat().st_size == 0:
        raise DataFileError(p, "file is empty", fix="export the table again")
    return p


def read_table(path: str | Path, *, dtype_str: tuple[str, ...] = ("code",)) -> pd.DataFrame:
    """Read a CSV (UTF-8 or GBK) or Excel table into a DataFrame with stripped column names.

    Columns named in ``dtype_str`` are read as text so that 12-digit codes keep their digits.
    """
    p = _check_file(path)
    if p.stat().st_size > MAX_TABLE_BYTES:
        raise DataFileError(
            p,
            f"file is larger than {MAX_TABLE_BYTES // 2**20} MB",
            fix="split it or filter it to one county",
        )
    suffix = p.suffix.lower()
    converters = {c: str for c in dtype_str}
    if suffix in {".xlsx", ".xls"}:
        try:
            df = pd.read_excel(p, dtype=converters)
        except Exception as exc:  # openpyxl raises many types for a corrupt workbook
            raise DataFileError(
                p,
                f"cannot read as an Excel workbook ({type(exc).__name__}: {exc})",
                fix="save it again as .xlsx or export CSV",
            ) from None
    elif suffix in {".csv", ".txt"}:
        df = None
        last: Exception | None = None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                df = pd.read_csv(p, dtype=converters, encoding=enc, skipinitialspace=True)
                break
            except UnicodeDecodeError as exc:
                last = exc
            except pd.errors.EmptyDataError:
                raise DataFileError(
                    p, "file has no header row", fix="add a header line with the column names"
                ) from None
            except pd.errors.ParserError as exc:
                raise DataFileError(
                    p, f"malformed CSV ({exc})", fix="check quoting and the number of columns"
                ) from None
        if df is None:
            raise DataFileError(
                p, f"text is neither UTF-8 nor GBK ({last})", fix="save the file as UTF-8"
            ) from None
    else:
        raise DataFileError(p, f"unsupported table type '{suffix}'", fix="use .csv or .xlsx")
    df.columns = [str(c).strip() for c in df.columns]
    if suffix in {".csv", ".txt"}:
        _check_not_truncated(p, df)
    return df


def _check_not_truncated(p: Path, df: pd.DataFrame) -> None:
    """Refuse a CSV whose last line stops mid-row (an interrupted copy or download).

    The signature is a file that does not end with a line break and whose last row has fewer
    fields than the header; pandas would otherwise fill the missing fields with NaN silently.
    """
    if len(df) == 0:
        return
    with open(p, "rb") as fh:
        fh.seek(max(0, p.stat().st_size - 1))
        last = fh.read(1)
    if last in (b"\n", b"\r"):
        return
    filled = df.iloc[-1].notna().to_numpy()
    if not filled.all() and not filled[int(np.flatnonzero(~filled)[0]) :].any():
        field = str(df.columns[int(np.flatnonzero(~filled)[0])])
        raise DataFileError(
            p,
            f"the last row stops mid-row ({int(filled.sum())} of {len(df.columns)} fields) and the "
            "file has no final line break — it looks truncated",
            row=len(df) + 1,
            field=field,
            fix="copy or export the file again in full",
        )


def require_columns(df: pd.DataFrame, columns: list[str], path: str | Path) -> None:
    """Raise if any of ``columns`` is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFileError(
            path,
            f"missing column(s) {missing}; found {list(df.columns)}",
            field=missing[0],
            fix=f"add the column(s) {missing} to the header row",
        )


def check_unique_codes(df: pd.DataFrame, path: str | Path, field: str = "code") -> None:
    """Raise on empty or duplicate codes, naming the rows."""
    codes = df[field].astype("string").str.strip()
    empty = codes.isna() | (codes == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 2
        raise DataFileError(
            path, "empty code", row=row, field=field, fix="give every row its NBS code"
        )
    dup = codes.duplicated(keep=False)
    if dup.any():
        rows = (np.flatnonzero(dup.to_numpy()) + 2).tolist()
        raise DataFileError(
            path,
            f"duplicate code {codes[dup].iloc[0]} (rows {rows[:6]})",
            row=rows[0],
            field=field,
            fix="each code may appear once",
        )


def parse_points(
    df: pd.DataFrame,
    path: str | Path,
    *,
    crs: str | None = None,
    lon_field: str = "lon",
    lat_field: str = "lat",
    allow_empty: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[CRSName]]:
    """Validate lon/lat columns and return WGS84 coordinates.

    The coordinate system comes from a ``crs`` column (per row) or the ``crs`` option; with
    neither, the file is refused — Doorstep never guesses between GCJ-02 and WGS84. With
    ``allow_empty`` a row may leave *both* lon and lat empty (returned as NaN, its crs may be
    empty too); one empty of the two, or text that is not a number, is still an error.
    """
    require_columns(df, [lon_field, lat_field], path)
    blank = (
        _blank(df[lon_field]) & _blank(df[lat_field])
        if allow_empty
        else np.zeros(len(df), dtype=bool)
    )
    crs_list = _row_crs(df, path, crs, blank)
    lon = pd.to_numeric(df[lon_field], errors="coerce").to_numpy(dtype=float, copy=True)
    lat = pd.to_numeric(df[lat_field], errors="coerce").to_numpy(dtype=float, copy=True)
    lon[blank] = lat[blank] = 0.0
    for arr, name, lo, hi in ((lon, lon_field, -180, 180), (lat, lat_field, -90, 90)):
        _check_degrees(df, path, arr, name, lo, hi)
    wlon = np.empty_like(lon)
    wlat = np.empty_like(lat)
    for name in set(crs_list):
        m = np.array([c == name for c in crs_list])
        wlon[m], wlat[m] = to_wgs84(lon[m], lat[m], name)
    wlon[blank] = wlat[blank] = np.nan
    return wlon, wlat, crs_list


def _row_crs(
    df: pd.DataFrame, path: str | Path, crs: str | None, blank: np.ndarray
) -> list[CRSName]:
    """The coordinate system of every row: its ``crs`` cell, else the ``crs`` option (rows with
    no coordinates at all may leave it empty)."""
    if "crs" in df.columns:
        names = [
            normalize_crs_name(v, path=str(path), row=i + 2) if not pd.isna(v) else None
            for i, v in enumerate(df["crs"])
        ]
        names = [n or ("WGS84" if b else None) for n, b in zip(names, blank, strict=True)]
        if any(n is None for n in names):
            if crs is None:
                row = names.index(None) + 2
                raise CRSError(
                    path,
                    "empty coordinate system",
                    row=row,
                    field="crs",
                    fix="write WGS84 or GCJ02 in every row, or pass --crs",
                )
            fallback = normalize_crs_name(crs, path=str(path))
            names = [n or fallback for n in names]
        crs_list: list[CRSName] = [n for n in names if n is not None]
        stated = {n for n, b in zip(crs_list, blank, strict=True) if not b}
        if len(stated) > 1:
            log.warning(
                "%s: rows mix %s coordinates; each row is converted by its own crs value",
                path,
                sorted(stated),
            )
    elif crs is not None:
        crs_list = [normalize_crs_name(crs, path=str(path))] * len(df)
    else:
        raise CRSError(
            path,
            "the coordinate system is not stated",
            field="crs",
            fix="add a 'crs' column (WGS84 or GCJ02) or pass --crs WGS84|GCJ02",
        )
    return crs_list


def _check_degrees(
    df: pd.DataFrame, path: str | Path, arr: np.ndarray, name: str, lo: float, hi: float
) -> None:
    """Every value of ``arr`` (column ``name``) is a number in ``[lo, hi]`` degrees."""
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            path,
            f"coordinate is empty or not a number ({_show(df[name].iloc[i])})",
            row=i + 2,
            field=name,
            fix="write decimal degrees, e.g. 109.48",
        )
    out = (arr < lo) | (arr > hi)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise DataFileError(
            path,
            f"{arr[i]} is outside {lo}..{hi}",
            row=i + 2,
            field=name,
            fix="check that lon and lat are not swapped and are in degrees",
        )


def _blank(col: pd.Series) -> np.ndarray:
    """Cells that are missing or only whitespace."""
    return (col.isna() | col.astype(str).str.strip().eq("")).to_numpy()


def points_table_to_gdf(
    path: str | Path,
    *,
    crs: str | None = None,
    required: tuple[str, ...] = ("code", "name", "lon", "lat"),
    allow_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Read a CSV/XLSX table of points (code, name, lon, lat[, crs]) into a WGS84 GeoDataFrame.

    With ``allow_empty`` rows may leave lon and lat empty: their geometry is ``None``.
    """
    df = read_table(path)
    require_columns(df, list(required), path)
    if "code" in df.columns:
        check_unique_codes(df, path)
        df["code"] = df["code"].astype(str).str.strip()
    lon, lat, crs_list = parse_points(df, path, crs=crs, allow_empty=allow_empty)
    df = df.drop(columns=[c for c in ("lon", "lat") if c in df.columns])
    df["source_crs"] = crs_list
    geom = gpd.points_from_xy(lon, lat)
    geom[~np.isfinite(lon)] = None
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def read_vector(
    path: str | Path, *, crs: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a GeoPackage / GeoJSON / Shapefile into WGS84.

    GeoJSON is WGS84 by specification; a GeoJSON whose properties or ``crs`` option declare GCJ-02
    is converted. Other formats must carry a CRS (a .prj for shapefiles).
    """
    p = _check_file(path)
    suffix = p.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise DataFileError(
            p, f"unsupported vector type '{suffix}'", fix="use .gpkg, .geojson or .shp"
        )
    try:
        gdf = gpd.read_file(p, layer=layer) if layer else gpd.read_file(p)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataFileError(
            p,
            f"cannot read as a vector file ({type(exc).__name__}: {exc})",
            fix="open it in QGIS and save it again as GeoPackage",
        ) from None
    if len(gdf) == 0:
        raise DataFileError(p, "contains no features", fix="export the layer again")
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        i = int(np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())[0])
        raise DataFileError(
            p,
            "feature has an empty geometry",
            row=i + 1,
            field="geometry",
            fix="delete or redraw that feature",
        )
    declared = None
    if crs is not None:
        declared = normalize_crs_name(crs, path=str(p))
    elif "crs" in gdf.columns and gdf["crs"].notna().all() and gdf["crs"].nunique() == 1:
        declared = normalize_crs_name(gdf["crs"].iloc[0], path=str(p))
    if declared == "GCJ02":
        from .coords import geometry_gcj02_to_wgs84

        gdf = gpd.GeoDataFrame(
            gdf.drop(columns="geometry"),
            geometry=[geometry_gcj02_to_wgs84(g) for g in gdf.geometry],
            crs="EPSG:4326",
        )
        gdf["source_crs"] = "GCJ02"
        return gdf
    if gdf.crs is None:
        raise CRSError(
            p,
            "the file has no coordinate reference system",
            field="crs",
            fix="assign one in QGIS (e.g. EPSG:4326), or pass --crs WGS84|GCJ02",
        )
    gdf = gdf.to_crs("EPSG:4326")
    gdf["source_crs"] = "WGS84"
    bad = ~shapely.is_valid(gdf.geometry.values)
    if bad.any():
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry.values[bad])
        log.warning("%s: repaired %d invalid geometries", p, int(bad.sum()))
    return gdf


def nonnegative_column(
    df: pd.DataFrame, path: str | Path, field: str, *, fix: str, blank: float | None = None
) -> npt.NDArray[np.float64]:
    """The numbers of column ``field``, each finite and ``>= 0``; an empty cell becomes
    ``blank`` (``None``: an empty cell is an error). The first bad cell raises
    :class:`DataFileError` naming its row (header = row 1) with ``fix``."""
    raw = df[field]
    text = raw.astype("string").str.strip()
    empty = (raw.isna() | (text == "")).to_numpy(dtype=bool)
    values = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=float, copy=True)
    if blank is not None:
        values[empty] = blank
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            path,
            f"{field} {_show(raw.iloc[i])} is not a number >= 0",
            row=i + 2,
            field=field,
            fix=fix,
        )
    return values


def read_capacity_table(path: str | Path) -> pd.DataFrame:
    """A table of point capacities: columns ``id`` (unique) and ``capacity`` (persons, a number
    >= 0), as ``id`` (text) and ``capacity`` (float)."""
    table = read_table(path, dtype_str=("id",))
    require_columns(table, ["id", "capacity"], path)
    check_unique_codes(table, path, field="id")
    capacity = nonnegative_column(
        table,
        path,
        "capacity",
        fix="write a number of persons such as 20000, or remove the row to leave the point "
        "uncapacitated",
    )
    return pd.DataFrame({"id": table["id"].astype(str).str.strip(), "capacity": capacity})


def read_candidates(path: str | Path, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Candidate sites for siting: a points table (code, name, lon, lat[, crs]) with an optional
    ``cost`` column (opening cost, a number >= 0; an empty cell counts 1)."""
    gdf = points_table_to_gdf(path, crs=crs)
    if "cost" in gdf.columns:
        gdf["cost"] = nonnegative_column(
            gdf,
            path,
            "cost",
            blank=1.0,
            fix="write the opening cost as a number >= 0 (an empty cell counts 1)",
        )
    return gdf


def read_population_table(path: str | Path) -> pd.DataFrame:
    """Read a population table: columns ``code`` (village 12-digit or township 9-digit) and ``population``."""
    df = read_table(path)
    require_columns(df, ["code", "population"], path)
    check_unique_codes(df, path)
    pop = pd.Series(
        nonnegative_column(df, path, "population", fix="write a whole number of residents"),
        index=df.index,
    )
    if (pop > 2_000_000).any():
        i = int(np.flatnonzero((pop > 2_000_000).to_numpy())[0])
        raise DataFileError(
            path,
            f"population {pop.iloc[i]:.0f} is implausible for one unit",
            row=i + 2,
            field="population",
            fix="check the units (persons, not 10,000s)",
        )
    out = pd.DataFrame(
        {"code": df["code"].astype(str).str.strip(), "population": pop.round().astype(int)}
    )
    lens = out["code"].str.len().unique()
    if not set(lens) <= {9, 12}:
        i = int(np.flatnonzero(~out["code"].str.len().isin([9, 12]).to_numpy())[0])
        raise DataFileError(
            path,
            f"code {out['code'].iloc[i]!r} is neither a 9-digit township nor a 12-digit village code",
            row=i + 2,
            field="code",
            fix="use NBS codes",
        )
    return out


def _show(v: object) -> str:
    """A cell value for an error message: plain Python repr, 'NaN/empty' for a missing value."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NaN/empty"
    return repr(v)


def finite_or_none(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
