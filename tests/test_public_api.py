"""The root package: one namespace, ~25 re-exported names, loaded lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import doorstep


@pytest.mark.parametrize("name", sorted(doorstep._EXPORTS))
def test_every_export_is_the_defining_object(name: str) -> None:
    """``from doorstep import X`` gives the very object its defining module holds."""
    module = importlib.import_module(doorstep._EXPORTS[name])
    assert getattr(doorstep, name) is getattr(module, name)
    assert name in doorstep.__all__


def test_all_lists_exactly_the_exports() -> None:
    assert sorted(doorstep.__all__) == sorted(["__version__", *doorstep._EXPORTS])


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        doorstep.no_such_thing  # noqa: B018


def test_import_is_light() -> None:
    """``import doorstep`` (and so the CLI's start) does not pull in the heavy stack."""
    code = (
        "import sys, doorstep; "
        "heavy = [m for m in ('geopandas', 'networkx', 'flask', 'scipy', 'pyvrp') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_layers_live_under_one_namespace() -> None:
    """The layers are subpackages of ``doorstep``; the generic top-level names are not used."""
    for sub in ("geo", "analysis", "webmap"):
        mod = importlib.import_module(f"doorstep.{sub}")
        assert mod.__name__ == f"doorstep.{sub}"
