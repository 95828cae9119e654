"""Validated modelling parameters, loaded from the TOML files in ``data/params``."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import DataFileError, InputError
from .imputation import ImputationParams
from .settings import project_data_dir

MODES: tuple[str, ...] = ("walk", "motorbike", "car")
"""Travel modes, in one place: every engine, command and API checks against this tuple."""

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
    walk_kmh: float = 4.5
    snap_limit_m: float = 1000.0
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
        if not 0.5 <= self.walk_kmh <= 10:
            raise DataFileError(
                self.source, "walking speed must be 0.5–10 km/h", field="access.walk_kmh"
            )
        if self.snap_limit_m <= 0:
            raise DataFileError(
                self.source, "snap limit must be positive", field="access.snap_limit_m"
            )

    def speed(self, road_class: str, mode: str) -> float:
        """Speed in km/h for a road class and mode (falls back to the default class)."""
        return float(self.classes.get(road_class, self.default).get(mode, self.default[mode]))

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> SpeedParams:
        p = Path(path) if path else project_data_dir() / "params" / "speeds.toml"
        d = _read_toml(p)
        acc = d.get("access", {})
        return cls(
            classes={
                k: {m: float(x) for m, x in v.items()} for k, v in d.get("classes", {}).items()
            },
            default={m: float(x) for m, x in d.get("default", {}).items()},
            walk_kmh=float(acc.get("walk_kmh", 4.5)),
            snap_limit_m=float(acc.get("snap_limit_m", 1000.0)),
            source=str(p),
        )


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

    imputation: ImputationParams = field(default_factory=ImputationParams)

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
            imputation=ImputationParams.from_dict(d.get("imputation", {})),
        )
