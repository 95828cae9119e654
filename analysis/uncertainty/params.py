"""Ranges of the modelled inputs (``data/params/uncertainty.toml``), validated."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from doorstep.geo._errors import DataFileError
from doorstep.geo.params import _read_toml
from doorstep.geo.settings import project_data_dir

PARAMS_FILE = "uncertainty.toml"


@dataclass(frozen=True)
class Range:
    """A closed interval ``[low, high]`` a quantity is drawn from (uniformly)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise DataFileError(
                PARAMS_FILE, f"range [{self.low}, {self.high}] must be finite with low <= high"
            )

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


@dataclass(frozen=True)
class UncertaintyParams:
    """Ranges of every modelled input and the ensemble settings (see the TOML file's notes).

    ``speed_default`` / ``speed_classes`` are factors on the speed of modelled roads (per class,
    drawn per mode); ``circuity_*`` absolute circuities of modelled roads; ``walk_kmh`` the
    access-leg speed; ``class_weight`` a factor on each urban-rural class weight;
    ``urban_share_shift`` an absolute change of the urban share; ``fallback_radius_m`` the
    position radius of imputed villages without ``uncertainty_m``.
    """

    speed_default: Range = Range(0.8, 1.2)
    speed_classes: dict[str, Range] = field(default_factory=dict)
    circuity_village: Range = Range(1.25, 1.70)
    circuity_trunk: Range = Range(1.15, 1.45)
    walk_kmh: Range = Range(3.5, 5.5)
    class_weight: Range = Range(0.7, 1.4)
    urban_share_shift: Range = Range(-0.03, 0.03)
    fallback_radius_m: float = 2500.0
    robust_share: float = 0.9
    served_share: float = 0.1
    siting_draws: int = 200
    source: str = PARAMS_FILE

    def __post_init__(self) -> None:
        def bad(what: str, name: str) -> DataFileError:
            return DataFileError(self.source, what, field=name)

        for name, r in [("speed.default", self.speed_default)] + [
            (f"speed.classes.{k}", v) for k, v in self.speed_classes.items()
        ]:
            if not (r.low > 0 and r.contains(1.0)):
                raise bad("speed factors must be > 0 and contain 1 (the nominal)", name)
        if not (self.circuity_village.low >= 1.0 and self.circuity_trunk.low >= 1.0):
            raise bad("circuity must be >= 1", "circuity")
        if not 0.5 <= self.walk_kmh.low <= self.walk_kmh.high <= 10.0:
            raise bad("walking speed must be within 0.5-10 km/h", "access.walk_kmh")
        if not (self.class_weight.low > 0 and self.class_weight.contains(1.0)):
            raise bad("class weight factors must be > 0 and contain 1", "population.class_weight")
        if not (-0.5 < self.urban_share_shift.low <= 0 <= self.urban_share_shift.high < 0.5):
            raise bad("urban share shift must contain 0, within +-0.5", "population")
        if not 0 <= self.fallback_radius_m <= 50_000:
            raise bad("fallback radius must be 0-50000 m", "imputed.fallback_radius_m")
        if not 0 < self.served_share < self.robust_share <= 1:
            raise bad("need 0 < served_share < robust_share <= 1", "ensemble")
        if self.siting_draws < 1:
            raise bad("siting_draws must be >= 1", "ensemble.siting_draws")

    def speed(self, road_class: str) -> Range:
        """Speed factor range of a road class (the default range for unlisted classes)."""
        return self.speed_classes.get(road_class, self.speed_default)

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> UncertaintyParams:
        """Read ``data/params/uncertainty.toml`` (or ``path``)."""
        p = Path(path) if path else project_data_dir() / "params" / PARAMS_FILE
        d = _read_toml(p)
        try:
            return cls(**_fields(d), source=str(p))
        except (TypeError, ValueError, KeyError) as exc:
            if isinstance(exc, DataFileError):
                raise DataFileError(p, exc.problem, field=exc.field) from None
            raise DataFileError(
                p, f"malformed ({exc})", fix="see the comments in the file"
            ) from None


def _rng(v: Any) -> Range:
    lo, hi = v
    return Range(float(lo), float(hi))


def _fields(d: dict[str, Any]) -> dict[str, Any]:
    sp, ci, ac = d.get("speed", {}), d.get("circuity", {}), d.get("access", {})
    po, im, en = d.get("population", {}), d.get("imputed", {}), d.get("ensemble", {})
    out: dict[str, Any] = {
        "speed_classes": {k: _rng(v) for k, v in sp.get("classes", {}).items()},
    }
    for key, sec, name in (
        ("speed_default", sp, "default"),
        ("circuity_village", ci, "village"),
        ("circuity_trunk", ci, "trunk"),
        ("walk_kmh", ac, "walk_kmh"),
        ("class_weight", po, "class_weight"),
        ("urban_share_shift", po, "urban_share_shift"),
    ):
        if name in sec:
            out[key] = _rng(sec[name])
    if "fallback_radius_m" in im:
        out["fallback_radius_m"] = float(im["fallback_radius_m"])
    for key in ("robust_share", "served_share"):
        if key in en:
            out[key] = float(en[key])
    if "siting_draws" in en:
        out["siting_draws"] = int(en["siting_draws"])
    return out
