"""Coverage ensembles: a 5–95 % range beside every share and mean time, gap probabilities and
one-at-a-time sensitivity.

For draws ``b`` with village minutes ``T_bi`` and populations ``P_bi`` (see :mod:`.engine`), a
group ``G`` (township or county) has in draw ``b``::

    share_within_x(b) = Σ_{i∈G} P_bi·[T_bi ≤ x] / Σ_{i∈G} P_bi
    share_meeting_target(b) = Σ_{i∈G} P_bi·[T_bi ≤ L_i] / Σ_{i∈G} P_bi
    mean_min(b) = Σ_{i∈G, T_bi<∞} P_bi·T_bi / Σ_{i∈G, T_bi<∞} P_bi

with ``L_i`` the village's own threshold (urban / rural minutes of the
:class:`~analysis.coverage.CoverageTarget`). The range is the (5, 95) percentile over draws. A
village's probability of missing its target is ``p_i = mean_b [T_bi > L_i]``; it is a *robust
gap* when ``p_i ≥ 0.9``, *uncertain* when ``0.1 ≤ p_i < 0.9``, else *served* (thresholds in
``uncertainty.toml``).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from doorstep.geo.params import MODES

from ..coverage import CoverageResult, CoverageTarget, _json_records
from .engine import EnsembleEngine
from .params import UncertaintyParams

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

DEFAULT_RUN_DRAWS = 200
"""Draws ``doorstep run`` uses unless told otherwise (0 turns the ensemble off)."""

FloatArray = NDArray[np.float64]
GAP_CLASSES = ("robust gap", "uncertain", "served")
INTERVAL = (5.0, 95.0)  # percentiles of every reported range (columns *_p05, *_p95)
PERCENTILE_METHOD: Final = "inverted_cdf"  # a range end is a value some draw gave (inf-safe)


def gap_class(p_miss: FloatArray, params: UncertaintyParams) -> NDArray[np.object_]:
    """Class of each probability of missing the target (see the module docstring)."""
    p = np.asarray(p_miss, dtype=float)
    return np.where(
        p >= params.robust_share,
        GAP_CLASSES[0],
        np.where(p >= params.served_share, GAP_CLASSES[1], GAP_CLASSES[2]),
    ).astype(object)


def _limits(engine: EnsembleEngine, target: CoverageTarget) -> FloatArray:
    """Each village's own threshold, as :func:`analysis.coverage.coverage` applies it (to be
    ``target.thresholds(urban)`` once the one-target definition lands)."""
    urban = engine.model.villages["urban"].astype(bool).to_numpy()
    return np.where(urban, target.urban_minutes, target.rural_minutes)


def group_stats(
    t: FloatArray, pop: FloatArray, member: FloatArray, limit: FloatArray, target: CoverageTarget
) -> dict[str, FloatArray]:
    """``(B, G)`` shares and mean minutes of every group per draw (formulas in the module)."""
    tot = pop @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {f"share_within_{b:g}": (pop * (t <= b)) @ member / tot for b in target.breaks}
        out["share_meeting_target"] = (pop * (t <= limit)) @ member / tot
        fin = np.isfinite(t)
        out["mean_min"] = (pop * np.where(fin, t, 0.0)) @ member / ((pop * fin) @ member)
    return out


@dataclass
class CoverageEnsemble:
    """Ranges of the coverage figures over ``draws`` draws (long tables, one row per mode).

    ``county`` / ``townships`` hold ``<figure>_p05`` and ``<figure>_p95`` for every share and
    ``mean_min``; ``villages`` the probability ``p_miss`` of missing the target, its
    ``gap_class`` and ``min_staffed_p05/_p95``; ``sensitivity`` the one-at-a-time table.
    """

    draws: int
    seed: int
    county: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    sensitivity: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "draws": self.draws,
            "seed": self.seed,
            **self.meta,
            "county": _json_records(self.county),
            "townships": _json_records(self.townships),
            "villages": _json_records(self.villages),
            "sensitivity": _json_records(self.sensitivity),
        }


def _interval_rows(
    stats: dict[str, FloatArray], q: tuple[float, float], keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = [dict(k) for k in keys]
    for name, a in stats.items():
        with warnings.catch_warnings():  # a group with no reachable village: nan, said so
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanpercentile(a, q, axis=0, method=PERCENTILE_METHOD)
        for g, row in enumerate(rows):
            row[f"{name}_p05"] = float(lo[g])
            row[f"{name}_p95"] = float(hi[g])
    return rows


def coverage_ensemble(
    model: CountyModel,
    target: CoverageTarget | None = None,
    draws: int = DEFAULT_RUN_DRAWS,
    seed: int = 0,
    modes: tuple[str, ...] = MODES,
    params: UncertaintyParams | None = None,
    engine: EnsembleEngine | None = None,
) -> CoverageEnsemble:
    """Coverage of ``draws`` draws of the modelled inputs (``numpy`` generator from ``seed``:
    the same seed gives the same numbers) for every mode; see the module docstring."""
    target = target or CoverageTarget()
    engine = engine or EnsembleEngine(model, params)
    p = engine.params
    t0 = time.perf_counter()
    d = engine.sample(draws, seed)
    pop = engine.populations(d)
    v = model.villages
    limit = _limits(engine, target)
    towns = (
        v[["town_code", "town_name"]]
        .astype(str)
        .drop_duplicates()
        .sort_values(["town_code", "town_name"])
    )
    tkey = list(zip(v["town_code"].astype(str), v["town_name"].astype(str), strict=True))
    tcols = {k: g for g, k in enumerate(zip(towns["town_code"], towns["town_name"], strict=True))}
    member = np.zeros((len(v), len(tcols)))
    member[np.arange(len(v)), [tcols[k] for k in tkey]] = 1.0
    county, townships, villages = [], [], []
    for mode in modes:
        t = engine.village_minutes(d, mode)
        county += _interval_rows(
            group_stats(t, pop, np.ones((len(v), 1)), limit, target), INTERVAL, [{"mode": mode}]
        )
        townships += _interval_rows(
            group_stats(t, pop, member, limit, target),
            INTERVAL,
            [{"mode": mode, "town_code": c, "town_name": n} for c, n in tcols],
        )
        villages.append(_village_rows(v, mode, t, limit, p))
    sens = sensitivity(engine, target)
    meta = _meta(engine, draws, seed)
    log.info("ensemble: %d draws x %d modes in %.2f s", draws, len(modes), time.perf_counter() - t0)
    return CoverageEnsemble(
        draws,
        seed,
        pd.DataFrame(county),
        pd.DataFrame(townships),
        pd.concat(villages, ignore_index=True),
        sens,
        meta,
    )


def _village_rows(
    v: pd.DataFrame, mode: str, t: FloatArray, limit: FloatArray, p: UncertaintyParams
) -> pd.DataFrame:
    miss = (~(t <= limit)).mean(axis=0)
    lo, hi = np.percentile(t, INTERVAL, axis=0, method=PERCENTILE_METHOD)
    return pd.DataFrame(
        {
            "code": v["code"].astype(str).to_numpy(),
            "mode": mode,
            "p_miss": miss,
            "gap_class": gap_class(miss, p),
            "min_staffed_p05": lo,
            "min_staffed_p95": hi,
        }
    )


def sensitivity(engine: EnsembleEngine, target: CoverageTarget) -> pd.DataFrame:
    """One-at-a-time sensitivity of the county share meeting the target (``target.mode``):
    each sampled dimension at its low and high end, the others nominal; sorted by swing
    ``|share(high) − share(low)|`` (largest first). Speed factors of other modes are left out
    (they cannot move this share); "imputed village positions" moves every imputed village its
    full radius towards (low) or away from (high) its service at once. Data for a tornado
    chart."""
    mode = target.mode
    dims = [dm for dm in engine.dims if dm.field != "speed" or MODES[dm.index[1]] == mode]
    d = engine.one_at_a_time(dims, mode)
    nom = engine.nominal(1)
    limit = _limits(engine, target)
    one = np.ones((engine.pop.size, 1))

    def share(dr: Any) -> FloatArray:
        st = group_stats(
            engine.village_minutes(dr, mode), engine.populations(dr), one, limit, target
        )
        return st["share_meeting_target"][:, 0]

    s, s0 = share(d), float(share(nom)[0])
    df = pd.DataFrame(
        {
            "parameter": [dm.label for dm in dims],
            "low": [dm.range.low for dm in dims],
            "nominal": [dm.nominal for dm in dims],
            "high": [dm.range.high for dm in dims],
            "share_at_low": s[0::2],
            "share_at_high": s[1::2],
            "share_nominal": s0,
        }
    )
    df["swing"] = (df["share_at_high"] - df["share_at_low"]).abs()
    df = df.sort_values(["swing", "parameter"], ascending=[False, True], kind="stable")
    df.attrs["mode"] = mode
    return df.reset_index(drop=True)


def _meta(engine: EnsembleEngine, draws: int, seed: int) -> dict[str, Any]:
    p = engine.params
    return {
        "interval_percentiles": list(INTERVAL),
        "gap_classes": {
            "robust gap": f"p_miss >= {p.robust_share:g}",
            "uncertain": f"{p.served_share:g} <= p_miss < {p.robust_share:g}",
            "served": f"p_miss < {p.served_share:g}",
        },
        "sampled": [dm.label for dm in engine.dims],
        "not_sampled": [
            "road edges with status 'real'",
            "populations not marked modelled",
            "geocoded/surveyed village points",
            "service point positions",
        ],
        "params_source": p.source,
        "rng": f"numpy.random.default_rng({seed})",
        "draws": draws,
    }


def annotate_coverage(res: CoverageResult, ens: CoverageEnsemble) -> CoverageResult:
    """Put the ensemble's ranges beside the nominal figures of ``res`` (in place; returns it):
    ``<figure>_p05``/``_p95`` columns on the county and township tables, ``p_miss``,
    ``gap_class`` and the minutes range on the village table, the rest in
    ``meta['uncertainty']``."""
    res.county = res.county.merge(ens.county, on="mode", how="left")
    res.townships = res.townships.merge(
        ens.townships.drop(columns="town_name"), on=["mode", "town_code"], how="left"
    )
    res.villages = res.villages.merge(ens.villages, on=["code", "mode"], how="left")
    doc = ens.to_dict()
    res.meta["uncertainty"] = {
        k: doc[k] for k in doc if k not in ("county", "townships", "villages")
    }
    res.meta["uncertainty"]["nominal_outside_range"] = nominal_outside(res)
    return res


def nominal_outside(res: CoverageResult) -> list[dict[str, Any]]:
    """Figures of an annotated ``res`` whose nominal value lies outside its 5–95 % range.

    Not an error: the draws are centred on the modelled inputs, but a figure need not be. A
    village imputed on top of its service point, for one, can only get farther in a draw
    (``|D + δ| ≥ |D| = 0``), so its township's nominal share is a best case. Listed so that a
    reader sees where the nominal figure is optimistic (or pessimistic)."""
    out: list[dict[str, Any]] = []
    for table, key in ((res.county, "county"), (res.townships, "town_name")):
        figures = [c[: -len("_p05")] for c in table.columns if c.endswith("_p05")]
        for row in table.to_dict(orient="records"):
            for f in figures:
                lo, x, hi = row[f + "_p05"], row[f], row[f + "_p95"]
                if np.isfinite(x) and not lo - 1e-12 <= x <= hi + 1e-12:
                    where = "county" if key == "county" else str(row[key])
                    side = "below" if x < lo else "above"
                    out.append(
                        {
                            "mode": row["mode"],
                            "where": where,
                            "figure": f,
                            "nominal": x,
                            "p05": lo,
                            "p95": hi,
                            "nominal_is": f"{side} the range",
                        }
                    )
    return out


def gap_table(result: CoverageResult, mode: str | None = None) -> pd.DataFrame:
    """Every village of an annotated ``result`` (:func:`annotate_coverage`) for ``mode``
    (default: the target's): nominal minutes and threshold, the minutes range, ``p_miss`` and
    ``gap_class``, most likely gaps first."""
    v = result.villages[result.villages["mode"] == (mode or result.target.mode)]
    cols = ["code", "name", "town_name", "population", "min_staffed", "target_min"]
    rng = [c for c in v.columns if c.startswith("min_staffed_p")]
    out = v[[*cols, *rng, "p_miss", "gap_class"]].sort_values(
        ["p_miss", "population"], ascending=False, kind="stable"
    )
    return out.reset_index(drop=True)
