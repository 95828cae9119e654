"""The villages map layers need names, positions and the nominal car minutes, never the
200-draw coverage ensemble (computed only for what shows its ranges: ``/api/coverage``)."""

from __future__ import annotations

import json
import math
from typing import Any

from tests.conftest import needs_data
from tests.webmap.conftest import make_app


def _no_ensemble(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the villages layer computed the coverage ensemble")


@needs_data
def test_villages_layers_do_not_compute_the_ensemble(tmp_path: Any, monkeypatch: Any) -> None:
    import doorstep.analysis.uncertainty.coverage as uc
    from doorstep.analysis.coverage import coverage
    from doorstep.webmap.app import state
    from doorstep.webmap.layers import geojson_text, village_points

    real_ensemble = uc.coverage_ensemble
    monkeypatch.setattr(uc, "coverage_ensemble", _no_ensemble)
    monkeypatch.setattr(state, "_SHARED", {})  # a fresh app: nothing cached by earlier tests
    app = make_app(tmp_path)
    client = app.test_client()
    with app.app_context():
        model = state.get_state(app).model

    r = client.get("/api/layers/villages")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    feats = r.get_json()["features"]
    villages = model.villages
    assert [f["properties"]["code"] for f in feats] == villages["code"].astype(str).tolist()
    cov = coverage(model).villages
    car = cov[cov["mode"] == "car"].set_index("code")
    reachable = 0
    for f, (_, v) in zip(feats, villages.iterrows(), strict=True):
        p, code = f["properties"], v["code"]
        assert (p["name"], p["town_name"], p["population"]) == (
            v["name"],
            v["town_name"],
            int(v["population"]),
        )
        assert f["geometry"]["coordinates"] == [round(v.geometry.x, 6), round(v.geometry.y, 6)]
        minutes = float(car.loc[code, "min_staffed"])
        if math.isfinite(minutes):
            reachable += 1
            assert p["minutes_car"] == round(minutes, 2)
        else:
            assert p["minutes_car"] is None
        assert p["nearest_name"] == car.loc[code, "nearest_name"]
    assert reachable > len(feats) / 2  # real minutes, not a column of nulls

    r = client.get("/api/maplayers/villages")
    assert r.status_code == 200
    assert r.get_json() == json.loads(geojson_text(village_points(model)))

    # the ensemble still runs for the coverage figures, and its ranges stay off the cached
    # nominal result the villages layer reads
    monkeypatch.setattr(uc, "coverage_ensemble", real_ensemble)
    c = client.get("/api/coverage?mode=car").get_json()
    assert c["county"]["share_within_30_p05"] <= c["county"]["share_within_30_p95"]
    assert c["meta"]["uncertainty"]["draws"] == 200
    nominal = state.get_state(app).nominal_coverage()
    assert "p_miss" not in nominal.villages.columns and "uncertainty" not in nominal.meta
    assert client.get("/api/layers/villages").get_json()["features"] == feats
