"""Shared fixtures and the rules every test runs under.

* **Isolation.** Every test runs with the current directory set to a fresh temporary folder and
  ``DOORSTEP_INSTANCE`` pointing inside it, so nothing a test (or the web app it builds) writes
  lands in the checkout or in the user's ``./instance``. ``DOORSTEP_*`` variables a test sets are
  undone after it. At the end of the session the checkout is compared with a snapshot taken at
  the start; a file created or changed there fails the run (see :func:`checkout_snapshot`).
* **Reference data.** Tests that read ``../shared/data`` (or ``$DOORSTEP_DATA``) are marked
  ``needs_data`` (optionally with the sub-folders they need, e.g.
  ``@pytest.mark.needs_data("hunan-adcode")``) or use one of the data fixtures below; without
  the data they are skipped with one clear reason instead of failing. Simulate absence with
  ``DOORSTEP_DATA=/nonexistent``.

The Huayuan model is built once per test session (about a second).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doorstep.geo._errors import DataFileError
from doorstep.geo.settings import PROJECT_ROOT, data_dir

TESTS = Path(__file__).parent
CHECKOUT = TESTS.parent
SHARED = PROJECT_ROOT.parent / "shared"

# Fixtures that only work with the reference data: a test using one is marked needs_data.
DATA_FIXTURES = frozenset({"huayuan_model", "huayuan_model_2016", "reference_data"})


def reference_dir() -> Path | None:
    """The reference data folder as Doorstep finds it, or None if it cannot (never raises)."""
    try:
        d = data_dir()
    except DataFileError:  # DOORSTEP_DATA names a folder that does not exist
        return None
    return d if d.is_dir() else None


def missing_data(*subdirs: str) -> str | None:
    """Why the reference data (with ``subdirs``, default ``huayuan``) is unusable, or None."""
    d = reference_dir()
    env = os.environ.get("DOORSTEP_DATA")
    where = f"DOORSTEP_DATA={env}" if env else f"{SHARED / 'data'} (or $DOORSTEP_DATA)"
    if d is None:
        return f"reference data not found at {where}"
    for sub in subdirs or ("huayuan",):
        if not (d / sub).is_dir():
            return f"reference data {sub}/ not found in {d} ({where})"
    return None


# The folder the data tests read; only meaningful when missing_data() is None.
DATA = reference_dir() or SHARED / "data"

#: Mark a test (or ``pytestmark`` a module) as needing the reference data.
needs_data = pytest.mark.needs_data
needs_shared = needs_data  # older name, same marker


def require_data(*subdirs: str) -> Path:
    """Skip the calling test unless the reference data (with ``subdirs``) is present."""
    why = missing_data(*subdirs)
    if why:
        pytest.skip(why)
    return DATA


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests using a data fixture ``needs_data``; skip every such test without the data."""
    for item in items:
        if DATA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(needs_data)
        for mark in item.iter_markers("needs_data"):
            why = missing_data(*mark.args)
            if why:
                item.add_marker(pytest.mark.skip(reason=why))
                break


# --- isolation -------------------------------------------------------------------------------


@contextlib.contextmanager
def doorstep_env_restored() -> Iterator[None]:
    """Undo, on exit, every change to ``DOORSTEP_*`` environment variables made inside.

    ``doorstep serve`` run in-process sets ``DOORSTEP_PRODUCTION`` and others for its app.
    """
    before = {k: v for k, v in os.environ.items() if k.startswith("DOORSTEP_")}
    try:
        yield
    finally:
        for k in [k for k in os.environ if k.startswith("DOORSTEP_") and k not in before]:
            del os.environ[k]
        os.environ.update(before)


@pytest.fixture(autouse=True, scope="session")
def _hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis keeps its example database and caches in ``./.hypothesis`` of the directory
    pytest started in (the checkout); send them to the session's temporary folder instead,
    unless ``HYPOTHESIS_STORAGE_DIRECTORY`` says where."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # hypothesis is a test extra; without it there is nothing to move
        return
    set_hypothesis_home_dir(tmp_path_factory.getbasetemp() / "hypothesis")


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run every test in its own temporary working folder with its own web-app instance."""
    work = tmp_path_factory.mktemp("cwd")
    with doorstep_env_restored():
        monkeypatch.chdir(work)
        monkeypatch.setenv("DOORSTEP_INSTANCE", str(work / "instance"))
        yield work


_SNAPSHOT = pytest.StashKey[dict[str, tuple[int, int]]]()
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def checkout_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file under ``root``.

    Virtual environments, byte-code, tool caches and ``*.egg-info`` are left out: writing those
    is the job of Python and the tools, not of a test.
    """
    snap: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d
            for d in dirnames
            if d not in _SKIP_DIRS
            and not d.endswith(".egg-info")
            and not (Path(dirpath, d) / "pyvenv.cfg").exists()
        ]
        for name in filenames:
            p = Path(dirpath, name)
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            snap[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return snap


def snapshot_changes(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> list[str]:
    """Files created or changed between two snapshots (deletions are not a leak)."""
    return sorted(p for p, v in after.items() if before.get(p) != v)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker has workerinput


def pytest_sessionstart(session: pytest.Session) -> None:
    if _is_controller(session.config) and (CHECKOUT / "pyproject.toml").is_file():
        session.config.stash[_SNAPSHOT] = checkout_snapshot(CHECKOUT)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_SNAPSHOT, None)
    if before is None:
        return
    leaked = snapshot_changes(before, checkout_snapshot(CHECKOUT))
    if leaked:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = (
            f"tests wrote into the checkout {CHECKOUT} (they must write under tmp_path): "
            + ", ".join(leaked[:10])
            + (" ..." if len(leaked) > 10 else "")
        )
        if tr is not None:
            tr.write("\n")
            tr.write_sep("=", "checkout modified", red=True)
            tr.write_line(msg)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- data fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The reference data folder (skips the test when it is absent)."""
    return require_data()


@pytest.fixture(scope="session")
def huayuan_model(reference_data: Path) -> Any:
    """The default Huayuan 2023 county model."""
    from doorstep.geo.model import build_county_model

    return build_county_model(vintage="2023")


@pytest.fixture(scope="session")
def huayuan_model_2016(reference_data: Path) -> Any:
    from doorstep.geo.model import build_county_model

    return build_county_model(vintage="2016")


@pytest.fixture
def test_data() -> Path:
    return TESTS / "data"
