"""The model against the outside world: published facts and independent sources.

Not to be confused with :mod:`geo.validate` (the model's internal invariants). Each check
compares something the model says with something published or measured independently, and is
either ``ok`` (rows with the model value, the reference, the difference and the error) or
``not run`` with the reason (its input missing or malformed) — never a crash:

* ``distances`` — each published 距县城 distance vs the network distance (km, by car, along the
  fastest path incl. access legs) from the county centre to the place, found in the model by name
  (a township seat or a village);
* ``road_length`` — network km vs the published county road lengths;
* ``township_population`` — model township populations vs published figures (registered 户籍
  figures are not resident counts: the basis of each figure is stated);
* ``county_outline`` — the model's outline vs the independent Tianditu outline: boundary points
  every ``step_m`` along each outline, their distance to the other (both directions, mean and
  max, metres), and the geodesic area difference;
* ``seat_sources`` — the two township-seat sources against each other (geodesic km);
* ``imputation`` — the leave-one-out error of every imputation method, the farthest-point
  baseline included (:mod:`geo.imputation`).

Error % is :math:`100\\,(m - r)/r` for model value :math:`m` and reference :math:`r`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from ._errors import DataFileError, DoorstepError, InputError
from .imputation import ImputationParams, ImputationReport, leave_one_out
from .readers import read_table, read_vector, require_columns
from .services import county_centre
from .settings import huayuan_dir

if TYPE_CHECKING:
    from .model import CountyModel

log = logging.getLogger(__name__)

GEOD = Geod(ellps="WGS84")
FACTS = "huayuan_published_facts.csv"
SEATS_OSM = "huayuan_township_seats_osm_wgs84.csv"
SEATS_VONNG = "huayuan_township_seats_wgs84.geojson"
TIANDITU = "xiangxi_county_outlines_tianditu_cgcs2000.geojson"
OK, NOT_RUN = "ok", "not run"
HUAYUAN = "433124"
HUAYUAN_ONLY = ("distances", "road_length", "township_population", "seat_sources")


@dataclass(frozen=True)
class ValidationRow:
    """One comparison: the model's value against a reference (``None`` where not applicable)."""

    item: str
    model: float | None
    reference: float | None
    unit: str
    note: str = ""
    source: str = ""

    @property
    def difference(self) -> float | None:
        if self.model is None or self.reference is None:
            return None
        return self.model - self.reference

    @property
    def error_pct(self) -> float | None:
        d = self.difference
        if d is None or not self.reference:
            return None
        assert self.reference is not None
        return 100.0 * d / self.reference

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None, nd: int = 3) -> float | None:
            return None if v is None or not math.isfinite(v) else round(v, nd)

        return {
            "item": self.item,
            "model": r(self.model),
            "reference": r(self.reference),
            "unit": self.unit,
            "difference": r(self.difference),
            "error_pct": r(self.error_pct, 1),
            "note": self.note,
            "source": self.source,
        }


