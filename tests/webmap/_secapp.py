"""Shared helpers for the security, fuzz and SQLite-kill tests: an app with two users."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PLANNER = ("planner1", "plan-pass-2024")
STAFF = ("staff1", "staff-pass-2024")
SECRET = "test-secret-" + "0123456789abcdef" * 2


def make_app(tmp: Path, **extra: Any) -> Any:
    from doorstep.webmap.app import create_app
    from doorstep.webmap.app.db import add_user

    db = str(tmp / "doorstep.sqlite")
    add_user(db, *PLANNER, "planner")
    add_user(db, *STAFF, "staff")
    cfg = {"TESTING": True, "DATABASE": db, "SECRET_KEY": SECRET, **extra}
    return create_app(cfg, instance_path=str(tmp))


_TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')


def csrf_token(client: Any) -> str:
    """The CSRF token of the client's session (read from the login form)."""
    page = client.get("/auth/login")
    m = _TOKEN.search(page.data)
    assert m, "login form has no csrf_token field"
    return m.group(1).decode()


def login(client: Any, user: tuple[str, str]) -> str:
    """Log ``client`` in; return the CSRF token to send as X-CSRFToken on API writes."""
    token = csrf_token(client)
    r = client.post(
        "/auth/login", data={"username": user[0], "password": user[1], "csrf_token": token}
    )
    assert r.status_code == 302, r.data[:300]
    return csrf_token(client)
