"""GCJ-02 ⇄ WGS84 conversion and the metric CRS."""

import numpy as np
import pytest

from doorstep.geo._errors import CRSError
from doorstep.geo.coords import gcj02_to_wgs84, haversine_m, normalize_crs_name, wgs84_to_gcj02


def test_forward_matches_published_reference_point():
    """龙潭镇 seat: the shared file gives GCJ-02 109.399394,28.48482 for WGS84 109.39452,28.487991."""
    glo, gla = wgs84_to_gcj02(109.39452, 28.487991)
    assert haversine_m(glo, gla, 109.399394, 28.48482) < 1.0


def test_offset_size_in_huayuan_is_hundreds_of_metres():
    lo, la = gcj02_to_wgs84(109.482078, 28.572029)
    d = haversine_m(lo, la, 109.482078, 28.572029)
    assert 400 < d < 600


def test_round_trip_is_sub_millimetre_over_china():
    rng = np.random.default_rng(0)
    lon = rng.uniform(74, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    glo, gla = wgs84_to_gcj02(lon, lat)
    wlo, wla = gcj02_to_wgs84(glo, gla)
    assert haversine_m(lon, lat, wlo, wla).max() < 0.001


def test_outside_china_unchanged():
    lo, la = wgs84_to_gcj02(2.35, 48.85)
    assert float(lo) == 2.35 and float(la) == 48.85


@pytest.mark.parametrize(
    "label,expected",
    [
        ("WGS84", "WGS84"),
        ("epsg:4326", "WGS84"),
        ("GCJ-02", "GCJ02"),
        ("gcj02", "GCJ02"),
        ("火星坐标", "GCJ02"),
    ],
)
def test_crs_labels(label, expected):
    assert normalize_crs_name(label) == expected


def test_unknown_crs_label_rejected():
    with pytest.raises(CRSError, match="BD09"):
        normalize_crs_name("BD09")
