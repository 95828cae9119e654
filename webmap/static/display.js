// Large text / high contrast: one switch, remembered on this phone (localStorage), applied
// before the page paints (this script runs in <head>) so the page never flashes small.
(function () {
  "use strict";
  var KEY = "doorstep-display";
  var root = document.documentElement;
  function stored() {
    try { return window.localStorage.getItem(KEY) === "large"; } catch (e) { return false; }
  }
  function apply(on) {
    root.classList.toggle("large", on);
    var b = document.getElementById("display-toggle");
    if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    var b = document.getElementById("display-toggle");
    if (!b) return;
    b.addEventListener("click", function () {
      var on = !root.classList.contains("large");
      try { window.localStorage.setItem(KEY, on ? "large" : "normal"); } catch (e) { /* private mode */ }
      apply(on);
    });
  });
})();
