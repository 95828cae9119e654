"""``doorstep coverage``/``gaps`` on the Huayuan model: JSON shape, modelled flags, files."""

from __future__ import annotations

import json

import pytest

from doorstep.cli import main
from tests.conftest import needs_shared


@needs_shared
def test_coverage_json_reports_every_mode_and_quality(capsys, tmp_path):
    assert (
        main(
            ["-q", "coverage", "--mode", "car", "--minutes", "30", "--json", "--out", str(tmp_path)]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    shares = doc["population_share_within"]
    assert set(shares["county"]) == {"walk", "motorbike", "car"}
    for mode in ("walk", "motorbike", "car"):
        s = shares["county"][mode]
        assert 0 <= s["15"] <= s["30"] <= s["60"] <= 1
    assert shares["county"]["walk"]["30"] < shares["county"]["car"]["30"]
    assert len(shares["townships"]) == 12
    assert all(
        set(t["modes"]) == {"walk", "motorbike", "car"} for t in shares["townships"].values()
    )
    layers = doc["meta"]["quality"]["layers"]
    assert layers["roads"]["modelled"] is True and layers["county"]["modelled"] is False
    assert doc["meta"]["units"]["population*"] == "persons"
    for name in (
        "coverage.json",
        "coverage.gpkg",
        "coverage_villages.csv",
        "coverage_townships.csv",
        "coverage_county.csv",
    ):
        assert (tmp_path / name).stat().st_size > 0


@needs_shared
def test_gaps_json(capsys):
    assert main(["-q", "gaps", "--mode", "car", "--minutes", "30", "--json", "--top", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    v = doc["underserved_villages"]
    assert [r["rank"] for r in v] == list(range(1, len(v) + 1))
    pm = [r["person_minutes"] for r in v]
    assert pm == sorted(pm, reverse=True)
    assert all(r["min_staffed"] > r["target_min"] for r in v)
    assert all(r["reason_en"].startswith("nearest") for r in v)
    assert doc["quality"]["layers"]["roads"]["status"] == "modelled"
    assert len(doc["critical_links"]) == 3


def test_bad_minutes_is_a_clean_error(capsys):
    with pytest.raises(SystemExit):
        main(["coverage", "--mode", "bus"])
