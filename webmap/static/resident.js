/* Residents: pick a village / tap the map / use location -> nearest points by travel time. */
"use strict";
(async function () {
  const {api, esc, baseMap, villageLabels, servicePoints, BASEMAP} = window.DS;
  const map = await baseMap("map");
  const sp = await api("/api/maplayers/service_points");
  const showService = servicePoints(map, sp, p => `<b>${esc(p.name)}</b><br>${esc(p.opening_hours)}<br>☎ ${esc(p.phone)}`);
  // the service picker works as soon as the points are drawn (a choice made earlier, or kept by
  // the browser on reload, is applied now)
  const service = document.getElementById("service");
  let last = null;
  service.addEventListener("change", () => { showService(service.value); if (last) query(...last); });
  if (service.value) showService(service.value);
  const routeLayer = L.layerGroup().addTo(map);
  const svg = L.svg();  // routes as SVG paths (points stay on the canvas)
  const results = document.getElementById("results");
  const list = document.getElementById("village-list");
  const search = document.getElementById("village-search");
  const villages = (await api("/api/villages")).villages;
  villageLabels(map, villages, !BASEMAP.url);  // dots only on the offline map

  function renderList() {
    const q = search.value.trim();
    const rows = villages.filter(v => !q || v.name.includes(q) || v.town_name.includes(q)).slice(0, q ? 50 : 12);
    list.innerHTML = rows.map(v => `<li role="option" tabindex="0" data-code="${esc(v.code)}">${esc(v.name)} <span class="muted">${esc(v.town_name)}</span></li>`).join("");
  }
  search.addEventListener("input", renderList);
  list.addEventListener("click", e => {
    const li = e.target.closest("li"); if (!li) return;
    const v = villages.find(x => x.code === li.dataset.code);
    if (v) query(v.lon, v.lat, v.name, v.code);
  });
  list.addEventListener("keydown", e => { if (e.key === "Enter") e.target.click(); });
  renderList();
  map.on("click", e => query(e.latlng.lng, e.latlng.lat, "地图上的位置 map point"));
  document.getElementById("locate").addEventListener("click", () => {
    if (!navigator.geolocation) { results.innerHTML = `<p class="error">无法定位 Location unavailable</p>`; return; }
    navigator.geolocation.getCurrentPosition(
      p => query(p.coords.longitude, p.coords.latitude, "我的位置 my location"),
      () => { results.innerHTML = `<p class="error">无法获取位置 Could not get your location</p>`; });
  });

  const MODES = [["walk", "步行 Walk", "#1b9e77"], ["car", "驾车 Car", "#d95f02"]];
  async function query(lon, lat, label, code) {
    last = [lon, lat, label, code];
    const svc = service.value ? `&service=${encodeURIComponent(service.value)}` : "";
    results.innerHTML = `<p class="muted">计算中… Calculating…</p>`;
    routeLayer.clearLayers();
    L.circleMarker([lat, lon], {radius: 8, color: "#000", fillColor: "#ff0", fillOpacity: 1}).addTo(routeLayer);
    try {
      const answers = await Promise.all(MODES.map(m => api(`/api/nearest?lon=${lon}&lat=${lat}&mode=${m[0]}&n=3&route=first${svc}`)));
      let html = `<h2 id="origin-label">${esc(label)}</h2>`;
      if (code) html += `<p><a id="village-page" href="/v/${encodeURIComponent(code)}">本村服务页 Village page (room, adviser, every service)</a></p>`;
      const s = answers[0].service;
      if (s && s.note) html += `<p class="small muted" id="service-note">${esc(s.name_zh)}: ${esc(s.note)}</p>`;
      const bounds = L.latLngBounds([[lat, lon]]);
      answers.forEach((a, i) => {
        const [mode, mlabel, colour] = MODES[i];
        html += `<div class="mode" data-mode="${mode}"><h3 style="color:${colour}">${mlabel}</h3>`;
        if (!a.results.length) html += `<p>无可达服务点 No reachable point</p>`;
        a.results.forEach((r, j) => {
          html += `<div class="card${j === 0 ? " best" : ""}" data-id="${esc(r.id)}">
            <div class="card-h"><b class="name">${esc(r.name)}</b> <span class="minutes" data-minutes="${r.minutes}">${r.minutes} 分钟 min</span></div>
            <div class="small">${r.km == null ? "" : r.km + " km · "}${esc(r.opening_hours)}</div>
            <div class="small">☎ <a href="tel:${esc(r.phone)}">${esc(r.phone)}</a> · ${esc(r.address)}</div></div>`;
          if (j === 0 && r.route && r.route.geometry.coordinates.length > 1) {  // 0 min: already there
            const line = L.geoJSON(r.route, {style: {color: colour, weight: mode === "walk" ? 7 : 4, dashArray: mode === "walk" ? null : "8 6", opacity: 0.9, renderer: svg, className: `ds-route ds-route-${mode}`}}).addTo(routeLayer);
            bounds.extend(line.getBounds());
          }
        });
        html += `</div>`;
      });
      html += `<p class="muted small">步行时间含步行到道路的时间 Times include walking to the road (${answers[0].origin.snap_m} m).</p>`;
      results.innerHTML = html;
      map.fitBounds(bounds.pad(0.2));
    } catch (err) {
      results.innerHTML = `<p class="error" role="alert">${esc(err.message)}</p>`;
    }
  }
})();
