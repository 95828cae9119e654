"""四个一 projects in SQLite (tables ``project``, ``milestone``, ``project_history`` of
:mod:`.db`), every change recorded field by field: who, when, which field, old → new.

Values are checked by :mod:`analysis.projects` before anything is written; a bad value raises
:class:`analysis.projects.ProjectError` naming the field and the transaction writes nothing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from doorstep.analysis.projects import (
    MILESTONE_FIELDS,
    PROJECT_FIELDS,
    Milestone,
    Project,
    ProjectError,
    changes,
    milestone_from_mapping,
    parse_all,
    project_doc,
    project_from_mapping,
)

from .db import get_db, now

P_KEYS = tuple(k for k, _ in PROJECT_FIELDS)
M_KEYS = tuple(k for k, _ in MILESTONE_FIELDS)
_P_COL = {k: ("start_date" if k == "start" else k) for k in P_KEYS}
_M_COL = {k: {"due": "due_date", "done": "done_date"}.get(k, k) for k in M_KEYS}


class NotFound(LookupError):
    """No such project or milestone (``what`` names it)."""


class AlreadyMade(Exception):
    """The scenario's projects exist already (made earlier from it)."""


def _p_values(row: sqlite3.Row) -> dict[str, Any]:
    return {k: row[c] for k, c in _P_COL.items()}


def _m_values(row: sqlite3.Row) -> dict[str, Any]:
    return {k: row[c] for k, c in _M_COL.items()}


