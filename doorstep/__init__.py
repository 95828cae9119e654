"""Doorstep (家门口法律服务规划): planning rural public legal services.

One import namespace, three layers and a thin command line::

    doorstep.geo       spatial model: loading, validating, projecting, roads, travel times
    doorstep.analysis  coverage, underserved areas, siting, lawyer circuits (never renders)
    doorstep.webmap    folium maps and the Flask app (computes nothing itself)
    doorstep.cli       the ``doorstep`` command

The names most sessions need are re-exported here (loaded on first use, so ``import doorstep``
and ``doorstep --help`` stay fast)::

    from doorstep import build_county_model, coverage, CoverageTarget, mclp

    model = build_county_model()                      # Huayuan default, every layer flagged
    result = coverage(model, CoverageTarget(mode="car"))
    print(result.county)                              # shares within 15/30/60 min, with units
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (the single source of each name)
_EXPORTS: dict[str, str] = {
    # errors
    "DoorstepError": "doorstep.geo._errors",
    "InputError": "doorstep.geo._errors",
    "DataFileError": "doorstep.geo._errors",
    # the county model
    "CountyModel": "doorstep.geo.model",
    "ModelInputs": "doorstep.geo.model",
    "build_county_model": "doorstep.geo.model",
    "export_geopackage": "doorstep.geo.export",
    # travel times
    "od_matrix": "doorstep.geo.routing",
    "nearest_facility": "doorstep.geo.routing",
    "service_areas": "doorstep.geo.routing",
    # coverage and gaps
    "CoverageTarget": "doorstep.analysis.coverage",
    "CoverageResult": "doorstep.analysis.coverage",
    "coverage": "doorstep.analysis.coverage",
    "underserved_villages": "doorstep.analysis.gaps",
    # siting
    "SitingProblem": "doorstep.analysis.siting",
    "SitingResult": "doorstep.analysis.siting",
    "lscp": "doorstep.analysis.siting",
    "mclp": "doorstep.analysis.siting",
    "pmedian": "doorstep.analysis.siting",
    "pcenter": "doorstep.analysis.siting",
    "marginal_curve": "doorstep.analysis.siting",
    "solve_county": "doorstep.analysis.siting.county",
    # circuits
    "plan_month": "doorstep.analysis.circuits.planner",
    "plan_county_month": "doorstep.analysis.circuits.county",
    # the whole job
    "JobOptions": "doorstep.job",
    "JobResult": "doorstep.job",
    "run_job": "doorstep.job",
    "render_report_md": "doorstep.report",
}

__all__ = [
    "CountyModel",
    "CoverageResult",
    "CoverageTarget",
    "DataFileError",
    "DoorstepError",
    "InputError",
    "JobOptions",
    "JobResult",
    "ModelInputs",
    "SitingProblem",
    "SitingResult",
    "__version__",
    "build_county_model",
    "coverage",
    "export_geopackage",
    "lscp",
    "marginal_curve",
    "mclp",
    "nearest_facility",
    "od_matrix",
    "pcenter",
    "plan_county_month",
    "plan_month",
    "pmedian",
    "render_report_md",
    "run_job",
    "service_areas",
    "solve_county",
    "underserved_villages",
]


def __getattr__(name: str) -> Any:
    """Load a re-exported name from its defining module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'doorstep' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from doorstep.analysis.circuits.county import plan_county_month
    from doorstep.analysis.circuits.planner import plan_month
    from doorstep.analysis.coverage import CoverageResult, CoverageTarget, coverage
    from doorstep.analysis.gaps import underserved_villages
    from doorstep.analysis.siting import (
        SitingProblem,
        SitingResult,
        lscp,
        marginal_curve,
        mclp,
        pcenter,
        pmedian,
    )
    from doorstep.analysis.siting.county import solve_county
    from doorstep.geo._errors import DataFileError, DoorstepError, InputError
    from doorstep.geo.export import export_geopackage
    from doorstep.geo.model import CountyModel, ModelInputs, build_county_model
    from doorstep.geo.routing import nearest_facility, od_matrix, service_areas
    from doorstep.job import JobOptions, JobResult, run_job
    from doorstep.report import render_report_md
