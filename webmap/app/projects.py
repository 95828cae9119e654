"""四个一 projects: pages ``/projects`` (list, per-township totals, XLSX export) and
``/projects/<id>`` (edit form, work ledger of milestones, history), JSON under
``/api/projects``. Planners edit, staff read (403 on any write), anonymous users log in first;
every form and API write carries the CSRF token (:mod:`flask_wtf`, as on the other forms).

Checks and sums live in :mod:`analysis.projects`, storage and history in :mod:`.project_store`;
this module parses requests, calls them and renders.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from doorstep.analysis.projects import (
    MILESTONE_FIELDS,
    PROJECT_FIELDS,
    STATUS_EN,
    STATUSES,
    ProjectError,
    parse_date,
    projects_from_scenario,
    township_totals,
)
from doorstep.analysis.projects_export import write_projects_xlsx
from doorstep.geo._errors import InputError

from . import project_store as store
from .auth import role_required
from .db import get_db, scenario_dict
from .errors import ApiError
from .state import get_state
from .validate import integer, json_body

bp = Blueprint("projects", __name__, url_prefix="/projects")
api_bp = Blueprint("projects_api", __name__, url_prefix="/api/projects")

INPUT_KIND = {
    "start": "date",
    "due": "date",
    "done": "date",
    "lon": "number",
    "lat": "number",
    "budget_planned": "money",
    "budget_spent": "money",
    "what": "textarea",
    "note": "textarea",
    "status": "status",
}
"""How a field is typed in the forms (text unless named here)."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_ID = 2**63  # SQLite INTEGER range


def checked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a bad value (400 naming the field) or a missing project (404) into an answer."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        for k in ("pid", "mid"):
            if k in kwargs and not 0 < kwargs[k] < _MAX_ID:
                raise ApiError(404, f"no {'project' if k == 'pid' else 'milestone'} {kwargs[k]}")
        try:
            return view(*args, **kwargs)
        except ProjectError as exc:
            raise ApiError(400, str(exc), exc.field, code="invalid") from None
        except InputError as exc:
            raise ApiError(400, str(exc), code="invalid") from None
        except store.NotFound as exc:
            raise ApiError(404, str(exc)) from None
        except store.AlreadyMade as exc:
            raise ApiError(409, str(exc), "scenario_id") from None

    return wrapped


def _form() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _who() -> str:
    return str(g.user["username"])


def _listing() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    docs = store.list_projects()
    return docs, township_totals(store.project_items(docs))


# ------------------------------------------------------------------------------- pages


@bp.get("/")
@role_required("planner", "staff")
def index() -> Any:
    docs, totals = _listing()
    scenarios = []
    if g.user["role"] == "planner":
        rows = get_db().execute("SELECT * FROM scenario ORDER BY id").fetchall()
        scenarios = [scenario_dict(r, full=False) for r in rows]
    return render_template(
        "projects.html",
        county=get_state().model.name,
        projects=docs,
        totals=totals,
        scenarios=scenarios,
        today=dt.date.today().isoformat(),
        **_form_context(),
    )


def _form_context() -> dict[str, Any]:
    return {
        "project_fields": PROJECT_FIELDS,
        "milestone_fields": MILESTONE_FIELDS,
        "statuses": STATUSES,
        "status_en": STATUS_EN,
        "kind": INPUT_KIND,
        "can_edit": g.user["role"] == "planner",
    }


@bp.get("/<int:pid>")
@role_required("planner", "staff")
@checked
def detail(pid: int) -> Any:
    doc = store.get_project(pid)
    return render_template(
        "projects_detail.html",
        county=get_state().model.name,
        p=doc,
        history=store.history(pid),
        project_labels=dict(PROJECT_FIELDS),
        milestone_labels=dict(MILESTONE_FIELDS),
        **_form_context(),
    )


@bp.post("/")
@role_required("planner")
@checked
def create_form() -> Any:
    pid = store.create_project(_form(), _who())
    return redirect(url_for("projects.detail", pid=pid))


@bp.post("/from-scenario")
@role_required("planner")
@checked
def from_scenario_form() -> Any:
    _from_scenario(request.form)
    return redirect(url_for("projects.index"))


@bp.post("/<int:pid>")
@role_required("planner")
@checked
def edit_form(pid: int) -> Any:
    store.update_project(pid, _form(), _who())
    return redirect(url_for("projects.detail", pid=pid))


