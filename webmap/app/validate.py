"""Request parameter checks: every bad value becomes a 400 JSON error naming the field."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from doorstep.geo.params import MAX_MINUTES, MODES  # noqa: F401  (re-exported for the API checks)

from .errors import ApiError

MONTH_RE = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])")  # always used with fullmatch


def number(
    src: Mapping[str, Any],
    name: str,
    lo: float,
    hi: float,
    default: float | None = None,
    required: bool = False,
) -> float | None:
    """A finite float in [lo, hi] (query strings or JSON values)."""
    raw = src.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, f"'{name}' is required", name)
        return default
    if isinstance(raw, bool):
        raise ApiError(400, f"'{name}' must be a number", name)
    try:
        v = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, f"'{name}' must be a number, got {str(raw)[:40]!r}", name) from None
    if not math.isfinite(v):
        raise ApiError(400, f"'{name}' must be finite", name)
    if not lo <= v <= hi:
        raise ApiError(400, f"'{name}' must be between {lo:g} and {hi:g}, got {v:g}", name)
    return v


def integer(
    src: Mapping[str, Any],
    name: str,
    lo: int,
    hi: int,
    default: int | None = None,
    required: bool = False,
) -> int | None:
    """An integer in [lo, hi]."""
    raw = src.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, f"'{name}' is required", name)
        return default
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ApiError(400, f"'{name}' must be an integer", name)
    try:
        v = int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, f"'{name}' must be an integer, got {str(raw)[:40]!r}", name) from None
    if not lo <= v <= hi:
        raise ApiError(400, f"'{name}' must be between {lo} and {hi}, got {v}", name)
    return v


def choice(
    src: Mapping[str, Any], name: str, options: Sequence[str], default: str | None = None
) -> str:
    raw = src.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ApiError(400, f"'{name}' is required (one of {', '.join(options)})", name)
        return default
    if not isinstance(raw, str) or raw not in options:
        raise ApiError(
            400, f"'{name}' must be one of {', '.join(options)}, got {str(raw)[:40]!r}", name
        )
    return raw


def text(
    src: Mapping[str, Any], name: str, max_len: int, required: bool = False, default: str = ""
) -> str:
    raw = src.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(400, f"'{name}' is required", name)
        return default
    if not isinstance(raw, str):
        raise ApiError(400, f"'{name}' must be a string", name)
    raw = raw.strip()
    if len(raw) > max_len or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in raw):
        raise ApiError(400, f"'{name}' must be at most {max_len} printable characters", name)
    if required and not raw:
        raise ApiError(400, f"'{name}' is required", name)
    return raw


def month(src: Mapping[str, Any], name: str = "month", default: str | None = None) -> str:
    raw = src.get(name) or default
    if not isinstance(raw, str) or not MONTH_RE.fullmatch(raw):
        raise ApiError(
            400, f"'{name}' must be a month YYYY-MM (2000–2099), got {str(raw)[:20]!r}", name
        )
    return raw


def json_body() -> dict[str, Any]:
    from flask import request

    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON decoder's stack
        raise ApiError(400, "the request body is nested too deeply", "body") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "the request body must be a JSON object (Content-Type: application/json)", "body"
        )
    return body
