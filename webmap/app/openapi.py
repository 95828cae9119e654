"""The OpenAPI 3.0 description of ``/api`` (hand-written; validated in the tests)."""

from __future__ import annotations

from typing import Any

from doorstep.analysis.circuits.ledger import SERVICE_KINDS
from doorstep.analysis.coverage import CoverageTarget
from doorstep.geo.params import MAX_MINUTES
from doorstep.geo.services import TIERS, service_rules
from doorstep.webmap.layers import DISPLAY_LAYERS

from .openapi_projects import projects_paths

_T = CoverageTarget()
RURAL_MINUTES = {
    "type": "number",
    "minimum": 1,
    "maximum": MAX_MINUTES,
    "default": _T.rural_minutes,
    "description": "target for rural villages (minutes)",
}
URBAN_MINUTES = {
    "type": "number",
    "minimum": 1,
    "maximum": MAX_MINUTES,
    "default": _T.urban_minutes,
    "description": "target for urban villages (minutes)",
}
MODE = {"type": "string", "enum": ["walk", "motorbike", "car"], "default": "car"}
MONTH = {"type": "string", "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$", "example": "2025-03"}


def _q(name: str, schema: dict[str, Any], required: bool = False, desc: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": desc,
    }


def _ok(
    desc: str, schema: dict[str, Any] | None = None, media: str = "application/json"
) -> dict[str, Any]:
    return {"description": desc, "content": {media: {"schema": schema or {"type": "object"}}}}


ERR = {"$ref": "#/components/responses/Error"}


def _op(
    summary: str,
    params: list[dict[str, Any]] | None = None,
    ok: dict[str, Any] | None = None,
    auth: bool = False,
    body: dict[str, Any] | None = None,
    tag: str = "public",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {"200": ok or _ok("OK"), "400": ERR},
    }
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if auth:
        op["security"] = [{"session": []}]
        op["responses"]["401"] = ERR
        op["responses"]["403"] = ERR
    return op


WHATIF = {
    "type": "object",
    "properties": {
        "model": {
            "type": "string",
            "enum": ["mclp", "lscp", "pmedian", "pcenter"],
            "default": "mclp",
        },
        "k": {"type": "integer", "minimum": 1, "maximum": 30, "default": 3},
        "minutes": RURAL_MINUTES,
        "urban_minutes": URBAN_MINUTES,
        "mode": MODE,
        "sites": {
            "type": "array",
            "maxItems": 30,
            "items": {"type": "string", "maxLength": 20},
            "description": "candidate village codes chosen by hand (instead of a model)",
        },
    },
}

_POINT = {"type": "object", "nullable": True}
VILLAGE = {
    "type": "object",
    "required": ["village", "room", "services", "hotline"],
    "properties": {
        "village": {"type": "object"},
        "room": _POINT,
        "hotline": {"type": "string"},
        "adviser": {"type": "object"},
        "next_visits": {"type": "array", "items": {"type": "object"}},
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "name_zh": {"type": "string"},
                    "name_en": {"type": "string"},
                    "note": {"type": "string"},
                    "point": _POINT,
                    "minutes": {"type": "object"},
                },
            },
        },
        "units": {"type": "object"},
        "online": {"type": "array", "items": {"type": "object"}},
    },
}
NEAREST = {
    "type": "object",
    "required": ["origin", "mode", "results"],
    "properties": {
        "origin": {
            "type": "object",
            "properties": {
                "lon": {"type": "number"},
                "lat": {"type": "number"},
                "snap_m": {"type": "number"},
            },
        },
        "mode": MODE,
        "modelled": {"type": "boolean"},
        "units": {"type": "object"},
        "service": {"type": "object", "nullable": True},
        "online": {"type": "array", "items": {"type": "object"}},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "tier": {"type": "string"},
                    "minutes": {"type": "number"},
                    "km": {"type": "number", "nullable": True},
                    "phone": {"type": "string"},
                    "opening_hours": {"type": "string"},
                    "address": {"type": "string"},
                    "route": {
                        "type": "object",
                        "nullable": True,
                        "description": "GeoJSON Feature (LineString, WGS84); null unless requested",
                    },
                },
            },
        },
    },
}


