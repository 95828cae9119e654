"""Equity of access: Gini of travel time and the 65+ population beyond the target.

The population-weighted Gini coefficient of travel times ``x_i`` with weights ``w_i``::

    G = Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ),   W = Σ w_i,  μ = Σ w_i x_i / W

(0 = everyone equally far, → 1 = all travel burden on a few). Unreachable villages are given
``unreachable_min`` (default: the largest finite time × 2) so they raise inequality rather
than vanish.

Older residents: the census gives only the county share of people aged 65+; it is applied to
every village (no village age data is public), so the *share* of the 65+ beyond the target
equals the population share, and the useful figure is the estimated **number** of persons 65+.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from doorstep.geo._errors import InputError

from .coverage import CoverageResult, quality_of

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel


def weighted_gini(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted Gini coefficient (sorted-cumulative form, O(n log n))."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if x.shape != w.shape or x.size == 0:
        raise InputError("x and w must be non-empty arrays of the same length")
    if (w < 0).any() or not np.isfinite(x).all():
        raise InputError("weights must be non-negative and values finite")
    total = w.sum()
    if total <= 0:
        return float("nan")
    o = np.argsort(x, kind="stable")
    x, w = x[o], w[o]
    mu = float((w * x).sum() / total)
    if mu == 0:
        return 0.0
    cw = np.cumsum(w)
    cwx = np.cumsum(w * x)
    # Σ_i Σ_j w_i w_j |x_i − x_j| = 2 Σ_i w_i (x_i · W_{<i} − (wx)_{<i})
    prev_w = cw - w
    prev_wx = cwx - w * x
    s = 2.0 * float((w * (x * prev_w - prev_wx)).sum())
    return s / (2.0 * total * total * mu)


def equity_summary(
    model: CountyModel, result: CoverageResult, unreachable_min: float | None = None
) -> dict[str, Any]:
    """Per mode: Gini of population-weighted travel time, people and 65+ beyond the target."""
    census = getattr(model, "census", None)
    share65 = float(getattr(census, "age65p_share", float("nan")))
    if share65 > 1:  # given in percent
        share65 /= 100.0
    out: dict[str, Any] = {
        "units": {"gini": "0–1", "persons*": "persons", "share*": "0–1"},
        "age65p_share_census": share65,
        "modes": {},
        "quality": quality_of(model),
    }
    for mode, g in result.villages.groupby("mode", sort=False):
        t = g["min_staffed"].to_numpy(float)
        fin = np.isfinite(t)
        cap = (
            unreachable_min
            if unreachable_min is not None
            else (2.0 * float(t[fin].max()) if fin.any() else 1.0)
        )
        pop = g["population"].to_numpy(float)
        beyond = ~g["meets_target"].to_numpy(bool)
        p65 = pop * share65
        out["modes"][str(mode)] = {
            "gini_travel_time": weighted_gini(np.where(fin, t, cap), pop),
            "persons_beyond_target": int(np.rint(pop[beyond].sum())),
            "share_beyond_target": float(pop[beyond].sum() / pop.sum())
            if pop.sum()
            else float("nan"),
            "persons65_beyond_target": int(np.rint(p65[beyond].sum()))
            if np.isfinite(share65)
            else None,
            "share65_beyond_target": float(p65[beyond].sum() / p65.sum())
            if np.isfinite(share65) and p65.sum()
            else None,
            "unreachable_villages": int((~fin).sum()),
        }
    out["assumptions"] = [
        "census 65+ share applied uniformly to every village (no village age data)",
        "unreachable villages counted at twice the largest finite time in the Gini",
    ]
    return out
