"""A lean WSGI path for the residents' ``GET /api/nearest`` (the busiest, anonymous endpoint).

Profiling the app on 3,000 random in-county requests (cProfile, all three modes) put about 46 %
of a nearest-point request in Flask/werkzeug (request and session objects, URL routing,
after-request hooks, response headers), 7 % in ``jsonify`` and 47 % in the engine (route
geometry 21 %, snapping the origin 14 %). This middleware answers a valid
``GET /api/nearest`` directly: it parses the query string, calls the same
:func:`.api.nearest_answer` as the Flask view, encodes with orjson and sends the same security
headers (:func:`.security.response_headers`). Anything else — other paths, methods, and every
request the answer function refuses (bad values, points outside the county) — goes to the Flask
app unchanged, so error bodies and status codes have one source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from flask import Flask

from .errors import ApiError
from .security import response_headers

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATH = "/api/nearest"


def query_args(query: str) -> dict[str, str]:
    """Query parameters as Flask's ``request.args.get`` sees them (the first of repeats)."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        out.setdefault(k, v)
    return out


class NearestFastPath:
    """WSGI middleware: ``GET /api/nearest`` answered without Flask, the rest passed on."""

    def __init__(self, app: Flask, wrapped: WSGIApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.headers = [
            ("Content-Type", "application/json"),
            *response_headers(app, "application/json").items(),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wrapped(environ, start_response)
        from .api import nearest_answer
        from .state import get_state

        try:
            body = orjson.dumps(
                nearest_answer(query_args(environ.get("QUERY_STRING", "")), get_state(self.app))
            )
        except ApiError:  # the Flask app answers (and formats) every refusal
            return self.wrapped(environ, start_response)
        start_response("200 OK", [*self.headers, ("Content-Length", str(len(body)))])
        return [body]


def register(app: Flask) -> None:
    """Put the lean nearest-point path in front of the app's WSGI callable."""
    app.wsgi_app = NearestFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
