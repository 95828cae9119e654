"""SQLite storage in the instance folder: users, saved scenarios, visits marked done (with
their ledger record) and 四个一 projects with their milestones and change history.

The database runs in WAL mode (readers never block the writer; a crash mid-write leaves the
last committed state intact). One connection per request (``flask.g``), closed on teardown.
The file holds password hashes: it is created mode 0600 in an instance folder of mode 0700.

Sessions are revocable: each user has a ``session_version`` that the signed session cookie
carries; logout, a password change, ``disable`` and ``remove`` bump it, so every cookie issued
before stops working at once. Logins are audited in ``login_event`` (also the throttle's memory).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from werkzeug.security import generate_password_hash

from doorstep.geo._errors import DataFileError, InputError

ROLES = ("planner", "staff")

SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('planner', 'staff'))
);
CREATE TABLE IF NOT EXISTS login_event (
  at REAL NOT NULL,
  username TEXT NOT NULL,
  address TEXT NOT NULL,
  ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_event_user ON login_event (username, at);
CREATE INDEX IF NOT EXISTS login_event_addr ON login_event (address, at);
CREATE TABLE IF NOT EXISTS scenario_history (
  scenario_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  params TEXT NOT NULL,
  result TEXT NOT NULL,
  replaced_at TEXT NOT NULL,
  replaced_by TEXT NOT NULL
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
CREATE TABLE IF NOT EXISTS project (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  what TEXT NOT NULL DEFAULT '',
  village_code TEXT NOT NULL DEFAULT '',
  village TEXT NOT NULL DEFAULT '',
  township TEXT NOT NULL DEFAULT '',
  point_code TEXT NOT NULL DEFAULT '',
  lon REAL,
  lat REAL,
  location_status TEXT NOT NULL DEFAULT '',
  leader_name TEXT NOT NULL DEFAULT '',
  leader_post TEXT NOT NULL DEFAULT '',
  unit TEXT NOT NULL DEFAULT '',
  start_date TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  scenario_id INTEGER,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS milestone (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES project (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  due_date TEXT NOT NULL,
  done_date TEXT,
  status TEXT NOT NULL,
  budget_planned REAL NOT NULL DEFAULT 0,
  budget_spent REAL NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS milestone_project ON milestone (project_id);
CREATE TABLE IF NOT EXISTS project_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL,
  milestone_id INTEGER,
  at TEXT NOT NULL,
  who TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('create', 'edit', 'delete')),
  field TEXT NOT NULL,
  old TEXT,
  new TEXT
);
CREATE INDEX IF NOT EXISTS project_history_project ON project_history (project_id, id);
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


def connect_read_only(path: Path, tables: Sequence[str], *, where: str) -> sqlite3.Connection:
    """``path`` opened read-only (SQLite ``mode=ro``, queries only; a running server is not
    disturbed), checked to hold ``tables``; :class:`DataFileError` naming the file and the fix
    (``where``: how to name the right database) otherwise."""
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "no such database"
        raise DataFileError(
            path, problem, fix=f"{where}, or run `doorstep serve` once to create it"
        )
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10, detect_types=sqlite3.PARSE_DECLTYPES)
    except sqlite3.Error as exc:
        raise DataFileError(
            path, f"cannot be opened ({exc})", fix="check its permissions"
        ) from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA query_only = ON")
        have = {
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.OperationalError as exc:  # locked, or no right to read it or its -shm
        conn.close()
        raise DataFileError(
            path,
            f"cannot be read ({exc})",
            fix="check that you may read it and the folder beside it (the WAL's -shm file)",
        ) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DataFileError(path, f"is not a Doorstep database ({exc})", fix=where) from None
    missing = [t for t in tables if t not in have]
    if missing:
        conn.close()
        raise DataFileError(
            path,
            f"is not a Doorstep web app database with projects (no {missing[0]} table)",
            fix=f"{where}; one from before 四个一 projects is upgraded by starting `doorstep serve`",
        )
    return conn


@contextlib.contextmanager
def reading(path: Path, tables: Sequence[str], *, where: str) -> Iterator[None]:
    """An application context whose connection (``g.db``, what :func:`get_db` returns) is
    :func:`connect_read_only` of ``path``, so the app's stores read it outside a request (the
    command line); a read that fails later (e.g. locked too long) is a :class:`DataFileError`."""
    conn = connect_read_only(path, tables, where=where)
    try:
        with Flask("doorstep.reading").app_context():
            g.db = conn
            try:
                yield
            except sqlite3.Error as exc:
                raise DataFileError(path, f"cannot be read ({exc})", fix="try again") from None
    finally:
        conn.close()


USER_COLUMNS = {
    "session_version": "INTEGER NOT NULL DEFAULT 0",
    "disabled": "INTEGER NOT NULL DEFAULT 0",
}
VISIT_COLUMNS = {
    "arrived": "TEXT",
    "left_at": "TEXT",
    "services": "TEXT NOT NULL DEFAULT ''",
    "persons": "INTEGER",
    "mediated": "INTEGER",
    "resolved": "INTEGER",
    "issues": "TEXT NOT NULL DEFAULT ''",
    "follow_up": "INTEGER",
}
"""The ledger record of a visit ticked done (:data:`analysis.circuits.ledger.RECORD_FIELDS`;
``left`` is ``left_at`` here, LEFT being an SQL keyword)."""
MIGRATIONS = {"user": USER_COLUMNS, "visit_done": VISIT_COLUMNS}
"""Columns added after a table's first version: added to older databases on start."""


