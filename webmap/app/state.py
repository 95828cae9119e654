"""What the app computes once: the county model, the nearest-point engine and baseline results.

Everything here is built on first use and cached on ``app.extensions["doorstep"]`` (and, for
the model, process-wide per (vintage, data folder), so tests that create many apps build it
once). Analysis is always delegated to :mod:`analysis` / :mod:`geo`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

import numpy as np
from flask import Flask, current_app

from doorstep.geo.routing import NearestEngine
from doorstep.webmap.layers import staffed_points

from .cache import Busy, ResultCache
from .errors import ApiError

log = logging.getLogger(__name__)

_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()
_SHARED: dict[tuple[str, str], dict[str, Any]] = {}
_RESULTS: dict[tuple[str, str], ResultCache] = {}


def _load_model(vintage: str, data: str | None) -> Any:
    from doorstep.geo.model import build_county_model

    key = (vintage, data or "")
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = build_county_model(vintage=vintage, data=data)
        return _MODELS[key]


def geojson_points(gdf: Any, cols: list[str]) -> dict[str, Any]:
    """A FeatureCollection of points with the given properties (NaN/inf become null)."""
    feats = []
    for _, r in gdf.iterrows():
        props: dict[str, Any] = {}
        for c in cols:
            v = r.get(c)
            if isinstance(v, float | np.floating):
                v = None if not np.isfinite(v) else round(float(v), 2)
            elif isinstance(v, np.integer):
                v = int(v)
            elif isinstance(v, np.bool_):
                v = bool(v)
            props[c] = v
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(r.geometry.x, 6), round(r.geometry.y, 6)],
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


class AppState:
    """Lazily built, cached county state for one app."""

    def __init__(self, app: Flask) -> None:
        self.vintage = str(app.config.get("VINTAGE", "2023"))
        self.data = app.config.get("DATA_DIR")
        self._lock = threading.RLock()
        # results are pure functions of the model: apps on the same model share them
        key = (self.vintage, str(self.data or ""))
        with _MODELS_LOCK:
            self._cache = _SHARED.setdefault(key, {})
            self._results = _RESULTS.setdefault(
                key,
                ResultCache(
                    int(app.config.get("RESULT_CACHE_SIZE", 64)),
                    int(app.config.get("MAX_CONCURRENT_PLANS", 2)),
                ),
            )

    def _get(self, key: str, build: Any) -> Any:
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def result(self, key: str, build: Any, *, expensive: bool = False) -> Any:
        """A result that depends on request parameters: bounded LRU, one build per key;
        ``expensive`` builds beyond the limit answer 429 (see :mod:`webmap.app.cache`)."""
        try:
            return self._results.get(key, build, expensive=expensive)
        except Busy:
            raise ApiError(
                429, "busy planning other months: try again in a minute 正忙，请稍后再试", "month"
            ) from None

    @property
    def model(self) -> Any:
        return self._get("model", lambda: _load_model(self.vintage, self.data))

    @property
    def engine(self) -> NearestEngine:
        return self._get("engine", lambda: NearestEngine(self.model, staffed_points(self.model)))  # type: ignore[no-any-return]

    def service_engine(self, service: str | None) -> NearestEngine:
        """The engine over the points open for ``service`` (``None``: :attr:`engine`)."""
        if service is None:
            return self.engine
        return self._get(  # type: ignore[no-any-return]
            f"engine:{service}",
            lambda: NearestEngine(self.model, staffed_points(self.model, service)),
        )

    def service_times(self) -> Any:
        """:func:`analysis.service_coverage.village_service_times` for every mode (cached)."""
        from doorstep.analysis.service_coverage import village_service_times

        return self._get("service_times", lambda: village_service_times(self.model))

    def demand(self) -> Any:
        """:func:`analysis.demand.demand_capacity` of the model (cached)."""
        from doorstep.analysis.demand import demand_capacity

        return self._get("demand", lambda: demand_capacity(self.model))

    def service_coverage(self, mode: str) -> Any:
        """:func:`analysis.service_coverage.service_coverage_table` by ``mode`` (cached)."""
        from doorstep.analysis.service_coverage import service_coverage_table

        return self._get(
            f"service_coverage:{mode}", lambda: service_coverage_table(self.model, mode=mode)
        )

    def nominal_coverage(self) -> Any:
        """Baseline :class:`analysis.coverage.CoverageResult` for walk, motorbike and car at the
        modelled inputs only, without the ensemble's ranges (cached; not to be modified): for
        what needs only the nominal figures, such as the villages layer's car minutes."""
        from doorstep.analysis.coverage import coverage

        return self._get("nominal_coverage", lambda: coverage(self.model))

    def coverage(self) -> Any:
        """Baseline :class:`analysis.coverage.CoverageResult` for walk, motorbike and car, with
        the 5–95 % range of every figure over the ensemble's draws of the modelled inputs (the
        same draws and seed as ``doorstep run``, so the pages and the report agree)."""
        from doorstep.analysis.uncertainty import DEFAULT_RUN_DRAWS
        from doorstep.analysis.uncertainty.coverage import annotate_coverage, coverage_ensemble

        def build() -> Any:
            # annotate_coverage works in place: it replaces the tables and adds a key to
            # ``meta``, so it gets a copy of the cached nominal result (tables shared, unchanged)
            res = dataclasses.replace(self.nominal_coverage())
            res.meta = dict(res.meta)
            return annotate_coverage(res, coverage_ensemble(self.model, draws=DEFAULT_RUN_DRAWS))

        return self._get("coverage", build)

    def underserved(self, target: Any) -> Any:
        """:func:`analysis.gaps.underserved_villages` for a
        :class:`analysis.coverage.CoverageTarget` (cached per target)."""
        from doorstep.analysis.gaps import underserved_villages

        key = f"underserved:{target!r}"
        return self.result(key, lambda: underserved_villages(self.model, target))

    def villages(self) -> list[dict[str, Any]]:
        def build() -> list[dict[str, Any]]:
            v = self.model.villages
            return [
                {
                    "code": str(r["code"]),
                    "name": str(r["name"]),
                    "town_code": str(r["town_code"]),
                    "town_name": str(r["town_name"]),
                    "population": int(r["population"]),
                    "location_quality": str(r["location_quality"]),
                    "uncertainty_m": round(float(r.get("uncertainty_m", 0.0)), 1),
                    "lon": round(float(r.geometry.x), 6),
                    "lat": round(float(r.geometry.y), 6),
                }
                for _, r in v.iterrows()
            ]

        return self._get("villages", build)  # type: ignore[no-any-return]

    def layer(self, name: str) -> dict[str, Any]:
        """GeoJSON of a base layer: county, townships, service_points, villages."""
        import json

        def build() -> dict[str, Any]:
            m = self.model
            if name == "county":
                return json.loads(m.county[["code", "name", "geometry"]].to_json())  # type: ignore[no-any-return]
            if name == "townships":
                cols = ["code", "name", "population", "polygon_source", "geometry"]
                t = m.townships[cols].copy()
                t["geometry"] = t.geometry.simplify(0.0005)
                return json.loads(t.to_json())  # type: ignore[no-any-return]
            if name == "service_points":
                return geojson_points(
                    m.service_points,
                    [
                        "id",
                        "tier",
                        "name",
                        "address",
                        "opening_hours",
                        "phone",
                        "staff",
                        "windows",
                        "services",
                        "staffed",
                        "modelled",
                    ],
                )
            if name == "villages":
                # the nominal car minutes and nearest point: no ensemble (its ranges are not
                # drawn on this layer)
                cov = self.nominal_coverage().villages
                car = cov[cov["mode"] == "car"].set_index("code")
                v = m.villages.copy()
                v["minutes_car"] = car.loc[v["code"], "min_staffed"].to_numpy(float)
                v["nearest_name"] = car.loc[v["code"], "nearest_name"].to_numpy()
                return geojson_points(
                    v,
                    [
                        "code",
                        "name",
                        "town_name",
                        "population",
                        "minutes_car",
                        "nearest_name",
                        "location_quality",
                    ],
                )
            raise KeyError(name)

        return self._get(f"layer:{name}", build)  # type: ignore[no-any-return]

    def map_layer(self, name: str, build: Any) -> Any:
        """A display layer of the offline map, ``build(model)`` once per model (see
        :mod:`webmap.app.maplayers`)."""
        return self._get(f"map_layer:{name}", lambda: build(self.model))


def get_state(app: Flask | None = None) -> AppState:
    a = app or current_app
    return a.extensions["doorstep"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    app.extensions["doorstep"] = AppState(app)
