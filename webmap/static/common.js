/* Doorstep shared helpers: base map, API calls with CSRF, escaping. */
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
  const TIER = {
    county_centre: ["#08306b", "县公共法律服务中心 County centre"],
    correction_centre: ["#6a51a3", "社区矫正中心 Correction centre"],
    township_station: ["#2171b5", "乡镇工作站 Township station"],
    village_room: ["#9ecae1", "村法律服务室 Village room"],
    lawyer_mediation_room: ["#238b45", "律师个人调解室 Lawyer's mediation room"],
    village_mediation_room: ["#74c476", "村(社区)个人调解室 Village mediation room"],
  };
  function minuteColour(m) {
    if (m == null) return "#777";
    if (m <= 15) return "#1a9850"; if (m <= 30) return "#91cf60";
    if (m <= 45) return "#fee08b"; if (m <= 60) return "#fc8d59"; return "#d73027";
  }
  async function baseMap(id) {
    const map = L.map(id, {preferCanvas: true, zoomControl: true});
    map.getContainer().style.background = "#eef2ee";
    const county = await api("/api/layers/county");
    const towns = await api("/api/layers/townships");
    const cl = L.geoJSON(county, {style: {color: "#222", weight: 3, fill: false}}).addTo(map);
    L.geoJSON(towns, {style: {color: "#666", weight: 1, dashArray: "4 3", fillOpacity: 0.03},
      onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.name))}).addTo(map);
    map.fitBounds(cl.getBounds());
    L.control.scale({imperial: false}).addTo(map);
    return map;
  }
  return {api, esc, baseMap, TIER, minuteColour};
})();
