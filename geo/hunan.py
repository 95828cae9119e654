"""Any county of Hunan as a :class:`~geo.sources.CountySource`, from the NBS 2016 code lists.

Inputs (read in place from the reference data folder, see :func:`geo.settings.data_dir`):

* ``hunan-adcode/<code>.csv`` — one file per county-level unit, no header, 20 columns (code,
  parent, name, level, rank, county code, post code, area code, ur_code, municipality, virtual,
  dummy, longitude, latitude (GCJ-02), centre WKB, province, city, county, town, village);
  Vonng/adcode, NBS 2016-07 list, CC-BY-4.0;
* ``hunan-fences/<code>.json`` — the county outline as GeoJSON (Amap origin, GCJ-02).

What is not in these files is modelled and flagged: there is no per-county census, so the
provincial 2020 census total ``P`` (``data/params/province.toml``) is spread over every unit ``u``
of the province in proportion to its urban–rural class weight ``w_u`` (``data/params/model.toml``)::

    pop(county) = P · Σ_{u ∈ county} w_u / Σ_{u ∈ Hunan} w_u
    urban_share(county) = Σ_{u ∈ county, urban} w_u / Σ_{u ∈ county} w_u

so that :func:`geo.modelled.model_population` then gives every unit exactly ``P · w_u / Σ w``.
Villages without a usable point, township seats and roads are modelled by
:func:`geo.model.build_county_model` as for Huayuan.
"""

from __future__ import annotations

import functools
import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from ._errors import DataFileError, InputError
from .coords import gcj02_to_wgs84, geometry_gcj02_to_wgs84, in_china, local_metric_crs
from .params import ModelParams
from .settings import data_dir, project_data_dir
from .sources import CensusFigures, CountySource, LayerInfo, _census_from_csv, flag_geocodes

log = logging.getLogger(__name__)

COLUMNS = [
    "code",
    "parent",
    "name",
    "level",
    "rank",
    "county_code",
    "post_code",
    "area_code",
    "ur_code",
    "municipality",
    "virtual",
    "dummy",
    "lon_gcj02",
    "lat_gcj02",
    "center_wkb",
    "province",
    "city",
    "county",
    "town",
    "village",
]
PROVINCE_CODE = "43"


@dataclass(frozen=True)
class HunanParams:
    """Parameters of Hunan county sources (``data/params/province.toml`` ``[hunan]``).

    ``census2020_total`` / ``census2020_source``: provincial census total spread over the units;
    ``seat_tolerance_m``: metres — the county row's point is taken as the county seat when it
    lies inside the county outline or at most this far outside it (the NBS point and the Amap
    outline come from different sources), else a point inside the outline is modelled.
    """

    census2020_total: int = 66_444_864
    census2020_source: str = "Hunan 7th census (2020)"
    seat_tolerance_m: float = 1000.0

    def __post_init__(self) -> None:
        if self.census2020_total <= 0:
            raise DataFileError(
                "data/params/province.toml",
                f"census2020_total must be positive, got {self.census2020_total}",
                field="hunan.census2020_total",
            )
        if not 0 <= self.seat_tolerance_m <= 50_000:
            raise DataFileError(
                "data/params/province.toml",
                f"seat_tolerance_m must be 0–50000 m, got {self.seat_tolerance_m}",
                field="hunan.seat_tolerance_m",
            )

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> HunanParams:
        """Read ``[hunan]``; keys absent from the file (or a missing file) keep the defaults."""
        p = Path(path) if path else project_data_dir() / "params" / "province.toml"
        if not p.exists():
            return cls()
        with open(p, "rb") as fh:
            d = tomllib.load(fh).get("hunan", {})
        kinds = {"census2020_total": int, "census2020_source": str, "seat_tolerance_m": float}
        try:
            return cls(**{k: kind(d[k]) for k, kind in kinds.items() if k in d})
        except (TypeError, ValueError) as exc:
            raise DataFileError(p, f"bad [hunan] value ({exc})", field="hunan") from None


def adcode_dir(data: str | Path | None = None) -> Path:
    """The ``hunan-adcode`` folder of the reference data."""
    return data_dir(data) / "hunan-adcode"


def fences_dir(data: str | Path | None = None) -> Path:
    """The ``hunan-fences`` folder of the reference data."""
    return data_dir(data) / "hunan-fences"


def _check_code(county_code: str) -> str:
    code = str(county_code).strip()
    if len(code) != 6 or not code.isdigit() or not code.startswith(PROVINCE_CODE):
        raise InputError(f"a Hunan county code has 6 digits starting with 43, got {county_code!r}")
    return code


