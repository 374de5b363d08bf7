// Enhancements only: every page works without this script.
// 1. The authority list filters as you type (the search form still submits without it).
// 2. Tables marked data-cspa-sortable sort by a column when its header button is pressed.
(function () {
  "use strict";
  function filterList(input) {
    var table = document.getElementById(input.getAttribute("data-cspa-filter"));
    var status = document.getElementById("filter-status");
    if (!table) { return; }
    var rows = table.tBodies[0].rows;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var match = !q || (rows[i].getAttribute("data-search") || "").indexOf(q) !== -1;
        if (match) { rows[i].removeAttribute("data-cspa-hidden"); shown++; }
        else { rows[i].setAttribute("data-cspa-hidden", ""); }
      }
      if (status) { status.textContent = shown + (shown === 1 ? " authority" : " authorities") + " shown"; }
    });
  }
  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "cspa-sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
          var nx = parseFloat(x.replace(/[^0-9.\-]/g, "")), ny = parseFloat(y.replace(/[^0-9.\-]/g, ""));
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          if (x === "") { return 1; }
          if (y === "") { return -1; }
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-cspa-filter]").forEach(filterList);
    document.querySelectorAll("table[data-cspa-sortable]").forEach(sortable);
  });
})();
