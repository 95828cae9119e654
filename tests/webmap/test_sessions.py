"""Revocable sessions, login throttling, owned scenarios and strict input checks (issue 17)."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from tests.conftest import needs_shared

from ._secapp import PLANNER, STAFF, csrf_token, login, make_app

pytestmark = needs_shared


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def _copy_cookie(src, dst) -> None:
    """Give ``dst`` the session cookie of ``src`` (an attacker replaying a copied cookie)."""
    cookie = src.get_cookie("session")
    assert cookie is not None
    dst.set_cookie("session", cookie.value)


def test_copied_cookie_dies_at_logout(app):
    victim, thief = app.test_client(), app.test_client()
    tok = login(victim, PLANNER)
    _copy_cookie(victim, thief)
    assert thief.get("/api/scenarios").status_code == 200
    assert victim.post("/auth/logout", data={"csrf_token": tok}).status_code == 302
    assert thief.get("/api/scenarios").status_code == 401


def test_password_change_and_disable_end_sessions(app):
    from doorstep.webmap.app.db import set_disabled, set_password

    c = app.test_client()
    login(c, PLANNER)
    set_password(app.config["DATABASE"], PLANNER[0], "a-new-password-1")
    assert c.get("/api/scenarios").status_code == 401
    login(c, (PLANNER[0], "a-new-password-1"))
    assert c.get("/api/scenarios").status_code == 200
    set_disabled(app.config["DATABASE"], PLANNER[0])
    assert c.get("/api/scenarios").status_code == 401
    tok = csrf_token(c)
    r = c.post(
        "/auth/login",
        data={"username": PLANNER[0], "password": "a-new-password-1", "csrf_token": tok},
    )
    assert r.status_code == 401  # a disabled user cannot log in


def test_session_lifetime_is_a_working_day(app):
    assert app.permanent_session_lifetime.total_seconds() == 10 * 3600
    c = app.test_client()
    login(c, PLANNER)
    cookie = c.get_cookie("session")
    assert cookie is not None and cookie.expires is not None


def test_sixth_wrong_password_is_429_even_with_the_right_one(app):
    c = app.test_client()
    codes = []
    for _ in range(5):
        tok = csrf_token(c)
        data = {"username": STAFF[0], "password": "wrong-pass", "csrf_token": tok}
        codes.append(c.post("/auth/login", data=data).status_code)
    tok = csrf_token(c)
    r = c.post("/auth/login", data={"username": STAFF[0], "password": STAFF[1], "csrf_token": tok})
    assert codes == [401] * 5
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    con = sqlite3.connect(app.config["DATABASE"])
    try:
        n = con.execute("SELECT COUNT(*) FROM login_event WHERE username = ?", (STAFF[0],))
        assert n.fetchone()[0] == 6  # every attempt audited
    finally:
        con.close()


def test_other_user_not_locked_by_one_users_failures(app):
    c = app.test_client()
    for _ in range(5):
        tok = csrf_token(c)
        c.post("/auth/login", data={"username": STAFF[0], "password": "x", "csrf_token": tok})
    login(c, PLANNER)  # asserts 302


def test_scenario_name_clash_is_409_unless_owner_overwrites(app, tmp_path):
    from doorstep.webmap.app.db import add_user

    add_user(app.config["DATABASE"], "planner2", "planner2-pass", "planner")
    a, b = app.test_client(), app.test_client()
    ta, tb = login(a, PLANNER), login(b, ("planner2", "planner2-pass"))
    body = {"name": "方案一", "params": {"add": 1}}
    assert a.post("/api/scenarios", json=body, headers={"X-CSRFToken": ta}).status_code == 201
    r = b.post("/api/scenarios", json={**body, "overwrite": True}, headers={"X-CSRFToken": tb})
    assert r.status_code == 409 and "planner1" in r.get_json()["error"]["message"]
    assert a.post("/api/scenarios", json=body, headers={"X-CSRFToken": ta}).status_code == 409
    r = a.post("/api/scenarios", json={**body, "overwrite": True}, headers={"X-CSRFToken": ta})
    assert r.status_code == 201 and r.get_json()["created_by"] == PLANNER[0]
    con = sqlite3.connect(app.config["DATABASE"])
    try:
        assert con.execute("SELECT COUNT(*) FROM scenario_history").fetchone()[0] == 1
    finally:
        con.close()


@pytest.mark.parametrize(
    "evil", ["/%09/evil.example", "/x%0d%0aSet-Cookie:a=b", "/\\evil", "//evil", "/ok path"]
)
def test_next_is_a_same_origin_path_only(app, evil):
    c = app.test_client()
    tok = csrf_token(c)
    r = c.post(
        f"/auth/login?next={evil}",
        data={"username": PLANNER[0], "password": PLANNER[1], "csrf_token": tok},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/plan/"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/circuits?month=2027-01%0A", None),
        ("/api/scenarios", "[" * 100_000 + "]" * 100_000),
        ("/api/scenarios", '{"name": "x", "params": {"k": 1' + "0" * 400 + "}}"),
        ("/api/scenarios", '{"name": "\\ud800", "params": {}}'),
    ],
)
def test_malformed_inputs_are_4xx(app, url, body):
    c = app.test_client()
    tok = login(c, PLANNER if "scenarios" in url else STAFF)
    if body is None:
        r = c.get(url)
    else:
        r = c.post(url, data=body, headers={"X-CSRFToken": tok, "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.data[:200])


def test_database_file_is_private(app):
    mode = stat.S_IMODE(__import__("os").stat(app.config["DATABASE"]).st_mode)
    assert mode == 0o600
