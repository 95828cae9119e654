"""Adapters between the web app and :mod:`analysis` (siting what-ifs, monthly circuits).

The app never computes analysis itself: these functions assemble the inputs the analysis
functions ask for (from the cached county model), call them and reshape the answers as JSON.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from .db import now
from .errors import ApiError
from .validate import MODES, choice, integer, number

log = logging.getLogger(__name__)

MODELS = ("mclp", "lscp", "pmedian", "pcenter")
MAX_K = 30

__all__ = ["default_month", "now", "run_whatif", "whatif_params"]


def default_month() -> str:
    """Next calendar month (YYYY-MM): the one staff plan for."""
    t = dt.date.today().replace(day=1) + dt.timedelta(days=32)
    return f"{t.year}-{t.month:02d}"


def whatif_params(body: dict[str, Any]) -> dict[str, Any]:
    """Validate what-if parameters: model, k, minutes (radius), mode, or clicked sites."""
    model = choice(body, "model", MODELS, "mclp")
    mode = choice(body, "mode", MODES, "car")
    minutes = number(body, "minutes", 1, 240, 30.0)
    sites = body.get("sites")
    if sites is not None:
        if (
            not isinstance(sites, list)
            or len(sites) > MAX_K
            or not all(isinstance(s, str) and 0 < len(s) <= 20 for s in sites)
        ):
            raise ApiError(400, f"'sites' must be a list of at most {MAX_K} village codes", "sites")
        k: int = len(sites)
    else:
        k = integer(body, "k", 1, MAX_K, 3) or 3
    return {
        "model": model,
        "mode": mode,
        "minutes": minutes,
        "k": k,
        "sites": list(sites) if sites is not None else None,
    }


def _solver(name: str) -> Callable[..., Any]:
    """The model function ``analysis.siting.<name>`` (exported or in its own module)."""
    pkg = importlib.import_module("analysis.siting")
    fn = getattr(pkg, name, None)
    if fn is None:
        for mod in (name, "cover", "coverage", "center", "pcenter", "lscp", "mclp"):
            try:
                fn = getattr(importlib.import_module(f"analysis.siting.{mod}"), name, None)
            except ImportError:
                continue
            if fn is not None:
                break
    if fn is None:
        raise ApiError(
            503,
            f"siting model {name!r} is not available in analysis.siting yet",
            "model",
            code="unavailable",
        )
    return fn  # type: ignore[no-any-return]


def siting_problem(state: Any, mode: str) -> Any:
    """Villages (demand, population) × staffed points (existing) + villages (candidates)."""

    def build() -> Any:
        import pandas as pd

        from analysis.coverage import staffed_points
        from analysis.siting import SitingProblem
        from geo.traveltime import od_matrix

        m = state.model
        existing = staffed_points(m)
        sites = pd.concat(
            [
                pd.DataFrame(
                    {
                        "id": existing["id"].astype(str),
                        "name": existing["name"],
                        "role": "existing",
                        "geometry": existing.geometry,
                    }
                ),
                pd.DataFrame(
                    {
                        "id": m.villages["code"].astype(str),
                        "name": m.villages["name"],
                        "role": "candidate",
                        "geometry": m.villages.geometry,
                    }
                ),
            ],
            ignore_index=True,
        )
        import geopandas as gpd

        sites = gpd.GeoDataFrame(sites, geometry="geometry", crs="EPSG:4326")
        od = od_matrix(m, m.villages, sites, mode=mode)
        prob = SitingProblem.from_geodataframe(
            m.villages, sites, od.minutes, weight="population", demand_id="code", site_id="id"
        )
        return prob, sites

    return state._get(f"siting:{mode}", build)


def run_whatif(state: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Coverage before/after opening sites chosen by a model (or clicked by the planner)."""
    from analysis.siting.result import covered_share

    prob, sites = siting_problem(state, p["mode"])
    radius = float(p["minutes"])
    ids = list(prob.site_ids)
    if p["sites"] is not None:
        pos = {s: j for j, s in enumerate(ids)}
        bad = [s for s in p["sites"] if s not in pos or prob.roles[pos[s]] != "candidate"]
        if bad:
            raise ApiError(400, f"unknown candidate village code(s): {', '.join(bad[:5])}", "sites")
        new = np.array(sorted({pos[s] for s in p["sites"]}), dtype=np.intp)
        status, seconds, model = "given", 0.0, "manual"
    else:
        fn = _solver(p["model"])
        kwargs: dict[str, Any] = {"time_limit": 20.0}
        if p["model"] in ("mclp", "lscp"):
            kwargs["radius"] = radius
        try:
            res = fn(prob, p["k"], **kwargs) if p["model"] != "lscp" else fn(prob, **kwargs)
        except TypeError:
            res = fn(prob, p["k"], radius=radius)
        new = np.asarray(res.new_sites, dtype=np.intp)
        status, seconds, model = res.status, float(res.seconds), res.model
    existing = prob.existing
    after_open = np.union1d(existing, new)
    w = prob.weights
    total = float(w.sum())
    cov_before = prob.cost[:, existing].min(axis=1) <= radius
    cov_after = prob.cost[:, after_open].min(axis=1) <= radius
    share_b = covered_share(prob, existing, radius)
    share_a = covered_share(prob, after_open, radius)
    new_rows = [
        {
            "code": ids[j],
            "name": str(sites["name"].iloc[j]),
            "lon": round(float(sites.geometry.iloc[j].x), 6),
            "lat": round(float(sites.geometry.iloc[j].y), 6),
        }
        for j in new
    ]
    return {
        "params": p,
        "model": model,
        "status": status,
        "seconds": round(seconds, 3),
        "units": {"minutes": "min", "population": "persons", "share": "fraction 0–1"},
        "summary": {
            "population": int(total),
            "covered_before": round(float(w[cov_before].sum())),
            "covered_after": round(float(w[cov_after].sum())),
            "share_before": round(float(share_b), 4),
            "share_after": round(float(share_a), 4),
            "new_sites": len(new_rows),
        },
        "new_sites": new_rows,
        "villages_covered_before": [prob.demand_ids[i] for i in np.flatnonzero(cov_before)],
        "villages_covered_after": [prob.demand_ids[i] for i in np.flatnonzero(cov_after)],
        "assumptions": [
            f"covered = nearest open staffed point within {radius:g} min by {p['mode']}",
            "candidates = every village; existing = staffed points (county centre, "
            "township workstations)",
            "population and roads are modelled layers",
        ],
    }


