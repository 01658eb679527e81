/* Type-ahead for the product fields of the warehouse forms (a line's SKU or barcode, a counted product found on the
   shelf): after a pause in typing a name, the first matches from /api/v1/products/search are offered as a list
   under the field; choosing one puts its SKU in the field. Nothing else changes: the server resolves whatever the
   field holds (SKU, barcode, a scanned GS1 string), so the form works the same without this script, and a scanned
   or typed code (digits, or a string without letters) is never searched for. */
(function () {
  "use strict";

  var fields = document.querySelectorAll("input[data-product-search]");
  if (!fields.length || !window.fetch) {
    return;
  }
  var WAIT_MS = 250;
  var LIMIT = 8;
  var counter = 0;

  function looksLikeName(text) {
    return text.length >= 2 && /[A-Za-z\u00C0-\u024F]/.test(text) && !/[\u001d()\]]/.test(text);
  }

  function attach(input) {
    var url = input.getAttribute("data-product-search");
    var list = document.createElement("datalist");
    counter += 1;
    list.id = "product-search-" + counter;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var timer = null;
    var asked = "";
    var pending = null;

    function fill(results) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      results.forEach(function (product) {
        var option = document.createElement("option");
        option.value = product.sku;
        option.label = product.name;
        option.textContent = product.name;
        list.appendChild(option);
      });
    }

    function search() {
      var text = input.value.trim();
      if (!looksLikeName(text) || text === asked) {
        return;
      }
      asked = text;
      if (pending && pending.abort) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      var address = url + "?limit=" + LIMIT + "&q=" + encodeURIComponent(text);
      fetch(address, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending ? pending.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (body) {
          if (input.value.trim() === text) {
            fill((body && body.results) || []);
          }
        })
        .catch(function () {
          /* offline or aborted: the field still takes a typed SKU or barcode */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, WAIT_MS);
    });
  }

  Array.prototype.forEach.call(fields, attach);
})();
