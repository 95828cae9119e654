r"""Coverage per legal service: the table "service × 15/30/60 min" for the county and each township.

For every service code ``s`` of ``data/params/services.toml`` the travel time of village ``i`` is
to the nearest point open for ``s`` (:meth:`geo.services.ServicePointRules.offering`; per-point
``services`` overrides apply), and the share of the population within each band ``b``:

.. math:: \text{share}_s(b) = \frac{\sum_i P_i \,[t_{i,s} \le b]}{\sum_i P_i}

Legal-aid applications are handed in at the nearest accepting point (a township workstation
forwards them to the county legal-aid centre), so the legal-aid time is to the accepting point;
each row carries the service's ``note`` saying what its time measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from doorstep.geo.params import MODES
from doorstep.geo.services import service_rules

from .coverage import CoverageTarget, coverage, coverage_points, village_times

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel


def service_coverage_table(
    model: CountyModel, target: CoverageTarget | None = None, mode: str | None = None
) -> pd.DataFrame:
    """One row per service and area (``scope`` county / township): population shares within
    each break of ``target`` by ``mode`` (default: the target's mode), mean and p90 minutes.

    Columns: ``service, name_zh, name_en, scope, code, name, mode, points, population,
    share_within_<b>`` for each break, ``mean_min, p90_min, unreachable, note``. Units in
    ``attrs['units']``, assumptions in ``attrs['assumptions']``.
    """
    target = target or CoverageTarget()
    mode = mode or target.mode
    rules = service_rules()
    bands = [f"share_within_{b:g}" for b in target.breaks]
    keep = ["population", *bands, "mean_min", "p90_min", "unreachable"]
    rows: list[dict[str, Any]] = []
    for code, svc in rules.services.items():
        res = coverage(model, target, modes=(mode,), per_tier=False, service=code)
        head = {
            "service": code,
            "name_zh": svc.name_zh,
            "name_en": svc.name_en,
            "mode": mode,
            "points": res.meta["service"]["points"],
        }
        c = res.county.iloc[0]
        rows.append(
            {
                **head,
                "scope": "county",
                "code": str(c["code"]),
                "name": str(c["name"]),
                **{k: c[k] for k in keep},
                "note": svc.note,
            }
        )
        for _, t in res.townships.iterrows():
            rows.append(
                {
                    **head,
                    "scope": "township",
                    "code": str(t["town_code"]),
                    "name": str(t["town_name"]),
                    **{k: t[k] for k in keep},
                    "note": svc.note,
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["units"] = {
        "share_within_*": "fraction of population 0–1",
        "mean_min": "minutes (population-weighted)",
        "p90_min": "minutes (population-weighted 90th percentile)",
        "population": "persons",
        "points": "service points open for the service",
    }
    out.attrs["assumptions"] = [
        f"mode {mode}; times to the nearest point open for each service",
        "which tier offers which service: data/params/services.toml (modelled)",
        *dict.fromkeys(s.note for s in rules.services.values() if s.note),
    ]
    return out


def village_service_times(model: CountyModel, modes: Sequence[str] = MODES) -> pd.DataFrame:
    """Per village, service and mode: minutes to the nearest point open for the service
    (``minutes``, ``inf`` when none is reachable or none offers it) and that point
    (``point_id``, ``""`` if none). One multi-source Dijkstra pass per service and mode."""
    frames = []
    v = model.villages
    for code in service_rules().services:
        if coverage_points(model, code).empty:
            for mode in modes:
                frames.append(
                    pd.DataFrame(
                        {
                            "code": v["code"].to_numpy(),
                            "mode": mode,
                            "minutes": np.inf,
                            "point_id": "",
                            "service": code,
                        }
                    )
                )
            continue
        vt = village_times(model, modes, per_tier=False, service=code)
        frames.append(
            pd.DataFrame(
                {
                    "code": vt["code"].to_numpy(),
                    "mode": vt["mode"].to_numpy(),
                    "minutes": vt["min_staffed"].to_numpy(float),
                    "point_id": vt["nearest_id"].to_numpy(),
                    "service": code,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["units"] = {"minutes": "minutes (access walk + network + access walk)"}
    return out
