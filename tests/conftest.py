"""Shared fixtures: the Huayuan model is built once per test session (about a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.geo.settings import PROJECT_ROOT, data_dir

TESTS = Path(__file__).parent
SHARED = PROJECT_ROOT.parent / "shared"


def _have_huayuan() -> bool:
    try:
        return (data_dir() / "huayuan").is_dir()
    except Exception:
        return False


needs_shared = pytest.mark.skipif(
    not _have_huayuan(), reason="reference data ../shared/data/huayuan not present"
)


@pytest.fixture(scope="session")
def huayuan_model():
    """The default Huayuan 2023 county model."""
    if not _have_huayuan():
        pytest.skip("reference data ../shared/data/huayuan not present")
    from doorstep.geo.model import build_county_model

    return build_county_model(vintage="2023")


@pytest.fixture(scope="session")
def huayuan_model_2016():
    if not _have_huayuan():
        pytest.skip("reference data ../shared/data/huayuan not present")
    from doorstep.geo.model import build_county_model

    return build_county_model(vintage="2016")


@pytest.fixture
def test_data() -> Path:
    return TESTS / "data"