def read_adcode(path: Path) -> pd.DataFrame:
    """Read one ``hunan-adcode`` file (no header) with typed columns.

    Raises
    ------
    DataFileError
        Missing/empty file, wrong column count, or coordinates that are not numbers.
    """
    if not path.exists():
        raise DataFileError(path, "file not found", fix="check the county code and the data folder")
    try:
        df = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataFileError(path, "file is empty", fix="restore it from Vonng/adcode") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(
            path, f"malformed CSV ({exc})", fix="restore it from Vonng/adcode"
        ) from None
    if df.shape[1] != len(COLUMNS):
        raise DataFileError(
            path,
            f"expected {len(COLUMNS)} columns, found {df.shape[1]}",
            fix="the file must be an unmodified Vonng/adcode county file (no header)",
        )
    df.columns = COLUMNS
    for col in ("lon_gcj02", "lat_gcj02"):
        txt = df[col].str.strip()
        num = pd.to_numeric(txt, errors="coerce")
        bad = num.isna() & (txt != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFileError(
                path,
                f"coordinate {txt.iloc[i]!r} is not a number ({int(bad.sum())} such rows)",
                row=i + 1,
                field=col,
                fix="leave the cell empty when the point is unknown",
            )
        df[col] = num.astype(float)
    df["ur_code"] = pd.to_numeric(df["ur_code"], errors="coerce").fillna(0).astype(int)
    return df


def read_fence(path: Path) -> shapely.Geometry:
    """Read a county outline (GeoJSON geometry, Feature or FeatureCollection; GCJ-02) as WGS84."""
    if not path.exists():
        raise DataFileError(
            path, "county outline not found", fix="add the GeoJSON outline to hunan-fences/"
        )
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        if obj.get("type") == "FeatureCollection":
            geoms = [shape(f["geometry"]) for f in obj["features"]]
        elif obj.get("type") == "Feature":
            geoms = [shape(obj["geometry"])]
        else:
            geoms = [shape(obj)]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataFileError(
            path,
            f"not a readable GeoJSON outline ({type(exc).__name__}: {exc})",
            fix="restore the outline file",
        ) from None
    geom = shapely.union_all([g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    if geom.is_empty:
        raise DataFileError(
            path,
            f"outline has no polygon (found {sorted({g.geom_type for g in geoms})})",
            field="geometry",
            fix="give the county outline as a Polygon or MultiPolygon",
        )
    c = geom.centroid
    if not bool(in_china(np.array([c.x]), np.array([c.y]))[0]):
        raise DataFileError(
            path,
            f"outline centre ({c.x:.3f}, {c.y:.3f}) is not in China",
            field="coordinates",
            fix="the outline must be lon/lat in GCJ-02",
        )
    return shapely.make_valid(geometry_gcj02_to_wgs84(geom))


def list_hunan_counties(data: str | Path | None = None) -> tuple[list[str], dict[str, str]]:
    """County-level units of Hunan that can be modelled, and those that cannot (with why).

    Returns
    -------
    codes
        Sorted 6-digit codes having a code file with a county row and towns, and an outline.
    skipped
        ``{code: reason}`` for the other files (prefecture cities, 市辖区 placeholders, …).
    """
    a, f = adcode_dir(data), fences_dir(data)
    if not a.is_dir():
        raise DataFileError(a, "Hunan code lists are missing", fix="set --data / DOORSTEP_DATA")
    codes: list[str] = []
    skipped: dict[str, str] = {}
    for p in sorted(a.glob("43????.csv")):
        code = p.stem
        levels: set[str] = set()
        try:
            with open(p, encoding="utf-8") as fh:
                for line in fh:
                    parts = line.split(",", 4)
                    if len(parts) > 3:
                        levels.add(parts[3])
        except (OSError, UnicodeDecodeError) as exc:
            skipped[code] = f"unreadable code file ({exc})"
            continue
        if "county" not in levels:
            skipped[code] = f"not a county-level unit (levels {sorted(levels)})"
        elif "town" not in levels:
            skipped[code] = "code file has no township rows (市辖区 placeholder)"
        elif not (f / f"{code}.json").exists():
            skipped[code] = "no outline in hunan-fences"
        else:
            codes.append(code)
    for p in sorted(f.glob("43????.json")):
        if not (a / f"{p.stem}.csv").exists():
            skipped[p.stem] = "outline without a code file"
    return codes, skipped


@functools.lru_cache(maxsize=4)
def _province_weight(adcode: str) -> tuple[float, int]:
    """Σ class weights and count of all (non-dummy) village units of the province (cached).

    A plain line scan (columns level, ur_code, dummy) — ~0.1 s for the 31,000 rows of Hunan.
    """
    params = ModelParams.from_files()
    total, n = 0.0, 0
    for p in sorted(Path(adcode).glob("43????.csv")):
        with open(p, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                f = line.split(",", 12)
                if len(f) > 11 and f[3] == "village" and f[11] != "t":
                    ur = int(f[8]) if f[8].strip().isdigit() else 0
                    total += params.population.weight(ur)
                    n += 1
    return total, n


def hunan_county_source(county_code: str, data: str | Path | None = None) -> CountySource:
    """Read one county of Hunan into a :class:`~geo.sources.CountySource` (WGS84).

    Parameters
    ----------
    county_code
        6-digit code, e.g. ``"433124"``.
    data
        Reference data folder holding ``hunan-adcode/`` and ``hunan-fences/``.

    Raises
    ------
    DataFileError
        The code file or outline is missing or malformed, or the county has no township rows.
    """
    code = _check_code(county_code)
    apath = adcode_dir(data) / f"{code}.csv"
    df = _read_county_rows(apath, code)
    outline = read_fence(fences_dir(data) / f"{code}.json")
    n_bad = _add_wgs84(df)
    county = df[df["level"] == "county"].iloc[0]
    townships = _townships(df)
    villages, n_dummy = _villages(df, townships, apath)
    (cx, cy), seat_note = _county_seat(float(county["lon"]), float(county["lat"]), outline)
    census = _census(code, villages, data)
    n_geo = int(np.isfinite(villages["lon"].to_numpy(float)).sum())
    vnotes = (
        f"{n_geo} of {len(villages)} units geocoded; the others are imputed (location_quality)"
        + (f"; {n_dummy} dummy (虚拟) units left out" if n_dummy else "")
        + (f"; {n_bad} points outside China ignored" if n_bad else "")
    )
    log.info(
        "Hunan source %s %s: %d towns, %d villages (%d geocoded)",
        code,
        county["name"],
        len(townships),
        len(villages),
        n_geo,
    )
    return CountySource(
        code=code,
        name=str(county["name"]),
        vintage="2016",
        outline=gpd.GeoDataFrame(
            {"code": [code], "name": [county["name"]]}, geometry=[outline], crs="EPSG:4326"
        ),
        townships=townships,
        villages=villages,
        county_seat=(cx, cy),
        census=census,
        layers=_layers(code, census, seat_note, vnotes),
    )


def _read_county_rows(apath: Path, code: str) -> pd.DataFrame:
    """The code file of county ``code``, checked to hold its county row and township rows."""
    df = read_adcode(apath)
    crow = df[df["level"] == "county"]
    if crow.empty:
        raise DataFileError(
            apath, "no county row", field="level", fix="give a county-level code, not a city"
        )
    county = crow.iloc[0]
    if county["code"][:6] != code:
        raise DataFileError(
            apath,
            f"county row has code {county['code']}",
            row=int(crow.index[0]) + 1,
            field="code",
            fix=f"the file must describe county {code}",
        )
    if (df["level"] == "town").sum() == 0:
        raise DataFileError(
            apath,
            "no township rows: nothing to model (市辖区 placeholder?)",
            field="level",
            fix="pick a county with townships (see list_hunan_counties)",
        )
    return df


def _add_wgs84(df: pd.DataFrame) -> int:
    """Add WGS84 ``lon``/``lat`` columns (NaN where the GCJ-02 point is missing or outside
    China); returns the number of points outside China."""
    lon, lat = df["lon_gcj02"].to_numpy(float), df["lat_gcj02"].to_numpy(float)
    has = np.isfinite(lon) & np.isfinite(lat)
    ok = has.copy()
    ok[has] = in_china(lon[has], lat[has])
    wlon, wlat = np.full(len(df), np.nan), np.full(len(df), np.nan)
    if ok.any():
        wlon[ok], wlat[ok] = gcj02_to_wgs84(lon[ok], lat[ok])
    df["lon"], df["lat"] = wlon, wlat
    return int((has & ~ok).sum())


def _townships(df: pd.DataFrame) -> pd.DataFrame:
    """Township rows: 9-digit ``code``, ``name`` and seat point."""
    towns = df[df["level"] == "town"]
    return pd.DataFrame(
        {
            "code": towns["code"].str[:9].to_numpy(),
            "name": towns["name"].to_numpy(),
            "seat_lon": towns["lon"].to_numpy(float),
            "seat_lat": towns["lat"].to_numpy(float),
        }
    ).reset_index(drop=True)


def _villages(df: pd.DataFrame, townships: pd.DataFrame, apath: Path) -> tuple[pd.DataFrame, int]:
    """Village rows (dummy 虚拟 units left out, geocodes flagged) and the number left out."""
    vv = df[(df["level"] == "village") & (df["dummy"] != "t")]
    n_dummy = int(((df["level"] == "village") & (df["dummy"] == "t")).sum())
    orphan = ~vv["parent"].str[:9].isin(set(townships["code"]))
    if orphan.any():
        i = int(vv.index[np.flatnonzero(orphan.to_numpy())[0]])
        raise DataFileError(
            apath,
            f"village {df['code'].iloc[i]} refers to township {df['parent'].iloc[i]} absent from the file",
            row=i + 1,
            field="parent",
            fix="restore the township row",
        )
    villages = pd.DataFrame(
        {
            "code": vv["code"].to_numpy(),
            "name": vv["name"].to_numpy(),
            "town_code": vv["parent"].str[:9].to_numpy(),
            "ur_code": vv["ur_code"].to_numpy(int),
            "lon": vv["lon"].to_numpy(float),
            "lat": vv["lat"].to_numpy(float),
        }
    )
    if villages.empty:
        raise DataFileError(apath, "no village rows", field="level", fix="restore the village rows")
    return flag_geocodes(villages, townships), n_dummy


def _layers(code: str, census: CensusFigures, seat_note: str, vnotes: str) -> dict[str, LayerInfo]:
    """Where each layer of a Hunan county source comes from (and whether it is modelled)."""
    return {
        "county": LayerInfo(f"hunan-fences/{code}.json (Amap; GCJ-02→WGS84 by Doorstep)", False),
        "township_codes": LayerInfo(f"hunan-adcode/{code}.csv (NBS 2016-07, Vonng/adcode)", False),
        "villages": LayerInfo(
            f"hunan-adcode/{code}.csv (NBS 2016-07 list, Vonng/adcode, CC-BY-4.0; GCJ-02→WGS84)",
            False,
            vnotes,
        ),
        "census": LayerInfo(
            census.source,
            census.source.startswith("modelled"),
            "no per-county census bundled for Hunan except Huayuan",
        ),
        "county_seat": LayerInfo(seat_note, seat_note.startswith("modelled")),
    }


def _county_seat(
    lon: float, lat: float, outline: shapely.Geometry
) -> tuple[tuple[float, float], str]:
    """The county seat (WGS84) and how it was found.

    The county row's point if finite and within ``seat_tolerance_m`` metres of the outline
    (distance measured in the local transverse Mercator CRS of the point), else the outline's
    representative point (flagged modelled).
    """
    tol = HunanParams.from_file().seat_tolerance_m
    if np.isfinite(lon) and np.isfinite(lat):
        crs = local_metric_crs(lon, lat)
        metric = gpd.GeoSeries([outline, shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(crs)
        if bool(shapely.dwithin(metric.iloc[0], metric.iloc[1], tol)):
            return (lon, lat), "county row point (GCJ-02→WGS84)"
    rp = outline.representative_point()
    note = "modelled: the county row has no usable point; placed inside the outline"
    return (float(rp.x), float(rp.y)), note


def _census(code: str, villages: pd.DataFrame, data: str | Path | None) -> CensusFigures:
    """The real county census where one is bundled (Huayuan), else the modelled figures."""
    real = data_dir(data) / "huayuan" / "huayuan_population_census2020_county.csv"
    if real.exists():
        try:
            return _census_from_csv(real, code)
        except DataFileError:
            pass  # no row for this county: model it
    return _modelled_census(villages, data)


def _modelled_census(villages: pd.DataFrame, data: str | Path | None) -> CensusFigures:
    hp = HunanParams.from_file()
    params = ModelParams.from_files()
    w = np.array([params.population.weight(int(u)) for u in villages["ur_code"]], dtype=float)
    urban = (villages["ur_code"] >= 100) & (villages["ur_code"] < 200)
    wsum, n = _province_weight(str(adcode_dir(data).resolve()))
    if wsum <= 0:
        raise DataFileError(adcode_dir(data), "no village units in the province files")
    total = max(1, round(hp.census2020_total * float(w.sum()) / wsum))
    urban_share = float(w[urban.to_numpy()].sum() / w.sum())
    return CensusFigures(
        total_population=int(total),
        urban_share=urban_share,
        source=(
            f"modelled: {hp.census2020_source} spread over the province's {n:,} village units by "
            "urban–rural class weight (data/params/province.toml, model.toml)"
        ),
    )
