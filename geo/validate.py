"""Invariants of a built county model (raised as errors) and the data-quality report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from ._errors import InputError
from .network import check_graph

if TYPE_CHECKING:
    from .model import CountyModel


def validate_model(model: CountyModel) -> None:
    """Check a model's invariants; raise :class:`InputError` listing every violation.

    Codes unique; every village inside the county and (for modelled township polygons) inside its
    own township polygon; population non-negative; road graph connected with positive times.
    """
    problems: list[str] = []
    v = model.villages
    if v["code"].duplicated().any():
        problems.append(
            f"duplicate village codes {v.loc[v['code'].duplicated(), 'code'].tolist()[:5]}"
        )
    if model.townships["code"].duplicated().any():
        problems.append("duplicate township codes")
    unknown = set(v["town_code"]) - set(model.townships["code"])
    if unknown:
        problems.append(f"villages refer to unknown townships {sorted(unknown)}")
    outline = model.county.geometry.iloc[0]
    vm = model.to_metric(v)
    om = model.to_metric(model.county).geometry.iloc[0].buffer(1.0)
    out = ~shapely.contains_xy(om, vm.geometry.x.to_numpy(), vm.geometry.y.to_numpy())
    if out.any():
        problems.append(f"villages outside the county: {v.loc[out, 'code'].tolist()[:5]}")
    tm = model.to_metric(model.townships).set_index("code")
    modelled_polys = (model.townships["polygon_source"] == "modelled").all()
    if modelled_polys:
        for code, grp in vm.groupby("town_code"):
            poly = tm.geometry[code].buffer(1.0)
            bad = ~shapely.contains_xy(poly, grp.geometry.x.to_numpy(), grp.geometry.y.to_numpy())
            if bad.any():
                problems.append(
                    f"villages outside their township {code}: {grp.loc[bad, 'code'].tolist()[:5]}"
                )
    if (v["population"] < 0).any():
        problems.append("negative population")
    problems += check_graph(model.graph)
    if outline.is_empty:
        problems.append("empty county outline")
    if problems:
        raise InputError("county model failed validation: " + "; ".join(problems))


def quality_report(model: CountyModel) -> list[dict[str, object]]:
    """Warnings for ``doorstep check``: modelled layers, imputed and suspect points, long snaps."""
    rows: list[dict[str, object]] = []
    for name, info in model.layers.items():
        if info.modelled:
            rows.append(
                {
                    "level": "warning",
                    "layer": name,
                    "item": "",
                    "message": f"modelled layer: {info.source}",
                }
            )
    for _, r in model.villages.iterrows():
        if r["location_quality"] in ("imputed", "geocoded_suspect"):
            rows.append(
                {
                    "level": "warning",
                    "layer": "villages",
                    "item": f"{r['code']} {r['name']}",
                    "message": f"{r['location_quality']}: {r['location_note']}",
                }
            )
    for w in model.warnings:
        if (
            "village points are imputed" not in w
            and "village geocodes are suspect" not in w
            and "has no seat point" not in w
        ):
            rows.append({"level": "info", "layer": "model", "item": "", "message": w})
    seats = model.townships[model.townships["seat_quality"] != "geocoded"]
    for _, t in seats.iterrows():
        rows.append(
            {
                "level": "warning",
                "layer": "townships",
                "item": f"{t['code']} {t['name']}",
                "message": f"seat point modelled: {t['seat_note']}",
            }
        )
    from .sources import verify_registry

    try:
        for r in verify_registry():
            rows.append(
                {
                    "level": "warning",
                    "layer": "sources",
                    "item": r["file"],
                    "message": f"reference file {r['status']} (sha256 differs from data/sources.toml)",
                }
            )
    except OSError as exc:
        rows.append(
            {
                "level": "info",
                "layer": "sources",
                "item": "",
                "message": f"registry not checked: {exc}",
            }
        )
    pops = model.villages["population"].to_numpy()
    if len(pops) and np.any(pops == 0):
        rows.append(
            {
                "level": "warning",
                "layer": "population",
                "item": "",
                "message": f"{int((pops == 0).sum())} villages have zero population",
            }
        )
    return rows