# ------------------------------------------------------------------------------ circuits


def _circuits_module() -> Any:
    for name in ("analysis.circuits.county", "analysis.circuits"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "plan_county_month"):
            return mod
    raise ApiError(
        503,
        "monthly circuits for the county are not available in analysis.circuits yet",
        code="unavailable",
    )


def circuits_plan(state: Any, month: str) -> Any:
    mod = _circuits_module()
    return state._get(f"circuits:{month}", lambda: mod.plan_county_month(state.model, month))


def circuits_json(state: Any, month: str) -> dict[str, Any]:
    plan = circuits_plan(state, month)
    out: dict[str, Any] = plan.to_dict() if hasattr(plan, "to_dict") else dict(plan)
    out["month"] = month
    return out


def ledger_file(state: Any, month: str) -> Any:
    mod = _circuits_module()
    return mod.write_ledger(circuits_plan(state, month), state_dir(state, month) / "ledger.xlsx")


def calendar_file(state: Any, month: str, lawyer: str | None) -> Any:
    from .security import inside, safe_name

    name = safe_name(lawyer, "lawyer") + ".ics" if lawyer else "all.ics"
    mod = _circuits_module()
    path = inside(state_dir(state, month), name)
    return mod.write_ics(circuits_plan(state, month), path, lawyer=lawyer)


def state_dir(state: Any, month: str) -> Any:
    from pathlib import Path

    from flask import current_app

    d = Path(current_app.instance_path) / "exports" / month
    d.mkdir(parents=True, exist_ok=True)
    return d


def check_visit(state: Any, month: str, lawyer: str, day: str, village: str) -> None:
    """404 unless the month's plan has ``lawyer`` visiting ``village`` on ``day``."""
    data = circuits_json(state, month)
    for r in data.get("routes", []):
        if (
            r.get("lawyer") == lawyer
            and r.get("date") == day
            and any(
                s.get("village") == village or s.get("location") == village
                for s in r.get("stops", [])
            )
        ):
            return
    raise ApiError(404, f"no visit of {village} by {lawyer} on {day} in the {month} plan")
