"""The ensemble engine: draws of every modelled input and the travel times they give.

Prepared once per model (the snaps and search structures of :mod:`geo.routing` are reused;
nothing is rebuilt or re-snapped per draw). A draw ``b`` is a vector of factors (see
:class:`Draws`); for mode ``m`` it rescales the minutes of every *modelled* road edge ``e``::

    t_e(b) = t_e · (c_g(b) / c_g) / s_{k(e), m}(b)

with ``c_g`` the circuity of the edge's group (village road / trunk, nominal from
``model.toml``), ``s_{k,m}`` the speed factor of its road class and mode. Real edges
(``status == "real"``, or any edge of a graph not flagged ``modelled`` when it carries no
status) keep ``t_e``. Access legs scale by ``w / w(b)`` (walking speed). An imputed village
``i`` with radius ``r_i`` moves by ``δ_i(b) = r_i·√U₁·(cos 2πU₂, sin 2πU₂)`` (uniform in its
disc). Instead of re-snapping it, its time to a service ``s`` changes by the change of the
straight distance times the village-road circuity over the village-road speed::

    ΔT_is(b) = (|D_is + δ_i(b)| − |D_is|) · c_village(b) / v_village,m(b)

with ``D_is`` the straight vector from ``s`` (its nominal nearest staffed point, or each
site of a siting problem) to the village (times clipped at 0). A village imputed on top of its
service point can only get farther.

Modelled populations (``population_source`` "modelled", or "published_township": a published
township total spread over its villages) are ``P_i·f_{κ(i)}(b)`` for the urban-rural class
``κ`` of village ``i``, rescaled to keep block totals: a township with a published total keeps
it; the other modelled villages keep the urban and rural totals after moving ``δ(b)·T`` from
rural to urban (``δ`` = urban share shift, ``T`` their total; clipped so no block goes
negative). Real populations (a user's table) are fixed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from doorstep.geo._errors import InputError
from doorstep.geo.params import MODES, ModelParams
from doorstep.geo.routing import (
    AccessParams,
    Prepared,
    nearest_facility,
    nearest_minutes_batch,
    od_minutes_prepared,
    prepare,
    road_index,
)

from ..coverage import coverage_points
from .params import Range, UncertaintyParams

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
BATCH_ENTRIES = 4_000_000  # graph entries (edges both ways + nodes) per block-diagonal Dijkstra
# population_source values whose split over villages is modelled (a published township total
# spread over its villages keeps that total, see the module docstring)
MODELLED_SPLIT = ("modelled", "published_township")


@dataclass(frozen=True)
class Draws:
    """``B`` draws of the modelled inputs (row ``b`` of every array is one draw).

    ``speed`` (B, C, M) factors per modelled road class and mode; ``circuity`` (B, 2) village
    and trunk circuity; ``walk_kmh`` (B,); ``class_weight`` (B, K) factors per urban-rural
    class; ``urban_shift`` (B,); ``position`` (B, V, 2) displacement of each village in the
    unit disc (x, y; times its radius).
    """

    speed: FloatArray
    circuity: FloatArray
    walk_kmh: FloatArray
    class_weight: FloatArray
    urban_shift: FloatArray
    position: FloatArray

    @property
    def n(self) -> int:
        return int(self.walk_kmh.size)

    def take(self, rows: slice | NDArray[np.int64]) -> Draws:
        """A subset of the draws."""
        return Draws(*(getattr(self, f.name)[rows] for f in fields(Draws)))


@dataclass(frozen=True)
class Dimension:
    """One sampled quantity: where it sits in :class:`Draws` and its range."""

    label: str
    field: str
    index: tuple[int, ...]
    range: Range
    nominal: float


def edge_modelled(graph: Any) -> NDArray[np.bool_]:
    """Per edge, in :class:`geo.routing.RoadIndex` order: is it modelled (sampled)?

    ``status`` "real" / "modelled" decides; an edge without it is modelled unless the whole
    graph is flagged not modelled (a user's OpenStreetMap extract)."""
    default = "modelled" if graph.graph.get("modelled", True) else "real"
    return np.array(
        [str(d.get("status") or default) != "real" for *_, d in graph.edges(data=True)], bool
    )


class EnsembleEngine:
    """Draws and per-draw travel times / populations for one county model."""

    def __init__(self, model: CountyModel, params: UncertaintyParams | None = None) -> None:
        self.model = model
        self.params = params or UncertaintyParams.from_file()
        mp = ModelParams.from_files()
        self.net, self.speeds = mp.network, mp.speeds
        self.walk = AccessParams.from_file().walk_kmh
        idx = road_index(model)
        self._t = {m: idx.times[m] for m in MODES}
        modelled = edge_modelled(model.graph)
        if modelled.size != idx.n_edges:  # pragma: no cover - same graph, same order
            raise InputError("road index and graph disagree on the edges")
        cls = idx.road_class.astype(str)
        self.classes = tuple(sorted(set(cls[modelled])))
        self.edge_class = np.where(modelled, np.searchsorted(self.classes, cls), -1)
        self.edge_group = np.where(cls == self.net.village_class, 0, 1)
        self.circ_nominal = np.array([self.net.circuity_village, self.net.circuity_trunk])
        self._villages(model)
        self._staffed = coverage_points(model)
        self._vectors: dict[str, FloatArray] = {}
        self.dims = self._dimensions()

    # ------------------------------------------------------------------ set-up
    def _villages(self, model: CountyModel) -> None:
        v = model.villages
        self.pop = v["population"].to_numpy(float)
        src = v["population_source"].astype(str) if "population_source" in v else None
        self.pop_modelled = (
            np.ones(len(v), bool) if src is None else src.isin(MODELLED_SPLIT).to_numpy()
        )
        ur = v["ur_code"].to_numpy(int) if "ur_code" in v else np.zeros(len(v), int)
        self.ur_classes = tuple(int(c) for c in np.unique(ur[self.pop_modelled]))
        self.village_ur = np.searchsorted(self.ur_classes, ur)
        self.blocks, self.block_urban = _population_blocks(model, self.pop_modelled)
        if "uncertainty_m" in v:
            r = pd.to_numeric(v["uncertainty_m"], errors="coerce").fillna(0.0).to_numpy(float)
        else:
            imp = v.get("location_quality", pd.Series("", index=v.index)).astype(str)
            r = np.where(imp == "imputed", self.params.fallback_radius_m, 0.0)
        self.radius = np.maximum(r, 0.0)

    def _dimensions(self) -> list[Dimension]:
        p, dims = self.params, []
        for ci, c in enumerate(self.classes):
            for mi, m in enumerate(MODES):
                dims.append(
                    Dimension(
                        f"speed {c or 'unclassified'} ({m})", "speed", (ci, mi), p.speed(c), 1.0
                    )
                )
        for gi, (g, r) in enumerate((("village", p.circuity_village), ("trunk", p.circuity_trunk))):
            dims.append(
                Dimension(f"circuity {g} roads", "circuity", (gi,), r, self.circ_nominal[gi])
            )
        dims.append(Dimension("access walking speed", "walk_kmh", (), p.walk_kmh, self.walk))
        for ki, k in enumerate(self.ur_classes):
            dims.append(
                Dimension(
                    f"population weight class {k}", "class_weight", (ki,), p.class_weight, 1.0
                )
            )
        dims.append(
            Dimension("urban population share", "urban_shift", (), p.urban_share_shift, 0.0)
        )
        if (self.radius > 0).any():
            dims.append(
                Dimension("imputed village positions", "position", (), Range(-1.0, 1.0), 0.0)
            )
        return dims

    # ------------------------------------------------------------------ draws
    def nominal(self, n: int = 1) -> Draws:
        """``n`` copies of the nominal model."""
        c, k, v = len(self.classes), len(self.ur_classes), self.pop.size
        return Draws(
            speed=np.ones((n, c, len(MODES))),
            circuity=np.tile(self.circ_nominal, (n, 1)),
            walk_kmh=np.full(n, self.walk),
            class_weight=np.ones((n, k)),
            urban_shift=np.zeros(n),
            position=np.zeros((n, v, 2)),
        )

    def sample(self, n: int, seed: int) -> Draws:
        """``n`` independent draws from ``numpy.random.default_rng(seed)`` (same seed, same
        draws): every dimension uniform in its range, positions uniform in each disc."""
        if n < 1:
            raise InputError(f"number of draws must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        d = self.nominal(n)
        for dim in self.dims:
            if dim.field == "position":
                rho = np.sqrt(rng.random((n, self.pop.size)))
                phi = 2 * np.pi * rng.random((n, self.pop.size))
                d.position[:] = np.stack([rho * np.cos(phi), rho * np.sin(phi)], axis=2)
            else:
                getattr(d, dim.field)[(slice(None), *dim.index)] = rng.uniform(
                    dim.range.low, dim.range.high, n
                )
        return d

    def one_at_a_time(self, dims: list[Dimension], mode: str) -> Draws:
        """Two draws per dimension — at its low, then its high end — others nominal. Imputed
        positions: every imputed village moved its full radius towards (-1) or away from (+1)
        its nearest service point by ``mode``."""
        d = self.nominal(2 * len(dims))
        away = self.service_vectors(mode)
        norm = np.hypot(away[:, 0], away[:, 1])
        away = np.where(norm[:, None] > 0, away / np.maximum(norm, 1e-12)[:, None], [1.0, 0.0])
        for i, dim in enumerate(dims):
            for row, x in ((2 * i, dim.range.low), (2 * i + 1, dim.range.high)):
                if dim.field == "position":
                    d.position[row] = x * away
                else:
                    getattr(d, dim.field)[(row, *dim.index)] = x
        return d

    # ------------------------------------------------------------------ outputs
    def edge_minutes(self, d: Draws, mode: str) -> FloatArray:
        """``(B, n_edges)`` edge minutes of ``mode`` under each draw (formula in the module)."""
        mi = MODES.index(mode)
        t = np.broadcast_to(self._t[mode], (d.n, self._t[mode].size)).copy()
        e = np.flatnonzero(self.edge_class >= 0)
        circ = d.circuity[:, self.edge_group[e]] / self.circ_nominal[self.edge_group[e]]
        t[:, e] *= circ / d.speed[:, self.edge_class[e], mi]
        return t

    def prepared(self, mode: str, sites: Any = None) -> Prepared:
        """Villages (set 0) and the staffed points, or ``sites`` (set 1), snapped for ``mode``
        (:func:`geo.routing.prepare` keeps them cached on the road index)."""
        pts = self._staffed if sites is None else sites
        return prepare(self.model, [self.model.villages, pts], mode)

    def service_vectors(self, mode: str) -> FloatArray:
        """``(V, 2)`` metres from each village's nearest staffed point (nominal, ``mode``) to
        the village; 0 where none is reachable."""
        if mode not in self._vectors:
            prep = self.prepared(mode)
            nf = nearest_facility(self.model, self.model.villages, self._staffed, mode)
            f, (sv, sf) = np.maximum(nf.facility, 0), prep.sets
            vec = (
                np.column_stack([sv.x - sf.x[f], sv.y - sf.y[f]]) if len(sf) else sv.x[:, None] * 0
            )
            self._vectors[mode] = np.where((nf.facility >= 0)[:, None], vec, 0.0)
        return self._vectors[mode]

    def _per_metre(self, d: Draws, mode: str) -> FloatArray:
        """``(B,)`` minutes per straight metre moved: circuity / village-road speed."""
        vc = self.net.village_class
        kmh = self.speeds.speed(vc, mode) or self.walk
        mi = MODES.index(mode)
        f = d.speed[:, self.classes.index(vc), mi] if vc in self.classes else np.ones(d.n)
        return d.circuity[:, 0] / (kmh * f * 1000.0 / 60.0)

    def _moved(self, d: Draws, mode: str, to_service: FloatArray) -> FloatArray:
        """Minutes added by each draw's displacement ``δ`` of the villages, for straight
        vectors ``D`` from a service to each village (``(V, 2)`` or ``(V, S, 2)``):
        ``(|D + δ| − |D|) · circuity / speed``, shape ``(B, V)`` or ``(B, V, S)``."""
        delta = d.position * self.radius[None, :, None]  # (B, V, 2)
        if to_service.ndim == 3:
            delta = delta[:, :, None, :]
        moved = np.linalg.norm(to_service + delta, axis=-1) - np.linalg.norm(to_service, axis=-1)
        per = self._per_metre(d, mode)
        return moved * per.reshape((-1,) + (1,) * (moved.ndim - 1))

    def village_minutes(self, d: Draws, mode: str) -> FloatArray:
        """``(B, V)`` minutes from every village to its nearest staffed point."""
        prep = self.prepared(mode)
        scale = self.walk / d.walk_kmh
        out = np.empty((d.n, self.pop.size))
        batch = max(1, BATCH_ENTRIES // (2 * prep.index.n_edges + prep.index.n))
        for s in range(0, d.n, batch):
            sl = slice(s, s + batch)
            out[sl] = nearest_minutes_batch(
                prep,
                self.edge_minutes(d.take(sl), mode),
                prep.ends(0).access * scale[sl, None],
                prep.ends(1).access * scale[sl, None],
            )
        return np.maximum(out + self._moved(d, mode, self.service_vectors(mode)), 0.0)

    def od_minutes(self, d: Draws, b: int, mode: str, sites: Any) -> FloatArray:
        """Villages × ``sites`` minutes under draw ``b`` (one Dijkstra pass per end node)."""
        prep = self.prepared(mode, sites)
        one = d.take(np.array([b]))
        scale = self.walk / float(d.walk_kmh[b])
        p = prep.with_edge_minutes(
            self.edge_minutes(one, mode)[0], [s.access_min * scale for s in prep.sets]
        )
        sv, ss = prep.sets
        vec = np.stack(
            [sv.x[:, None] - ss.x[None, :], sv.y[:, None] - ss.y[None, :]], axis=2
        )  # (V, S, 2)
        return np.maximum(od_minutes_prepared(p) + self._moved(one, mode, vec)[0], 0.0)

    def populations(self, d: Draws) -> FloatArray:
        """``(B, V)`` village populations under each draw (totals kept, see the module)."""
        pop = np.broadcast_to(self.pop, (d.n, self.pop.size)).copy()
        m = self.pop_modelled
        if not m.any():
            return pop
        w = self.pop[m] * d.class_weight[:, self.village_ur[m]]
        blk = self.blocks[m]
        nb = int(blk.max()) + 1
        member = np.zeros((m.sum(), nb))
        member[np.arange(blk.size), blk] = 1.0
        nominal_tot = self.pop[m] @ member
        tot = np.broadcast_to(nominal_tot, (d.n, nb)).copy()
        ur = self.block_urban
        if (ur == 1).any() and (ur == 0).any():  # the shift needs an urban and a rural block
            shift = d.urban_shift[:, None] * nominal_tot[ur >= 0].sum()
            shift = np.clip(shift, -nominal_tot[ur == 1].sum(), nominal_tot[ur == 0].sum())
            tot[:, ur == 1] += shift * _frac(nominal_tot, ur == 1)
            tot[:, ur == 0] -= shift * _frac(nominal_tot, ur == 0)
        wsum = w @ member
        pop[:, m] = w * (tot / np.where(wsum > 0, wsum, 1.0))[:, blk]
        return pop


def _frac(tot: FloatArray, sel: NDArray[np.bool_]) -> FloatArray:
    s = tot[sel].sum()
    return tot[sel] / s if s > 0 else np.zeros(int(sel.sum()))


def _population_blocks(
    model: CountyModel, modelled: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Block of every village whose total is kept (``-1`` for real populations) and, per block,
    1 = urban / 0 = rural group, -1 = a township with a published total."""
    v = model.villages
    towns = getattr(model, "townships", None)
    published: set[str] = set()
    if towns is not None and "population_source" in towns:
        ps = towns["population_source"].astype(str)
        published = set(towns.loc[ps != "modelled", "code"].astype(str))
    tc = v["town_code"].astype(str).to_numpy()
    if "population_source" in v:
        pt = (v["population_source"].astype(str) == "published_township").to_numpy()
        published |= set(tc[pt])
    urban = v["urban"].astype(bool).to_numpy()
    key = np.where(np.isin(tc, list(published)), "town:" + tc, np.where(urban, "urban", "rural"))
    names, blocks = np.unique(key[modelled], return_inverse=True)
    kinds = np.array([1 if k == "urban" else 0 if k == "rural" else -1 for k in names])
    out = np.full(len(v), -1, dtype=np.int64)
    out[modelled] = blocks
    return out, kinds.astype(np.int64)
