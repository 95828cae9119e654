"""The wheel: one top-level package ``doorstep``, real files (not links), data and static assets.

The folders ``geo/``, ``analysis/``, ``webmap/`` and ``data/`` sit at the top of the checkout and
are linked under ``doorstep/``; the wheel must carry copies of their files under ``doorstep/``.
The wheel is built from a copy of the checkout (so no ``build/`` folder appears in it), installed
with ``pip install --target`` into a temporary folder and imported from outside the checkout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CHECKOUT

pytestmark = pytest.mark.slow

LINKED = ("geo", "analysis", "webmap", "data")
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "venv", "__pycache__", "*.egg-info", "build", "dist", "out", "instance",
    ".*_cache", ".hypothesis", "test-output", "site",
)  # fmt: skip


def _tracked_files() -> list[str]:
    """Files of the package folders as git tracks them (without the links under doorstep/)."""
    if not (CHECKOUT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: cannot list the tracked files")
    out = subprocess.run(
        ["git", "ls-files", "-s", "doorstep", *LINKED],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = []
    for line in out.splitlines():
        meta, path = line.split("\t", 1)
        if meta.split()[0] != "120000":  # 120000: a symbolic link
            files.append(path)
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(CHECKOUT, src, symlinks=True, ignore=_IGNORE)
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(base)],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    (whl,) = base.glob("doorstep-*.whl")
    return whl


def test_wheel_holds_doorstep_only_with_real_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        infos = z.infolist()
    names = {i.filename for i in infos}
    top = {n.split("/", 1)[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"doorstep"}, top
    links = [i.filename for i in infos if stat.S_ISLNK(i.external_attr >> 16)]
    assert not links, f"symbolic links in the wheel: {links[:5]}"
    for sub in LINKED:
        assert not any(n.startswith(f"{sub}/") for n in names), f"top-level {sub}/ in the wheel"
    # every tracked file of the package folders is in the wheel, under doorstep/
    expected = {p if p.startswith("doorstep/") else f"doorstep/{p}" for p in _tracked_files()}
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing[:10]}"
    for must in (
        "doorstep/data/sources.toml",
        "doorstep/data/params/model.toml",
        "doorstep/webmap/static/common.js",
        "doorstep/webmap/static/vendor/leaflet/leaflet.js",
        "doorstep/webmap/app/templates/base.html",
        "doorstep/py.typed",
    ):
        assert must in names
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)


def test_installed_wheel_imports_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    installed = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert installed - {"bin"} == {"doorstep"}, installed  # bin/: the console script
    code = """
import sys
from pathlib import Path
import doorstep
from doorstep.geo.params import MODES
import doorstep.webmap.app
from doorstep import build_county_model, coverage, mclp
from doorstep.geo.settings import project_data_dir
site = Path(sys.argv[1]).resolve()
assert Path(doorstep.__file__).resolve().is_relative_to(site), doorstep.__file__
assert Path(doorstep.webmap.app.__file__).resolve().is_relative_to(site)
assert (project_data_dir() / "params" / "model.toml").is_file(), project_data_dir()
static = Path(doorstep.webmap.__file__).parent / "static"
assert (static / "common.js").is_file() and (static / "vendor" / "leaflet" / "leaflet.css").is_file()
print(sorted(MODES))
"""
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("DOORSTEP_PROJECT_DATA", None)
    r = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path,  # not the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "car" in r.stdout
