// Rampart report: filters, search, sorting and theme. Reads the page's own DOM only; never
// writes markup (no innerHTML), so server-supplied text can only ever be text.
(function () {
  "use strict";
  var doc = document;
  var $ = function (id) { return doc.getElementById(id); };

  Array.prototype.forEach.call(doc.querySelectorAll(".js-only"), function (el) { el.hidden = false; });

  // Theme: auto → dark → light → auto.
  var themes = ["auto", "dark", "light"];
  var toggle = $("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var cur = doc.documentElement.getAttribute("data-theme") || "auto";
      var next = themes[(themes.indexOf(cur) + 1) % themes.length];
      if (next === "auto") { doc.documentElement.removeAttribute("data-theme"); } else { doc.documentElement.setAttribute("data-theme", next); }
      toggle.textContent = "Theme: " + next;
    });
  }

  // Findings filters.
  var table = $("findings-table");
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var sevBoxes = Array.prototype.slice.call(doc.querySelectorAll("#filters input[data-sev]"));
  var rule = $("f-rule"), host = $("f-host"), fresh = $("f-new"), search = $("f-search"), count = $("f-count"), empty = $("f-empty");
  var texts = null;
  function apply() {
    var sev = {};
    sevBoxes.forEach(function (b) { sev[b.getAttribute("data-sev")] = b.checked; });
    var r = rule ? rule.value : "", h = host ? host.value : "", n = fresh ? fresh.checked : false;
    var q = search ? search.value.trim().toLowerCase() : "";
    if (q && !texts) { texts = rows.map(function (row) { return row.textContent.toLowerCase(); }); }
    var shown = 0;
    rows.forEach(function (row, i) {
      var d = row.dataset;
      var ok = sev[d.sev] !== false && (!r || d.rule === r) && (!h || d.host === h) && (!n || d["new"] === "1") && (!q || texts[i].indexOf(q) !== -1);
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    if (count) { count.textContent = shown === rows.length ? rows.length + " active" : shown + " of " + rows.length + " shown"; }
    if (empty) { empty.hidden = shown !== 0 || rows.length === 0; }
  }
  sevBoxes.forEach(function (b) { b.addEventListener("change", apply); });
  [rule, host, fresh].forEach(function (el) { if (el) { el.addEventListener("change", apply); } });
  if (search) { search.addEventListener("input", apply); }
  var clear = $("f-clear");
  if (clear) {
    clear.addEventListener("click", function () {
      sevBoxes.forEach(function (b) { b.checked = true; });
      if (rule) { rule.value = ""; }
      if (host) { host.value = ""; }
      if (fresh) { fresh.checked = false; }
      if (search) { search.value = ""; }
      apply();
    });
  }
  var filters = $("filters");
  if (filters) { filters.addEventListener("submit", function (e) { e.preventDefault(); }); }

  // Sortable tables: click a header; numbers sort numerically, data-sort overrides cell text.
  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v !== null ? v : cell.textContent.trim();
  }
  Array.prototype.forEach.call(doc.querySelectorAll("table.sortable"), function (t) {
    var heads = t.tHead ? t.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var desc = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(heads, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        var body = t.tBodies[0];
        var list = Array.prototype.slice.call(body.rows);
        var keys = list.map(function (r) { return key(r, col); });
        var numeric = keys.every(function (k) { return k === "" || k === "—" || !isNaN(parseFloat(k)); });
        var idx = list.map(function (_, i) { return i; });
        idx.sort(function (a, b) {
          var x = keys[a], y = keys[b], c;
          if (numeric) { c = (parseFloat(x) || 0) - (parseFloat(y) || 0); } else { c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" }); }
          if (c === 0) { c = a - b; } else if (desc) { c = -c; }
          return c;
        });
        var frag = doc.createDocumentFragment();
        idx.forEach(function (i) { frag.appendChild(list[i]); });
        body.appendChild(frag);
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });

  // Print everything expanded, then restore.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(doc.querySelectorAll("details:not([open])"), function (d) { d.open = true; return true; });
  });
  window.addEventListener("afterprint", function () { opened.forEach(function (d) { d.open = false; }); opened = []; });

  apply();
})();
