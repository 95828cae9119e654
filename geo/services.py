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

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import DataFileError, InputError
from .params import _read_toml
from .settings import project_data_dir

PLATFORM_TIERS: tuple[str, ...] = (
    "county_centre",
    "correction_centre",
    "township_station",
    "village_room",
)
"""Tiers of the three-level platform (plus the correction centre): the model creates these."""
USER_TIERS: tuple[str, ...] = ("lawyer_mediation_room", "village_mediation_room")
"""Point types only a service-points file adds (律师个人调解室, 村(社区)个人调解室)."""
TIERS: tuple[str, ...] = PLATFORM_TIERS + USER_TIERS
"""Every tier a service point may have, in display order."""
SERVICE_SEPARATORS = r"[;；、,，\s]+"
"""What separates service codes in a ``services`` cell."""


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
    windows: int = 1


@dataclass(frozen=True)
class Service:
    """One legal service (a table of ``services.toml``) and the tiers offering it by default.

    ``unstaffed_tiers``: tiers whose points offer it even when not staffed; ``forwarded_to``: the
    tier that handles the matter after the resident hands it in at the nearest accepting point;
    ``note``: what a travel time to this service measures (repeated by every output).
    """

    code: str
    name_zh: str
    name_en: str
    tiers: tuple[str, ...]
    unstaffed_tiers: tuple[str, ...] = ()
    forwarded_to: str = ""
    note: str = ""

    def label(self) -> str:
        """``"法律援助申请 Legal-aid application"``."""
        return f"{self.name_zh} {self.name_en}"


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
            named = set(s.tiers) | set(s.unstaffed_tiers) | ({s.forwarded_to} - {""})
            if bad := sorted(named - set(TIERS)):
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
                code: Service(
                    code,
                    str(v["name_zh"]),
                    str(v["name_en"]),
                    tuple(v["tiers"]),
                    tuple(v.get("unstaffed_tiers", ())),
                    str(v.get("forwarded_to", "")),
                    str(v.get("note", "")),
                )
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

    def service(self, code: str) -> Service:
        """The service ``code`` (an :class:`InputError` naming the valid codes otherwise)."""
        if code not in self.services:
            raise InputError(f"unknown service {code!r}; use one of {sorted(self.services)}")
        return self.services[code]

    def parse_services(
        self, cell: object, *, path: str | Path, row: int, field: str = "services"
    ) -> tuple[str, ...]:
        """Service codes of a ``services`` cell: codes or Chinese names separated by ``;``,
        ``、`` or ``,`` (any unknown one is a :class:`DataFileError` naming file, row, field)."""
        by_name = {s.name_zh: c for c, s in self.services.items()}
        out: list[str] = []
        for part in re.split(SERVICE_SEPARATORS, str(cell).strip()):
            if not part:
                continue
            code = part if part in self.services else by_name.get(part)
            if code is None:
                raise DataFileError(
                    path,
                    f"unknown service {part!r}",
                    row=row,
                    field=field,
                    fix=f"use codes {list(self.services)} separated by ';'",
                )
            if code not in out:
                out.append(code)
        return tuple(out)

    def tier_code(self, text: str) -> str | None:
        """The tier named by its code or Chinese label (``律师个人调解室``, full-width or ASCII
        brackets alike); ``None`` if unknown."""

        def norm(t: str) -> str:
            return t.strip().replace("（", "(").replace("）", ")")

        t = norm(text)
        for code, d in self.tiers.items():
            if t in (code, norm(d.label_zh), norm(d.short_zh)):
                return code
        return None

    def coverage_tiers(self) -> tuple[str, ...]:
        """Tiers whose staffed points count for general coverage."""
        return tuple(t for t in TIERS if t in self.services[self.coverage_service].tiers)

    # ------------------------------------------------------------------ selections
    def offers(self, sp: pd.DataFrame, service: str) -> npt.NDArray[np.bool_]:
        """Per point: does it offer ``service``? Its own ``services`` cell (codes joined by
        ``;``) when it has one, else its tier's default."""
        svc = self.service(service)
        by_tier = sp["tier"].isin(list(svc.tiers)).to_numpy(bool)
        if "services" not in sp.columns:
            return by_tier
        own = sp["services"].map(
            lambda c: None if c is None or c != c else service in str(c).split(";")
        )
        return np.where(own.isna().to_numpy(), by_tier, own.fillna(False).to_numpy(bool))

    def offering(self, sp: pd.DataFrame, service: str) -> pd.DataFrame:
        """Points offering ``service`` and open for it: staffed (open on working days), or of
        one of the service's ``unstaffed_tiers``."""
        svc = self.service(service)
        open_ = sp["staffed"].astype(bool).to_numpy() | sp["tier"].isin(
            list(svc.unstaffed_tiers)
        ).to_numpy(bool)
        return sp[open_ & self.offers(sp, service)]

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


def county_centre(points: pd.DataFrame, purpose: str) -> pd.DataFrame:
    """The county legal service centre's row(s) of a service-point table (tier ``county_centre``).

    ``purpose`` completes the error message when there is none ("to measure from", "to queue
    at"), so the user knows which answer needs it.
    """
    centre = points[points["tier"] == "county_centre"]
    if centre.empty:
        raise InputError(
            f"the model has no county centre (tier county_centre) {purpose}; add a row with "
            "tier = county_centre to the service points file"
        )
    return centre
