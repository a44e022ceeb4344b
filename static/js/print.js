// The print button of the page header: shown only when this script runs (without it the button
// could do nothing), and prints the page; the print stylesheet leaves out the header and buttons.
(function () {
  "use strict";
  document.querySelectorAll("button.print-page").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
