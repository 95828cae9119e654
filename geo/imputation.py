"""Village points imputed with a measured error: candidate methods, leave-one-out, radius.

A village without a usable geocode gets a point from the located villages of its own township.
Candidate methods (all deterministic, metric CRS):

* ``seat`` — at the township seat;
* ``centroid`` — at the mean of the township's located villages;
* ``code_neighbours`` — the inverse-code-distance weighted mean of the ``k`` located villages
  of the township whose NBS codes are nearest. NBS numbers villages within a township roughly
  along its valleys, so neighbouring codes are neighbouring places. With ordinal
  :math:`o` (last three code digits) and neighbours :math:`j \\in N_k`:

  .. math:: \\hat p = \\frac{\\sum_{j} w_j p_j}{\\sum_j w_j}, \\qquad w_j = 1 / |o - o_j|

  The township seat takes part as ordinal 000: NBS numbers communities (001–199) from the town
  centre, so a community leans on the seat, and a township with few located villages still gets
  a distinct point per village, between them and the seat.

* ``farthest_point`` — *baseline only*, never used to place a point: the grid point of the
  township polygon farthest from every located settlement (:func:`geo.modelled.impute_points`).

:func:`leave_one_out` hides each cleanly geocoded village in turn, imputes it from the rest and
measures the distance to its true point. :func:`choose_method` keeps the candidate with the
smallest mean error; the radius of every imputed point is the ``quantile`` (default 0.9) of the
chosen method's errors, so about 9 in 10 imputed points lie within it of the truth. A township
with no located village falls back to its seat whatever the method.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.ops import nearest_points

from ._errors import DataFileError, InputError

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = (
    "seat",
    "centroid",
    "code_neighbours",
)
"""Methods that may place a point (in order of preference on a tie)."""

BASELINE = "farthest_point"
"""The former placement, measured for comparison only."""


@dataclass(frozen=True)
class ImputationParams:
    """Parameters of village-point imputation (``[imputation]`` in ``data/params/model.toml``).

    Attributes
    ----------
    neighbours
        ``k`` of the code-neighbour methods.
    quantile
        Quantile of the leave-one-out errors used as the uncertainty radius (0.5–0.99).
    min_loo
        Fewest leave-one-out cases needed to choose a method by measurement; with fewer, the
        default method is used and each imputed point's radius is the equal-area radius of its
        township polygon, :math:`\\sqrt{A/\\pi}`.
    default_method
        Method used when there are too few cases to measure.
    grid_m
        Grid step of the farthest-point baseline (metres).
    """

    neighbours: int = 3
    quantile: float = 0.9
    min_loo: int = 10
    default_method: str = "code_neighbours"
    grid_m: float = 250.0

    def __post_init__(self) -> None:
        src = "data/params/model.toml"
        if not 1 <= self.neighbours <= 20:
            raise DataFileError(src, "neighbours must be 1–20", field="imputation.neighbours")
        if not 0.5 <= self.quantile <= 0.99:
            raise DataFileError(src, "quantile must be 0.5–0.99", field="imputation.quantile")
        if self.min_loo < 1:
            raise DataFileError(src, "min_loo must be >= 1", field="imputation.min_loo")
        if self.default_method not in METHODS:
            raise DataFileError(
                src,
                f"unknown method {self.default_method!r}",
                field="imputation.default_method",
                fix=f"use one of {', '.join(METHODS)}",
            )
        if not 10 <= self.grid_m <= 5000:
            raise DataFileError(src, "grid_m must be 10–5000 m", field="imputation.grid_m")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ImputationParams:
        """Build from the ``[imputation]`` table (unknown keys are refused)."""
        known = {"neighbours", "quantile", "min_loo", "default_method", "grid_m"}
        extra = sorted(set(d) - known)
        if extra:
            raise DataFileError(
                "data/params/model.toml",
                f"unknown key(s) {extra}",
                field="imputation",
                fix=f"use {sorted(known)}",
            )
        return cls(**dict(d))


@dataclass(frozen=True)
class MethodError:
    """Leave-one-out error of one method (km)."""

    method: str
    n: int
    median_km: float
    mean_km: float
    p90_km: float
    baseline: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n": self.n,
            "median_km": _km(self.median_km),
            "mean_km": _km(self.mean_km),
            "p90_km": _km(self.p90_km),
            "baseline": self.baseline,
        }


def _km(v: float) -> float | None:
    return round(v, 3) if np.isfinite(v) else None


@dataclass(frozen=True)
class ImputationReport:
    """The leave-one-out table, the chosen method and the radius it gives imputed points."""

    table: tuple[MethodError, ...]
    chosen: str
    radius_m: float | None
    quantile: float
    n_imputed: int = 0
    errors_m: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    params: ImputationParams = field(default_factory=ImputationParams)

    def row(self, method: str) -> MethodError:
        for r in self.table:
            if r.method == method:
                return r
        raise InputError(f"no leave-one-out row for method {method!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "radius_m": None if self.radius_m is None else round(self.radius_m, 1),
            "quantile": self.quantile,
            "n_imputed": self.n_imputed,
            "selection": "smallest mean leave-one-out error among the candidate methods",
            "table": [r.as_dict() for r in self.table],
        }


def code_ordinals(codes: pd.Series | np.ndarray) -> np.ndarray:
    """The village ordinal within its township: the last three digits of the NBS code."""
    s = pd.Series(np.asarray(codes, dtype=str)).str.strip().str[-3:]
    bad = ~s.str.fullmatch(r"\d{3}")
    if bad.any():
        raise InputError(
            f"village code {np.asarray(codes)[int(np.flatnonzero(bad)[0])]!r} is not NBS"
        )
    return s.astype(int).to_numpy()


def impute_xy(
    method: str,
    ordinal: int,
    known_xy: np.ndarray,
    known_ord: np.ndarray,
    seat_xy: tuple[float, float],
    k: int,
) -> tuple[float, float]:
    """One point by ``method`` from the located villages of the township (``known_xy`` n×2)."""
    if method not in METHODS:
        raise InputError(f"unknown imputation method {method!r}; use one of {', '.join(METHODS)}")
    n = len(known_xy)
    if n == 0 or method == "seat":
        return float(seat_xy[0]), float(seat_xy[1])
    if method == "centroid":
        c = known_xy.mean(axis=0)
        return float(c[0]), float(c[1])
    pts = np.vstack([known_xy, [seat_xy]])
    ords = np.append(known_ord, 0)  # the seat: ordinal 000, where NBS numbering starts
    d = np.maximum(np.abs(ords - ordinal).astype(float), 0.5)
    idx = np.lexsort((ords, d))[:k]
    w = 1.0 / d[idx]
    p = (pts[idx] * w[:, None]).sum(axis=0) / w.sum()
    return float(p[0]), float(p[1])


def leave_one_out(
    truth: pd.DataFrame,
    seats: Mapping[str, tuple[float, float]],
    params: ImputationParams,
    *,
    polygons: Mapping[str, shapely.Geometry] | None = None,
    settlements_xy: np.ndarray | None = None,
) -> ImputationReport:
    """Hide each row of ``truth`` (columns x, y, town_code, code), impute it, measure the error.

    Each method sees the other rows of the same township. With ``polygons`` (and
    ``settlements_xy``, every located point incl. seats) the farthest-point baseline is measured
    too; the polygons were built with the hidden point, which can only favour the baseline.
    """
    from .modelled import impute_points

    xy = truth[["x", "y"]].to_numpy(float)
    towns = truth["town_code"].astype(str).to_numpy()
    ords = code_ordinals(truth["code"])
    methods = list(METHODS) + ([BASELINE] if polygons is not None else [])
    errs: dict[str, list[float]] = {m: [] for m in methods}
    for i in range(len(truth)):
        mine = (towns == towns[i]) & (np.arange(len(truth)) != i)
        for m in METHODS:
            p = impute_xy(m, int(ords[i]), xy[mine], ords[mine], seats[towns[i]], params.neighbours)
            errs[m].append(float(np.hypot(p[0] - xy[i, 0], p[1] - xy[i, 1])))
        if polygons is not None:
            pool = settlements_xy if settlements_xy is not None else xy
            others = pool[np.hypot(pool[:, 0] - xy[i, 0], pool[:, 1] - xy[i, 1]) > 0.5]
            p = impute_points(polygons[towns[i]], others, 1, params.grid_m)[0]
            errs[BASELINE].append(float(np.hypot(p[0] - xy[i, 0], p[1] - xy[i, 1])))
    return choose_method(errs, params)


def choose_method(errs: Mapping[str, list[float]], params: ImputationParams) -> ImputationReport:
    """Table of errors per method; keep the candidate with the smallest mean (baseline excluded)."""
    table = []
    for m, e in errs.items():
        a = np.asarray(e, float) / 1000.0
        table.append(
            MethodError(
                method=m,
                n=int(a.size),
                median_km=float(np.median(a)) if a.size else float("nan"),
                mean_km=float(a.mean()) if a.size else float("nan"),
                p90_km=float(np.quantile(a, 0.9)) if a.size else float("nan"),
                baseline=m == BASELINE,
            )
        )
    n = len(next(iter(errs.values()), []))
    if n < params.min_loo:
        chosen, radius = params.default_method, None
    else:
        cands = [r for r in table if not r.baseline]
        chosen = min(cands, key=lambda r: (r.mean_km, METHODS.index(r.method))).method
        radius = float(np.quantile(np.asarray(errs[chosen], float), params.quantile))
    return ImputationReport(
        table=tuple(table),
        chosen=chosen,
        radius_m=radius,
        quantile=params.quantile,
        errors_m={m: tuple(e) for m, e in errs.items()},
        params=params,
    )


def inside_polygon(
    poly: shapely.Geometry, x: float, y: float, margin_m: float = 50.0
) -> tuple[float, float, bool]:
    """``(x, y)`` if inside ``poly``, else its nearest point ``margin_m`` inside; third value: moved."""
    if shapely.contains_xy(poly, x, y):
        return x, y, False
    inner = poly.buffer(-margin_m)
    target = inner if not inner.is_empty else poly
    q = nearest_points(target, shapely.Point(x, y))[0]
    if not shapely.contains_xy(poly, q.x, q.y):
        q = poly.representative_point()
    return float(q.x), float(q.y), True
