"""JSON errors for the API (and plain pages for the rest) — never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from doorstep.geo._errors import DoorstepError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered as JSON ``{"error": {"status", "code", "message", "field"}}``."""

    def __init__(self, status: int, message: str, field: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code or {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            422: "invalid",
        }.get(status, "error")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message: str, field: str | None = None, code: str = "") -> Any:
    body: dict[str, Any] = {"status": status, "code": code or "error", "message": message}
    if field:
        body["field"] = field
    if wants_json():
        return jsonify({"error": body}), status
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(e: ApiError) -> Any:
        resp = error_response(e.status, e.message, e.field, e.code)
        if e.status == 429:
            resp = app.make_response(resp)
            resp.headers["Retry-After"] = "60"
        return resp

    @app.errorhandler(DoorstepError)
    def _doorstep(e: DoorstepError) -> Any:
        return error_response(400, str(e), None, "invalid_input")

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError) -> Any:
        return error_response(400, f"CSRF token missing or invalid: {e.description}", None, "csrf")

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Any:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
        }.get(e.code or 500, "http_error")
        return error_response(e.code or 500, e.description or e.name, None, code)

    @app.errorhandler(Exception)
    def _any(e: Exception) -> Any:
        log.exception("unhandled error on %s", request.path)
        return error_response(500, InternalServerError.description, None, "internal")
