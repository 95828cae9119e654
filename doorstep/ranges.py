"""The job's ranges and checks as plain figures: the ensemble block of ``run.json`` and the
validation summary (issue 12).

:func:`uncertainty_figures` turns a :class:`~analysis.uncertainty.RunEnsemble` and the coverage
result it annotated into JSON-ready figures (every coverage share and mean time with its
5–95 % range, county and township; the villages that are a robust gap or uncertain; the siting
stay shares and the plan's 5th-percentile coverage; the sensitivity table; the figures whose
nominal value lies outside its range). :func:`validation_figures` summarises a
:class:`~geo.validation.ValidationReport`. Both only select and round: the numbers are computed
in :mod:`analysis.uncertainty` and :mod:`geo.validation`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from doorstep.analysis.coverage import CoverageResult
    from doorstep.analysis.uncertainty import RunEnsemble
    from doorstep.geo.validation import ValidationReport

PARTS = (("value", ""), ("p05", "_p05"), ("p95", "_p95"))
"""A figure with a range in ``run.json``: its nominal value and the 5th/95th percentiles."""


def _num(x: Any, nd: int | None = 4) -> float | None:
    """A JSON number rounded to ``nd`` places (``None``: as is); ``None`` for missing or
    non-finite values."""
    if x is None:
        return None
    v = float(x)
    if not math.isfinite(v):
        return None
    return v if nd is None else round(v, nd)


def range_columns(table: pd.DataFrame) -> list[str]:
    """Figures of an annotated coverage table that carry a range (``<figure>_p05`` exists)."""
    return [c[: -len("_p05")] for c in table.columns if c.endswith("_p05")]


def _range_rows(table: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    figs = range_columns(table)
    out = []
    for row in table.to_dict(orient="records"):
        rec: dict[str, Any] = {k: row[k] for k in keys}
        rec["population"] = int(row["population"])
        for f in figs:  # unrounded: nominal_outside_range is judged on these very values
            rec[f] = {k: _num(row[f + suffix], None) for k, suffix in PARTS}
        out.append(rec)
    return out


def _gap_villages(ens: RunEnsemble, cov: CoverageResult) -> list[dict[str, Any]]:
    """Villages that are a robust gap or uncertain, with their imputed-point flag."""
    g = ens.gaps[ens.gaps["gap_class"] != "served"]
    v = cov.villages[cov.villages["mode"] == cov.target.mode]
    imputed = dict(zip(v["code"].astype(str), v["location_quality"] == "imputed", strict=True))
    return [
        {
            "code": str(r["code"]),
            "name": str(r["name"]),
            "township": str(r["town_name"]),
            "population": int(r["population"]),
            "minutes": _num(r["min_staffed"], 1),
            "minutes_p05": _num(r["min_staffed_p05"], 1),
            "minutes_p95": _num(r["min_staffed_p95"], 1),
            "target_minutes": _num(r["target_min"], 1),
            "p_miss": _num(r["p_miss"], 3),
            "gap_class": str(r["gap_class"]),
            "imputed_point": bool(imputed.get(str(r["code"]), False)),
        }
        for r in g.to_dict(orient="records")
    ]


def _siting_ranges(ens: RunEnsemble, site_doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """Stay share of each proposed site (with its ``location_status``) and the plan's range."""
    if ens.siting is None:
        return None
    status = {
        str(s["code"]): s["location_status"] for s in (site_doc or {}).get("sites_opened", [])
    }
    s = ens.siting
    return {
        "draws": s["draws"],
        "note": s["note"],
        "sites": [
            {**x, "stay_share": _num(x["stay_share"], 3), "location_status": status.get(x["code"])}
            for x in s["sites"]
        ],
        "coverage_after": {k: _num(v) for k, v in s["coverage_after"].items()},
        "coverage_before": {k: _num(v) for k, v in s["coverage_before"].items()},
        "plan_coverage_p05": _num(s["coverage_after"]["p05"]),
    }


def uncertainty_figures(
    ens: RunEnsemble, cov: CoverageResult, site_doc: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``uncertainty`` block of ``run.json`` (see the module docstring); ``cov`` is the
    coverage result :func:`analysis.uncertainty.run_ensemble` annotated."""
    meta = cov.meta["uncertainty"]
    sens = ens.sensitivity
    return {
        "draws": meta["draws"],
        "seed": meta["seed"],
        "rng": meta["rng"],
        "interval_percentiles": meta["interval_percentiles"],
        "params_source": meta["params_source"],
        "sampled": meta["sampled"],
        "not_sampled": meta["not_sampled"],
        "gap_classes": meta["gap_classes"],
        "county": _range_rows(cov.county, ["mode"]),
        "townships": _range_rows(cov.townships, ["mode", "town_code", "town_name"]),
        "gap_class_counts": ens.to_dict()["gap_class_counts"],
        "gap_villages": _gap_villages(ens, cov),
        "siting": _siting_ranges(ens, site_doc),
        "sensitivity": {
            "mode": sens.attrs.get("mode", cov.target.mode),
            "figure": "county share meeting the target (fraction 0–1)",
            "rows": [
                {k: (_num(v) if isinstance(v, float) else v) for k, v in r.items()}
                for r in sens.to_dict(orient="records")
            ],
        },
        "nominal_outside_range": meta["nominal_outside_range"],
        "units": {"share": "fraction 0–1", "time": "minutes", "range": "5–95 % of draws"},
        "modelled": "ranges come from draws of the modelled inputs, not from measurements",
    }


def validation_figures(report: ValidationReport | None, why: str = "") -> dict[str, Any]:
    """The ``validation`` block of ``run.json``: which checks ran, which not and why."""
    if report is None:
        return {"status": "not run", "why": why}
    d = report.as_dict()
    return {
        "county": d["county"],
        "checks_ok": d["checks_ok"],
        "checks_not_run": d["checks_not_run"],
        "checks": [{k: c[k] for k in ("key", "title", "status", "why")} for c in d["checks"]],
        "file": "validation/validation.json",
    }
