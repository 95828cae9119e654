"""County seat tolerance of Hunan sources (geo.hunan._county_seat, HunanParams)."""

from __future__ import annotations

import math

import pytest
import shapely

from doorstep.geo._errors import DataFileError
from doorstep.geo.hunan import HunanParams, _county_seat

OUTLINE = shapely.box(109.4, 28.4, 109.6, 28.6)
M_PER_DEG_LON = 111_320 * math.cos(math.radians(28.5))


def test_seat_kept_within_tolerance_in_metres() -> None:
    tol = HunanParams.from_file().seat_tolerance_m
    assert tol == 1000.0
    near = 109.6 + 0.8 * tol / M_PER_DEG_LON  # 800 m east of the outline
    (x, y), note = _county_seat(near, 28.5, OUTLINE)
    assert (x, y) == (near, 28.5) and not note.startswith("modelled")
    far = 109.6 + 1.3 * tol / M_PER_DEG_LON  # 1300 m east: replaced by a point inside
    (x, y), note = _county_seat(far, 28.5, OUTLINE)
    assert note.startswith("modelled") and OUTLINE.contains(shapely.Point(x, y))
    (x, y), note = _county_seat(math.nan, 28.5, OUTLINE)
    assert note.startswith("modelled") and OUTLINE.contains(shapely.Point(x, y))


def test_hunan_params_file_values_and_validation(tmp_path) -> None:
    p = tmp_path / "province.toml"
    p.write_text("[hunan]\ncensus2020_total = 1000\nseat_tolerance_m = 250\n", encoding="utf-8")
    hp = HunanParams.from_file(p)
    assert (hp.census2020_total, hp.seat_tolerance_m) == (1000, 250.0)
    p.write_text("[hunan]\nseat_tolerance_m = -5\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="seat_tolerance_m"):
        HunanParams.from_file(p)
    p.write_text('[hunan]\nseat_tolerance_m = "far"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="hunan"):
        HunanParams.from_file(p)
