// The print button of the page header: shown only when this script runs (without it the button
// could do nothing), and prints the page; the print stylesheet leaves out the header and buttons.
// Folded details (the numbers behind a chart, an indicator's definition) are printed open, and
// folded again afterwards.
(function () {
  "use strict";
  document.querySelectorAll("button.print-page").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details:not([open])"), function (details) {
      details.open = true;
      return true;
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
})();
