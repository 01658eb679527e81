/* Goods receipt: a scan field for keyboard-wedge scanners. A scanned code (a GS1 element string with the GS
   separator, a ]C1 / ]d2 prefix or the "(01)...(17)...(10)..." form, or a plain barcode) is looked up through
   /api/v1/products/lookup and fills the next empty line: SKU, unit, lot and expiry. Enter in the scan field never
   submits the receipt; Enter in a line's SKU field looks that code up for its own line. Without this script the
   form still works: the server reads a GS1 string typed into a line's SKU field. */
(function () {
  "use strict";

  var GS = "\u001d";
  var form = document.querySelector("form[data-receipt]");
  var scan = document.querySelector("[data-scan]");
  if (!form || !scan || !window.fetch) {
    return;
  }
  var box = document.querySelector("[data-scan-box]");
  var status = document.querySelector("[data-scan-status]");
  var url = scan.getAttribute("data-lookup-url");
  if (box) {
    box.hidden = false;
  }

  function say(text) {
    if (status) {
      status.textContent = text || "";
    }
  }

  function message(name, n) {
    var text = scan.getAttribute("data-msg-" + name) || "";
    return text.replace("{n}", String(n));
  }

  function lines() {
    return Array.prototype.slice.call(form.querySelectorAll("[data-line]"));
  }

  function field(line, name) {
    return line.querySelector('[data-field="' + name + '"]');
  }

  function isEmpty(line) {
    var sku = field(line, "sku");
    return sku !== null && sku.value.trim() === "";
  }

  function setValue(element, value) {
    if (!element || value === null || value === undefined || value === "") {
      return;
    }
    if (element.tagName === "SELECT") {
      var known = Array.prototype.some.call(element.options, function (option) {
        return option.value === value;
      });
      if (!known) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        element.appendChild(option);
      }
    }
    element.value = value;
  }

  function lookup(code) {
    var address = url + "?code=" + encodeURIComponent(code);
    return fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (response) {
        if (response.status === 404) {
          return null;
        }
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error((body && body.message) || message("failed"));
          }
          return body;
        });
      }
    );
  }

  function fill(line, found) {
    setValue(field(line, "sku"), found.product.sku);
    if (found.unit) {
      setValue(field(line, "unit"), found.unit.name);
    }
    if (found.gs1) {
      var lot = field(line, "lot");
      var expiry = field(line, "expiry");
      if (lot && !lot.value.trim()) {
        setValue(lot, found.gs1.lot);
      }
      if (expiry && !expiry.value) {
        setValue(expiry, found.gs1.expiry);
      }
    }
    line.setAttribute("data-filled", found.product.sku);
    var qty = field(line, "qty");
    if (qty) {
      qty.focus();
    }
    say(message("filled", Number(line.getAttribute("data-line")) + 1) + " " + found.product.name);
  }

  function resolveInto(line, code) {
    return lookup(code).then(
      function (found) {
        if (found === null) {
          say(message("unknown") + " " + code.replace(new RegExp(GS, "g"), " "));
          return false;
        }
        fill(line, found);
        return true;
      },
      function (error) {
        say(error.message || message("failed"));
        return false;
      }
    );
  }

  function insertAtCursor(input, text) {
    var start = typeof input.selectionStart === "number" ? input.selectionStart : input.value.length;
    var end = typeof input.selectionEnd === "number" ? input.selectionEnd : start;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.selectionStart = input.selectionEnd = start + text.length;
  }

  // Some wedges send FNC1 as Ctrl+] (the keyboard's way of typing GS): keep it as the separator it stands for.
  function isGroupSeparator(event) {
    return event.ctrlKey && !event.altKey && (event.key === "]" || event.code === "BracketRight");
  }

  scan.addEventListener("keydown", function (event) {
    if (isGroupSeparator(event)) {
      event.preventDefault();
      insertAtCursor(scan, GS);
      return;
    }
    if (event.key !== "Enter") {
      return;
    }
    event.preventDefault();
    var code = scan.value.replace(/^[\r\n]+|[\r\n]+$/g, "");
    if (!code.trim()) {
      return;
    }
    var target = lines().filter(isEmpty)[0];
    if (!target) {
      say(message("full"));
      return;
    }
    scan.value = "";
    resolveInto(target, code).then(function (ok) {
      if (!ok) {
        scan.value = code;
        scan.focus();
      }
    });
  });

  // In the lines, Enter (which scanners send after each code) moves on instead of submitting the receipt;
  // in a SKU field it looks the code up for that line first.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || !target.closest) {
      return;
    }
    var line = target.closest("[data-line]");
    if (!line) {
      return;
    }
    if (isGroupSeparator(event) && target.getAttribute("data-field") === "sku") {
      event.preventDefault();
      insertAtCursor(target, GS);
      return;
    }
    if (event.key !== "Enter") {
      return;
    }
    event.preventDefault();
    if (target.getAttribute("data-field") === "sku" && target.value.trim()) {
      resolveInto(line, target.value);
      return;
    }
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-line] input, [data-line] select"));
    var next = inputs[inputs.indexOf(target) + 1];
    if (next) {
      next.focus();
    }
  });
})();
