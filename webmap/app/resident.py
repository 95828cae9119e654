"""Residents (``/``): find the nearest legal service point by travel time. Anonymous."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .state import get_state

bp = Blueprint("resident", __name__)


@bp.get("/")
def index() -> Any:
    m = get_state().model
    return render_template("resident.html", county=m.name, quality=m.quality())
