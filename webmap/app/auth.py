"""Login for planners and staff (residents stay anonymous and read-only).

Users live in the ``user`` table with werkzeug password hashes; ``doorstep user add`` creates
them. The session is signed with the app's ``SECRET_KEY``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from .db import get_db
from .errors import ApiError

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_logged_in_user() -> None:
    uid = session.get("user_id")
    g.user = None
    if uid is not None:
        row = (
            get_db().execute("SELECT id, username, role FROM user WHERE id = ?", (uid,)).fetchone()
        )
        g.user = dict(row) if row else None


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:256]
        row = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        if row is None or not check_password_hash(row["password"], password):
            error = "用户名或密码错误 Incorrect user name or password"
        else:
            session.clear()
            session["user_id"] = row["id"]
            home = url_for("plan.index") if row["role"] == "planner" else url_for("circuits.index")
            return redirect(_safe_next(request.args.get("next")) or home)
        flash(error)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
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
