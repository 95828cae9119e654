r"""Coverage: who reaches a legal service point within 15/30/60 minutes, and who is underserved.

For every village and mode the travel time (minutes, network + access legs, see
:mod:`geo.routing`) to the nearest point of each tier is computed with one multi-source
Dijkstra pass per tier:

* ``staffed`` — nearest point that counts for coverage (:func:`geo.services.ServicePointRules.
  coverage_points`: staffed and offering legal consultation — the county centre and the township
  workstations; not the correction centre, not the village rooms); this is the coverage measure;
* ``county_centre`` and ``township_station`` — nearest point of that tier;
* ``village_room`` — nearest village room; rooms are staffed only on adviser visit days
  (``staffed == False``) so they are reported separately and never count as coverage.

:class:`CoverageTarget` is the one definition of "underserved": village ``i`` *meets the target*
when :math:`t_i \le T_i` with :math:`T_i` = ``urban_minutes`` for urban and ``rural_minutes``
for rural villages (:meth:`CoverageTarget.thresholds`); it is *underserved* otherwise. The
report, ``doorstep gaps``, ``/api/underserved`` and siting (MCLP/LSCP) all use it. A
township/county *complies* when the share of its population in villages that meet the target is
``≥ required_share``. Means and 90th percentiles are
population-weighted; unreachable villages count as ``inf`` (excluded from the mean, reported
in ``unreachable``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from doorstep.geo._errors import InputError
from doorstep.geo.params import MODES, _read_toml, check_minutes
from doorstep.geo.routing import check_mode, nearest_facility
from doorstep.geo.services import service_rules
from doorstep.geo.settings import project_data_dir

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

TARGET_TOML = project_data_dir() / "params" / "coverage.toml"
_T = _read_toml(TARGET_TOML)  # the target's defaults: read here only
TIER_COLUMNS = {
    "county_centre": "min_county_centre",
    "township_station": "min_township_station",
    "village_room": "min_village_room",
}
UNITS = {"min_*": "minutes", "population*": "persons", "share_*": "fraction 0–1", "snap_m": "m"}


@dataclass(frozen=True)
class CoverageTarget:
    """Service-circle target (公共法律服务圈): the one definition of "underserved".

    Defaults come from ``data/params/coverage.toml`` (read once, here).

    Parameters
    ----------
    mode
        The typical travel mode the target is judged by.
    rural_minutes, urban_minutes
        Maximum travel time to the nearest point counting for coverage, for rural / urban
        villages (:meth:`thresholds`).
    breaks
        Band limits (minutes) reported in every table.
    required_share
        Population share meeting the target for a township/county to comply.
    """

    mode: str = str(_T.get("mode", "car"))
    rural_minutes: float = float(_T.get("rural_minutes", 30.0))
    urban_minutes: float = float(_T.get("urban_minutes", 15.0))
    breaks: tuple[float, ...] = tuple(float(b) for b in _T.get("breaks_min", (15, 30, 60)))
    required_share: float = float(_T.get("required_share", 0.9))

    def __post_init__(self) -> None:
        check_mode(self.mode)
        object.__setattr__(
            self, "urban_minutes", check_minutes(self.urban_minutes, "urban_minutes")
        )
        object.__setattr__(
            self, "rural_minutes", check_minutes(self.rural_minutes, "rural_minutes")
        )
        object.__setattr__(self, "breaks", tuple(float(b) for b in self.breaks))
        if (
            not self.breaks
            or any(b <= 0 for b in self.breaks)
            or list(self.breaks) != sorted(self.breaks)
        ):
            raise InputError(f"breaks must be increasing positive minutes, got {self.breaks}")
        if not 0 < self.required_share <= 1:
            raise InputError("required_share must be in (0, 1]")

    def with_minutes(
        self,
        rural: float | None = None,
        urban: float | None = None,
        mode: str | None = None,
    ) -> CoverageTarget:
        """This target with the given rural/urban minutes and mode (``None`` keeps a value)."""
        return replace(
            self,
            rural_minutes=self.rural_minutes if rural is None else rural,
            urban_minutes=self.urban_minutes if urban is None else urban,
            mode=self.mode if mode is None else mode,
        )

    def thresholds(self, urban: Any) -> npt.NDArray[np.float64]:
        """Each village's own threshold: :math:`T_i` = urban minutes if urban else rural minutes."""
        u = np.asarray(urban, dtype=bool)
        return np.where(u, self.urban_minutes, self.rural_minutes).astype(float)

    def describe(self, compliance: bool = True) -> str:
        """The target in words, for every output that judges against it."""
        text = (
            f"target ({self.mode}): rural villages ≤ {self.rural_minutes:g} min, urban ≤ "
            f"{self.urban_minutes:g} min"
        )
        if compliance:
            text += f"; complies when ≥ {self.required_share:.0%} of the population meets it"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (every output that judges against the target carries this)."""
        return asdict(self)


@dataclass
class CoverageResult:
    """Village, township and county coverage tables (long format: one row per mode)."""

    villages: pd.DataFrame
    townships: pd.DataFrame
    county: pd.DataFrame
    target: CoverageTarget
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: tables as records, plus units, target and data quality."""

        def rec(df: pd.DataFrame) -> list[dict[str, Any]]:
            return _json_records(df)

        return {
            "meta": self.meta,
            "target": self.target.to_dict(),
            "county": rec(self.county),
            "townships": rec(self.townships),
            "villages": rec(self.villages),
        }


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, float | np.floating):
                clean[k] = None if not np.isfinite(v) else round(float(v), 4)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.bool_):
                clean[k] = bool(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def quality_of(model: CountyModel) -> dict[str, Any]:
    """``model.quality()`` when the model provides it (real/modelled status of every layer)."""
    q = getattr(model, "quality", None)
    return q() if callable(q) else {}


def coverage_points(model: CountyModel, service: str | None = None) -> pd.DataFrame:
    """Service points that count for coverage (:meth:`geo.services.ServicePointRules.
    coverage_points`: staffed and offering legal consultation) or, with ``service``, the points
    open for that service (:meth:`~geo.services.ServicePointRules.offering`)."""
    rules = service_rules()
    if service is None:
        return rules.coverage_points(model.service_points)
    return rules.offering(model.service_points, service)


def service_meta(model: CountyModel, service: str | None) -> dict[str, Any]:
    """What the times of a per-service coverage measure: the service, its points and its note
    (e.g. legal-aid applications are handed in at the nearest accepting point and forwarded)."""
    rules = service_rules()
    if service is None:
        return {"code": None, "description": rules.describe()}
    svc = rules.service(service)
    pts = coverage_points(model, service)
    fwd = rules.tiers[svc.forwarded_to].label_en if svc.forwarded_to else None
    return {
        "code": svc.code,
        "name_zh": svc.name_zh,
        "name_en": svc.name_en,
        "points": len(pts),
        "points_by_tier": {str(k): int(v) for k, v in pts["tier"].value_counts().items()},
        "forwarded_to": fwd,
        "note": svc.note,
        "description": (
            f"times to the nearest point open for {svc.name_en.lower()} ({svc.name_zh}): "
            f"{len(pts)} points (data/params/services.toml, per-point 'services' overrides)"
            + (f"; {svc.note}" if svc.note else "")
        ),
    }


def village_times(
    model: CountyModel,
    modes: Sequence[str] = MODES,
    cutoff: float | None = None,
    with_paths: bool = False,
    per_tier: bool = True,
    service: str | None = None,
) -> pd.DataFrame:
    """Per village and mode: minutes to the nearest point counting for coverage (with
    ``service``: open for that service) and to each tier.

    Returns a long DataFrame with ``mode``, ``location_quality``, ``min_staffed``,
    ``nearest_id``, ``nearest_name``, ``nearest_tier``, ``snap_m``, ``snap_flagged``, with
    ``per_tier`` also ``min_county_centre``, ``min_township_station``, ``min_village_room``
    (one more Dijkstra pass each), and with ``with_paths`` ``via`` road names and ``km``.
    """
    v = model.villages
    sp = model.service_points
    staffed = coverage_points(model, service)
    if staffed.empty:
        raise InputError(
            f"the model has no service point open for {service}; list one (--service-points, "
            "columns services and staffed)"
            if service
            else "the model has no service point counting for coverage; keep at least one "
            "staffed county centre or township workstation (--service-points, column staffed)"
        )
    frames = []
    for mode in modes:
        check_mode(mode)
        nf = nearest_facility(model, v, staffed, mode, cutoff=cutoff, with_paths=with_paths)
        ok = nf.facility >= 0
        pick = staffed.iloc[np.where(ok, nf.facility, 0)]
        df = pd.DataFrame(
            {
                "code": v["code"].to_numpy(),
                "name": v["name"].to_numpy(),
                "town_code": v["town_code"].to_numpy(),
                "town_name": v["town_name"].to_numpy(),
                "urban": v["urban"].astype(bool).to_numpy(),
                "location_quality": v["location_quality"].astype(str).to_numpy(),
                "population": v["population"].astype(int).to_numpy(),
                "mode": mode,
                "min_staffed": nf.minutes,
                "nearest_id": np.where(ok, pick["id"].to_numpy(), ""),
                "nearest_name": np.where(ok, pick["name"].to_numpy(), ""),
                "nearest_tier": np.where(ok, pick["tier"].to_numpy(), ""),
            }
        )
        if with_paths:
            df["via"] = [" / ".join(r) for r in (nf.roads or [])]
            df["km"] = nf.km
            df["via_places"] = [" – ".join(pl[:4]) for pl in (nf.places or [])]
        for tier, col in TIER_COLUMNS.items() if per_tier else ():
            pts = sp[sp["tier"] == tier]
            df[col] = (
                nearest_facility(model, v, pts, mode, cutoff=cutoff).minutes if len(pts) else np.inf
            )
        df["snap_m"] = nf.origin_snap_m
        df["snap_flagged"] = nf.origin_flagged
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Weighted quantile (inverted CDF: smallest x with cumulative weight share ≥ q)."""
    if x.size == 0 or w.sum() <= 0:
        return float("nan")
    o = np.argsort(x, kind="stable")
    cw = np.cumsum(w[o]) / w.sum()
    return float(x[o][min(int(np.searchsorted(cw, q - 1e-12)), x.size - 1)])


def summarise(df: pd.DataFrame, target: CoverageTarget) -> dict[str, Any]:
    """Coverage figures for one group of village rows (one mode)."""
    t = df["min_staffed"].to_numpy(float)
    pop = df["population"].to_numpy(float)
    total = pop.sum()
    fin = np.isfinite(t)
    out: dict[str, Any] = {"villages": len(df), "population": int(total)}
    for b in target.breaks:
        inside = t <= b
        tag = f"{b:g}"
        out[f"villages_within_{tag}"] = int(inside.sum())
        out[f"population_within_{tag}"] = int(pop[inside].sum())
        out[f"share_within_{tag}"] = float(pop[inside].sum() / total) if total else float("nan")
    out["mean_min"] = (
        float(np.average(t[fin], weights=pop[fin])) if pop[fin].sum() else float("nan")
    )
    p90 = weighted_quantile(np.where(fin, t, np.inf), pop, 0.9)
    out["p90_min"] = p90
    out["max_min"] = float(t[fin].max()) if fin.any() else float("inf")
    out["unreachable"] = int((~fin).sum())
    if "location_quality" in df.columns:
        out["imputed"] = int((df["location_quality"] == "imputed").sum())
    meets = df["meets_target"].to_numpy(bool)
    out["villages_underserved"] = int((~meets).sum())
    out["share_meeting_target"] = float(pop[meets].sum() / total) if total else float("nan")
    out["complies"] = bool(total and out["share_meeting_target"] >= target.required_share)
    return out


def coverage(
    model: CountyModel,
    target: CoverageTarget | None = None,
    modes: Sequence[str] = MODES,
    with_paths: bool = False,
    per_tier: bool = True,
    service: str | None = None,
) -> CoverageResult:
    """Coverage of every village, township and the county for each mode.

    ``service``: times to the nearest point open for that service code
    (``data/params/services.toml``) instead of any point counting for coverage; ``meta['service']``
    says what the times measure. The compliance flag of every row uses the target's minutes (urban/rural) applied to that
    row's mode; the target's own ``mode`` is recorded in ``meta['target_mode']`` for reading.
    ``per_tier=False`` skips the per-tier times (the province run does).
    """
    target = target or CoverageTarget()
    vt = village_times(model, modes, with_paths=with_paths, per_tier=per_tier, service=service)
    svc = service_meta(model, service)
    limit = target.thresholds(vt["urban"])
    vt["target_min"] = limit
    vt["meets_target"] = vt["min_staffed"].to_numpy() <= limit
    vt["band"] = _bands(vt["min_staffed"].to_numpy(), target.breaks)
    town_rows, county_rows = [], []
    for mode, g in vt.groupby("mode", sort=False):
        for (tc, tn), tg in g.groupby(["town_code", "town_name"], sort=True):
            town_rows.append(
                {"mode": mode, "town_code": tc, "town_name": tn, **summarise(tg, target)}
            )
        county_rows.append(
            {
                "mode": mode,
                "code": getattr(model, "code", ""),
                "name": getattr(model, "name", ""),
                **summarise(g, target),
            }
        )
    meta = {
        "units": {
            "min_*": "minutes",
            "mean_min": "minutes (population-weighted)",
            "p90_min": "minutes (population-weighted 90th percentile)",
            "population*": "persons",
            "share_*": "fraction of population 0–1",
            "snap_m": "metres",
            "km": "kilometres",
        },
        "assumptions": [
            "times = access walk + network travel + access walk (geo.routing)",
            svc["description"],
            "village rooms are staffed on adviser visit days only (min_village_room is separate)",
            target.describe(),
        ],
        "target_mode": target.mode,
        "service": svc,
        "vintage": getattr(model, "vintage", ""),
        "quality": quality_of(model),
    }
    log.info("coverage: %d villages x %d modes", len(model.villages), len(modes))
    return CoverageResult(vt, pd.DataFrame(town_rows), pd.DataFrame(county_rows), target, meta)


def _bands(t: np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    labels = [f"≤{b:g}" for b in breaks] + [f">{breaks[-1]:g}"]
    i = np.searchsorted(np.asarray(breaks, float), t, side="left")
    return np.asarray(labels, dtype=object)[i]