@dataclass(frozen=True)
class ValidationCheck:
    """One check: ``status`` is ``"ok"`` or ``"not run"`` (then ``why`` says why)."""

    key: str
    title: str
    status: str
    why: str = ""
    rows: tuple[ValidationRow, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in (OK, NOT_RUN):
            raise InputError(f"check status must be {OK!r} or {NOT_RUN!r}, got {self.status!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "why": self.why,
            "summary": dict(self.summary),
            "rows": [r.as_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class ValidationReport:
    """Every check of :func:`validate_against_world`, in a fixed order."""

    county: str
    checks: tuple[ValidationCheck, ...]

    def check(self, key: str) -> ValidationCheck:
        for c in self.checks:
            if c.key == key:
                return c
        raise InputError(f"no validation check {key!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "county": self.county,
            "checks_ok": sum(c.status == OK for c in self.checks),
            "checks_not_run": sum(c.status == NOT_RUN for c in self.checks),
            "checks": [c.as_dict() for c in self.checks],
        }

    def table(self) -> pd.DataFrame:
        """One row per comparison (a not-run check gives one row carrying its reason)."""
        out = []
        for c in self.checks:
            base = {"check": c.key, "status": c.status}
            if not c.rows:
                out.append({**base, "item": "", "note": c.why})
            out += [{**base, **r.as_dict()} for r in c.rows]
        cols = ["check", "status", "item", "model", "reference", "unit", "difference"]
        cols += ["error_pct", "note", "source"]
        return pd.DataFrame(out).reindex(columns=cols)


def write_validation(report: ValidationReport, out_dir: str | Path) -> list[Path]:
    """Write ``validation.json`` and ``validation.csv`` (UTF-8 with BOM, for Excel) atomically."""
    from .atomic import write_text

    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    j = write_text(
        d / "validation.json", json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"
    )
    c = write_text(d / "validation.csv", report.table().to_csv(index=False), encoding="utf-8-sig")
    return [j, c]


def validate_against_world(
    model: CountyModel, data: str | Path | None = None, *, step_m: float = 100.0
) -> ValidationReport:
    """Run every check against the reference files in ``data`` (default the Huayuan folder)."""
    try:
        folder: Path | None = huayuan_dir(data)
    except DoorstepError as exc:
        folder, missing = None, str(exc)
    checks: list[ValidationCheck] = []
    specs: list[tuple[str, str, Callable[[Path], ValidationCheck]]] = [
        (
            "distances",
            "published 距县城 distances vs network distance",
            lambda f: _distances(model, f),
        ),
        (
            "road_length",
            "network length vs published road length",
            lambda f: _road_length(model, f),
        ),
        (
            "township_population",
            "township populations vs published",
            lambda f: _populations(model, f),
        ),
        ("county_outline", "county outline vs Tianditu", lambda f: _outline(model, f, step_m)),
        ("seat_sources", "township seats: OSM vs Vonng/adcode", _seat_sources),
    ]
    for key, title, fn in specs:
        if folder is None:
            checks.append(ValidationCheck(key, title, NOT_RUN, missing))
            continue
        if key in HUAYUAN_ONLY and str(model.code) != HUAYUAN:
            why = f"the published facts and seat files are for Huayuan ({HUAYUAN}) only"
            checks.append(ValidationCheck(key, title, NOT_RUN, why))
            continue
        try:
            checks.append(fn(folder))
        except (DoorstepError, OSError, KeyError, ValueError) as exc:
            log.warning("validation check %s not run: %s", key, exc)
            checks.append(ValidationCheck(key, title, NOT_RUN, f"{type(exc).__name__}: {exc}"))
    checks.append(_imputation(model))
    return ValidationReport(county=f"{model.name} ({model.code})", checks=tuple(checks))


def parse_number(text: object) -> float | None:
    """First number in a published value: ``"约20"`` → 20, ``"10.3万"`` → 103000, ``"6000余"`` → 6000."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*(万)?", str(text))
    if m is None:
        return None
    v = Decimal(m.group(1))
    return float(v * 10_000 if m.group(2) else v)


def read_facts(folder: Path) -> pd.DataFrame:
    """The published-facts table (columns unit, fact, value, year_or_era, url, quote); read once
    per file version however many checks use it (a copy each call)."""
    path = folder / FACTS
    st = path.stat() if path.is_file() else None
    key = (st.st_mtime_ns, st.st_size) if st else (0, 0)
    return _read_facts(path, *key).copy()


@functools.lru_cache(maxsize=4)
def _read_facts(path: Path, _mtime_ns: int, _size: int) -> pd.DataFrame:
    df = read_table(path, dtype_str=("value",))
    require_columns(df, ["unit", "fact", "value", "year_or_era", "url"], path)
    return df.fillna("")


# --- published distances --------------------------------------------------------------------


def _county_centre(model: CountyModel) -> gpd.GeoDataFrame:
    cc = county_centre(model.service_points, "to measure from")
    return cc.iloc[[0]][["geometry"]].to_crs("EPSG:4326")


def resolve_place(model: CountyModel, unit: str, qualifier: str) -> tuple[str, float, float] | None:
    """The model point a published distance refers to, as ``(label, lon, lat)``.

    No qualifier: the seat of township ``unit``. Otherwise the village of ``unit`` named by the
    qualifier (``"十八洞村"``; a former township ``"old 道二乡"`` → its seat village 道二村), or the
    seat of a township whose 集镇 the qualifier names. ``None`` if nothing matches.
    """
    t = model.townships
    own = t[t["name"] == unit]
    if own.empty:
        return None
    if not qualifier:
        r = own.iloc[0]
        return f"{unit} seat ({r['seat_quality']})", float(r["seat_lon"]), float(r["seat_lat"])
    head = qualifier.split(",")[0].strip()
    stem = re.sub(r"^old\s+|\s+seat$", "", head).strip()
    names = [stem] + ([stem[:-1] + "村"] if stem.endswith(("乡", "镇")) else [])
    v = model.villages
    for name in names:
        hit = v[(v["name"] == name) & (v["town_code"] == own["code"].iloc[0])]
        if len(hit) == 1:
            g = hit.geometry.iloc[0]
            return f"{name} ({hit['location_quality'].iloc[0]})", float(g.x), float(g.y)
    for _, r in t.iterrows():
        if str(r["name"])[:-1] + "集镇" in qualifier:
            return (
                f"{r['name']} seat ({r['seat_quality']})",
                float(r["seat_lon"]),
                float(r["seat_lat"]),
            )
    return None


def _distances(model: CountyModel, folder: Path) -> ValidationCheck:
    from .coords import haversine_m
    from .routing import od_matrix

    facts = read_facts(folder)
    pub = facts[facts["fact"].str.startswith("dist_county_seat_km")]
    if pub.empty:
        raise DataFileError(folder / FACTS, "no dist_county_seat_km rows", field="fact")
    origin = _county_centre(model)
    places = []
    for _, f in pub.iterrows():
        m = re.match(r"dist_county_seat_km\s*\((.*)\)\s*$", str(f["fact"]))
        places.append(resolve_place(model, str(f["unit"]), m.group(1) if m else ""))
    found = [p for p in places if p is not None]
    dest = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([p[1] for p in found], [p[2] for p in found]), crs="EPSG:4326"
    )
    km = od_matrix(model, origin, dest, mode="car", with_distance=True).km
    assert km is not None
    o = origin.geometry.iloc[0]
    rows, k = [], 0
    for (_, f), p in zip(pub.iterrows(), places, strict=True):
        ref = parse_number(f["value"])
        item = f"{f['unit']} {f['fact'].replace('dist_county_seat_km', '').strip()}".strip()
        if p is None:
            rows.append(
                ValidationRow(item, None, ref, "km", "place not found in the model", str(f["url"]))
            )
            continue
        net = float(km[0, k])
        straight = float(haversine_m(o.x, o.y, p[1], p[2])) / 1000.0
        k += 1
        note = f"published '{f['value']}' ({f['year_or_era']}); straight line {straight:.1f} km"
        rows.append(
            ValidationRow(
                f"{item} → {p[0]}",
                net if math.isfinite(net) else None,
                ref,
                "km",
                note,
                str(f["url"]),
            )
        )
    errs = [abs(r.error_pct) for r in rows if r.error_pct is not None]
    summary = {
        "compared": len(errs),
        "not_found": sum(p is None for p in places),
        "median_abs_error_pct": round(float(np.median(errs)), 1) if errs else None,
        "measured": "car, fastest path on the model network incl. access legs, from the county centre",
    }
    return ValidationCheck(
        "distances",
        "published 距县城 distances vs network distance",
        OK,
        rows=tuple(rows),
        summary=summary,
    )


# --- road length ---------------------------------------------------------------------------


def _road_length(model: CountyModel, folder: Path) -> ValidationCheck:
    facts = read_facts(folder)
    pub = facts[facts["fact"] == "road_km_all_grades"]
    if pub.empty:
        raise DataFileError(folder / FACTS, "no road_km_all_grades rows", field="fact")
    by_status: dict[str, float] = {}
    for *_, d in model.graph.edges(data=True):
        s = str(
            d.get(
                "status",
                "modelled"
                if model.layers.get("roads") and model.layers["roads"].modelled
                else "real",
            )
        )
        by_status[s] = by_status.get(s, 0.0) + float(d["length_m"]) / 1000.0
    total = sum(by_status.values())
    split = ", ".join(f"{k} {v:,.0f} km" for k, v in sorted(by_status.items()))
    rows = []
    for _, f in pub.iterrows():
        ref = parse_number(f["value"])
        rows.append(
            ValidationRow(
                f"all roads ({f['year_or_era']})", total, ref, "km", f"model {split}", str(f["url"])
            )
        )
        rural = re.search(r"rural\s+(\d+)", str(f["value"]))
        if rural and ref is not None:
            r_km, trunk = float(rural.group(1)), ref - float(rural.group(1))
            if "modelled" in by_status:
                rows.append(
                    ValidationRow(
                        f"rural roads 农村公路 ({f['year_or_era']})",
                        by_status["modelled"],
                        r_km,
                        "km",
                        "model: modelled local roads",
                        str(f["url"]),
                    )
                )
            if "real" in by_status:
                rows.append(
                    ValidationRow(
                        f"other grades ({f['year_or_era']})",
                        by_status["real"],
                        trunk,
                        "km",
                        "model: real (OSM) roads; published: all grades minus rural",
                        str(f["url"]),
                    )
                )
    area = model.area_km2
    summary = {
        "model_km": round(total, 1),
        "by_status_km": {k: round(v, 1) for k, v in by_status.items()},
        "model_density_km_per_km2": round(total / area, 3) if area else None,
    }
    return ValidationCheck(
        "road_length",
        "network length vs published road length",
        OK,
        rows=tuple(rows),
        summary=summary,
    )


# --- township populations -----------------------------------------------------------------

POPULATION_FACTS = {
    "population_total": "unspecified (usually registered 户籍)",
    "population_hukou": "registered 户籍",
    "population_census2020": "resident 常住 (2020 census)",
}


def _population_basis(fact: str, era: str) -> str:
    if fact == "population_total" and "2015-11-30" in era:
        return "registered 户籍 (2015 merger approval)"
    return POPULATION_FACTS[fact]


def _populations(model: CountyModel, folder: Path) -> ValidationCheck:
    facts = read_facts(folder)
    towns = model.townships.set_index("name")
    pub = facts[facts["fact"].isin(list(POPULATION_FACTS)) & facts["unit"].isin(list(towns.index))]
    if pub.empty:
        raise DataFileError(folder / FACTS, "no township population rows", field="fact")
    src = model.layers.get("population")
    basis_model = f"resident, {'modelled' if src is None or src.modelled else 'from data'} (2020 census total)"
    rows = []
    skipped = 0
    for _, f in pub.iterrows():
        era = str(f["year_or_era"])
        if "only" in era:  # e.g. "old 花垣镇 only": a figure for a part of today's township
            skipped += 1
            continue
        rows.append(
            ValidationRow(
                f"{f['unit']} ({era})",
                float(towns.loc[f["unit"], "population"]),
                parse_number(f["value"]),
                "persons",
                f"published: {_population_basis(str(f['fact']), era)}; model: {basis_model}"
                + (
                    f"; township source {towns.loc[f['unit'], 'population_source']} "
                    "(a share taken from published figures is not an independent check)"
                    if "population_source" in towns.columns
                    else ""
                ),
                str(f["url"]),
            )
        )
    summary = {
        "model_basis": basis_model,
        "skipped_part_of_township": skipped,
        "registered_vs_resident": "registered (户籍) counts include people working away; resident counts do not — "
        "a model of residents is expected to fall below registered figures",
    }
    return ValidationCheck(
        "township_population",
        "township populations vs published",
        OK,
        rows=tuple(rows),
        summary=summary,
    )


# --- county outline ------------------------------------------------------------------------


def boundary_samples(geom: shapely.Geometry, step_m: float) -> np.ndarray:
    """Points every ``step_m`` along every ring of a (metric) polygon, as an (n, 2) array."""
    pts = []
    for ring in shapely.get_parts(shapely.boundary(geom)):
        n = max(int(ring.length // step_m), 1)
        pts.append(
            shapely.get_coordinates(shapely.line_interpolate_point(ring, np.arange(n) * step_m))
        )
    return np.vstack(pts)


def geodesic_area_km2(geom: shapely.Geometry) -> float:
    """Area of a WGS84 (lon/lat) polygon on the WGS84 ellipsoid, km²."""
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def tianditu_outline(folder: Path, gb: str) -> shapely.Geometry:
    """The Tianditu outline of county ``gb`` (e.g. ``156433124``), CGCS2000 ≈ WGS84."""
    path = folder / TIANDITU
    gdf = read_vector(path)
    if "gb" not in gdf.columns:
        raise DataFileError(path, "no 'gb' column", field="gb")
    hit = gdf[gdf["gb"].astype(str) == gb]
    if hit.empty:
        raise DataFileError(path, f"no outline with gb = {gb}", field="gb")
    return hit.geometry.union_all()


def _outline(model: CountyModel, folder: Path, step_m: float) -> ValidationCheck:
    if not 1.0 <= step_m <= 10_000:
        raise InputError(f"boundary sample step must be 1–10000 m, got {step_m}")
    ours = model.county.geometry.union_all()
    ref = tianditu_outline(folder, "156" + str(model.code))
    a, b = gpd.GeoSeries([ours, ref], crs="EPSG:4326").to_crs(model.crs)
    pa, pb = boundary_samples(a, step_m), boundary_samples(b, step_m)
    da = shapely.distance(shapely.points(pa), b.boundary)
    db = shapely.distance(shapely.points(pb), a.boundary)
    both = np.concatenate([da, db])
    area_m, area_r = geodesic_area_km2(ours), geodesic_area_km2(ref)
    src = f"{TIANDITU} (gb 156{model.code}, CGCS2000)"
    rows = (
        ValidationRow(
            "mean boundary distance, model → Tianditu",
            float(da.mean()),
            None,
            "m",
            f"{len(pa)} points every {step_m:g} m",
            src,
        ),
        ValidationRow(
            "mean boundary distance, Tianditu → model",
            float(db.mean()),
            None,
            "m",
            f"{len(pb)} points every {step_m:g} m",
            src,
        ),
        ValidationRow(
            "mean boundary distance, both directions", float(both.mean()), None, "m", "", src
        ),
        ValidationRow(
            "max boundary distance, both directions",
            float(both.max()),
            None,
            "m",
            "≈ Hausdorff distance at this sampling",
            src,
        ),
        ValidationRow("area (geodesic)", area_m, area_r, "km²", "model outline vs Tianditu", src),
    )
    summary = {
        "mean_m": round(float(both.mean()), 1),
        "max_m": round(float(both.max()), 1),
        "area_difference_km2": round(area_m - area_r, 2),
        "iou": round(float(a.intersection(b).area / a.union(b).area), 4),
    }
    return ValidationCheck(
        "county_outline", "county outline vs Tianditu", OK, rows=rows, summary=summary
    )


# --- seat sources --------------------------------------------------------------------------


def _read_features(path: Path) -> gpd.GeoDataFrame:
    """A GeoJSON read as is (features without geometry kept), errors as :class:`DataFileError`."""
    if not path.is_file():
        raise DataFileError(path, "file not found", fix="restore it from the reference data")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataFileError(path, f"cannot read as GeoJSON ({type(exc).__name__}: {exc})") from None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    return gdf


def _seat_sources(folder: Path) -> ValidationCheck:
    osm_path, vonng_path = folder / SEATS_OSM, folder / SEATS_VONNG
    osm = read_table(osm_path, dtype_str=("town_code",))
    require_columns(osm, ["town_code", "name", "lon_wgs84", "lat_wgs84"], osm_path)
    vonng = _read_features(vonng_path)
    if "town_code" not in vonng.columns:
        raise DataFileError(vonng_path, "no 'town_code' property", field="town_code")
    vpt = {
        str(c): g
        for c, g in zip(vonng["town_code"], vonng.geometry, strict=True)
        if g is not None and not g.is_empty
    }
    rows = []
    src = f"{SEATS_OSM} vs {SEATS_VONNG}"
    for _, r in osm.iterrows():
        g = vpt.get(str(r["town_code"]))
        if g is None:
            rows.append(
                ValidationRow(str(r["name"]), None, None, "km", "no Vonng seat: OSM only", src)
            )
            continue
        d = GEOD.inv(float(r["lon_wgs84"]), float(r["lat_wgs84"]), g.x, g.y)[2] / 1000.0
        rows.append(
            ValidationRow(
                str(r["name"]), d, None, "km", "distance between the two seat points", src
            )
        )
    ds = [r.model for r in rows if r.model is not None]
    summary = {
        "compared": len(ds),
        "osm_only": len(rows) - len(ds),
        "max_km": round(max(ds), 3) if ds else None,
        "mean_km": round(float(np.mean(ds)), 3) if ds else None,
    }
    return ValidationCheck(
        "seat_sources", "township seats: OSM vs Vonng/adcode", OK, rows=tuple(rows), summary=summary
    )


# --- imputation ----------------------------------------------------------------------------


def imputation_with_baseline(model: CountyModel, params: ImputationParams) -> ImputationReport:
    """Leave-one-out over the model's cleanly located villages, farthest-point baseline included."""
    v = model.to_metric(model.villages)
    clean = v["location_quality"].isin(["geocoded", "surveyed"]).to_numpy()
    located = (v["location_quality"] != "imputed").to_numpy()
    seats_m = gpd.GeoSeries(
        gpd.points_from_xy(model.townships["seat_lon"], model.townships["seat_lat"]),
        crs="EPSG:4326",
    ).to_crs(model.crs)
    sxy = shapely.get_coordinates(seats_m.values)
    truth = pd.DataFrame(
        {
            "x": v.geometry.x[clean],
            "y": v.geometry.y[clean],
            "town_code": v["town_code"][clean],
            "code": v["code"][clean],
        }
    )
    settle = np.vstack([shapely.get_coordinates(v.geometry.values[located]), sxy])
    polys = dict(
        zip(model.townships["code"], model.to_metric(model.townships).geometry, strict=True)
    )
    seats = {
        str(c): (float(x), float(y)) for c, (x, y) in zip(model.townships["code"], sxy, strict=True)
    }
    from .params import ModelParams

    return leave_one_out(
        truth, seats, ModelParams.from_files().imputation, polygons=polys, settlements_xy=settle
    )


def _imputation(model: CountyModel) -> ValidationCheck:
    title = "imputed village points: leave-one-out error per method"
    if model.imputation is None:
        return ValidationCheck(
            "imputation", title, NOT_RUN, "the model carries no imputation report"
        )
    try:
        rep = imputation_with_baseline(model, model.imputation.params)
    except (DoorstepError, KeyError, ValueError) as exc:
        return ValidationCheck("imputation", title, NOT_RUN, f"{type(exc).__name__}: {exc}")
    chosen = model.imputation.chosen
    rows = tuple(
        ValidationRow(
            r.method,
            r.mean_km,
            None,
            "km (mean)",
            f"median {r.median_km:.2f} km, p90 {r.p90_km:.2f} km, n {r.n}"
            + ("; chosen" if r.method == chosen else "")
            + ("; baseline only (former placement)" if r.baseline else ""),
            "leave-one-out over the cleanly geocoded villages",
        )
        for r in rep.table
    )
    summary = {**model.imputation.as_dict(), "table": [r.as_dict() for r in rep.table]}
    return ValidationCheck("imputation", title, OK, rows=rows, summary=summary)


def format_report(report: ValidationReport) -> Sequence[str]:
    """Plain-text lines of a report (what ``doorstep validate`` prints)."""
    out = [f"{report.county} — model vs the outside world 模型外部核验"]
    for c in report.checks:
        out.append(f"\n[{c.status}] {c.title}" + (f": {c.why}" if c.why else ""))
        if c.key == "imputation" and c.status == OK:
            out += _loo_lines(c)
            continue
        for r in c.rows:
            out.append(f"  {r.item}: {_value_text(r)}" + (f"  ({r.note})" if r.note else ""))
        if c.summary:
            out.append("  = " + "; ".join(f"{k} {v}" for k, v in c.summary.items()))
    return out


def _value_text(r: ValidationRow) -> str:
    if r.model is None:
        return "—"
    if r.reference is None:
        return f"{r.model:,.2f} {r.unit}"
    e = r.error_pct
    return f"model {r.model:,.2f} vs {r.reference:,.2f} {r.unit}" + (
        f", error {e:+.1f}%" if e is not None else ""
    )


def _loo_lines(c: ValidationCheck) -> list[str]:
    head = f"  {'method':38s} {'median km':>9s} {'mean km':>8s} {'p90 km':>7s} {'n':>4s}"
    lines = [head]
    for t in c.summary.get("table", []):
        tag = " (chosen)" if t["method"] == c.summary.get("chosen") else ""
        tag += " (baseline only)" if t["baseline"] else ""
        if t["n"] == 0:
            lines.append(f"  {t['method']:38s} {'—':>9s} {'—':>8s} {'—':>7s} {0:4d}{tag}")
            continue
        lines.append(
            f"  {t['method']:38s} {t['median_km']:9.2f} {t['mean_km']:8.2f} {t['p90_km']:7.2f} "
            f"{t['n']:4d}{tag}"
        )
    r = c.summary.get("radius_m")
    if r is not None:
        lines.append(
            f"  radius of each imputed point: {r:,.0f} m (the chosen method's "
            f"{c.summary['quantile']:.0%} leave-one-out error); {c.summary['n_imputed']} imputed"
        )
    return lines


def format_markdown(report: ValidationReport) -> str:
    """The report as Markdown tables (for the job report): one section per check."""

    def cell(v: object) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return str(v).replace("|", "/")

    out = [f"## 外部核验 Validation against the outside world — {report.county}", ""]
    for c in report.checks:
        out.append(f"### {c.title} — {c.status}" + (f" ({c.why})" if c.why else ""))
        out.append("")
        if not c.rows:
            continue
        out.append("| item | model | reference | unit | error % | note |")
        out.append("|---|---:|---:|---|---:|---|")
        for r in c.rows:
            d = r.as_dict()
            err = "—" if d["error_pct"] is None else f"{d['error_pct']:+.1f}"
            out.append(
                f"| {cell(r.item)} | {cell(d['model'])} | {cell(d['reference'])} | {r.unit} "
                f"| {err} | {cell(r.note)} |"
            )
        out.append("")
    return "\n".join(out) + "\n"
