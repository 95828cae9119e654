"""OpenAPI paths of ``/api/projects`` (四个一 projects; :mod:`.projects`)."""

from __future__ import annotations

from typing import Any

from doorstep.analysis.projects import MILESTONE_FIELDS, PROJECT_FIELDS, STATUSES

ERR = {"$ref": "#/components/responses/Error"}
_TYPES: dict[str, dict[str, Any]] = {
    "lon": {"type": "number", "minimum": -180, "maximum": 180, "nullable": True},
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "nullable": True},
    "start": {"type": "string", "format": "date"},
    "due": {"type": "string", "format": "date"},
    "done": {"type": "string", "format": "date", "nullable": True},
    "status": {"type": "string", "enum": list(STATUSES)},
    "budget_planned": {"type": "number", "minimum": 0},
    "budget_spent": {"type": "number", "minimum": 0},
}


def _schema(fields: tuple[tuple[str, str], ...], required: list[str]) -> dict[str, Any]:
    props = {
        k: {**_TYPES.get(k, {"type": "string", "maxLength": 200}), "description": label}
        for k, label in fields
    }
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


PROJECT = _schema(PROJECT_FIELDS, [])
MILESTONE = _schema(MILESTONE_FIELDS, [])
NEW_PROJECT = {
    **_schema(PROJECT_FIELDS, ["title", "start"]),
}
NEW_PROJECT["properties"] = {
    **NEW_PROJECT["properties"],
    "milestones": {"type": "array", "maxItems": 100, "items": _schema(MILESTONE_FIELDS, [])},
}
NEW_MILESTONE = _schema(MILESTONE_FIELDS, ["title", "due"])


def _path_id(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "integer"}} for n in names
    ]


def _op(
    summary: str,
    ok: str = "200",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    write: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["planner" if write else "staff"],
        "security": [{"session": []}],
        "responses": {
            ok: {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "400": ERR,
            "401": ERR,
            "403": ERR,
            "404": ERR,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _from_scenario() -> dict[str, Any]:
    op = _op(
        "One project per new site of a saved siting scenario (prefilled; once per scenario)",
        "201",
        {
            "type": "object",
            "required": ["scenario_id"],
            "properties": {
                "scenario_id": {"type": "integer", "minimum": 1},
                "start": {"type": "string", "format": "date"},
            },
        },
    )
    op["responses"]["409"] = ERR
    return op


def projects_paths() -> dict[str, Any]:
    """The ``/api/projects`` paths: planners write (CSRF header), planners and staff read."""
    one, ms = _path_id("pid"), _path_id("pid", "mid")
    return {
        "/api/projects": {
            "get": _op("四个一 projects with per-township totals (budgets in 元)", write=False),
            "post": _op("Create a project (and its first milestones)", "201", NEW_PROJECT),
        },
        "/api/projects/from-scenario": {"post": _from_scenario()},
        "/api/projects/{pid}": {
            "get": _op("One project, its work ledger and its history", params=one, write=False),
            "patch": _op("Change fields of a project (history kept)", body=PROJECT, params=one),
            "delete": _op("Delete a project and its milestones (history kept)", params=one),
        },
        "/api/projects/{pid}/milestones": {
            "post": _op("Add a milestone", "201", NEW_MILESTONE, one),
        },
        "/api/projects/{pid}/milestones/{mid}": {
            "patch": _op("Change fields of a milestone", body=MILESTONE, params=ms),
            "delete": _op("Delete a milestone", params=ms),
        },
    }
