"""Snapping and the access-leg parameters (read once from ``[access]`` of speeds.toml)."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.params import AccessParams
from doorstep.geo.routing import od_matrix, prepare, road_index, snap_points

from ._tiny import ACCESS, pts, tiny


def test_access_params_read_from_file(tmp_path):
    f = tmp_path / "speeds.toml"
    f.write_text("[access]\nwalk_kmh = 3.0\nsnap_limit_m = 250.0\n", encoding="utf-8")
    acc = AccessParams.from_file(f)
    assert acc == AccessParams(3.0, 250.0)
    assert acc.walk_m_per_min == pytest.approx(50.0)
    assert AccessParams.from_file(tmp_path / "absent.toml") == AccessParams()
    f.write_text("[access]\nwalk_kmh = 30\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"access\.walk_kmh") as e:
        AccessParams.from_file(f)
    assert str(f) in str(e.value)
    f.write_text('[access]\nsnap_limit_m = "far"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"access\.snap_limit_m"):
        AccessParams.from_file(f)
    f.write_text("[access\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="TOML"):
        AccessParams.from_file(f)
    with pytest.raises(InputError, match="snap_limit_m"):
        AccessParams(4.5, 0.0)


def test_snap_offsets_and_flags():
    s = snap_points(road_index(tiny()), pts([(250, 150), (1500, -75), (1000, 990)]), "car", ACCESS)
    np.testing.assert_allclose(s.snap_m, [150.0, 75.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(s.access_min, [2.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_array_equal(s.flagged, [True, False, False])
    np.testing.assert_allclose(s.frac[:2], [0.25, 0.5])
    assert s.frac[2] in (pytest.approx(0.99), pytest.approx(0.01))  # edge 1-3 in either order


def test_other_walking_speed_retimes_the_same_snaps():
    g = tiny()
    a, b = pts([(250, 150)]), pts([(1500, -75)])
    slow = AccessParams(walk_kmh=3.0, snap_limit_m=1000.0)  # 50 m/min
    p0 = prepare(g, [a, b], "car", ACCESS)
    p1 = prepare(g, [a, b], "car", slow)
    np.testing.assert_array_equal(p1.sets[0].edge, p0.sets[0].edge)
    np.testing.assert_allclose(p1.sets[0].access_min, [3.0])
    np.testing.assert_array_equal(p1.sets[0].flagged, [False])
    # 150 m + 75 m walked at 50 m/min, 1.5 + 1 min driven
    assert od_matrix(g, a, b, "car", access=slow).minutes[0, 0] == pytest.approx(4.5 + 2.5)
