"""Adapters between the web app and :mod:`analysis` (siting what-ifs, monthly circuits).

The app never computes analysis itself: these functions assemble the inputs the analysis
functions ask for (from the cached county model), call them and reshape the answers as JSON.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
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


def siting_problem(state: Any, mode: str) -> Any:
    """The county siting problem of :func:`analysis.siting.county.county_problem` (cached)."""
    from analysis.siting.county import county_problem

    return state._get(f"siting:{mode}", lambda: county_problem(state.model, mode=mode))


def run_whatif(state: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Coverage before/after opening sites chosen by a model (or clicked by the planner).

    Models run through :func:`analysis.siting.county.solve_county`; the per-township effect
    comes from :func:`analysis.siting.county.township_effect`.
    """
    from types import SimpleNamespace

    from analysis.siting.county import site_report, solve_county, township_effect

    cs = siting_problem(state, p["mode"])
    prob = cs.problem
    radius = float(p["minutes"])
    ids = list(prob.site_ids)
    if p["sites"] is not None:
        pos = {s: j for j, s in enumerate(ids)}
        bad = [s for s in p["sites"] if s not in pos or prob.roles[pos[s]] != "candidate"]
        if bad:
            raise ApiError(400, f"unknown candidate village code(s): {', '.join(bad[:5])}", "sites")
        new = np.array(sorted({pos[s] for s in p["sites"]}), dtype=np.intp)
        res: Any = SimpleNamespace(open_sites=np.union1d(prob.existing, new), new_sites=new)
        status, seconds, model, objective = "given", 0.0, "manual", None
    else:
        res = solve_county(
            cs, p["model"], add=int(p["k"]), minutes=radius, time_limit=20.0, curve=False
        )
        new = np.asarray(res.new_sites, dtype=np.intp)
        status, seconds, model = res.status, float(res.seconds), p["model"]
        objective = site_report(state.model, cs, res, p["model"], radius)
    w = prob.weights
    d = prob.cost
    before = (
        d[:, prob.existing].min(axis=1) if prob.existing.size else np.full(prob.n_demand, np.inf)
    )
    after = d[:, np.asarray(res.open_sites, dtype=np.intp)].min(axis=1)
    cov_before, cov_after = before <= radius, after <= radius
    total = float(w.sum())
    new_rows = [
        {
            "code": ids[j],
            "name": str(cs.sites["name"].iloc[j]),
            "lon": round(float(cs.sites.geometry.iloc[j].x), 6),
            "lat": round(float(cs.sites.geometry.iloc[j].y), 6),
        }
        for j in new
    ]
    out = {
        "params": p,
        "model": model,
        "status": status,
        "seconds": round(seconds, 3),
        "units": {"minutes": "min", "population": "persons", "share": "fraction 0–1"},
        "summary": {
            "population": round(total),
            "covered_before": round(float(w[cov_before].sum())),
            "covered_after": round(float(w[cov_after].sum())),
            "share_before": round(float(w[cov_before].sum() / total), 4) if total else None,
            "share_after": round(float(w[cov_after].sum() / total), 4) if total else None,
            "new_sites": len(new_rows),
        },
        "new_sites": new_rows,
        "townships": township_effect(cs, res, radius),
        "villages_covered_before": [prob.demand_ids[i] for i in np.flatnonzero(cov_before)],
        "villages_covered_after": [prob.demand_ids[i] for i in np.flatnonzero(cov_after)],
        "assumptions": [
            f"covered = an open staffed point within {radius:g} min by {p['mode']}",
            "candidates = every village; existing = staffed service points",
            "population and roads are modelled layers",
        ],
    }
    if objective is not None:
        out["objective"] = {
            k: objective[k]
            for k in ("objective_value", "objective_units", "lower_bound", "gap")
            if k in objective
        }
    return out


# ------------------------------------------------------------------------------ circuits


PLAN_FUNCTIONS = ("plan_county_month", "county_month_plan", "plan_county")


def _circuits_module() -> Any:
    for name in ("analysis.circuits.county", "analysis.circuits"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if any(hasattr(mod, fn) for fn in PLAN_FUNCTIONS):
            return mod
    raise ApiError(
        503,
        "monthly circuits for the county are not available in analysis.circuits yet",
        code="unavailable",
    )


def circuits_plan(state: Any, month: str) -> Any:
    """The month's :class:`analysis.circuits.plan.MonthPlan` for the county (cached)."""
    mod = _circuits_module()
    fn = next(getattr(mod, f) for f in PLAN_FUNCTIONS if hasattr(mod, f))
    return state._get(f"circuits:{month}", lambda: fn(state.model, month))


def circuits_json(state: Any, month: str) -> dict[str, Any]:
    """The month plan as JSON for the staff page: routes keyed by lawyer id, stops with
    coordinates (from the model), plus the visits marked done in the database."""

    def build() -> dict[str, Any]:
        plan = circuits_plan(state, month)
        out: dict[str, Any] = plan.to_dict() if hasattr(plan, "to_dict") else dict(plan)
        m = state.model
        vxy = {
            str(c): (round(float(g.x), 6), round(float(g.y), 6))
            for c, g in zip(m.villages["code"], m.villages.geometry, strict=True)
        }
        sxy = {
            str(c): (round(float(g.x), 6), round(float(g.y), 6))
            for c, g in zip(m.service_points["id"], m.service_points.geometry, strict=True)
        }
        routes = []
        for r in out.get("routes", []):
            stops = []
            for st in r.get("stops", []):
                code = str(st.get("village_id", st.get("village", "")))
                lon, lat = vxy.get(code, (None, None))
                stops.append(
                    {**st, "village": code, "name": st.get("village", code), "lon": lon, "lat": lat}
                )
            base = str(r.get("base", ""))  # a service point id or a village code
            blon, blat = sxy.get(base, vxy.get(base, (None, None)))
            line = [[blon, blat]] if blon is not None else []
            line += [[s_["lon"], s_["lat"]] for s_ in stops if s_["lon"] is not None]
            if blon is not None:
                line.append([blon, blat])
            routes.append(
                {
                    **r,
                    "lawyer": str(r.get("lawyer_id", r.get("lawyer", ""))),
                    "lawyer_name": r.get("lawyer", ""),
                    "stops": stops,
                    "geometry": {"type": "LineString", "coordinates": line}
                    if len(line) > 1
                    else None,
                }
            )
        out["routes"] = routes
        out["month"] = month
        return out

    data = dict(state._get(f"circuits-json:{month}", build))
    from .db import get_db

    rows = (
        get_db()
        .execute(
            "SELECT lawyer, day, village, done_by, done_at FROM visit_done WHERE month = ?",
            (month,),
        )
        .fetchall()
    )
    data["done"] = [
        {
            "lawyer": r["lawyer"],
            "date": r["day"],
            "village": r["village"],
            "by": r["done_by"],
            "at": r["done_at"],
        }
        for r in rows
    ]
    return data


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
