"""``/api/validation`` serves the same report as ``doorstep validate``; underserved rows carry
``point_imputed``."""

from __future__ import annotations

from typing import Any

from doorstep.geo.validation import validate_against_world
from tests.conftest import needs_shared

pytestmark = needs_shared


def test_validation_route_matches_library(app: Any, client: Any, huayuan_model: Any) -> None:
    doc = client.get("/api/validation").get_json()
    want = validate_against_world(huayuan_model).as_dict()
    assert doc == want
    assert doc["checks_ok"] == 6
    assert "/api/validation" in client.get("/api/openapi.json").get_json()["paths"]


def test_underserved_rows_say_if_the_point_is_imputed(client: Any, huayuan_model: Any) -> None:
    doc = client.get("/api/underserved?mode=car").get_json()
    v = huayuan_model.villages.set_index("code")["location_quality"]
    assert doc["villages"]
    assert all(r["point_imputed"] == (v[r["code"]] == "imputed") for r in doc["villages"])


def test_villages_carry_the_uncertainty_radius(client: Any, huayuan_model: Any) -> None:
    doc = client.get("/api/villages?q=龙潭").get_json()
    radius = round(huayuan_model.imputation.radius_m, 1)
    for r in doc["villages"]:
        want = radius if r["location_quality"] == "imputed" else 0.0
        assert r["uncertainty_m"] == want
    assert any(r["location_quality"] == "imputed" for r in doc["villages"])
