"""Web app fixtures (Flask tutorial style): a fresh app and a temporary instance folder per test.

The county model and baseline analysis are cached process-wide by :mod:`webmap.app.state`, so a
new app per test costs milliseconds after the first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PLANNER = ("plan1", "planner-pass-1")
STAFF = ("staff1", "staff-pass-1")

_TEMPLATE: dict[str, bytes] = {}


def _users_db() -> bytes:
    """A database with the two test users (password hashing is slow: done once)."""
    if "db" not in _TEMPLATE:
        import sqlite3
        import tempfile

        from doorstep.webmap.app.db import add_user

        with tempfile.TemporaryDirectory() as d:
            path = f"{d}/t.sqlite"
            add_user(path, *PLANNER, "planner")
            add_user(path, *STAFF, "staff")
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            with open(path, "rb") as fh:
                _TEMPLATE["db"] = fh.read()
    return _TEMPLATE["db"]


def make_app(tmp_path: Any, **extra: Any) -> Any:
    """An app whose instance folder (database, exports, secret key) is ``tmp_path``."""
    from doorstep.webmap.app import create_app

    db = tmp_path / "test.sqlite"
    db.write_bytes(_users_db())
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE": str(db),
        "WTF_CSRF_ENABLED": False,
        **extra,
    }
    return create_app(cfg, instance_path=str(tmp_path))


@pytest.fixture
def app(tmp_path: Any) -> Any:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class Auth:
    def __init__(self, client: Any) -> None:
        self.client = client

    def login(self, who: tuple[str, str] = PLANNER) -> Any:
        page = self.client.get("/auth/login").get_data(as_text=True)
        m = re.search(r'name="csrf_token" value="([^"]+)"', page)
        data = {"username": who[0], "password": who[1]}
        if m:
            data["csrf_token"] = m.group(1)
        return self.client.post("/auth/login", data=data)


@pytest.fixture
def auth(client: Any) -> Auth:
    return Auth(client)


@contextmanager
def app_server(tmp: Path, **config: Any) -> Iterator[str]:
    """The web app with ``config`` (e.g. ``BASEMAP``/``BASEMAP_CRS``) on a local port."""
    from werkzeug.serving import make_server

    tmp.mkdir(parents=True, exist_ok=True)
    app = make_app(tmp, **config)
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def serving(srv: Any) -> Iterator[int]:
    """Run ``srv`` (anything with ``serve_forever``/``shutdown``/``server_port``) on a thread;
    yields its port, stops it on exit."""
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield int(srv.server_port)
    finally:
        srv.shutdown()
        t.join(5)
