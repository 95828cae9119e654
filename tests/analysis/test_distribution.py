"""The population-weighted travel-time histogram: right-closed bins from 0, the same reading as
coverage's "within b minutes", unreachable persons counted apart, bad input refused."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from doorstep.analysis.distribution import bin_width, mode_histograms, time_histogram
from doorstep.geo._errors import InputError


def test_bins_are_right_closed_from_zero() -> None:
    """A village at exactly 10 min is "within 10 min": it lands in the (5, 10] bin."""
    h = time_histogram([0.0, 5.0, 5.5, 10.0, 10.01], [1, 2, 4, 8, 16], mode="car", width=5)
    assert h.edges_minutes == (0.0, 5.0, 10.0, 15.0)
    assert h.population == (3, 12, 16) and h.unreachable == 0
    assert h.to_dict()["units"] == {"edges_minutes": "minutes", "population": "persons"}


def test_unreachable_and_default_width() -> None:
    h = time_histogram([3.0, math.inf, float("nan"), 47.0], [10, 20, 5, 7], mode="walk")
    assert bin_width(47.0) == 5.0 and h.edges_minutes[-1] == 50.0 and len(h.population) == 10
    assert h.population[0] == 10 and h.population[-1] == 7 and h.unreachable == 25
    assert bin_width(204.0) == 15.0  # Huayuan on foot: 14 bins of 15 min
    assert bin_width(5000.0) == 360.0  # beyond the nice widths: whole hours


@pytest.mark.parametrize(
    ("minutes", "pop", "words"),
    [([1.0, 2.0], [1], "one per village"), ([-1.0], [1], ">= 0"), ([1.0], [-3], ">= 0")],
)
def test_bad_input_is_refused(minutes: list[float], pop: list[float], words: str) -> None:
    with pytest.raises(InputError, match=words):
        time_histogram(minutes, pop, mode="car")


def test_mode_histograms_match_coverage_shares(huayuan_model) -> None:  # type: ignore[no-untyped-def]
    """On Huayuan the persons in the bins up to 15 and 30 minutes are the coverage shares."""
    from doorstep.analysis.coverage import CoverageTarget, coverage

    res = coverage(huayuan_model, CoverageTarget())
    hists = {h.mode: h for h in mode_histograms(res.villages)}
    assert set(hists) == {"car", "motorbike", "walk"}
    for mode, h in hists.items():
        row = res.county[res.county["mode"] == mode].iloc[0]
        total = sum(h.population) + h.unreachable
        assert total == pytest.approx(row["population"], abs=len(h.population))
        for b in (15, 30):
            k = h.edges_minutes.index(float(b))
            assert sum(h.population[:k]) / total == pytest.approx(
                row[f"share_within_{b}"], abs=1e-3
            )
    with pytest.raises(InputError, match="min_staffed"):
        mode_histograms(pd.DataFrame({"mode": ["car"]}))
