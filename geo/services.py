"""What a legal-service point is and what it counts for — defined once, for every analysis.

A service point (a row of ``model.service_points``) has a ``tier`` and a per-point ``staffed``
flag (open on working days; a user table may change it). Its tier says which legal *services* it
offers (``data/params/services.toml``, an assumption labelled modelled), and
``data/params/service_points.toml`` says which points count for what:

* **coverage** — a point counts for general legal-service coverage (the 公共法律服务圈, hence for
  "underserved" and for the existing sites of siting) when it is staffed *and* offers the
  coverage service (``[roles] coverage_service``, legal consultation):

  .. math:: \\text{counts}(p) = \\text{staffed}(p) \\wedge
            \\text{coverage\\_service} \\in \\text{services}(\\text{tier}(p))

  so the county centre and the township workstations count; the community-correction centre
  (it offers correction reporting only: it serves people under community correction, not
  general consultation) and the village rooms (staffed on adviser days only) do not;
* **siting** — existing sites are exactly the points that count for coverage; candidate sites
  are the points of ``[roles] candidate_tiers`` (a village's legal room, upgraded);
* **circuits** — village legal advisers are based at the points of ``[roles]
  circuit_base_tiers`` (county centre, township workstations);
* **services** — :meth:`ServicePointRules.offering` selects the staffed points offering any
  service code, the hook a per-service coverage (``--service CODE``) plugs into.

:func:`service_rules` loads both files once (cached); every module asks it instead of listing
tiers itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import DataFileError, InputError
from .params import _read_toml
from .settings import project_data_dir

TIERS: tuple[str, ...] = ("county_centre", "correction_centre", "township_station", "village_room")
"""Tiers of the three-level platform (plus the correction centre), in display order."""


@dataclass(frozen=True)
class TierDefaults:
    """Defaults of one tier (``[tiers.NAME]`` of ``service_points.toml``)."""

    label_zh: str
    label_en: str
    short_zh: str
    short_en: str
    staff: int
    hours_per_month: float
    opening_hours: str
    staffed: bool


@dataclass(frozen=True)
class Service:
    """One legal service (a table of ``services.toml``) and the tiers offering it by default."""

    code: str
    name_zh: str
    name_en: str
    tiers: tuple[str, ...]


@dataclass(frozen=True)
class ServicePointRules:
    """Tiers, services and roles of service points: the one definition every module uses.

    Parameters
    ----------
    hotline, online
        Zero-travel channels shown beside every physical point.
    tiers
        Defaults per tier (keys: :data:`TIERS`).
    services
        Service catalogue by code.
    coverage_service
        The service whose staffed points define general coverage.
    candidate_tiers
        Tiers whose points are siting candidates.
    circuit_base_tiers
        Tiers whose points are bases of the advisers' circuits, in order of preference.
    source
        The ``service_points.toml`` the rules were read from (named in errors).
    """

    hotline: str
    online: str
    tiers: dict[str, TierDefaults]
    services: dict[str, Service]
    coverage_service: str
    candidate_tiers: tuple[str, ...]
    circuit_base_tiers: tuple[str, ...]
    source: str = "data/params/service_points.toml"

    def __post_init__(self) -> None:
        if missing := sorted(set(TIERS) - self.tiers.keys()):
            raise DataFileError(
                self.source, f"tiers missing: {missing}", field="tiers", fix="add [tiers.NAME]"
            )
        if unknown := sorted(self.tiers.keys() - set(TIERS)):
            raise DataFileError(
                self.source, f"unknown tiers {unknown}", field="tiers", fix=f"use {list(TIERS)}"
            )
        for s in self.services.values():
            if bad := sorted(set(s.tiers) - set(TIERS)):
                raise DataFileError(
                    "services.toml",
                    f"service {s.code!r} names unknown tiers {bad}",
                    field=f"{s.code}.tiers",
                    fix=f"use {list(TIERS)}",
                )
        if self.coverage_service not in self.services:
            raise DataFileError(
                self.source,
                f"coverage_service {self.coverage_service!r} is not a service",
                field="roles.coverage_service",
                fix=f"one of {sorted(self.services)}",
            )
        for name in ("candidate_tiers", "circuit_base_tiers"):
            if bad := sorted(set(getattr(self, name)) - set(TIERS)):
                raise DataFileError(
                    self.source,
                    f"unknown tiers {bad}",
                    field=f"roles.{name}",
                    fix=f"use {list(TIERS)}",
                )

    @classmethod
    def from_files(
        cls, points_toml: str | Path | None = None, services_toml: str | Path | None = None
    ) -> ServicePointRules:
        """Read ``service_points.toml`` and ``services.toml`` (default: ``data/params``)."""
        pp = (
            Path(points_toml)
            if points_toml
            else project_data_dir() / "params" / "service_points.toml"
        )
        sp = Path(services_toml) if services_toml else pp.with_name("services.toml")
        d, s = _read_toml(pp), _read_toml(sp)
        try:
            tiers = {k: TierDefaults(**v) for k, v in d.get("tiers", {}).items()}
            services = {
                code: Service(code, str(v["name_zh"]), str(v["name_en"]), tuple(v["tiers"]))
                for code, v in s.items()
            }
        except (TypeError, KeyError) as exc:
            raise DataFileError(
                pp, f"malformed tier or service table ({exc})", fix="compare with the repository"
            ) from None
        roles = d.get("roles", {})
        return cls(
            hotline=str(d.get("hotline", "12348")),
            online=str(d.get("online", "")),
            tiers=tiers,
            services=services,
            coverage_service=str(roles.get("coverage_service", "")),
            candidate_tiers=tuple(roles.get("candidate_tiers", ())),
            circuit_base_tiers=tuple(roles.get("circuit_base_tiers", ())),
            source=str(pp),
        )

    # ------------------------------------------------------------------ what a tier offers
    def tier_services(self, tier: str) -> tuple[str, ...]:
        """Codes of the services a tier offers by default, in catalogue order."""
        return tuple(c for c, s in self.services.items() if tier in s.tiers)

    def coverage_tiers(self) -> tuple[str, ...]:
        """Tiers whose staffed points count for general coverage."""
        return tuple(t for t in TIERS if t in self.services[self.coverage_service].tiers)

    # ------------------------------------------------------------------ selections
    def offers(self, sp: pd.DataFrame, service: str) -> npt.NDArray[np.bool_]:
        """Per point: does it offer ``service`` (by its tier)?"""
        if service not in self.services:
            raise InputError(f"unknown service {service!r}; use one of {sorted(self.services)}")
        return sp["tier"].isin(list(self.services[service].tiers)).to_numpy(bool)

    def offering(self, sp: pd.DataFrame, service: str) -> pd.DataFrame:
        """Staffed points offering ``service`` (open on working days)."""
        return sp[sp["staffed"].astype(bool).to_numpy() & self.offers(sp, service)]

    def coverage_points(self, sp: pd.DataFrame) -> pd.DataFrame:
        """Points that count for general legal-service coverage (and are siting's existing sites)."""
        return self.offering(sp, self.coverage_service)

    def candidate_points(self, sp: pd.DataFrame) -> pd.DataFrame:
        """Points that siting may upgrade into staffed points (``candidate_tiers``)."""
        return sp[sp["tier"].isin(list(self.candidate_tiers)).to_numpy()]

    def circuit_bases(self, sp: pd.DataFrame) -> pd.DataFrame:
        """Points advisers may be based at (``circuit_base_tiers``), in tier order then id."""
        order = {t: i for i, t in enumerate(self.circuit_base_tiers)}
        sel = sp[sp["tier"].isin(list(order)).to_numpy()].copy()
        sel["_order"] = sel["tier"].map(order)
        return sel.sort_values(["_order", "id"]).drop(columns="_order").reset_index(drop=True)

    def describe(self) -> str:
        """One sentence for the assumptions of every output."""
        svc = self.services[self.coverage_service]
        counted = ", ".join(self.tiers[t].label_en.lower() for t in self.coverage_tiers())
        left = [t for t in TIERS if t not in self.coverage_tiers()]
        out = ", ".join(self.tiers[t].label_en.lower() for t in left)
        return (
            f"service points counted: staffed points offering {svc.name_en.lower()} "
            f"({svc.name_zh}) — {counted}; not counted: {out} (data/params/service_points.toml)"
        )


@cache
def service_rules() -> ServicePointRules:
    """The rules of ``data/params`` (read once per process)."""
    return ServicePointRules.from_files()