def _project_row(db: sqlite3.Connection, pid: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM project WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise NotFound(f"no project {pid}")
    return row  # type: ignore[no-any-return]


def _milestone_rows(db: sqlite3.Connection, pid: int) -> list[sqlite3.Row]:
    return list(
        db.execute("SELECT * FROM milestone WHERE project_id = ? ORDER BY due_date, id", (pid,))
    )


def _log(
    db: sqlite3.Connection,
    who: str,
    action: str,
    pid: int,
    mid: int | None,
    diff: Sequence[tuple[str, str | None, str | None]],
) -> None:
    at = now()
    db.executemany(
        "INSERT INTO project_history (project_id, milestone_id, at, who, action, field, old, new) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [(pid, mid, at, who, action, f, a, b) for f, a, b in diff],
    )


def _doc(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    ms = _milestone_rows(db, row["id"])
    p = project_from_mapping(_p_values(row))
    pairs = [(int(m["id"]), _stored_milestone(m, p)) for m in ms]
    return project_doc(
        int(row["id"]), p, pairs, created_by=row["created_by"], created_at=row["created_at"]
    )


def _stored_milestone(row: sqlite3.Row, p: Project) -> Milestone:
    """A stored milestone (checked when written; read back without the done-date clock)."""
    return milestone_from_mapping(_m_values(row), p.start, today=dt.date.max)


def list_projects() -> list[dict[str, Any]]:
    """Every project as :func:`analysis.projects.project_doc`, by township then id."""
    db = get_db()
    rows = db.execute("SELECT * FROM project ORDER BY township, id").fetchall()
    return [_doc(db, r) for r in rows]


def get_project(pid: int) -> dict[str, Any]:
    """One project with its milestones (:class:`NotFound` if there is none)."""
    db = get_db()
    return _doc(db, _project_row(db, pid))


def project_items(docs: Sequence[Mapping[str, Any]]) -> list[tuple[Project, list[Milestone]]]:
    """Domain objects of project documents (for :func:`analysis.projects.township_totals`)."""
    return [parse_all(d, d["milestones"], dt.date.max) for d in docs]


def _insert_project(db: sqlite3.Connection, p: Project, who: str) -> int:
    vals = p.values()
    cols = [_P_COL[k] for k in P_KEYS]
    cur = db.execute(
        f"INSERT INTO project ({', '.join(cols)}, created_by, created_at) "
        f"VALUES ({', '.join('?' * (len(cols) + 2))})",
        (*[vals[k] for k in P_KEYS], who, now()),
    )
    pid = int(cur.lastrowid or 0)
    _log(db, who, "create", pid, None, changes(None, vals, P_KEYS))
    return pid


def _insert_milestone(db: sqlite3.Connection, pid: int, m: Milestone, who: str) -> int:
    vals = m.values()
    cols = [_M_COL[k] for k in M_KEYS]
    cur = db.execute(
        f"INSERT INTO milestone (project_id, {', '.join(cols)}) "
        f"VALUES ({', '.join('?' * (len(cols) + 1))})",
        (pid, *[vals[k] for k in M_KEYS]),
    )
    mid = int(cur.lastrowid or 0)
    _log(db, who, "create", pid, mid, changes(None, vals, M_KEYS))
    return mid


def create_project(
    values: Mapping[str, Any], who: str, milestones: Sequence[Mapping[str, Any]] = ()
) -> int:
    """Store a new project (and its first milestones); return its id."""
    p, ms = parse_all(values, milestones, None)
    db = get_db()
    with db:
        pid = _insert_project(db, p, who)
        for m in ms:
            _insert_milestone(db, pid, m, who)
    return pid


def create_projects(
    items: Sequence[tuple[Project, Sequence[Milestone]]], who: str, *, scenario_id: int
) -> list[int]:
    """Store the checked projects made from scenario ``scenario_id`` with their milestones, in
    one transaction; return their ids. A scenario is turned into projects once
    (:class:`AlreadyMade` the second time: edit or delete those projects instead)."""
    db = get_db()
    out = []
    with db:
        n = db.execute("SELECT COUNT(*) FROM project WHERE scenario_id = ?", (scenario_id,))
        made = int(n.fetchone()[0])
        if made:
            raise AlreadyMade(
                f"scenario {scenario_id} was turned into projects already ({made} projects)"
            )
        for p, ms in items:
            pid = _insert_project(db, p, who)
            db.execute("UPDATE project SET scenario_id = ? WHERE id = ?", (scenario_id, pid))
            for m in ms:
                _insert_milestone(db, pid, m, who)
            out.append(pid)
    return out


def _merged(old: Mapping[str, Any], new: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    unknown = [k for k in new if k not in keys]
    if unknown:
        raise ProjectError(unknown[0], f"unknown field; use {', '.join(keys)}")
    return {**old, **new}


def update_project(pid: int, values: Mapping[str, Any], who: str) -> int:
    """Change some fields of a project (the others kept); return the number of fields changed.
    A new start date is checked against every milestone."""
    db = get_db()
    with db:
        row = _project_row(db, pid)
        old = _p_values(row)
        merged = _merged(old, values, P_KEYS)
        p, _ = parse_all(merged, [_m_values(m) for m in _milestone_rows(db, pid)], dt.date.max)
        diff = changes(project_from_mapping(old).values(), p.values(), P_KEYS)
        if diff:
            sets = ", ".join(f"{_P_COL[f]} = ?" for f, _, _ in diff)
            new = p.values()
            db.execute(
                f"UPDATE project SET {sets} WHERE id = ?", (*[new[f] for f, _, _ in diff], pid)
            )
            _log(db, who, "edit", pid, None, diff)
    return len(diff)


def delete_project(pid: int, who: str) -> None:
    """Delete a project and its milestones; the history keeps every field deleted."""
    db = get_db()
    with db:
        row = _project_row(db, pid)
        for m in _milestone_rows(db, pid):
            _log(db, who, "delete", pid, int(m["id"]), changes(_m_values(m), None, M_KEYS))
        _log(db, who, "delete", pid, None, changes(_p_values(row), None, P_KEYS))
        db.execute("DELETE FROM project WHERE id = ?", (pid,))


def add_milestone(pid: int, values: Mapping[str, Any], who: str) -> int:
    """Add a milestone to project ``pid``; return its id."""
    db = get_db()
    with db:
        unknown = [k for k in values if k not in M_KEYS]
        if unknown:
            raise ProjectError(unknown[0], f"unknown field; use {', '.join(M_KEYS)}")
        p = project_from_mapping(_p_values(_project_row(db, pid)))
        return _insert_milestone(db, pid, milestone_from_mapping(values, p.start), who)


def _milestone_row(db: sqlite3.Connection, pid: int, mid: int) -> sqlite3.Row:
    row = db.execute(
        "SELECT * FROM milestone WHERE id = ? AND project_id = ?", (mid, pid)
    ).fetchone()
    if row is None:
        raise NotFound(f"no milestone {mid} in project {pid}")
    return row  # type: ignore[no-any-return]


def update_milestone(pid: int, mid: int, values: Mapping[str, Any], who: str) -> int:
    """Change some fields of a milestone; return the number of fields changed."""
    db = get_db()
    with db:
        p = project_from_mapping(_p_values(_project_row(db, pid)))
        old = _m_values(_milestone_row(db, pid, mid))
        m = milestone_from_mapping(_merged(old, values, M_KEYS), p.start)
        new = m.values()
        diff = changes(old, new, M_KEYS)
        if diff:
            sets = ", ".join(f"{_M_COL[f]} = ?" for f, _, _ in diff)
            db.execute(
                f"UPDATE milestone SET {sets} WHERE id = ?", (*[new[f] for f, _, _ in diff], mid)
            )
            _log(db, who, "edit", pid, mid, diff)
    return len(diff)


def delete_milestone(pid: int, mid: int, who: str) -> None:
    """Delete one milestone (its fields kept in the history)."""
    db = get_db()
    with db:
        old = _m_values(_milestone_row(db, pid, mid))
        _log(db, who, "delete", pid, mid, changes(old, None, M_KEYS))
        db.execute("DELETE FROM milestone WHERE id = ?", (mid,))


def history(pid: int | None = None) -> list[dict[str, Any]]:
    """Change records (newest last), of one project or of all."""
    db = get_db()
    sql = "SELECT * FROM project_history"
    rows = (
        db.execute(sql + " WHERE project_id = ? ORDER BY id", (pid,))
        if pid is not None
        else db.execute(sql + " ORDER BY id")
    )
    return [
        {
            k: r[k]
            for k in ("at", "who", "project_id", "milestone_id", "action", "field", "old", "new")
        }
        for r in rows
    ]
