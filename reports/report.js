"use strict";
// Sort, filter and search for the report's tables. Without JavaScript every row stays visible.
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b);
  }
  function setup(table) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    var bar = document.createElement("div");
    bar.className = "controls";
    var search = document.createElement("input");
    search.type = "search";
    search.placeholder = "Search this table";
    search.setAttribute("aria-label", "Search " + (table.getAttribute("aria-label") || "table"));
    bar.appendChild(search);
    var select = null, filterIndex = -1;
    var filterName = table.getAttribute("data-filter");
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    for (var h = 0; h < heads.length; h++) {
      if (heads[h].textContent.trim() === filterName) { filterIndex = h; }
    }
    if (filterIndex >= 0) {
      select = document.createElement("select");
      select.setAttribute("aria-label", "Filter by " + filterName);
      var all = document.createElement("option");
      all.value = "";
      all.textContent = "every " + filterName;
      select.appendChild(all);
      var seen = {};
      rows.forEach(function (row) {
        var v = cellValue(row, filterIndex);
        if (!Object.prototype.hasOwnProperty.call(seen, v)) {
          seen[v] = true;
          var option = document.createElement("option");
          option.value = v;
          option.textContent = v;
          select.appendChild(option);
        }
      });
      bar.appendChild(select);
    }
    var count = document.createElement("span");
    count.className = "count";
    count.setAttribute("aria-live", "polite");
    bar.appendChild(count);
    table.parentNode.insertBefore(bar, table);
    function apply() {
      var query = search.value.toLowerCase(), wanted = select ? select.value : "", shown = 0;
      rows.forEach(function (row) {
        var ok = (!query || row.textContent.toLowerCase().indexOf(query) >= 0) &&
                 (!wanted || cellValue(row, filterIndex) === wanted);
        row.hidden = !ok;
        if (ok) { shown++; }
      });
      count.textContent = shown + " of " + rows.length + " rows";
    }
    search.addEventListener("input", apply);
    if (select) { select.addEventListener("change", apply); }
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var order = compare(cellValue(a, index), cellValue(b, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), setup);
})();
