"""The distribution of travel times: how many persons live how far from help.

:func:`time_histogram` bins village times weighted by village population into right-closed
bins ``(a, b]`` starting at 0 — the same "within b minutes" reading as coverage, so the
persons in the bins up to 30 minutes are exactly the population within 30 minutes.
:func:`mode_histograms` does it for every mode of a coverage village table.

>>> h = time_histogram([1.0, 5.0, 12.0], [100, 50, 10], mode="car", width=5.0)
>>> h.edges_minutes, h.population
((0.0, 5.0, 10.0, 15.0), (150, 0, 10))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from doorstep.geo._errors import InputError

NICE_WIDTHS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0)
"""Bin widths in minutes a histogram may use (the smallest giving at most ``max_bins`` bins)."""


@dataclass(frozen=True)
class TimeHistogram:
    """Persons per travel-time bin for one mode.

    ``population[i]`` persons live in villages ``edges_minutes[i]`` < t ≤ ``edges_minutes[i+1]``
    minutes from the nearest staffed point (t = 0 in the first bin); ``unreachable`` persons
    have no route. Times are modelled (road network model), populations as the model's.
    """

    mode: str
    edges_minutes: tuple[float, ...]
    population: tuple[int, ...]
    unreachable: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with units."""
        return {
            "mode": self.mode,
            "edges_minutes": list(self.edges_minutes),
            "population": list(self.population),
            "unreachable": self.unreachable,
            "units": {"edges_minutes": "minutes", "population": "persons"},
        }


def bin_width(max_minutes: float, max_bins: int = 16) -> float:
    """The smallest of :data:`NICE_WIDTHS` that covers ``0..max_minutes`` in ``max_bins`` bins."""
    if max_bins < 1:
        raise InputError(f"max_bins must be >= 1, got {max_bins}")
    for w in NICE_WIDTHS:
        if math.ceil(max_minutes / w) <= max_bins:
            return w
    return math.ceil(max_minutes / max_bins / 60.0) * 60.0


def time_histogram(
    minutes: Sequence[float] | np.ndarray,
    population: Sequence[float] | np.ndarray,
    *,
    mode: str,
    width: float | None = None,
    max_bins: int = 16,
) -> TimeHistogram:
    """Persons per ``(a, b]`` minute bin from 0 to the longest finite time (see
    :class:`TimeHistogram`); ``width`` in minutes, default :func:`bin_width`. Infinite or
    missing times count as unreachable."""
    t = np.asarray(minutes, dtype=float)
    w = np.asarray(population, dtype=float)
    if t.shape != w.shape:
        raise InputError(f"{t.size} times but {w.size} populations; give one per village")
    if np.any(t[np.isfinite(t)] < 0) or np.any(w < 0):
        raise InputError("travel times and populations must be >= 0")
    ok = np.isfinite(t)
    top = float(t[ok].max()) if ok.any() else 0.0
    step = float(width) if width is not None else bin_width(top, max_bins)
    if not step > 0:
        raise InputError(f"bin width must be > 0 minutes, got {step}")
    n = max(1, math.ceil(top / step - 1e-9))
    edges = np.arange(n + 1, dtype=float) * step
    idx = np.clip(np.searchsorted(edges, t[ok], side="left") - 1, 0, n - 1)
    counts = np.bincount(idx, weights=w[ok], minlength=n)
    return TimeHistogram(
        mode=mode,
        edges_minutes=tuple(float(e) for e in edges),
        population=tuple(round(float(c)) for c in counts),
        unreachable=round(float(w[~ok].sum())),
    )


def mode_histograms(villages: pd.DataFrame, *, max_bins: int = 16) -> list[TimeHistogram]:
    """One :func:`time_histogram` per mode of a coverage village table (columns ``mode``,
    ``min_staffed``, ``population``), modes in their order of appearance."""
    missing = {"mode", "min_staffed", "population"} - set(villages.columns)
    if missing:
        raise InputError(f"village table lacks {sorted(missing)}; pass coverage(...).villages")
    return [
        time_histogram(g["min_staffed"], g["population"], mode=str(mode), max_bins=max_bins)
        for mode, g in villages.groupby("mode", sort=False)
    ]
