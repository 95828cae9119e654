/* Planners: coverage dashboard, underserved list, what-if (model & k or clicked villages), scenarios. */
"use strict";
(async function () {
  const {api, esc, baseMap, minuteColour, villageLabels} = window.DS;
  const map = await baseMap("map");
  const vill = await api("/api/layers/villages");
  const markers = {};
  const picked = new Set();
  const clickMode = document.getElementById("wi-click");
  L.geoJSON(vill, {
    pointToLayer: (f, ll) => (markers[f.properties.code] = L.circleMarker(ll, {radius: 5, color: "#333", weight: 1, fillColor: minuteColour(f.properties.minutes_car), fillOpacity: 0.9})),
    onEachFeature: (f, l) => {
      l.bindTooltip(`${esc(f.properties.name)} · ${f.properties.minutes_car == null ? "—" : f.properties.minutes_car + " min"}`);
      l.on("click", () => {
        if (!clickMode.checked) return;
        const c = f.properties.code;
        if (picked.has(c)) { picked.delete(c); l.setStyle({weight: 1, color: "#333"}); }
        else { picked.add(c); l.setStyle({weight: 4, color: "#000"}); }
        document.getElementById("wi-picked").textContent = picked.size ? `已选 picked: ${picked.size}` : "";
      });
    },
  }).addTo(map);
  villageLabels(map, vill.features.map(f => ({code: f.properties.code, name: f.properties.name,
    lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1]})), false);
  const newSites = L.layerGroup().addTo(map);
  const legend = L.control({position: "bottomright"});
  legend.onAdd = () => {
    const d = L.DomUtil.create("div", "map-legend");
    d.id = "plan-legend";
    d.innerHTML = `<b>驾车到最近服务点 Car minutes</b><br><i style="background:#1a9850"></i>≤15 <i style="background:#91cf60"></i>≤30 <i style="background:#fee08b"></i>≤45 <i style="background:#fc8d59"></i>≤60 <i style="background:#d73027"></i>&gt;60`;
    return d;
  };
  legend.addTo(map);
  const pct = x => x == null ? "—" : (100 * x).toFixed(1) + "%";

  async function loadCoverage() {
    const mode = document.getElementById("cov-mode").value;
    const c = await api(`/api/coverage?mode=${mode}`);
    const k = c.county;
    document.getElementById("county-summary").innerHTML = [
      ["人口 Population", k.population.toLocaleString()], ["≤15 分钟 min", pct(k.share_within_15)],
      ["≤30 分钟 min", pct(k.share_within_30)], ["≤60 分钟 min", pct(k.share_within_60)],
      ["平均 Mean", (k.mean_min == null ? "—" : k.mean_min.toFixed(1) + " min")],
      ["达标 Target met", pct(k.share_meeting_target)]].map(([a, b]) => `<div class="card"><div class="small">${a}</div><b>${b}</b></div>`).join("");
    document.getElementById("town-chart").innerHTML = c.townships.map(t =>
      `<div class="bar-row"><span class="bar-label">${esc(t.town_name)}</span><span class="bar"><span style="width:${(100 * (t.share_within_30 || 0)).toFixed(1)}%"></span></span><span class="bar-val">${pct(t.share_within_30)}</span></div>`).join("");
    document.querySelector("#town-table tbody").innerHTML = c.townships.map(t =>
      `<tr><td>${esc(t.town_name)}</td><td>${t.population.toLocaleString()}</td><td>${pct(t.share_within_15)}</td><td>${pct(t.share_within_30)}</td><td>${pct(t.share_within_60)}</td><td>${t.mean_min == null ? "—" : t.mean_min.toFixed(1)}</td><td>${t.complies ? "✔" : "✘"}</td></tr>`).join("");
    const u = await api(`/api/underserved?mode=${mode}`);
    document.getElementById("underserved-target").textContent = `${u.count} 个村 villages · ${u.threshold}`;
    document.getElementById("underserved").innerHTML = u.villages.slice(0, 15).map(v =>
      `<li><b>${esc(v.name)}</b> (${esc(v.town_name)}, ${v.population} 人) — ${esc(v.reason_zh)}<br><span class="muted">${esc(v.reason_en)}</span></li>`).join("") || "<li>无 None</li>";
  }
  document.getElementById("cov-mode").addEventListener("change", loadCoverage);
  await loadCoverage();

  const num = v => v == null ? "—" : Number(v).toLocaleString(undefined, {maximumFractionDigits: 2});
  async function loadValidation() {
    const box = document.getElementById("validation");
    let rep;
    try { rep = await api("/api/validation"); }
    catch (err) { box.innerHTML = `<p class="error">检验未能载入 Validation not loaded: ${esc(err.message)}</p>`; return; }
    const checks = rep.checks.map(c => {
      const why = c.why ? ` — ${esc(c.why)}` : "";
      const rows = c.rows.map(r => `<tr><td>${esc(r.item)}</td><td>${num(r.model)}</td><td>${num(r.reference)}</td><td>${esc(r.unit)}</td><td>${r.error_pct == null ? "—" : (r.error_pct > 0 ? "+" : "") + r.error_pct.toFixed(1)}</td><td class="small">${esc(r.note)}</td></tr>`).join("");
      return `<table class="table validation" data-check="${esc(c.key)}" data-status="${esc(c.status)}"><caption>${esc(c.title)} <b>[${c.status === "ok" ? "已检验 ok" : "未运行 not run"}]</b>${why}</caption>` +
        (rows ? `<thead><tr><th scope="col">项目 Item</th><th scope="col">模型 Model</th><th scope="col">参考 Reference</th><th scope="col">单位 Unit</th><th scope="col">误差 Error %</th><th scope="col">说明 Note</th></tr></thead><tbody>${rows}</tbody>` : "") + "</table>";
    }).join("");
    box.innerHTML = `<p class="small">${rep.checks_ok} 项已检验 checks ok, ${rep.checks_not_run} 项未运行 not run</p>` + checks;
    document.querySelector("#validation-box summary h2").insertAdjacentHTML("beforeend", ` <span class="muted small">(${rep.checks_ok} ok, ${rep.checks_not_run} not run)</span>`);
  }
  loadValidation();

  let lastParams = null;
  function params() {
    const p = {model: document.getElementById("wi-model").value, k: Number(document.getElementById("wi-k").value),
      minutes: Number(document.getElementById("wi-minutes").value), urban_minutes: Number(document.getElementById("wi-urban").value),
      mode: document.getElementById("wi-mode").value};
    if (clickMode.checked && picked.size) p.sites = Array.from(picked);
    return p;
  }
  function showResult(r) {
    const s = r.summary;
    const delta = s.covered_after - s.covered_before;
    document.getElementById("whatif-result").innerHTML = `
      <div class="cards">
        <div class="card"><div class="small">之前 Before</div><b id="cov-before">${s.covered_before.toLocaleString()}</b><div class="small">${pct(s.share_before)}</div></div>
        <div class="card"><div class="small">之后 After</div><b id="cov-after">${s.covered_after.toLocaleString()}</b><div class="small">${pct(s.share_after)}</div></div>
        <div class="card"><div class="small">增加 Change</div><b id="cov-delta">+${delta.toLocaleString()}</b><div class="small">人 persons</div></div>
      </div>
      <p class="small">${esc(r.model)} · ${esc(r.status)} · ${r.seconds}s · 新点 new: ${r.new_sites.map(x => esc(x.name)).join("、")}</p>`;
    newSites.clearLayers();
    r.new_sites.forEach(x => L.circleMarker([x.lat, x.lon], {radius: 10, color: "#000", weight: 2, fillColor: "#ffd700", fillOpacity: 1}).bindTooltip("新 New: " + esc(x.name)).addTo(newSites));
    const before = new Set(r.villages_covered_before), after = new Set(r.villages_covered_after);
    Object.entries(markers).forEach(([code, m]) => m.setStyle({fillColor: before.has(code) ? "#1a9850" : (after.has(code) ? "#2c7fb8" : "#d73027")}));
    document.getElementById("plan-legend").innerHTML = `<b>情景覆盖 What-if coverage (农村 rural ≤${r.params.minutes}, 城镇 urban ≤${r.params.urban_minutes} min)</b><br><i style="background:#1a9850"></i>原已覆盖 covered before<br><i style="background:#2c7fb8"></i>新覆盖 newly covered<br><i style="background:#d73027"></i>仍未覆盖 not covered<br><i style="background:#ffd700;border:1px solid #000"></i>新点 new site`;
    document.getElementById("scenario-form").hidden = false;
  }
  document.getElementById("whatif-form").addEventListener("submit", async e => {
    e.preventDefault();
    const out = document.getElementById("whatif-result");
    out.innerHTML = `<p class="muted">求解中… Solving…</p>`;
    try { lastParams = params(); showResult(await api("/api/whatif", {method: "POST", body: lastParams})); }
    catch (err) { out.innerHTML = `<p class="error" role="alert">${esc(err.message)}</p>`; }
  });
  async function loadScenarios() {
    const s = await api("/api/scenarios");
    document.querySelector("#scenarios tbody").innerHTML = s.scenarios.map(x =>
      `<tr><td><input type="checkbox" value="${x.id}"></td><td>${esc(x.name)}</td><td>${esc(x.params.model)}</td><td>${x.params.k}</td><td>${pct(x.summary.share_before)}</td><td>${pct(x.summary.share_after)}</td></tr>`).join("");
  }
  document.getElementById("scenario-form").addEventListener("submit", async e => {
    e.preventDefault();
    try { await api("/api/scenarios", {method: "POST", body: {name: document.getElementById("sc-name").value, params: lastParams}}); await loadScenarios(); }
    catch (err) { document.getElementById("whatif-result").insertAdjacentHTML("beforeend", `<p class="error">${esc(err.message)}</p>`); }
  });
  document.getElementById("sc-compare").addEventListener("click", async () => {
    const ids = Array.from(document.querySelectorAll("#scenarios input:checked")).map(x => x.value);
    if (!ids.length) return;
    const c = await api(`/api/scenarios/compare?ids=${ids.join(",")}`);
    document.getElementById("compare").innerHTML = c.scenarios.map(x =>
      `<div class="bar-row"><span class="bar-label">${esc(x.name)}</span><span class="bar"><span style="width:${(100 * x.summary.share_after).toFixed(1)}%"></span></span><span class="bar-val">${pct(x.summary.share_after)}</span></div>`).join("");
  });
  await loadScenarios();
})();
