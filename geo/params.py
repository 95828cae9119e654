"""Validated modelling parameters, loaded from the TOML files in ``data/params``."""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import DataFileError, InputError
from .settings import project_data_dir

if TYPE_CHECKING:
    from .imputation import ImputationParams

MODES: tuple[str, ...] = ("walk", "motorbike", "car")
"""Travel modes, in one place: every engine, command and API checks against this tuple."""

OBJECTIVES: tuple[str, ...] = ("mclp", "lscp", "pmedian", "pcenter")
"""Siting objectives ``doorstep site`` and :func:`analysis.siting.county.solve_county` accept."""

MAX_MINUTES = 600.0
"""Longest travel-time threshold any command or API accepts (minutes): ten hours."""


def check_minutes(value: float, name: str = "minutes") -> float:
    """Return ``value`` as a float if it is a finite travel time in (0, ``MAX_MINUTES``].

    Raises :class:`InputError` naming ``name`` otherwise (never clamps silently).
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of minutes, got {value!r}") from None
    if not (math.isfinite(v) and 0 < v <= MAX_MINUTES):
        raise InputError(f"{name} must be in (0, {MAX_MINUTES:g}] minutes, got {value!r}")
    return v


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DataFileError(
            path, "parameter file not found", fix="restore it from the repository"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, f"not valid TOML ({exc})", fix="correct the syntax") from None


@dataclass(frozen=True)
class SpeedParams:
    """Speeds in km/h per road class and mode; 0 means the mode cannot use that class."""

    classes: dict[str, dict[str, float]]
    default: dict[str, float]
    source: str = "data/params/speeds.toml"

    def __post_init__(self) -> None:
        for name, speeds in {"default": self.default, **self.classes}.items():
            for mode in MODES:
                v = speeds.get(mode)
                if v is None or not (0.0 <= float(v) <= 200.0):
                    raise DataFileError(
                        self.source,
                        f"speed for mode '{mode}' missing or out of 0–200 km/h",
                        field=f"{name}.{mode}",
                        fix="give a speed in km/h (0 = impassable)",
                    )
        if self.default["walk"] <= 0 or self.default["car"] <= 0:
            raise DataFileError(self.source, "default speeds must be positive", field="default")

    def speed(self, road_class: str, mode: str) -> float:
        """Speed in km/h for a road class and mode (falls back to the default class)."""
        return float(self.classes.get(road_class, self.default).get(mode, self.default[mode]))

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> SpeedParams:
        p = Path(path) if path else project_data_dir() / "params" / "speeds.toml"
        d = _read_toml(p)
        return cls(
            classes={
                k: {m: float(x) for m, x in v.items()} for k, v in d.get("classes", {}).items()
            },
            default={m: float(x) for m, x in d.get("default", {}).items()},
            source=str(p),
        )


@dataclass(frozen=True)
class AccessParams:
    """Off-network access leg: walking speed (km/h) and the snap distance flag limit (m).

    The ``[access]`` table of ``data/params/speeds.toml`` is read here and nowhere else; the leg
    from a point ``P`` to its snap position ``P'`` takes ``|P − P'| / walk_m_per_min`` minutes
    and snaps longer than ``snap_limit_m`` are flagged (see :mod:`geo.routing.snap`).
    """

    walk_kmh: float = 4.5
    snap_limit_m: float = 1000.0

    def __post_init__(self) -> None:
        bad = _access_problem(self.walk_kmh, self.snap_limit_m)
        if bad:
            raise InputError(bad[1])

    @property
    def walk_m_per_min(self) -> float:
        """Walking speed in metres per minute: ``1000 · walk_kmh / 60``."""
        return self.walk_kmh * 1000.0 / 60.0

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> AccessParams:
        """Read ``[access]`` from ``data/params/speeds.toml`` (defaults when the file or table is
        absent; the parsed file is cached until it changes)."""
        # plain strings: this runs on every routing call, pathlib joins cost more than the stat
        p = os.fspath(path) if path else os.path.join(project_data_dir(), "params", "speeds.toml")
        try:
            st = os.stat(p)
        except OSError:
            return cls()
        return cls._read(p, st.st_mtime_ns, st.st_size)

    @classmethod
    @functools.lru_cache(maxsize=8)
    def _read(cls, path: str, _mtime_ns: int, _size: int) -> AccessParams:
        p = Path(path)
        acc = _read_toml(p).get("access", {})
        got: dict[str, float] = {}
        for name, default in (("walk_kmh", 4.5), ("snap_limit_m", 1000.0)):
            try:
                got[name] = float(acc.get(name, default))
            except (TypeError, ValueError):
                raise DataFileError(
                    p,
                    f"not a number: {acc.get(name)!r}",
                    field=f"access.{name}",
                    fix="give a number",
                ) from None
        bad = _access_problem(got["walk_kmh"], got["snap_limit_m"])
        if bad:
            raise DataFileError(p, bad[1], field=f"access.{bad[0]}", fix="correct the value")
        return cls(**got)


def _access_problem(walk_kmh: float, snap_limit_m: float) -> tuple[str, str] | None:
    """The first out-of-range access parameter (field name, message), or None."""
    if not 0.5 <= walk_kmh <= 10.0:
        return "walk_kmh", f"access walking speed must be 0.5–10 km/h, got {walk_kmh}"
    if not snap_limit_m > 0:
        return "snap_limit_m", f"snap_limit_m must be positive, got {snap_limit_m}"
    return None


@dataclass(frozen=True)
class PopulationParams:
    """Class weights for distributing census totals over villages (see data/params/model.toml)."""

    urban_weights: dict[int, float]
    rural_weights: dict[int, float]
    default_urban_class: int = 121
    default_rural_class: int = 220

    def __post_init__(self) -> None:
        for k, w in {**self.urban_weights, **self.rural_weights}.items():
            if not w > 0:
                raise DataFileError(
                    "data/params/model.toml",
                    f"weight for class {k} must be > 0",
                    field="population",
                )

    def weight(self, ur_code: int) -> float:
        return self.urban_weights.get(ur_code, self.rural_weights.get(ur_code, 1.0))


@dataclass(frozen=True)
class NetworkParams:
    """Parameters of the modelled road network."""

    max_edge_km: float = 9.0
    circuity_village: float = 1.45
    circuity_trunk: float = 1.30
    trunk_neighbours: int = 3
    village_class: str = "village"
    trunk_class: str = "secondary"
    county_trunk_class: str = "primary"

    def __post_init__(self) -> None:
        if not 0.5 <= self.max_edge_km <= 100:
            raise DataFileError(
                "data/params/model.toml", "max_edge_km must be 0.5–100", field="network.max_edge_km"
            )
        for name in ("circuity_village", "circuity_trunk"):
            if not 1.0 <= getattr(self, name) <= 3.0:
                raise DataFileError(
                    "data/params/model.toml", f"{name} must be 1.0–3.0", field=f"network.{name}"
                )
        if self.trunk_neighbours < 1:
            raise DataFileError(
                "data/params/model.toml", "trunk_neighbours must be >= 1", field="network"
            )


@dataclass(frozen=True)
class BackboneParams:
    """How real roads and modelled local roads are joined (``[backbone]`` in data/params/model.toml).

    Real roads within ``margin_km`` of the county outline are kept; a settlement within
    ``join_km`` of a real road gets a modelled access road to the nearest point on it; a modelled
    settlement link with at least ``corridor_share`` of its length within ``corridor_m`` of a real
    road duplicates that road's corridor and is dropped (unless connectivity needs it).
    """

    margin_km: float = 5.0
    road_class: str = "main_road"
    join_km: float = 3.0
    corridor_m: float = 1000.0
    corridor_share: float = 0.7

    def __post_init__(self) -> None:
        checks = {
            "margin_km": 0.0 <= self.margin_km <= 100.0,
            "join_km": 0.0 <= self.join_km <= 50.0,
            "corridor_m": 0.0 < self.corridor_m <= 10_000.0,
            "corridor_share": 0.0 < self.corridor_share <= 1.0,
            "road_class": bool(self.road_class),
        }
        for name, ok in checks.items():
            if not ok:
                raise DataFileError(
                    "data/params/model.toml",
                    f"{name} = {getattr(self, name)!r} is out of range",
                    field=f"backbone.{name}",
                    fix="see the ranges in the comments of data/params/model.toml",
                )


@dataclass(frozen=True)
class PublishedPopulationParams:
    """Which published facts give township populations (``[published_population]``).

    ``township_facts``: fact names of registered (户籍) township counts on current (post-merger)
    boundaries, used from ``since_year`` on; ``county_facts``: fact names of the county's
    registered total in the same eras (the denominators of the shares).
    """

    township_facts: tuple[str, ...] = ("population_total", "population_hukou")
    county_facts: tuple[str, ...] = ()
    since_year: int = 2015

    def __post_init__(self) -> None:
        if self.township_facts and not self.county_facts:
            raise DataFileError(
                "data/params/model.toml",
                "township facts need county totals to divide by",
                field="published_population.county_facts",
                fix="list the fact names of the county's registered totals",
            )


@dataclass(frozen=True)
class ModelParams:
    """All modelling parameters of a county model."""

    population: PopulationParams
    network: NetworkParams
    speeds: SpeedParams = field(default_factory=lambda: SpeedParams.from_file())
    backbone: BackboneParams = field(default_factory=BackboneParams)
    published_population: PublishedPopulationParams = field(
        default_factory=PublishedPopulationParams
    )
    seat_warn_km: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.seat_warn_km <= 100.0:
            raise DataFileError(
                "data/params/model.toml", "warn_km must be 0–100 km", field="seats.warn_km"
            )

    imputation: ImputationParams = field(default_factory=lambda: _imputation_params(None))

    @classmethod
    def from_files(
        cls, model_toml: str | Path | None = None, speeds_toml: str | Path | None = None
    ) -> ModelParams:
        p = Path(model_toml) if model_toml else project_data_dir() / "params" / "model.toml"
        d = _read_toml(p)
        pop = d.get("population", {})
        net = d.get("network", {})
        pp = d.get("published_population", {})
        return cls(
            population=PopulationParams(
                urban_weights={int(k): float(v) for k, v in pop.get("urban_weights", {}).items()},
                rural_weights={int(k): float(v) for k, v in pop.get("rural_weights", {}).items()},
                default_urban_class=int(pop.get("default_urban_class", 121)),
                default_rural_class=int(pop.get("default_rural_class", 220)),
            ),
            network=NetworkParams(**net),
            speeds=SpeedParams.from_file(speeds_toml),
            backbone=BackboneParams(**d.get("backbone", {})),
            published_population=PublishedPopulationParams(
                township_facts=tuple(pp.get("township_facts", ())),
                county_facts=tuple(pp.get("county_facts", ())),
                since_year=int(pp.get("since_year", 2015)),
            ),
            seat_warn_km=float(d.get("seats", {}).get("warn_km", 0.5)),
            imputation=_imputation_params(d.get("imputation", {})),
        )


def _imputation_params(d: dict | None) -> ImputationParams:
    """``[imputation]`` of model.toml; imported here, not at the top, so that the command line
    (which reads ``MODES`` from this module) does not load pandas."""
    from .imputation import ImputationParams

    return ImputationParams() if d is None else ImputationParams.from_dict(d)
