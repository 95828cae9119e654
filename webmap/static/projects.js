/* 四个一 projects: ask before a delete form is sent (the forms work without this script). */
"use strict";
(function () {
  document.querySelectorAll("form.confirm").forEach(f => {
    f.addEventListener("submit", e => {
      if (!window.confirm(f.dataset.confirm || "确定？ Are you sure?")) e.preventDefault();
    });
  });
})();
