"""Staff (``/circuits``): the month's lawyer routes, ledger and calendar downloads, and the
"done" form with the ledger's record fields (:data:`analysis.circuits.ledger.RECORD_FIELDS`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from doorstep.analysis.circuits.ledger import LEDGER_RECORD_COLUMNS, RECORD_FIELDS, SERVICE_KINDS

from . import services
from .auth import role_required
from .state import get_state
from .validate import month

bp = Blueprint("circuits", __name__, url_prefix="/circuits")


@bp.get("/")
@role_required("staff", "planner")
def index() -> Any:
    m = month(request.args, default=services.default_month())
    return render_template(
        "circuits.html",
        county=get_state().model.name,
        month=m,
        record_fields=[(k, h) for k, h in LEDGER_RECORD_COLUMNS if k in RECORD_FIELDS],
        service_kinds=SERVICE_KINDS,
    )
