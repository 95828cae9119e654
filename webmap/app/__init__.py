"""The Doorstep web app (Flask application factory, Flask-tutorial style).

Blueprints: ``resident`` (``/``), ``plan`` (``/plan``), ``circuits`` (``/circuits``), ``api``
(``/api``), ``projects`` (``/projects`` and ``/api/projects``: 四个一 projects) and ``auth``
(``/auth``). The county model and baseline analysis are built once per
app (:mod:`webmap.app.state`). Configuration: ``instance/config.py``, ``DOORSTEP_*``
environment variables, or ``test_config``. In production (``PRODUCTION = True``, set by
``doorstep serve``) the default secret key is refused.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Config, Flask
from flask_wtf.csrf import CSRFProtect

from doorstep.webmap.assets import STATIC_DIR
from doorstep.webmap.basemaps import BasemapChoice, resolve_basemap

DEFAULT_SECRET = "dev"
csrf = CSRFProtect()


def secret_key_file(instance_path: str | Path) -> Path:
    return Path(instance_path) / "secret_key"


def ensure_secret_key(instance_path: str | Path) -> str:
    """Read ``instance/secret_key``, creating a random one (mode 600) if missing."""
    p = secret_key_file(instance_path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        os.replace(tmp, p)
    return p.read_text().strip()


def instance_folder(path: str | None = None) -> str:
    """The instance folder: ``path``, else ``$DOORSTEP_INSTANCE``, else ``./instance``."""
    return os.path.abspath(path or os.environ.get("DOORSTEP_INSTANCE") or "instance")


def database_path(instance_path: str | None = None) -> str:
    """The SQLite database the app of ``instance_path`` (:func:`instance_folder`) uses: its
    ``DATABASE`` setting, read as :func:`create_app` reads it (default
    ``<instance>/doorstep.sqlite``, then the instance's ``config.py``, then
    ``$DOORSTEP_DATABASE``), so ``doorstep user`` and ``doorstep projects`` work on the
    database ``doorstep serve`` serves. A broken ``config.py`` raises
    :class:`~doorstep.geo._errors.DataFileError` naming it."""
    from flask import Config

    inst = instance_folder(instance_path)
    cfg = Config(inst, {"DATABASE": default_database(inst)})
    read_config_py(cfg, inst)
    cfg.from_prefixed_env("DOORSTEP")
    return str(cfg["DATABASE"])


def default_database(instance: str) -> str:
    """``<instance>/doorstep.sqlite``: the database unless ``DATABASE`` says otherwise."""
    return os.path.join(instance, "doorstep.sqlite")


def read_config_py(cfg: Config, instance: str) -> None:
    """Load the instance's optional ``config.py`` into ``cfg``; a file that does not run gives a
    :class:`~doorstep.geo._errors.DataFileError` naming it (one line, not a traceback)."""
    from doorstep.geo._errors import DataFileError

    try:
        cfg.from_pyfile("config.py", silent=True)
    except Exception as exc:  # whatever the file raises: the app cannot start with it
        raise DataFileError(
            os.path.join(instance, "config.py"),
            f"cannot be read ({type(exc).__name__}: {exc})",
            fix="correct it (it is Python: NAME = value lines)",
        ) from None


def _session_and_transport(app: Flask) -> None:
    """Session lifetime, and HTTPS/proxy settings (``HTTPS``: Secure cookies and HSTS;
    ``BEHIND_PROXY``: trust one reverse proxy's X-Forwarded-* headers for address and scheme)."""
    hours = float(app.config["SESSION_HOURS"])
    if not 0 < hours <= 24 * 31:
        raise RuntimeError(f"SESSION_HOURS must be in (0, 744], got {hours}")
    app.permanent_session_lifetime = timedelta(hours=hours)
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
    if app.config["BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def create_app(
    test_config: dict[str, Any] | None = None,
    instance_path: str | None = None,
    *,
    basemap: BasemapChoice | None = None,
) -> Flask:
    """Create and configure the app (see module docstring).

    The basemap is ``basemap`` (the command-line flags), else the config keys ``BASEMAP``,
    ``BASEMAP_CRS``, ``TIANDITU_KEY``, else ``DOORSTEP_BASEMAP``… in the environment, else
    ``offline`` (:func:`webmap.basemaps.resolve_basemap`; a bad setting raises ``InputError``).

    ``instance_path`` (default :func:`instance_folder`) holds the SQLite database, the secret key
    and an optional ``config.py``; tests pass a temporary folder.
    """
    app = Flask(
        __name__,
        instance_path=instance_folder(instance_path),
        instance_relative_config=True,
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    app.config.from_mapping(
        SECRET_KEY=DEFAULT_SECRET,
        DATABASE=default_database(app.instance_path),
        PRODUCTION=False,
        VINTAGE="2023",
        DATA_DIR=None,
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
        SESSION_HOURS=10.0,
        LOGIN_MAX_FAILURES=5,
        LOGIN_MAX_FAILURES_PER_ADDRESS=20,
        LOGIN_WINDOW_S=60.0,
        HTTPS=False,
        BEHIND_PROXY=False,
    )
    if test_config is None:
        read_config_py(app.config, app.instance_path)
        settings = dict(app.config)  # the basemap: config before environment (see basemaps)
        app.config.from_prefixed_env("DOORSTEP")
    else:
        app.config.from_mapping(test_config)
        settings = dict(test_config)
    tiles = resolve_basemap(basemap, settings, os.environ)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    _session_and_transport(app)
    if app.config["SECRET_KEY"] == DEFAULT_SECRET and secret_key_file(app.instance_path).exists():
        app.config["SECRET_KEY"] = ensure_secret_key(app.instance_path)
    if app.config.get("PRODUCTION") and app.config["SECRET_KEY"] in (DEFAULT_SECRET, "", None):
        raise RuntimeError(
            "refusing to start in production with the default SECRET_KEY: set it in "
            "instance/config.py or DOORSTEP_SECRET_KEY (doorstep serve creates instance/secret_key)"
        )

    from . import (
        api,
        auth,
        circuits,
        db,
        errors,
        fastpath,
        maplayers,
        plan,
        projects,
        resident,
        security,
        state,
    )

    db.init_app(app)
    state.init_app(app)
    csrf.init_app(app)
    errors.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(resident.bp)
    app.register_blueprint(plan.bp)
    app.register_blueprint(circuits.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(projects.bp)
    app.register_blueprint(projects.api_bp)

    security.register(app)
    maplayers.register(app, tiles)
    fastpath.register(app)

    return app
