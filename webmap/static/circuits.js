/* Staff: month routes per lawyer (map + table), downloads, mark visits done with their ledger record. */
"use strict";
(async function () {
  const {api, esc, baseMap} = window.DS;
  const root = document.getElementById("circuits-app");
  const month = root.dataset.month;
  const map = await baseMap("map");
  const layer = L.layerGroup().addTo(map);
  const COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#17becf", "#999999", "#bcbd22", "#1f2f7a", "#66c2a5"];
  let data;
  try { data = await api(`/api/circuits?month=${month}`); }
  catch (err) { document.getElementById("circuit-summary").innerHTML = `<p class="error">${esc(err.message)}</p>`; return; }
  const routes = data.routes || [];
  const lawyers = Array.from(new Set(routes.map(r => r.lawyer)));
  const sel = document.getElementById("lawyer");
  sel.innerHTML += lawyers.map(l => `<option value="${esc(l)}">${esc(l)}</option>`).join("");
  const done = new Map((data.done || []).map(d => [`${d.lawyer}|${d.date}|${d.village}`, d.record || {}]));
  const tbody = document.querySelector("#routes tbody");
  const keyOf = el => `${el.dataset.lawyer}|${el.dataset.date}|${el.dataset.village}`;
  const editButton = (attrs, name) => `<button type="button" class="link edit-record" ${attrs} aria-label="修改走访记录 Edit the visit record: ${esc(name)}">✎</button>`;
  function draw() {
    const who = sel.value;
    layer.clearLayers();
    const rows = routes.filter(r => !who || r.lawyer === who);
    document.getElementById("dl-ics").href = `/api/circuits/calendar.ics?month=${month}` + (who ? `&lawyer=${encodeURIComponent(who)}` : "");
    tbody.innerHTML = rows.map(r => {
      const stops = (r.stops || []).filter(s => s.village);
      return `<tr><td>${esc(r.date)}</td><td>${esc(r.lawyer_name || r.lawyer)}</td><td>${stops.map(s => esc(s.name || s.village)).join(" → ")}</td><td>${r.drive_min == null ? "" : Math.round(r.drive_min)}</td><td>${stops.map(s => {
        const key = `${r.lawyer}|${r.date}|${s.village}`;
        const attrs = `data-lawyer="${esc(r.lawyer)}" data-date="${esc(r.date)}" data-village="${esc(s.village)}"`;
        const edit = done.has(key) ? editButton(attrs, s.name || s.village) : "";
        return `<label class="small"><input type="checkbox" class="done" ${attrs} ${done.has(key) ? "checked" : ""}>${esc(s.name || s.village)}</label>${edit}`;
      }).join(" ")}</td></tr>`;
    }).join("");
    rows.forEach(r => {
      const c = COLOURS[lawyers.indexOf(r.lawyer) % COLOURS.length];
      const pts = r.geometry ? r.geometry.coordinates.map(p => [p[1], p[0]]) : (r.stops || []).filter(s => s.lat != null).map(s => [s.lat, s.lon]);
      if (pts.length > 1) L.polyline(pts, {color: c, weight: 3, opacity: 0.8}).bindTooltip(`${esc(r.lawyer)} ${esc(r.date)}`).addTo(layer);
      (r.stops || []).filter(s => s.village && s.lat != null).forEach(s => L.circleMarker([s.lat, s.lon], {radius: 5, color: c, fillOpacity: 1}).bindTooltip(esc(s.name || s.village)).addTo(layer));
    });
    document.getElementById("circuit-summary").textContent = `${rows.length} 天路线 day routes · ${lawyers.length} 律师 lawyers`;
  }
  // A tick (or untick) as the server stored it (the POST's answer): only that visit's tick box
  // and its edit button change. The table's other rows, the map's layers and the summary (its
  // counts do not depend on ticks) are not rebuilt.
  function showVisit(res) {
    const key = `${res.lawyer}|${res.date}|${res.village}`;
    if (res.done) done.set(key, res.record || {}); else done.delete(key);
    tbody.querySelectorAll("input.done").forEach(box => {
      if (keyOf(box) !== key) return;
      box.checked = res.done;
      const label = box.parentElement, next = label.nextElementSibling;
      const edit = next && next.matches("button.edit-record") ? next : null;
      if (res.done && !edit) {
        const attrs = `data-lawyer="${esc(res.lawyer)}" data-date="${esc(res.date)}" data-village="${esc(res.village)}"`;
        label.insertAdjacentHTML("afterend", editButton(attrs, label.textContent.trim()));
      } else if (!res.done && edit) edit.remove();
    });
  }
  sel.addEventListener("change", draw);
  // ticking a visit opens the ledger's record form; unticking removes the tick and its record
  const dialog = document.getElementById("visit-dialog");
  const form = document.getElementById("visit-form");
  const errBox = document.getElementById("visit-error");
  let pending = null, editing = false;
  function record() {
    const out = {services: Array.from(form.querySelectorAll("input[name=services]:checked")).map(b => b.value)};
    form.querySelectorAll("input:not([type=checkbox]), select, textarea").forEach(el => { out[el.name] = el.value; });
    return out;
  }
  function fill(rec) {
    form.querySelectorAll("input[name=services]").forEach(b => { b.checked = (rec.services || []).includes(b.value); });
    form.querySelectorAll("input:not([type=checkbox]), textarea").forEach(el => { el.value = rec[el.name] == null ? "" : rec[el.name]; });
    form.elements.follow_up.value = rec.follow_up === true ? "是" : rec.follow_up === false ? "否" : "";
  }
  function openForm(box, rec) {
    pending = box;
    editing = Boolean(rec);
    form.reset();
    if (rec) fill(rec);
    errBox.textContent = "";
    document.getElementById("visit-what").textContent = `${box.dataset.date} · ${box.dataset.lawyer} · ${box.parentElement.textContent.trim()}`;
    dialog.showModal();
  }
  function cancel() {
    if (pending && !editing) pending.checked = false;
    pending = null;
    dialog.close();
  }
  document.getElementById("visit-cancel").addEventListener("click", cancel);
  dialog.addEventListener("cancel", e => { e.preventDefault(); cancel(); });
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const t = pending; if (!t) return;
    try {
      const res = await api("/api/circuits/visits", {method: "POST", body: {month, lawyer: t.dataset.lawyer, date: t.dataset.date, village: t.dataset.village, done: true, ...record()}});
      pending = null;
      dialog.close();
      showVisit(res);
    } catch (err) { errBox.textContent = err.message; }
  });
  tbody.addEventListener("click", e => {
    const b = e.target.closest("button.edit-record"); if (!b) return;
    const box = b.previousElementSibling.querySelector("input.done");
    openForm(box, done.get(keyOf(b)));
  });
  tbody.addEventListener("change", async e => {
    const t = e.target; if (!t.classList.contains("done")) return;
    if (t.checked) { openForm(t); return; }
    try {
      showVisit(await api("/api/circuits/visits", {method: "POST", body: {month, lawyer: t.dataset.lawyer, date: t.dataset.date, village: t.dataset.village, done: false}}));
    } catch (err) { t.checked = true; alert(err.message); }
  });
  draw();
})();
