"""Planners (``/plan``): coverage dashboard, underserved list, what-if and scenarios."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .auth import role_required
from .state import get_state

bp = Blueprint("plan", __name__, url_prefix="/plan")


@bp.get("/")
@role_required("planner")
def index() -> Any:
    m = get_state().model
    return render_template("plan.html", county=m.name, quality=m.quality())
