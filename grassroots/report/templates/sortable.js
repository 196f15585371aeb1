// Sort a table.sortable by the header clicked (numbers by their data-sort value, text by locale), and
// show only the rows of the prefecture chosen in its filter.  No external resource; nothing is sent.
(function () {
  function key(td) { var v = td.getAttribute("data-sort"); return v === null ? td.textContent : v; }
  function sortBy(table, th) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny) && String(nx) !== "NaN" && /^[-+0-9.eE]+$/.test(x) && /^[-+0-9.eE]+$/.test(y))
        ? nx - ny : String(x).localeCompare(String(y));
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var head = table.tHead.rows[table.tHead.rows.length - 1];
    Array.prototype.forEach.call(head.cells, function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); } });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("select[data-filter-for]"), function (sel) {
    var table = document.getElementById(sel.getAttribute("data-filter-for"));
    sel.addEventListener("change", function () {
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = sel.value !== "" && r.getAttribute("data-filter") !== sel.value;
      });
    });
  });
})();
