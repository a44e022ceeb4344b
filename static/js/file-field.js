// A file input drawn as a translated label: shows the chosen file's name beside it.
(function () {
  "use strict";
  document.querySelectorAll(".file-field input[type=file]").forEach(function (input) {
    var name = input.parentNode.querySelector(".file-name");
    if (!name) { return; }
    input.addEventListener("change", function () {
      name.textContent = input.files.length ? input.files[0].name : name.getAttribute("data-none");
    });
  });
})();
