"""Residents (``/``): find the nearest legal service point by travel time; ``/v/<code>``: one
village's own page (its legal room and, per service, where to go). Anonymous."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from doorstep.analysis.gaps import MODE_ZH
from doorstep.geo.services import service_rules

from . import services
from .state import get_state
from .validate import text

bp = Blueprint("resident", __name__)


@bp.get("/")
def index() -> Any:
    m = get_state().model
    return render_template(
        "resident.html",
        county=m.name,
        quality=m.quality(),
        services=list(service_rules().services.values()),
    )


@bp.get("/v")
def village_search() -> Any:
    """Villages whose name, township or code matches ``q`` (links to their pages)."""
    q = text(request.args, "q", 40)
    rows = get_state().villages()
    hits = [r for r in rows if q and (q in r["name"] or q in r["town_name"] or r["code"] == q)]
    return render_template(
        "villages.html", county=get_state().model.name, q=q, villages=hits if q else rows
    )


@bp.get("/v/<code>")
def village(code: str) -> Any:
    """A stable, shareable page for one village (:func:`services.village_detail`)."""
    doc = services.village_detail(get_state(), code) if code.isdigit() else None
    if doc is None:
        abort(404, description=f"unknown village {code[:20]!r} 未找到该村")
    return render_template(
        "village.html",
        county=get_state().model.name,
        d=doc,
        modes=MODE_ZH,
        map_data=services.village_map(doc),
    )