def init_db(path: str) -> None:
    """Create the tables if missing and add columns of newer versions (idempotent); mode 0600."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        for table, columns in MIGRATIONS.items():
            have = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
            for col, decl in columns.items():
                if col not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")
        conn.commit()
    finally:
        conn.close()
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


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
                "ON CONFLICT(username) DO UPDATE SET password=excluded.password, "
                "role=excluded.role, session_version=session_version + 1",
                (username, generate_password_hash(password), role),
            )
    finally:
        conn.close()


def _user_change(path: str, username: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one change on an existing user; refuse unknown names."""
    init_db(path)
    conn = connect(path)
    try:
        with conn:
            cur = conn.execute(sql, (*params, username))
            if cur.rowcount == 0:
                raise InputError(f"no user named {username!r} (doorstep user list shows them)")
    finally:
        conn.close()


def set_password(path: str, username: str, password: str) -> None:
    """Change a password; every session of the user ends."""
    if len(password) < 8:
        raise InputError("password must have at least 8 characters")
    _user_change(
        path,
        username,
        "UPDATE user SET password = ?, session_version = session_version + 1 WHERE username = ?",
        (generate_password_hash(password),),
    )


def set_disabled(path: str, username: str, disabled: bool = True) -> None:
    """Disable (or enable) a login; disabling ends every session of the user."""
    _user_change(
        path,
        username,
        "UPDATE user SET disabled = ?, session_version = session_version + 1 WHERE username = ?",
        (int(disabled),),
    )


def remove_user(path: str, username: str) -> None:
    """Delete a login (its scenarios and ticks keep the name as written)."""
    _user_change(path, username, "DELETE FROM user WHERE username = ?")


def list_users(path: str) -> list[dict[str, Any]]:
    """Users with role and state (no hashes)."""
    init_db(path)
    conn = connect(path)
    try:
        rows = conn.execute("SELECT username, role, disabled FROM user ORDER BY username")
        return [dict(r) for r in rows]
    finally:
        conn.close()


def end_sessions(user_id: int) -> None:
    """Invalidate every session cookie of ``user_id`` (logout everywhere)."""
    db = get_db()
    with db:
        db.execute("UPDATE user SET session_version = session_version + 1 WHERE id = ?", (user_id,))


def record_login(username: str, address: str, ok: bool) -> None:
    """Audit one login attempt (kept for the throttle and for review)."""
    db = get_db()
    with db:
        db.execute(
            "INSERT INTO login_event (at, username, address, ok) VALUES (?, ?, ?, ?)",
            (time.time(), username, address, int(ok)),
        )


def recent_failures(username: str, address: str, window_s: float) -> tuple[int, int]:
    """Failed logins within ``window_s`` seconds since the last success: (per user, per address)."""
    db = get_db()
    since = time.time() - window_s
    q = (
        "SELECT COUNT(*) FROM login_event WHERE {col} = ? AND at >= ? AND ok = 0 AND at > "
        "COALESCE((SELECT MAX(at) FROM login_event WHERE {col} = ? AND ok = 1), 0)"
    )
    by_user = db.execute(q.format(col="username"), (username, since, username)).fetchone()[0]
    by_addr = db.execute(q.format(col="address"), (address, since, address)).fetchone()[0]
    return int(by_user), int(by_addr)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ScenarioClash(Exception):
    """A scenario of that name exists and may not be replaced by this request."""

    def __init__(self, name: str, owner: str) -> None:
        super().__init__(f"a scenario named {name!r} already exists (saved by {owner})")
        self.owner = owner


def save_scenario(
    name: str,
    user: str,
    params: dict[str, Any],
    result: dict[str, Any],
    *,
    overwrite: bool = False,
) -> int:
    """Save a named scenario and return its id.

    A name clash raises :class:`ScenarioClash` unless ``overwrite`` is given by the scenario's
    owner; the replaced version is kept in ``scenario_history`` (who replaced it, when).
    """
    db = get_db()
    p_json, r_json = json.dumps(params, ensure_ascii=False), json.dumps(result, ensure_ascii=False)
    with db:
        old = db.execute("SELECT * FROM scenario WHERE name = ?", (name,)).fetchone()
        if old is None:
            cur = db.execute(
                "INSERT INTO scenario (name, created_by, created_at, params, result) "
                "VALUES (?,?,?,?,?)",
                (name, user, now(), p_json, r_json),
            )
            return int(cur.lastrowid or 0)
        if not overwrite or old["created_by"] != user:
            raise ScenarioClash(name, old["created_by"])
        db.execute(
            "INSERT INTO scenario_history (scenario_id, name, created_by, created_at, params, "
            "result, replaced_at, replaced_by) VALUES (?,?,?,?,?,?,?,?)",
            (
                old["id"],
                name,
                old["created_by"],
                old["created_at"],
                old["params"],
                old["result"],
                now(),
                user,
            ),
        )
        db.execute(
            "UPDATE scenario SET created_at = ?, params = ?, result = ? WHERE id = ?",
            (now(), p_json, r_json, old["id"]),
        )
        return int(old["id"])


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
