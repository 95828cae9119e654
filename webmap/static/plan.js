/* Planners: coverage dashboard, underserved list, what-if (model & k or clicked villages), scenarios. */
"use strict";
(async function () {
  const {api, esc, baseMap, minuteColour, minuteLegend, villageLabels, COVERAGE: COVER} = window.DS;
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
    d.innerHTML = minuteLegend("驾车到最近服务点 Car minutes");
    return d;
  };
  legend.addTo(map);
  const pct = x => x == null ? "—" : (100 * x).toFixed(1) + "%";
  // the 5–95 % range of a figure over the ensemble's draws of the modelled inputs
  const range = (row, key, fmt) => (row[key + "_p05"] == null || row[key + "_p95"] == null) ? "" :
    `${fmt(row[key + "_p05"])}–${fmt(row[key + "_p95"])}`;
  function showNotice(meta) {
    const q = meta.quality || {}, u = meta.uncertainty || {};
    const layers = Object.entries(q.layers || {}).filter(([, l]) => l.modelled);
    const items = layers.map(([name, l]) => `<li><b>${esc(name)}</b>: 模型推算 modelled — ${esc(l.source)}${l.notes ? ` (${esc(l.notes)})` : ""}</li>`).join("");
    const vq = q.village_location_quality || {};
    const imputed = vq.imputed || 0;  // geo.villages: surveyed / geocoded / geocoded_suspect / imputed
    const names = layers.map(([name]) => esc(name)).join(", ");
    document.getElementById("modelled-notice-body").innerHTML =
      (layers.length ? `<p><b>${layers.length}</b> 个图层为模型推算，不是实测 layers are modelled, not measured: <b>${names}</b>.` : `<p>所有图层均为实测数据 Every layer is from a real source.`) +
      (imputed ? ` ${imputed} 个村的位置为推算（待核实）village points are imputed (to be confirmed).` : "") + "</p>" +
      (u.draws ? `<p>每个数字下的小字为 5–95% 范围：对模型推算的输入抽样 ${u.draws} 次（种子 ${u.seed}）。The small figures under each number are its 5–95 % range over ${u.draws} draws of the modelled inputs (seed ${u.seed}); real inputs are never sampled.</p>` : "") +
      (layers.length ? `<details><summary>来源与方法 Sources and methods</summary><ul>${items}</ul></details>` : "");
  }

  async function loadCoverage() {
    const mode = document.getElementById("cov-mode").value;
    const c = await api(`/api/coverage?mode=${mode}`);
    const k = c.county;
    const mins = x => x == null ? "—" : x.toFixed(1) + " min";
    document.getElementById("county-summary").innerHTML = [
      ["人口 Population", k.population.toLocaleString(), ""], ["≤15 分钟 min", pct(k.share_within_15), range(k, "share_within_15", pct)],
      ["≤30 分钟 min", pct(k.share_within_30), range(k, "share_within_30", pct)], ["≤60 分钟 min", pct(k.share_within_60), range(k, "share_within_60", pct)],
      ["平均 Mean", mins(k.mean_min), range(k, "mean_min", mins)],
      ["达标 Target met", pct(k.share_meeting_target), range(k, "share_meeting_target", pct)]].map(([a, b, r]) =>
      `<div class="card"><div class="small">${a}</div><b>${b}</b>${r ? `<span class="range" data-range>${r}</span>` : ""}</div>`).join("");
    showNotice(c.meta);
    document.getElementById("town-chart").innerHTML = c.townships.map(t =>
      `<div class="bar-row"><span class="bar-label">${esc(t.town_name)}</span><span class="bar"><span style="width:${(100 * (t.share_within_30 || 0)).toFixed(1)}%"></span></span><span class="bar-val">${pct(t.share_within_30)}</span></div>`).join("");
    document.querySelector("#town-table tbody").innerHTML = c.townships.map(t =>
      `<tr><td>${esc(t.town_name)}</td><td>${t.population.toLocaleString()}</td><td>${pct(t.share_within_15)}</td><td>${pct(t.share_within_30)}<span class="range">${range(t, "share_within_30", pct)}</span></td><td>${pct(t.share_within_60)}</td><td>${t.mean_min == null ? "—" : t.mean_min.toFixed(1)}</td><td>${t.complies ? "✔" : "✘"}</td></tr>`).join("");
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

  // a what-if result on a map (the what-if map and each side-by-side scenario map): villages
  // covered before / newly covered / still not covered, and the new sites, in COVER's colours
  // (webmap.layers.COVERAGE_COLOUR via ds-config)
  function coverageColour(r) {
    const before = new Set(r.villages_covered_before), after = new Set(r.villages_covered_after);
    return code => before.has(code) ? COVER.before : (after.has(code) ? COVER.newly : COVER.none);
  }
  const newSite = (x, radius) => L.circleMarker([x.lat, x.lon], {radius: radius, color: "#000", weight: 2, fillColor: COVER.site, fillOpacity: 1}).bindTooltip("新 New: " + esc(x.name));

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
    r.new_sites.forEach(x => newSite(x, 10).addTo(newSites));
    const colour = coverageColour(r);
    Object.entries(markers).forEach(([code, m]) => m.setStyle({fillColor: colour(code)}));
    document.getElementById("plan-legend").innerHTML = `<b>情景覆盖 What-if coverage (农村 rural ≤${r.params.minutes}, 城镇 urban ≤${r.params.urban_minutes} min)</b><br><i style="background:${esc(COVER.before)}"></i>原已覆盖 covered before<br><i style="background:${esc(COVER.newly)}"></i>新覆盖 newly covered<br><i style="background:${esc(COVER.none)}"></i>仍未覆盖 not covered<br><i style="background:${esc(COVER.site)};border:1px solid #000"></i>新点 new site`;
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
    if (ids.length >= 2) await sideBySide(ids.slice(0, 2));
  });
  // two saved scenarios side by side: a map each (villages covered before / newly / not, new sites)
  // and the same figure cards; the figures are the saved results, nothing is recomputed here
  let cmpMaps = [];
  async function sideBySide(ids) {
    const docs = await Promise.all(ids.map(id => api(`/api/scenarios/${id}`)));
    const panel = document.getElementById("compare-panels");
    cmpMaps.forEach(m => m.remove());
    cmpMaps = [];
    panel.hidden = false;
    panel.querySelector(".compare-grid").innerHTML = docs.map((d, i) => {
      const s = d.summary, p = d.params;
      return `<article class="cmp" data-scenario="${d.id}"><h3>${esc(d.name)}</h3>
        <p class="small">${esc(p.model)} · k = ${p.k} · 农村 rural ≤${p.minutes} / 城镇 urban ≤${p.urban_minutes} min · ${esc(p.mode)}</p>
        <div class="cards"><div class="card"><div class="small">之前 Before</div><b>${pct(s.share_before)}</b></div>
        <div class="card"><div class="small">之后 After</div><b class="cmp-after">${pct(s.share_after)}</b></div>
        <div class="card"><div class="small">增加 Change</div><b>+${(s.covered_after - s.covered_before).toLocaleString()}</b><div class="small">人 persons</div></div></div>
        <div id="cmp-map-${i}" class="cmp-map" role="region" aria-label="${esc(d.name)} 地图 map"></div>
        <p class="small cmp-legend"><i style="background:${esc(COVER.before)}"></i>原已覆盖 covered before<i style="background:${esc(COVER.newly)}"></i>新覆盖 newly covered<i style="background:${esc(COVER.none)}"></i>仍未覆盖 not covered<i style="background:${esc(COVER.site)}"></i>新点 new site</p>
        <p class="small">新点 new: ${(d.result.new_sites || []).map(x => esc(x.name)).join("、")}</p></article>`;
    }).join("");
    for (let i = 0; i < docs.length; i++) {
      const r = docs[i].result, m = await baseMap(`cmp-map-${i}`);
      const colour = coverageColour(r);
      L.geoJSON(vill, {pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 4, color: "#333", weight: 1, fillOpacity: 0.9,
        fillColor: colour(f.properties.code)})}).addTo(m);
      (r.new_sites || []).forEach(x => newSite(x, 8).addTo(m));
      cmpMaps.push(m);
    }
    panel.dataset.ready = "1";
    panel.scrollIntoView({behavior: "smooth"});
  }
  // the current map as a PNG for a report (html-to-image, served locally, loaded on first use)
  function loadScript(src) {
    return new Promise((ok, fail) => { const s = document.createElement("script"); s.src = src; s.onload = ok; s.onerror = () => fail(new Error("cannot load " + src)); document.head.appendChild(s); });
  }
  document.getElementById("map-png").addEventListener("click", async e => {
    const btn = e.currentTarget;
    try {
      if (!window.htmlToImage) await loadScript(btn.dataset.lib);
      const url = await window.htmlToImage.toPng(document.getElementById("map"), {pixelRatio: 2, backgroundColor: "#ffffff",
        filter: n => !(n.classList && (n.classList.contains("leaflet-control-zoom") || n.id === "map-png"))});
      const a = document.createElement("a");
      a.href = url; a.download = `doorstep-map-${new Date().toISOString().slice(0, 10)}.png`;
      document.body.appendChild(a); a.click(); a.remove();
      btn.dataset.done = "1";
    } catch (err) {
      btn.insertAdjacentHTML("afterend", `<p class="error" role="alert">地图导出失败 Map export failed: ${esc(err.message)}（在线底图可能不允许导出 an online basemap may forbid it）</p>`);
    }
  });
  await loadScenarios();
})();