VISIT_RECORD: dict[str, Any] = {
    "arrived": {"type": "string", "description": "实际到达 arrival HH:MM"},
    "left": {"type": "string", "description": "实际离开 leave HH:MM (not before arrival)"},
    "services": {
        "type": "array",
        "items": {"type": "string", "enum": list(SERVICE_KINDS)},
        "description": "服务内容 service content",
    },
    "persons": {"type": "integer", "minimum": 0, "description": "服务人数 persons served"},
    "mediated": {"type": "integer", "minimum": 0, "description": "调解纠纷 disputes mediated"},
    "resolved": {
        "type": "integer",
        "minimum": 0,
        "description": "调解成功 disputes resolved (at most mediated)",
    },
    "issues": {"type": "string", "description": "反映问题 issues raised"},
    "follow_up": {"type": "boolean", "description": "需跟进 follow-up needed"},
}
"""The ledger record sent with a tick (the ledger file's fields, its checks)."""


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.0.3 document."""
    mode_q = _q("mode", MODE)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Doorstep 家门口法律服务 API",
            "version": "0.1.0",
            "description": "Nearest legal service points by travel time, coverage, what-if siting "
            "and lawyer circuits for a county. Errors: {error: {status, code, message, field}}.",
        },
        "paths": {
            "/api/health": {"get": _op("Service status and data quality (real/modelled layers)")},
            "/api/villages": {
                "get": _op(
                    "Villages (searchable)",
                    [
                        _q(
                            "q",
                            {"type": "string", "maxLength": 40},
                            desc="name, township or code prefix",
                        ),
                        _q("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    ],
                )
            },
            "/api/service-points": {
                "get": _op(
                    "Service points as GeoJSON",
                    [
                        _q(
                            "tier",
                            {
                                "type": "string",
                                "enum": list(TIERS),
                            },
                        )
                    ],
                )
            },
            "/api/layers/{name}": {
                "get": {
                    **_op(
                        "A base layer as GeoJSON",
                        [
                            {
                                "name": "name",
                                "in": "path",
                                "required": True,
                                "schema": {
                                    "type": "string",
                                    "enum": ["county", "townships", "villages", "service_points"],
                                },
                            }
                        ],
                    ),
                    "responses": {"200": _ok("GeoJSON FeatureCollection"), "404": ERR},
                }
            },
            "/api/maplayers/{name}": {
                "get": {
                    **_op(
                        "A layer of the offline map as GeoJSON (WGS84, coordinates rounded to "
                        "1e-5°): county, townships, township_names, roads (one feature per road "
                        "class and status real/modelled, with km and drawing style), villages, "
                        "service_points. Cached: ETag (If-None-Match answers 304), "
                        "Cache-Control public max-age 3600, gzip on Accept-Encoding",
                        [
                            {
                                "name": "name",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "enum": list(DISPLAY_LAYERS)},
                            }
                        ],
                    ),
                    "responses": {
                        "200": {
                            "description": "GeoJSON FeatureCollection",
                            "content": {"application/geo+json": {"schema": {"type": "object"}}},
                        },
                        "304": {"description": "not modified (same ETag)"},
                        "404": ERR,
                    },
                }
            },
            "/api/nearest": {
                "get": _op(
                    "Nearest staffed service points by travel time, with routes",
                    [
                        _q(
                            "lon",
                            {"type": "number", "minimum": -180, "maximum": 180},
                            True,
                            "WGS84 longitude",
                        ),
                        _q(
                            "lat",
                            {"type": "number", "minimum": -90, "maximum": 90},
                            True,
                            "WGS84 latitude",
                        ),
                        mode_q,
                        _q("n", {"type": "integer", "minimum": 1, "maximum": 5, "default": 3}),
                        _q(
                            "route",
                            {
                                "type": "string",
                                "enum": ["first", "all", "none"],
                                "default": "first",
                            },
                            desc="which results carry a route geometry",
                        ),
                        _q(
                            "service",
                            {"type": "string", "enum": list(service_rules().services)},
                            desc="only points open for this service (data/params/services.toml); "
                            "default: any point counting for coverage",
                        ),
                    ],
                    _ok("Nearest points", NEAREST),
                )
            },
            "/api/villages/{code}": {
                "get": {
                    **_op(
                        "One village: its legal room (法务室) and, per service, the nearest open "
                        "point with walk / motorbike / car minutes",
                        [
                            {
                                "name": "code",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]{12}$"},
                                "example": "433124102201",
                            }
                        ],
                    ),
                    "responses": {"200": _ok("Village services", VILLAGE), "404": ERR},
                }
            },
            "/api/coverage": {"get": _op("County and township coverage", [mode_q])},
            "/api/services/coverage": {
                "get": _op(
                    "Coverage per legal service: each service × 15/30/60 min, county and "
                    "townships (legal aid timed to the accepting point)",
                    [mode_q],
                )
            },
            "/api/demand": {
                "get": _op(
                    "Demand vs capacity: the county centre's windows as an M/M/c queue (wait per "
                    "year, saturation year), load per point, 2SFCA accessibility "
                    "(data/params/demand.toml)"
                )
            },
            "/api/validation": {
                "get": _op("The model against published facts and independent sources")
            },
            "/api/underserved": {
                "get": _op(
                    "Villages beyond the travel-time target (each against its own threshold: "
                    "urban or rural minutes), ranked",
                    [mode_q, _q("minutes", RURAL_MINUTES), _q("urban_minutes", URBAN_MINUTES)],
                )
            },
            "/api/whatif": {
                "post": _op(
                    "Coverage before/after new sites (model & k, or given villages)",
                    auth=True,
                    body=WHATIF,
                    tag="planner",
                )
            },
            "/api/scenarios": {
                "get": _op("Saved scenarios", auth=True, tag="planner"),
                "post": {
                    **_op(
                        "Save a named scenario",
                        auth=True,
                        tag="planner",
                        body={
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "maxLength": 80},
                                "params": WHATIF,
                                "overwrite": {
                                    "type": "boolean",
                                    "description": "replace your own scenario of that name "
                                    "(the old version is kept in its history)",
                                },
                            },
                        },
                    ),
                    "responses": {
                        "201": _ok("Saved"),
                        "400": ERR,
                        "401": ERR,
                        "403": ERR,
                        "409": ERR,
                    },
                },
            },
            "/api/scenarios/{sid}": {
                "get": {
                    **_op(
                        "One scenario",
                        [
                            {
                                "name": "sid",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "integer"},
                            }
                        ],
                        auth=True,
                        tag="planner",
                    ),
                    "responses": {"200": _ok("Scenario"), "401": ERR, "403": ERR, "404": ERR},
                }
            },
            "/api/scenarios/compare": {
                "get": _op(
                    "Compare scenarios",
                    [_q("ids", {"type": "string", "pattern": "^[0-9]+(,[0-9]+){0,9}$"}, True)],
                    auth=True,
                    tag="planner",
                )
            },
            "/api/circuits": {
                "get": _op(
                    "The month's lawyer routes", [_q("month", MONTH)], auth=True, tag="staff"
                )
            },
            "/api/circuits/ledger.xlsx": {
                "get": _op(
                    "Excel ledger of the month",
                    [_q("month", MONTH)],
                    _ok(
                        "Workbook",
                        {"type": "string", "format": "binary"},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ),
                    auth=True,
                    tag="staff",
                )
            },
            "/api/circuits/calendar.ics": {
                "get": _op(
                    "iCalendar of the month",
                    [_q("month", MONTH), _q("lawyer", {"type": "string", "maxLength": 40})],
                    _ok("Calendar", {"type": "string"}, "text/calendar"),
                    auth=True,
                    tag="staff",
                )
            },
            "/api/circuits/visits": {
                "post": _op(
                    "Mark a visit done (or not)",
                    auth=True,
                    tag="staff",
                    body={
                        "type": "object",
                        "required": ["month", "lawyer", "date", "village"],
                        "properties": {
                            "month": MONTH,
                            "lawyer": {"type": "string", "maxLength": 40},
                            "date": {"type": "string", "format": "date"},
                            "village": {"type": "string", "maxLength": 20},
                            "done": {"type": "boolean"},
                            **VISIT_RECORD,
                        },
                    },
                )
            },
            **projects_paths(),
            "/api/openapi.json": {"get": _op("This document")},
        },
        "components": {
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "log in at /auth/login; POSTs need the X-CSRFToken header",
                }
            },
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["error"],
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "required": ["status", "message"],
                                        "properties": {
                                            "status": {"type": "integer"},
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "field": {"type": "string"},
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            },
        },
    }
