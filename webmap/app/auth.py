"""Login for planners and staff (residents stay anonymous and read-only).

Users live in the ``user`` table with werkzeug password hashes; ``doorstep user add`` creates
them. The session is signed with the app's ``SECRET_KEY`` and carries the user's
``session_version``: logout, a password change or disabling the user ends every session of that
user (a copied cookie stops working). Sessions last ``SESSION_HOURS`` (default 10: a working day).

Logins are throttled: after ``LOGIN_MAX_FAILURES`` failures within ``LOGIN_WINDOW_S`` seconds
for one user name, or ``LOGIN_MAX_FAILURES_PER_ADDRESS`` from one address, the next attempt gets
429 *before* any password is hashed (a login flood cannot eat the CPU). Unknown user names cost
the same hash as known ones, so the answer time does not tell which names exist.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .db import end_sessions, get_db, recent_failures, record_login
from .errors import ApiError

_DUMMY_HASH: list[str] = []  # one hash of a random word, made on first use
_SAFE_NEXT = re.compile(r"/(?![/\\])[\x21-\x7e]*")

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_logged_in_user() -> None:
    uid = session.get("user_id")
    g.user = None
    if uid is None:
        return
    row = (
        get_db()
        .execute(
            "SELECT id, username, role, session_version, disabled FROM user WHERE id = ?", (uid,)
        )
        .fetchone()
    )
    if row is None or row["disabled"] or row["session_version"] != session.get("sv"):
        session.clear()  # revoked: logged out elsewhere, password changed, disabled or removed
        return
    g.user = {"id": row["id"], "username": row["username"], "role": row["role"]}


def _safe_next(target: str | None) -> str | None:
    """A same-origin path (printable ASCII, no ``//``, no backslash, no white space), else None."""
    if target and "\\" not in target and _SAFE_NEXT.fullmatch(target):
        return target
    return None


def _password_ok(row: Any, password: str) -> bool:
    """Check the password; unknown or disabled users pay the same hashing time."""
    if row is None or row["disabled"]:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(generate_password_hash("doorstep-no-such-user"))
        check_password_hash(_DUMMY_HASH[0], password)
        return False
    return check_password_hash(row["password"], password)


def _throttled(username: str, address: str) -> bool:
    cfg = current_app.config
    by_user, by_addr = recent_failures(username, address, float(cfg["LOGIN_WINDOW_S"]))
    return by_user >= int(cfg["LOGIN_MAX_FAILURES"]) or by_addr >= int(
        cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:256]
        address = request.remote_addr or "-"
        if _throttled(username, address):
            record_login(username, address, False)
            error = "尝试次数过多，请稍后再试 Too many failed logins: wait a minute and try again"
            resp = current_app.make_response((render_template("login.html", error=error), 429))
            resp.headers["Retry-After"] = str(int(current_app.config["LOGIN_WINDOW_S"]))
            return resp
        row = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        ok = _password_ok(row, password)
        record_login(username, address, ok)
        if not ok:
            error = "用户名或密码错误 Incorrect user name or password"
        else:
            session.clear()
            session.permanent = True  # lifetime: SESSION_HOURS
            session["user_id"] = row["id"]
            session["sv"] = row["session_version"]
            home = url_for("plan.index") if row["role"] == "planner" else url_for("circuits.index")
            return redirect(_safe_next(request.args.get("next")) or home)
        flash(error)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    if g.user is not None:
        end_sessions(g.user["id"])  # every copy of every cookie of this user stops working
    session.clear()
    return redirect(url_for("resident.index"))


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a logged-in user with one of ``roles`` (pages redirect, the API answers 401/403)."""

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            api = request.path.startswith("/api/")
            if g.user is None:
                if api:
                    raise ApiError(401, "login required 需要登录", code="unauthorized")
                return redirect(url_for("auth.login", next=request.path))
            if g.user["role"] not in roles:
                raise ApiError(403, f"this needs the role {' or '.join(roles)}", code="forbidden")
            return view(*args, **kwargs)

        return wrapped

    return deco
