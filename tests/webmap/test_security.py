"""Access control, sessions, CSRF, security headers, downloads and the bad-payload corpus."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..conftest import needs_shared
from ._secapp import PLANNER, SECRET, STAFF, csrf_token, login, make_app

pytestmark = needs_shared

PAYLOADS = Path(__file__).parent.parent / "data" / "bad_payloads.json"
INSIDE = {"lon": "109.48", "lat": "28.57"}  # Huayuan town


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("sec"))


@pytest.fixture
def anon(app):
    return app.test_client()


@pytest.fixture
def planner(app):
    c = app.test_client()
    c.csrf = login(c, PLANNER)  # type: ignore[attr-defined]
    return c


@pytest.fixture
def staff(app):
    c = app.test_client()
    c.csrf = login(c, STAFF)  # type: ignore[attr-defined]
    return c


# --- who may do what ------------------------------------------------------------------------

PUBLIC_GET = [
    "/",
    "/api/health",
    "/api/openapi.json",
    "/api/nearest?lon=109.48&lat=28.57",
    "/api/villages?limit=3",
    "/api/service-points?tier=township_station",
    "/api/layers/county",
    "/auth/login",
]
PLANNER_GET_API = ["/api/scenarios", "/api/scenarios/1", "/api/scenarios/compare?ids=1"]
STAFF_GET_API = [
    "/api/circuits?month=2030-01",
    "/api/circuits/ledger.xlsx?month=2030-01",
    "/api/circuits/calendar.ics?month=2030-01",
]


@pytest.mark.parametrize("url", PUBLIC_GET)
def test_anonymous_can_read_public(anon, url):
    assert anon.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/plan/", "/circuits/"])
def test_anonymous_pages_redirect_to_login(anon, url):
    r = anon.get(url)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("url", PLANNER_GET_API + STAFF_GET_API)
def test_anonymous_api_gets_401(anon, url):
    r = anon.get(url)
    assert r.status_code == 401
    assert r.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/whatif", {"k": 3}),
        ("/api/scenarios", {"name": "x"}),
        ("/api/circuits/visits", {"month": "2030-01"}),
    ],
)
def test_anonymous_writes_refused(anon, url, body):
    assert anon.post(url, json=body).status_code == 400  # no CSRF token: refused first
    r = anon.post(url, json=body, headers={"X-CSRFToken": csrf_token(anon)})
    assert r.status_code == 401  # with a valid token: still needs login


def test_wrong_role_is_403(planner, staff):
    url = STAFF_GET_API[0]
    # staff may not plan
    assert staff.get("/api/scenarios").status_code == 403
    r = staff.post("/api/whatif", json={"k": 2}, headers={"X-CSRFToken": staff.csrf})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    r = staff.get("/plan/")
    assert r.status_code == 403
    # planners may read circuits but not mark visits done (a staff action)
    assert planner.get(url).status_code not in (401, 403)
    body = {"month": "2030-01", "lawyer": "A", "date": "2030-01-02", "village": "1"}
    r = planner.post("/api/circuits/visits", json=body, headers={"X-CSRFToken": planner.csrf})
    assert r.status_code == 403


def test_planner_reaches_planner_pages(planner):
    assert planner.get("/plan/").status_code == 200
    assert planner.get("/api/scenarios").status_code == 200


def test_logout_ends_session(app):
    c = app.test_client()
    tok = login(c, PLANNER)
    assert c.get("/api/scenarios").status_code == 200
    assert c.post("/auth/logout", data={"csrf_token": tok}).status_code == 302
    assert c.get("/api/scenarios").status_code == 401


def test_wrong_password_refused(anon):
    tok = csrf_token(anon)
    r = anon.post(
        "/auth/login", data={"username": PLANNER[0], "password": "wrong", "csrf_token": tok}
    )
    assert r.status_code == 401
    assert anon.get("/api/scenarios").status_code == 401


def test_login_next_cannot_redirect_offsite(app):
    c = app.test_client()
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        tok = csrf_token(c)
        r = c.post(
            f"/auth/login?next={evil}",
            data={"username": PLANNER[0], "password": PLANNER[1], "csrf_token": tok},
        )
        assert r.status_code == 302
        assert r.headers["Location"] == "/plan/", evil


# --- passwords, sessions, secrets -----------------------------------------------------------


def test_passwords_are_hashed(app):
    con = sqlite3.connect(app.config["DATABASE"])
    rows = con.execute("SELECT username, password FROM user").fetchall()
    con.close()
    assert {u for u, _ in rows} >= {PLANNER[0], STAFF[0]}
    for user, stored in rows:
        assert PLANNER[1] not in stored and STAFF[1] not in stored
        assert re.match(r"^(scrypt|pbkdf2):", stored), user
        assert len(stored) > 60


def test_session_cookie_is_signed(app):
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import URLSafeTimedSerializer

    con = sqlite3.connect(app.config["DATABASE"])
    try:
        sv = con.execute("SELECT session_version FROM user WHERE id = 1").fetchone()[0]
    finally:
        con.close()
    iface = SecureCookieSessionInterface()
    good = iface.get_signing_serializer(app)
    assert good is not None
    forged = URLSafeTimedSerializer(
        "not-the-secret",
        salt=iface.salt,
        serializer=iface.serializer,
        signer_kwargs=good.signer_kwargs,
    ).dumps({"user_id": 1, "sv": sv})
    c = app.test_client()
    c.set_cookie("session", forged)
    assert c.get("/api/scenarios").status_code == 401
    # the same payload signed with the configured secret is accepted: the key is what matters
    c.set_cookie("session", good.dumps({"user_id": 1, "sv": sv}))
    assert c.get("/api/scenarios").status_code == 200
    assert app.config["SECRET_KEY"] == SECRET


def test_session_cookie_flags(app):
    c = app.test_client()
    login(c, PLANNER)
    cookie = c.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


@pytest.mark.parametrize("secret", ["dev", "", None])
def test_production_refuses_default_secret(tmp_path, secret):
    from doorstep.webmap.app import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {
                "PRODUCTION": True,
                "SECRET_KEY": secret,
                "DATABASE": str(tmp_path / "d.sqlite"),
            },
            instance_path=str(tmp_path),
        )


def test_production_with_secret_starts(tmp_path):
    app = make_app(tmp_path, PRODUCTION=True)
    assert app.config["PRODUCTION"] and app.config["SECRET_KEY"] == SECRET


# --- CSRF -----------------------------------------------------------------------------------


def test_csrf_required_on_forms(app):
    c = app.test_client()
    r = c.post("/auth/login", data={"username": PLANNER[0], "password": PLANNER[1]})
    assert r.status_code == 400 and b"CSRF" in r.data
    r = c.post(
        "/auth/login",
        data={"username": PLANNER[0], "password": PLANNER[1], "csrf_token": "forged"},
    )
    assert r.status_code == 400
    assert c.get("/api/scenarios").status_code == 401  # not logged in


def test_csrf_required_on_api_writes_even_when_logged_in(planner):
    r = planner.post("/api/whatif", json={"k": 1000000})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf"
    r = planner.post("/api/whatif", json={"k": 1000000}, headers={"X-CSRFToken": planner.csrf})
    assert r.status_code == 400 and r.json["error"]["field"] == "k"  # reached validation


def test_csrf_token_of_another_session_refused(app, planner):
    other = app.test_client()
    tok = csrf_token(other)
    r = planner.post("/api/whatif", json={"k": 2}, headers={"X-CSRFToken": tok})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf"


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/api/nearest?lon=109.48&lat=28.57", "/nope", "/auth/login"])
def test_security_headers(anon, url):
    h = anon.get(url).headers
    csp = h["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no inline or remote scripts
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")


def test_api_json_not_cached(anon):
    assert "no-store" in anon.get("/api/nearest", query_string=INSIDE).headers["Cache-Control"]


# --- downloads cannot escape their folder ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/vendor/../../../pyproject.toml",
        "/static/..\\..\\pyproject.toml",
    ],
)
def test_static_cannot_escape(anon, url):
    r = anon.get(url, follow_redirects=True)  # '//' is merged by a 308 to /static/etc/passwd
    assert r.status_code in (404, 400)
    assert b"root:" not in r.data and b"[project]" not in r.data
    for hop in r.history:
        assert urlsplit(hop.headers["Location"]).path.startswith("/static/")


@pytest.mark.parametrize(
    "query",
    [
        {"month": "../../../etc/passwd"},
        {"month": "/etc/passwd"},
        {"month": "2030-01/../../x"},
        {"month": "2030-01", "lawyer": "../../../../etc/passwd"},
        {"month": "2030-01", "lawyer": "/etc/passwd"},
    ],
)
def test_downloads_cannot_escape(staff, query):
    urls = ["/api/circuits/calendar.ics"]
    if "lawyer" not in query:
        urls.append("/api/circuits/ledger.xlsx")
    for url in urls:
        r = staff.get(url, query_string=query)
        assert r.status_code in (400, 404), (url, query, r.status_code)
        assert b"root:" not in r.data


# --- the bad payload corpus -----------------------------------------------------------------


def _expand(v: Any) -> Any:
    if isinstance(v, str):
        return re.sub(r"<<(.+?)\*(\d+)>>", lambda m: m.group(1) * int(m.group(2)), v)
    if isinstance(v, list):
        return [_expand(x) for x in v]
    if isinstance(v, dict):
        return {k: _expand(x) for k, x in v.items()}
    return v


CORPUS = json.loads(PAYLOADS.read_text(encoding="utf-8"))["payloads"]


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_bad_payload_refused(anon, planner, staff, case):
    case = _expand(case)
    client = {"planner": planner, "staff": staff, None: anon}[case.get("role")]
    headers = {"X-CSRFToken": getattr(client, "csrf", "")}
    kw: dict[str, Any] = {"query_string": case.get("query"), "headers": headers}
    if "raw" in case:
        kw["data"] = case["raw"]
        kw["content_type"] = "application/json"
    elif "json" in case:
        kw["json"] = case["json"]
    r = client.open(case["path"], method=case["method"], **kw)
    assert r.status_code == case["status"], r.data[:300]
    assert r.is_json, r.data[:200]
    err = r.json["error"]
    assert err["status"] == case["status"] and err["message"]
    if "field" in case:
        assert err.get("field") == case["field"], err
    if "code" in case:
        assert err["code"] == case["code"]
    assert "Traceback" not in r.get_data(as_text=True)


def test_safe_name_and_inside(tmp_path):
    from doorstep.webmap.app.errors import ApiError
    from doorstep.webmap.app.security import inside, safe_name

    assert safe_name("张律师 A-1", "lawyer") == "张律师 A-1"
    for bad in ("../x", "a/b", "a\\b", ".hidden", "/etc/passwd", "C:x", "a\x00b", "..", ""):
        with pytest.raises(ApiError) as info:
            safe_name(bad, "lawyer")
        assert info.value.status == 400 and info.value.field == "lawyer"
    assert inside(tmp_path, "all.ics") == tmp_path / "all.ics"
    for bad in ("../x.ics", "/etc/passwd", "a/../../x"):
        with pytest.raises(ApiError) as info:
            inside(tmp_path, bad)
        assert info.value.status == 404
