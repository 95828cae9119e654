"""SQLite storage in the instance folder: users, saved scenarios and visits marked done.

The database runs in WAL mode (readers never block the writer; a crash mid-write leaves the
last committed state intact). One connection per request (``flask.g``), closed on teardown.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from werkzeug.security import generate_password_hash

from doorstep.geo._errors import InputError

ROLES = ("planner", "staff")

SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('planner', 'staff'))
);
CREATE TABLE IF NOT EXISTS scenario (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  params TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS visit_done (
  month TEXT NOT NULL,
  lawyer TEXT NOT NULL,
  day TEXT NOT NULL,
  village TEXT NOT NULL,
  done_by TEXT NOT NULL,
  done_at TEXT NOT NULL,
  PRIMARY KEY (month, lawyer, day, village)
);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open the database in WAL mode with foreign keys and row access by name."""
    conn = sqlite3.connect(path, timeout=10, detect_types=sqlite3.PARSE_DECLTYPES)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def get_db() -> sqlite3.Connection:
    """The request's connection (opened on first use)."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db  # type: ignore[no-any-return]


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> None:
    """Create the tables if missing (idempotent)."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        conn.commit()
    finally:
        conn.close()


def add_user(path: str, username: str, password: str, role: str) -> None:
    """Create or update a user (password stored as a werkzeug salted hash)."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not username or len(username) > 64:
        raise InputError("user name must be 1–64 characters")
    if len(password) < 8:
        raise InputError("password must have at least 8 characters")
    init_db(path)
    conn = connect(path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO user (username, password, role) VALUES (?, ?, ?) "
                "ON CONFLICT(username) DO UPDATE SET password=excluded.password, role=excluded.role",
                (username, generate_password_hash(password), role),
            )
    finally:
        conn.close()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_scenario(name: str, user: str, params: dict[str, Any], result: dict[str, Any]) -> int:
    """Insert or replace a named scenario; returns its id."""
    db = get_db()
    with db:
        db.execute(
            "INSERT INTO scenario (name, created_by, created_at, params, result) VALUES (?,?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET created_by=excluded.created_by, "
            "created_at=excluded.created_at, params=excluded.params, result=excluded.result",
            (
                name,
                user,
                now(),
                json.dumps(params, ensure_ascii=False),
                json.dumps(result, ensure_ascii=False),
            ),
        )
    row = db.execute("SELECT id FROM scenario WHERE name = ?", (name,)).fetchone()
    return int(row["id"])


def scenario_dict(row: sqlite3.Row, full: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "params": json.loads(row["params"]),
    }
    res = json.loads(row["result"])
    d["summary"] = res.get("summary", {})
    if full:
        d["result"] = res
    return d


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    init_db(app.config["DATABASE"])
