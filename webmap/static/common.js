/* Doorstep shared helpers: base map (basemap setting, offline county layers), API calls with
   CSRF, escaping, the GCJ-02 display shift. The basemap, the service point styles, the
   travel-time classes and the what-if colours come from the page's ds-config JSON (written by
   Python: webmap.app.maplayers; webmap.layers.tier_config, minute_config, COVERAGE_COLOUR). */
"use strict";
window.DS = (function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  async function api(path, opts) {
    opts = opts || {};
    const init = {method: opts.method || "GET", headers: {"Accept": "application/json"}, credentials: "same-origin"};
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrf();
      init.body = JSON.stringify(opts.body);
    }
    const r = await fetch(path, init);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const msg = (data.error && data.error.message) || ("HTTP " + r.status);
      throw new Error(msg);
    }
    return data;
  }
  const CONFIG = JSON.parse((document.getElementById("ds-config") || {textContent: "{}"}).textContent || "{}");
  // {tier: {colour, label, glyph}}: webmap.layers.TIER_STYLE / TIER_GLYPH (no copy here)
  const TIER = CONFIG.tiers || {};
  // {classes: [{upto, colour, label}], unreachable: {colour, label}}: webmap.layers.MINUTE_CLASSES
  // and UNREACHABLE_COLOUR (no copy here); the open last class has upto null
  const MINUTES = CONFIG.minutes || {classes: [], unreachable: {colour: "#888", label: "?"}};
  // {before, newly, none, site}: a what-if result's colours, webmap.layers.COVERAGE_COLOUR
  const COVERAGE = CONFIG.coverage || {};
  function minuteColour(m) {  // as webmap.layers.minute_colour
    if (m == null || !Number.isFinite(m)) return MINUTES.unreachable.colour;
    const c = MINUTES.classes.find(k => k.upto == null || m <= k.upto);
    return c ? c.colour : MINUTES.unreachable.colour;
  }
  // The travel-time key under a bold title: one swatch and label per class, then unreachable.
  function minuteLegend(title) {
    const row = (k, i) => `<span class="ds-minute-key" data-class="${i}"><i style="background:${esc(k.colour)}"></i>${esc(k.label)}</span><br>`;
    return `<b>${esc(title)}</b><br>` + MINUTES.classes.map(row).join("") + row(MINUTES.unreachable, "unreachable");
  }

  // GCJ-02 (the published algorithm, as geo/coords.py; a test holds the two to 1e-7 degrees)
  const A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function inChina(lon, lat) { return lon > 72.004 && lon < 137.8347 && lat > 0.8293 && lat < 55.8271; }
  function delta(lon, lat) {
    const x = lon - 105.0, y = lat - 35.0, sq = Math.sqrt(Math.abs(x));
    const s6 = 20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI);
    let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq;
    dlat = dlat + s6 * 2.0 / 3.0;
    dlat = dlat + (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat = dlat + (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq;
    dlon = dlon + s6 * 2.0 / 3.0;
    dlon = dlon + (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon = dlon + (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    const rad = lat / 180.0 * PI, magic = 1.0 - EE * Math.sin(rad) ** 2, smagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * smagic) * PI);
    dlon = (dlon * 180.0) / (A / smagic * Math.cos(rad) * PI);
    return [dlon, dlat];
  }
  function toGcj(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    const d = delta(lon, lat);
    return [lon + d[0], lat + d[1]];
  }
  function toWgs(glon, glat) {  // fixed-point iteration, as geo.coords.gcj02_to_wgs84
    let w = [glon, glat];
    for (let i = 0; i < 30; i++) {
      const f = toGcj(w[0], w[1]), e = [f[0] - glon, f[1] - glat];
      w = [w[0] - e[0], w[1] - e[1]];
      if (Math.max(Math.abs(e[0]), Math.abs(e[1])) < 1e-10) break;
    }
    return w;
  }
  // A Web Mercator CRS that first shifts WGS84 into GCJ-02: every overlay (WGS84 data) lands on
  // GCJ-02 tiles, and clicks (unproject) come back as WGS84 before any query.
  function gcjCrs() {
    const SM = L.Projection.SphericalMercator;
    const projection = {
      R: SM.R, MAX_LATITUDE: SM.MAX_LATITUDE, bounds: SM.bounds,
      project: ll => { const g = toGcj(ll.lng, ll.lat); return SM.project(L.latLng(g[1], g[0])); },
      unproject: p => { const g = SM.unproject(p), w = toWgs(g.lng, g.lat); return L.latLng(w[1], w[0]); },
    };
    return L.extend({}, L.CRS.EPSG3857, {code: "EPSG:3857+GCJ02", projection: projection});
  }

  const BASEMAP = CONFIG.basemap || {name: "offline", url: null, crs: "wgs84"};
  const maps = {}, tiles = {};  // by map element id (tests and pages reach them here)
  const LABEL_ZOOM = 12;  // village names from this zoom on

  function tileLayer(map) {
    const t = L.tileLayer(BASEMAP.url, {subdomains: BASEMAP.subdomains || "abc", attribution: BASEMAP.attribution || "", maxZoom: 18});
    t.addTo(map);
    map.getContainer().dataset.basemap = BASEMAP.name;
    return t;
  }
  function roadsLegend(map, roads) {
    const km = {real: 0, modelled: 0};
    roads.features.forEach(f => { km[f.properties.status] = (km[f.properties.status] || 0) + f.properties.km; });
    const ctl = L.control({position: "bottomleft"});
    ctl.onAdd = () => {
      const d = L.DomUtil.create("div", "map-legend ds-map-key");
      d.id = "map-key";
      const line = (st, label) => `<div data-status="${st}"><svg width="28" height="8" aria-hidden="true"><line x1="0" y1="4" x2="28" y2="4" stroke="#8c8c8c" stroke-width="3"${st === "modelled" ? ' stroke-dasharray="5 4"' : ""}/></svg> ${esc(label)} · ${Math.round(km[st] || 0).toLocaleString()} km</div>`;
      const real = roads.features.find(f => f.properties.status === "real"), modelled = roads.features.find(f => f.properties.status === "modelled");
      const open = window.innerWidth >= 600 ? " open" : "";  // phones: folded, tap to open
      d.innerHTML = `<details${open}><summary><b>道路 Roads</b></summary>` + (real ? line("real", real.properties.label) : "") + (modelled ? line("modelled", modelled.properties.label) : "") + "</details>";
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    ctl.addTo(map);
  }
  async function drawRoads(map) {  // offline only: the tiles have their own roads
    const roads = await api("/api/maplayers/roads");
    map.createPane("roads").style.zIndex = 350;  // above the township fill, below every overlay
    const renderer = L.svg({pane: "roads"});
    L.geoJSON(roads, {pane: "roads", interactive: false, style: f => ({
      renderer: renderer, color: f.properties.colour, weight: f.properties.weight, dashArray: f.properties.dash,
      opacity: 0.95, className: `ds-road ds-road-${f.properties.status} ds-road-${f.properties.road_class}`})}).addTo(map);
    roadsLegend(map, roads);
  }
  async function drawTownNames(map) {
    const names = await api("/api/maplayers/township_names");
    L.geoJSON(names, {pointToLayer: (f, ll) => L.marker(ll, {interactive: false, keyboard: false,
      icon: L.divIcon({className: "ds-town-label", html: `<span>${esc(f.properties.name)}</span>`, iconSize: null})})}).addTo(map);
  }
  // Village dots and names (names shown from zoom LABEL_ZOOM): [{code, name, lon, lat}].
  function villageLabels(map, villages, dots) {
    const group = L.layerGroup(villages.map(v => L.marker([v.lat, v.lon], {interactive: false, keyboard: false,
      icon: L.divIcon({className: "ds-village", iconSize: null,
        html: `${dots ? '<i class="ds-village-dot"></i>' : ""}<span class="ds-village-label" data-code="${esc(v.code)}">${esc(v.name)}</span>`})})));
    const zoomClass = () => map.getContainer().classList.toggle("ds-names", map.getZoom() >= LABEL_ZOOM);
    map.on("zoomend", zoomClass);
    zoomClass();
    return group.addTo(map);
  }
  // Service points as inline icons: shape and glyph by tier; points without `service` faded.
  function servicePoints(map, fc, popup) {
    const markers = [];
    L.geoJSON(fc, {pointToLayer: (f, ll) => {
      const p = f.properties, t = TIER[p.tier] || {colour: "#888", label: p.tier, glyph: "?"};
      const m = L.marker(ll, {title: p.name, alt: p.name, riseOnHover: true, zIndexOffset: p.tier === "village_room" ? 0 : 500,
        icon: L.divIcon({className: `ds-sp ds-sp-${p.tier}`, iconSize: null,
          html: `<span style="background:${esc(t.colour)}" data-tier="${esc(p.tier)}" data-services="${esc(p.services)}">${esc(t.glyph)}</span>`})});
      markers.push([m, String(p.services || "").split(";")]);
      return m;
    }, onEachFeature: (f, l) => l.bindPopup(popup(f.properties))}).addTo(map);
    return service => markers.forEach(([m, s]) => {
      const el = m.getElement();
      if (el) el.classList.toggle("ds-off", !!service && !s.includes(service));
    });
  }

  async function baseMap(id) {
    const gcj = BASEMAP.crs === "gcj02";
    const map = L.map(id, {preferCanvas: true, zoomControl: true, crs: gcj ? gcjCrs() : L.CRS.EPSG3857});
    maps[id] = map;
    map.getContainer().dataset.crs = BASEMAP.crs;
    if (BASEMAP.url) tiles[id] = tileLayer(map);
    else map.getContainer().classList.add("ds-offline");
    const [county, towns] = await Promise.all([api("/api/maplayers/county"), api("/api/maplayers/townships")]);
    const cl = L.geoJSON(county, {style: {color: "#222", weight: 3, fill: false}}).addTo(map);
    L.geoJSON(towns, {style: {color: "#666", weight: 1, dashArray: "4 3", fillOpacity: 0.03},
      onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.name))}).addTo(map);
    map.fitBounds(cl.getBounds());
    L.control.scale({imperial: false}).addTo(map);
    // after the first paint: township names, and (offline) the model's roads
    map.whenReady(() => window.requestAnimationFrame(() => {
      drawTownNames(map);
      if (!BASEMAP.url) drawRoads(map);
    }));
    return map;
  }
  return {api, esc, baseMap, villageLabels, servicePoints, TIER, MINUTES, COVERAGE, minuteColour, minuteLegend, toGcj, toWgs, maps, tiles, BASEMAP, LABEL_ZOOM};
})();
