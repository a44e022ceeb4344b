// Result entry grid: browser-side checks before the server's. Marks cells that are not numbers
// and warns (without blocking) when disaggregations do not add up to the total or an option is
// larger than it.
(function () {
  "use strict";
  var form = document.getElementById("result-grid");
  if (!form) { return; }
  var box = document.getElementById("sum-warnings");
  var template = box ? box.getAttribute("data-template") : "";
  var overTemplate = box ? box.getAttribute("data-over-template") : "";
  var digits = { "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9", "٫": "." };

  function parse(text) {
    text = (text || "").trim().replace(/[٠-٩٫]/g, function (c) { return digits[c]; });
    if (document.documentElement.dir === "rtl" && text.indexOf(".") < 0) { text = text.replace(",", "."); }
    if (text === "") { return null; }
    var n = Number(text);
    return isNaN(n) ? NaN : n;
  }

  // The indicator's bounds (data-min, data-max), which a text input cannot carry as min and max.
  function outOfRange(input) {
    var n = parse(input.value);
    if (n === null || isNaN(n)) { return false; }
    var min = input.getAttribute("data-min"), max = input.getAttribute("data-max");
    return (min !== null && n < Number(min)) || (max !== null && n > Number(max));
  }

  function checkCell(input) {
    input.setCustomValidity("");  // else an earlier message keeps the cell invalid for good
    var message = "";
    if (input.value.trim() !== "") {
      if (!input.checkValidity()) { message = input.getAttribute("data-error"); }
      else if (outOfRange(input)) { message = input.getAttribute("data-range-error"); }
    }
    input.setAttribute("aria-invalid", message ? "true" : "false");
    input.setCustomValidity(message);
    return !message;
  }

  function sums() {
    var parts = {};
    form.querySelectorAll("tbody tr").forEach(function (row) {
      var category = row.getAttribute("data-category");
      var name = row.querySelector("th").firstChild.textContent.trim();
      var label = name.split(":")[0].trim();
      row.querySelectorAll("input[data-part]").forEach(function (input) {
        var part = input.getAttribute("data-part");
        parts[part] = parts[part] || { total: null, categories: {} };
        var value = parse(input.value);
        if (category === "") { parts[part].total = value; return; }
        var slot = parts[part].categories[category] = parts[part].categories[category] || { label: label, sum: 0, complete: true, options: [] };
        if (value === null || isNaN(value)) { slot.complete = false; } else { slot.sum += value; slot.options.push({ name: name, value: value }); }
      });
    });
    var messages = [];
    if (form.getAttribute("data-measure") !== "score") {
      Object.keys(parts).forEach(function (part) {
        var total = parts[part].total;
        if (total === null || isNaN(total)) { return; }
        Object.keys(parts[part].categories).forEach(function (code) {
          var slot = parts[part].categories[code];
          slot.options.forEach(function (option) {
            if (option.value > total) {
              messages.push(overTemplate.replace("{option}", option.name).replace("{value}", option.value).replace("{total}", total));
            }
          });
          if (slot.complete && Math.abs(slot.sum - total) > 1e-9) {
            messages.push(template.replace("{category}", slot.label).replace("{sum}", slot.sum).replace("{total}", total));
          }
        });
      });
    }
    if (!box) { return; }
    box.innerHTML = "";
    messages.forEach(function (m) { var p = document.createElement("p"); p.textContent = m; box.appendChild(p); });
    box.hidden = messages.length === 0;
  }

  form.addEventListener("input", function (event) {
    if (event.target.matches("input[data-part]")) { checkCell(event.target); sums(); }
  });
  form.addEventListener("submit", function (event) {
    var ok = true;
    form.querySelectorAll("input[data-part]").forEach(function (input) { ok = checkCell(input) && ok; });
    if (!ok) {
      event.preventDefault();
      var first = form.querySelector("input[aria-invalid='true']");
      if (first) { first.reportValidity(); first.focus(); }
    }
  });
})();
