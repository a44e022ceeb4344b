// Target grid: a block copied from Excel (rows as lines, cells as tabs) is spread across the grid
// from the cell it is pasted into. Cells are found by their place in the data (data-row,
// data-col: periods in order), not on screen, so on an Arabic page, where the first period
// stands at the right, the second value still goes to the second period. Without this script
// the form posts as it is.
(function () {
  "use strict";
  var form = document.getElementById("target-grid");
  if (!form) { return; }

  function cellAt(row, col) {
    return form.querySelector("input[data-row='" + row + "'][data-col='" + col + "']");
  }

  function rowsOf(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") { lines.pop(); }  // Excel ends a copy with a newline
    return lines.map(function (line) { return line.split("\t"); });
  }

  form.addEventListener("paste", function (event) {
    var start = event.target;
    if (!start.matches || !start.matches("input[data-row][data-col]") || start.readOnly) { return; }
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (text.indexOf("\t") < 0 && text.indexOf("\n") < 0 && text.indexOf("\r") < 0) { return; }  // one value: the browser pastes it
    event.preventDefault();
    var row0 = Number(start.getAttribute("data-row"));
    var col0 = Number(start.getAttribute("data-col"));
    rowsOf(text).forEach(function (values, i) {
      values.forEach(function (value, j) {
        var input = cellAt(row0 + i, col0 + j);
        if (!input || input.readOnly) { return; }
        input.value = value.replace(/[\u00a0\u202f]/g, " ").trim();
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });
})();
