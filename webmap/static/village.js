/* A village's page: the village and the points its table names (room, each service by car). */
"use strict";
(async function () {
  const {esc, baseMap, servicePoints} = window.DS;
  const data = JSON.parse(document.getElementById("village-map-data").textContent);
  const map = await baseMap("map");
  const v = data.village;
  const bounds = L.latLngBounds([[v.lat, v.lon]]);
  const fc = {type: "FeatureCollection", features: data.points.map(p => {
    bounds.extend([p.lat, p.lon]);
    return {type: "Feature", geometry: {type: "Point", coordinates: [p.lon, p.lat]},
      properties: p};
  })};
  servicePoints(map, fc, p => `<b>${esc(p.name)}</b><br>${p.for.map(esc).join("<br>")}` +
    `<br>${esc(p.opening_hours || "")}${p.phone ? `<br>☎ <a href="tel:${esc(p.phone)}">${esc(p.phone)}</a>` : ""}`);
  L.marker([v.lat, v.lon], {title: v.name, alt: v.name, zIndexOffset: 1000, keyboard: false,
    icon: L.divIcon({className: "ds-here", iconSize: null, html: `<span data-code="${esc(v.code)}"></span>`})})
    .bindTooltip(esc(v.name), {permanent: true, direction: "right", offset: [8, 0]}).addTo(map);
  map.fitBounds(bounds.pad(0.25), {maxZoom: 14, animate: false});
  map.getContainer().dataset.ready = String(data.points.length);  // drawn and placed (tests wait on it)
})();
