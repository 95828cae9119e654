"""Write-then-rename: failures and kill -9 in the middle of a write keep the previous file."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doorstep.geo._errors import DataFileError
from doorstep.geo.atomic import (
    TEMP_MARK,
    atomic_path,
    atomic_write,
    remove_stale_temps,
    write_bytes,
    write_text,
)
from doorstep.geo.settings import PROJECT_ROOT

from ..conftest import needs_shared


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_write_text_replaces(tmp_path):
    p = tmp_path / "a.json"
    write_text(p, "old")
    write_text(p, "新的")
    assert p.read_text(encoding="utf-8") == "新的"
    assert [q.name for q in tmp_path.iterdir()] == ["a.json"]
    write_bytes(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"


def test_exception_keeps_previous_file(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("previous\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_write(p) as fh:
        fh.write("half a ro")
        raise RuntimeError("disk full")
    assert p.read_text(encoding="utf-8") == "previous\n"
    assert [q.name for q in tmp_path.iterdir()] == ["a.csv"]


def test_atomic_path_keeps_suffix_and_cleans_up(tmp_path):
    target = tmp_path / "m.gpkg"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".gpkg" and TEMP_MARK in tmp.name
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"
    with pytest.raises(DataFileError, match="produced no output"), atomic_path(target):
        pass
    assert target.read_bytes() == b"x"


def test_bad_targets(tmp_path):
    with pytest.raises(DataFileError, match="is a folder"):
        write_text(tmp_path, "x")
    with pytest.raises(DataFileError, match="output folder does not exist"):
        write_text(tmp_path / "nope" / "x.txt", "x")


def test_remove_stale_temps(tmp_path):
    stale = tmp_path / f".m.gpkg{TEMP_MARK}abc.gpkg"
    stale.write_bytes(b"partial")
    fresh = tmp_path / f".r.json{TEMP_MARK}def.json"
    fresh.write_bytes(b"partial")
    keep = tmp_path / ".gitignore"
    keep.write_text("x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.utime(keep, (old, old))
    assert remove_stale_temps(tmp_path) == [stale]
    assert fresh.exists() and keep.exists()


@needs_shared
@pytest.mark.slow
def test_kill_9_during_export_keeps_previous_file(tmp_path):
    """SIGKILL a real ``doorstep export`` while it writes; the old GeoPackage stays intact."""
    out = tmp_path / "model.gpkg"
    previous = b"previous export, must survive\n" * 1000
    out.write_bytes(previous)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "doorstep.cli", "-q", "export", str(out)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        temp = None
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in tmp_path.iterdir() if TEMP_MARK in p.name and p.suffix == ".gpkg"]
            try:
                if temps and temps[0].stat().st_size > 0:
                    temp = temps[0]
                    break
            except FileNotFoundError:  # renamed or removed between listing and stat
                pass
            time.sleep(0.002)
        assert temp is not None, "export finished or never started writing; cannot kill mid-write"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == previous  # same bytes: nothing replaced it
    # the half-written temporary is hidden and recognisable, and can be swept
    leftovers = [p for p in tmp_path.iterdir() if p != out]
    assert all(p.name.startswith(".") and TEMP_MARK in p.name for p in leftovers)
    assert leftovers
    assert set(remove_stale_temps(tmp_path, older_than_s=0)) == set(leftovers)
    # and a full export afterwards replaces the file cleanly
    done = subprocess.run(
        [sys.executable, "-m", "doorstep.cli", "-q", "export", str(out)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert out.read_bytes()[:16] == b"SQLite format 3\x00"
    assert _sha(out) != hashlib.sha256(previous).hexdigest()


def test_written_files_are_readable_by_others(tmp_path):
    """Atomic writes end with mode 0666 minus the umask (0644 under the usual 022), not 0600."""
    import os
    import stat

    from doorstep.geo.atomic import atomic_path, write_bytes

    old = os.umask(0o022)
    try:
        a = write_bytes(tmp_path / "a.ics", b"x")
        with atomic_path(tmp_path / "b.html") as tmp:
            tmp.write_text("<p>", encoding="utf-8")
    finally:
        os.umask(old)
    for p in (a, tmp_path / "b.html"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_geopackage_is_version_1_2_with_an_attribute_table(tmp_path):
    """QGIS 3.22 / GDAL 3.6 open GPKG 1.2 without warnings; tables are not map layers."""
    import sqlite3

    import geopandas as gpd
    import pandas as pd
    import shapely

    from doorstep.geo.export import write_geopackage

    pts = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(109.5, 28.6)], crs="EPSG:4326")
    path = write_geopackage(tmp_path / "x.gpkg", {"pts": pts}, {"meta": pd.DataFrame({"k": ["v"]})})
    con = sqlite3.connect(path)
    try:
        assert con.execute("pragma user_version").fetchone()[0] == 10200
        kinds = dict(con.execute("select table_name, data_type from gpkg_contents").fetchall())
    finally:
        con.close()
    assert kinds == {"pts": "features", "meta": "attributes"}


def test_polygonal_drops_slivers_but_no_area():
    """Clipping leaves GeometryCollections (polygon + line slivers): only polygon parts stay."""
    import geopandas as gpd
    import shapely

    from doorstep.geo.export import polygonal

    square = shapely.box(0, 0, 2, 2)
    mixed = shapely.GeometryCollection([square, shapely.LineString([(2, 0), (3, 0)])])
    out = polygonal(gpd.GeoSeries([mixed, square, None], crs="EPSG:3857"))
    assert list(out.geom_type) == ["MultiPolygon", "MultiPolygon", "MultiPolygon"]
    assert out.area.tolist() == [4.0, 4.0, 0.0]


def test_csv_for_spreadsheets_has_bom_and_no_live_formulas(tmp_path):
    import pandas as pd

    from doorstep.geo.export import write_csv

    df = pd.DataFrame({"code": ["433124100000"], "name": ['=HYPERLINK("http://x","y")'], "n": [-5]})
    raw = write_csv(df, tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",-5" in text  # numbers stay numbers
    assert "433124100000" in text
