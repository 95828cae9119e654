"""``doorstep user add`` and the serve command's secret handling."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash


def test_user_add(tmp_path: Path, monkeypatch: Any) -> None:
    from doorstep.cli import main

    monkeypatch.setenv("DS_PW", "a-long-password")
    assert (
        main(
            [
                "-q",
                "user",
                "add",
                "li",
                "--role",
                "planner",
                "--password-env",
                "DS_PW",
                "--instance",
                str(tmp_path),
            ]
        )
        == 0
    )
    conn = sqlite3.connect(tmp_path / "doorstep.sqlite")
    name, pw, role = conn.execute("SELECT username, password, role FROM user").fetchone()
    conn.close()
    assert (name, role) == ("li", "planner") and check_password_hash(pw, "a-long-password")
    monkeypatch.setenv("DS_PW", "short")
    assert (
        main(
            [
                "-q",
                "user",
                "add",
                "li",
                "--role",
                "staff",
                "--password-env",
                "DS_PW",
                "--instance",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "-q",
                "user",
                "add",
                "li",
                "--role",
                "staff",
                "--password-env",
                "NOPE_UNSET",
                "--instance",
                str(tmp_path),
            ]
        )
        == 2
    )


def test_secret_key_file(tmp_path: Path) -> None:
    from doorstep.webmap.app import create_app, ensure_secret_key

    key = ensure_secret_key(tmp_path)
    assert len(key) == 64 and ensure_secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    app = create_app({"PRODUCTION": True}, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == key
