"""Coverage tables and gaps on a hand-computed fake county."""

from __future__ import annotations

import json

import numpy as np
import pytest

from doorstep.analysis.coverage import CoverageTarget, coverage, weighted_quantile
from doorstep.analysis.gaps import county_grid, underserved_cells, underserved_villages
from doorstep.geo._errors import InputError
from tests.analysis.fakecounty import line_county


def test_village_times_by_tier():
    res = coverage(line_county(), modes=("car", "walk"))
    car = res.villages[res.villages["mode"] == "car"].set_index("code")
    np.testing.assert_allclose(car["min_staffed"], [0, 8, 20, 10], atol=1e-9)
    assert list(car["nearest_id"]) == ["C", "C", "S", "C"]
    np.testing.assert_allclose(car["min_county_centre"], [0, 8, 40, 10], atol=1e-9)
    np.testing.assert_allclose(car["min_township_station"], [20, 12, 20, 30], atol=1e-9)
    np.testing.assert_allclose(car["min_village_room"], [40, 32, 0, 50], atol=1e-9)
    assert list(car["band"]) == ["≤15", "≤15", "≤30", "≤15"]
    walk = res.villages[res.villages["mode"] == "walk"].set_index("code")
    np.testing.assert_allclose(walk["min_staffed"]["V1"], 4 * 60 / 4.5)


def test_county_and_township_tables():
    res = coverage(line_county(), modes=("car",))
    c = res.county.iloc[0]
    assert c["population"] == 1000
    assert c["population_within_15"] == 700 and c["share_within_15"] == pytest.approx(0.7)
    assert c["share_within_30"] == pytest.approx(1.0)
    assert c["mean_min"] == pytest.approx(8.8)
    assert c["p90_min"] == pytest.approx(20.0)
    assert bool(c["complies"])
    t2 = res.townships.set_index("town_code").loc["T2"]
    assert t2["population"] == 400 and t2["villages_within_15"] == 1
    assert t2["mean_min"] == pytest.approx((100 * 8 + 300 * 20) / 400)
    strict = coverage(line_county(), CoverageTarget(rural_minutes=15.0), modes=("car",))
    s = strict.county.iloc[0]
    assert s["share_meeting_target"] == pytest.approx(0.7) and not bool(s["complies"])
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["meta"]["quality"]["layers"]["roads"]["status"] == "modelled"
    assert doc["meta"]["units"]["population*"] == "persons"


def test_target_validation_and_quantile():
    with pytest.raises(InputError):
        CoverageTarget(mode="boat")
    with pytest.raises(InputError):
        CoverageTarget(breaks=(30.0, 15.0))
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 8.0]), 0.5) == 3.0


def test_underserved_villages_with_reasons():
    gaps = underserved_villages(line_county(), CoverageTarget(rural_minutes=15.0))
    assert gaps.attrs["target"]["rural_minutes"] == 15.0
    assert list(gaps["code"]) == ["V3"]
    row = gaps.iloc[0]
    assert row["excess_min"] == pytest.approx(5.0) and row["person_minutes"] == pytest.approx(1500)
    assert row["reason_zh"].startswith("最近的司法所工作站（二镇工作站）20 分钟（驾车）")
    assert "经 X001" in row["reason_zh"]
    assert row["reason_en"].startswith("nearest township workstation (二镇工作站) 20 min by car")
    assert "via X001" in row["reason_en"]


def test_underserved_grid_cells():
    m = line_county()
    grid = county_grid(m, 1000.0)
    assert len(grid) == 22 * 7
    cells = underserved_cells(m, CoverageTarget(rural_minutes=15.0), cell_m=1000.0)
    assert len(cells) > 0 and cells["minutes"].min() > 15.0
    # each cell is judged against the threshold of its village: urban cells (north, nearest V4,
    # 10 min away) miss a 5-minute urban target, rural ones keep the 30-minute target
    strict = underserved_cells(m, CoverageTarget(rural_minutes=30.0, urban_minutes=5.0), 1000.0)
    urban = strict["village_code"].isin(["V0", "V4"])
    assert (strict.loc[urban, "target_min"] == 5.0).all()
    assert (strict.loc[~urban, "target_min"] == 30.0).all()
    assert (strict["minutes"] > strict["target_min"]).all()
    flat = underserved_cells(m, CoverageTarget(rural_minutes=30.0, urban_minutes=30.0), 1000.0)
    assert (strict["village_code"] == "V4").sum() > (flat["village_code"] == "V4").sum()
    assert (~urban).sum() == (~flat["village_code"].isin(["V0", "V4"])).sum()
    # every far-east cell (x > 13 km, on the road) is beyond 15 min; population is modelled
    assert cells["population_est"].sum() <= 1000 + 1e-6
    assert cells.attrs["units"]["population_est"] == "persons (modelled)"