@bp.post("/<int:pid>/delete")
@role_required("planner")
@checked
def delete_form(pid: int) -> Any:
    store.delete_project(pid, _who())
    return redirect(url_for("projects.index"))


@bp.post("/<int:pid>/milestones")
@role_required("planner")
@checked
def add_milestone_form(pid: int) -> Any:
    store.add_milestone(pid, _form(), _who())
    return redirect(url_for("projects.detail", pid=pid) + "#milestones")


@bp.post("/<int:pid>/milestones/<int:mid>")
@role_required("planner")
@checked
def edit_milestone_form(pid: int, mid: int) -> Any:
    store.update_milestone(pid, mid, _form(), _who())
    return redirect(url_for("projects.detail", pid=pid) + "#history")


@bp.post("/<int:pid>/milestones/<int:mid>/delete")
@role_required("planner")
@checked
def delete_milestone_form(pid: int, mid: int) -> Any:
    store.delete_milestone(pid, mid, _who())
    return redirect(url_for("projects.detail", pid=pid) + "#milestones")


@bp.get("/export.xlsx")
@role_required("planner", "staff")
def export() -> Any:
    """Projects, milestones and history as one workbook (written atomically, then sent)."""
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = write_projects_xlsx(folder / "projects.xlsx", store.list_projects(), store.history())
    return send_file(
        path,
        as_attachment=True,
        download_name=f"doorstep-projects-{dt.date.today().isoformat()}.xlsx",
        mimetype=XLSX,
    )


# --------------------------------------------------------------------------------- API


def _from_scenario(src: Mapping[str, Any]) -> list[int]:
    sid = integer(src, "scenario_id", 1, _MAX_ID - 1, required=True)
    assert sid is not None  # required
    raw = src.get("start") or dt.date.today().isoformat()
    start = parse_date(raw, "start")
    row = get_db().execute("SELECT * FROM scenario WHERE id = ?", (sid,)).fetchone()
    if row is None:
        raise ApiError(404, f"no scenario {sid}", "scenario_id")
    villages = {v["code"]: v for v in get_state().villages()}
    items = projects_from_scenario(scenario_dict(row), start=start, villages=villages)
    return store.create_projects(items, _who(), scenario_id=sid)


@api_bp.get("")
@role_required("planner", "staff")
def api_list() -> Any:
    docs, totals = _listing()
    return jsonify({"projects": docs, "totals": totals})


@api_bp.post("")
@role_required("planner")
@checked
def api_create() -> Any:
    body = json_body()
    ms = body.pop("milestones", [])
    if not isinstance(ms, list) or not all(isinstance(m, dict) for m in ms) or len(ms) > 100:
        raise ApiError(400, "'milestones' must be a list of at most 100 objects", "milestones")
    unknown = [k for k in body if k not in store.P_KEYS]
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0][:40]!r}", unknown[0][:40])
    pid = store.create_project(body, _who(), ms)
    return jsonify(store.get_project(pid)), 201


@api_bp.post("/from-scenario")
@role_required("planner")
@checked
def api_from_scenario() -> Any:
    ids = _from_scenario(json_body())
    return jsonify({"projects": [store.get_project(i) for i in ids]}), 201


@api_bp.get("/<int:pid>")
@role_required("planner", "staff")
@checked
def api_get(pid: int) -> Any:
    return jsonify({**store.get_project(pid), "history": store.history(pid)})


@api_bp.patch("/<int:pid>")
@role_required("planner")
@checked
def api_edit(pid: int) -> Any:
    store.update_project(pid, json_body(), _who())
    return jsonify(store.get_project(pid))


@api_bp.delete("/<int:pid>")
@role_required("planner")
@checked
def api_delete(pid: int) -> Any:
    store.delete_project(pid, _who())
    return jsonify({"deleted": pid})


@api_bp.post("/<int:pid>/milestones")
@role_required("planner")
@checked
def api_add_milestone(pid: int) -> Any:
    store.add_milestone(pid, json_body(), _who())
    return jsonify(store.get_project(pid)), 201


@api_bp.patch("/<int:pid>/milestones/<int:mid>")
@role_required("planner")
@checked
def api_edit_milestone(pid: int, mid: int) -> Any:
    store.update_milestone(pid, mid, json_body(), _who())
    return jsonify(store.get_project(pid))


@api_bp.delete("/<int:pid>/milestones/<int:mid>")
@role_required("planner")
@checked
def api_delete_milestone(pid: int, mid: int) -> Any:
    store.delete_milestone(pid, mid, _who())
    return jsonify(store.get_project(pid))
