"""The figures of the printable report (``report.html``/``report.pdf``), assembled from a
:class:`doorstep.job.JobResult`: the ``charts`` block of ``run.json`` (every bar, bin and point
the charts draw, with units and a real/modelled source line) and the layers of the map.

The charts and the page are drawn by :mod:`webmap.charts`, :mod:`webmap.report_map` and
:mod:`webmap.report_html`, which compute nothing; figures missing from the job result (the
travel-time histogram) come from :mod:`analysis.distribution`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd

from doorstep.analysis.distribution import TimeHistogram, mode_histograms

from .report import county_ranges, township_ranges

if TYPE_CHECKING:
    from doorstep.webmap.report_map import ReportMap

    from .job import JobResult

UNITS = {
    "share": "fraction 0–1 (shown as %)",
    "population": "persons",
    "minutes": "minutes",
    "km": "km",
    "hours": "hours",
    "visits": "count",
}


def chart_figures(result: JobResult) -> dict[str, Any]:
    """The ``charts`` block of ``run.json``: what each chart of the report draws."""
    return {
        "mode": result.target.mode,
        "townships": township_bars(result),
        "county_share_meeting_target": _county_share(result),
        "travel_time_histograms": [h.to_dict() for h in _histograms(result)],
        "marginal_curve": marginal_points(result.siting),
        "advisers": adviser_rows(result),
        "sources": chart_sources(result),
        "units": UNITS,
    }


def _histograms(result: JobResult) -> list[TimeHistogram]:
    """One travel-time histogram per mode, the target's mode first."""
    hists = mode_histograms(result.coverage.villages)
    return sorted(hists, key=lambda h: (h.mode != result.target.mode, h.mode))


def _county_share(result: JobResult) -> dict[str, float | None]:
    c = result.coverage.county
    row = c[c["mode"] == result.target.mode].iloc[0]
    rng = county_ranges(result).get("share_meeting_target") or {}
    return {
        "value": float(row["share_meeting_target"]),
        "p05": rng.get("p05"),
        "p95": rng.get("p95"),
    }


def township_bars(result: JobResult) -> list[dict[str, Any]]:
    """Per township of the target mode: share meeting the target with its 5–95 % range
    (``None`` without the ensemble), population, and whether it complies; lowest share first."""
    mode = result.target.mode
    t = result.coverage.townships
    t = t[t["mode"] == mode]
    ranges = township_ranges(result)
    rows = []
    for r in t.to_dict(orient="records"):
        rng = ranges.get(str(r["town_code"]), {}).get("share_meeting_target") or {}
        rows.append(
            {
                "code": str(r["town_code"]),
                "name": str(r["town_name"]),
                "population": int(r["population"]),
                "share": float(r["share_meeting_target"]),
                "p05": rng.get("p05"),
                "p95": rng.get("p95"),
                "complies": bool(r["complies"]),
            }
        )
    return sorted(rows, key=lambda x: (x["share"], x["name"]))


def marginal_points(site_doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The siting marginal curve as shares: for k = 0..K new points, the persons covered
    (MCLP optimum for that k, each village against its own target) and their share."""
    if not site_doc or not site_doc.get("marginal_curve"):
        return None
    total = float(site_doc["population"])
    return {
        "population": int(total),
        "objective_units": site_doc.get("objective_units", ""),
        "points": [
            {
                "k": int(p["k"]),
                "population_covered": round(float(p["objective"])),
                "share": float(p["objective"]) / total,
                "gain": None if p["gain"] is None else round(float(p["gain"])),
                "status": p["status"],
            }
            for p in site_doc["marginal_curve"]
        ],
    }


def adviser_rows(result: JobResult) -> list[dict[str, Any]]:
    """Each adviser's month from the circuit plan: km, hours driving and on site, visits."""
    keys = ("lawyer", "km", "drive_hours", "onsite_hours", "visits", "villages", "days_out")
    return [{k: r[k] for k in keys} for r in result.circuits.plan.lawyer_summary()]


def chart_sources(result: JobResult) -> dict[str, str]:
    """The real/modelled source line of each chart, from the model's layer flags."""
    modelled = ", ".join(result.quality.get("modelled_layers", [])) or "none"
    roads = "on the road model: OpenStreetMap main roads (real) + modelled local roads"
    u = result.uncertainty
    rng = f"; range 5–95 % of {u['draws']} draws (seed {u['seed']})" if u else ""
    return {
        "townships": f"数据来源 Source: 模拟 modelled travel times ({result.target.mode}) {roads}; "
        f"modelled layers: {modelled}{rng}",
        "histogram": f"数据来源 Source: 模拟 modelled travel times (each mode) {roads}; persons = "
        f"modelled village populations; modelled layers: {modelled}",
        "map": "数据来源 Source: county outline real (Amap); township boundaries modelled; roads "
        "real (OSM) / modelled; village points real (Vonng/adcode) or imputed; minutes modelled",
        "marginal_curve": "数据来源 Source: 模拟 modelled — MCLP optimum for each number of new "
        "points on modelled times and populations",
        "sensitivity": "数据来源 Source: 模拟 modelled — one-at-a-time ends of the modelled "
        "parameter ranges (data/params/uncertainty.toml)",
        "advisers": f"数据来源 Source: 模拟 modelled plan for {result.month} (PyVRP on modelled "
        "road times), not a record of visits made",
    }


def report_map(result: JobResult) -> ReportMap:
    """The map layers: county, townships, the roads with their real/modelled status as the web
    app and the atlas draw them (:func:`webmap.layers.road_lines`), villages with minutes and
    the underserved flag of :mod:`analysis.gaps`, the points counting for coverage."""
    from doorstep.analysis.coverage import coverage_points
    from doorstep.webmap.layers import road_lines
    from doorstep.webmap.report_map import ReportMap

    model, mode = result.model, result.target.mode
    cv = result.coverage.villages
    minutes = cv[cv["mode"] == mode].set_index("code")["min_staffed"]
    v = model.villages[["code", "name", "geometry"]].copy()
    v["minutes"] = minutes.reindex(v["code"]).to_numpy(dtype=float)
    v["underserved"] = v["code"].isin(set(result.gaps.villages["code"]))
    return ReportMap(
        county=model.county,
        townships=model.townships,
        roads=road_lines(model),
        villages=gpd.GeoDataFrame(v, geometry="geometry", crs=model.villages.crs),
        points=gpd.GeoDataFrame(coverage_points(model)),
        mode=mode,
    )
