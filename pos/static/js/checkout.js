// The till: scan field, cart, member, payments, shift, returns and held carts over /api/v1, keyboard first.
//
// - The scan field keeps the focus. A keyboard-wedge scanner types fast and ends with Enter; hand typing ends with
//   Enter too. Each Enter takes the field's value at once and queues it, so a scan that races the previous one is
//   never dropped; the queue is worked off in order.
// - The cart lives in localStorage (survives a reload); the server prices it on every change (POST /api/v1/cart):
//   prices, tax and totals shown here are the server's, never computed by the page.
// - A sale gets a UUID once; the request is kept in localStorage until the server answers, and sent again (same
//   id) after a timeout, a reload or a server restart. Double clicks and double Enter never make two sales.
const root = document.querySelector("[data-checkout]");

if (root) {
  const TILL = root.dataset.till;
  const CSRF = root.dataset.csrf;
  const MSG = JSON.parse(root.querySelector("[data-messages]").textContent);
  const KEY_CART = `kasir:${TILL}:cart`;
  const KEY_OUTBOX = `kasir:${TILL}:outbox`;
  const FAST_KEY_MS = 35; // a scanner types faster than this per key
  const $ = (sel, el = root) => el.querySelector(sel);
  const $$ = (sel, el = root) => Array.from(el.querySelectorAll(sel));
  const scan = $("[data-scan]");
  const statusLine = $("[data-status]");
  const dialogs = Object.fromEntries($$("dialog[data-dialog]").map((d) => [d.dataset.dialog, d]));
  const rupiah = (n) => (n < 0 ? "-" : "") + "Rp " + Math.abs(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : `{${k}}`));
  const qtyText = (q) => String(q).replace(".", ",");
  const dateText = (iso) => iso.split("-").reverse().join("/"); // 2026-12-01 -> 01/12/2026

  let state = loadCart();
  let quote = null;
  let shiftId = root.dataset.shift ? Number(root.dataset.shift) : null;
  let selected = state.lines.length - 1;
  let payments = [];
  let paying = null; // the sale request being paid (its id stays until the server answers)
  let lastSale = null;
  let pendingSale = null;

  // --- talking to the server ---------------------------------------------------------------------------------

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = CSRF;
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (error) {
      return { ok: false, status: 0, data: { message: MSG.offline } };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = { message: MSG.offline };
    }
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    return { ok: response.ok, status: response.status, data, retryAfter };
  }

  function say(text, kind = "") {
    statusLine.textContent = text || "";
    statusLine.dataset.kind = kind;
  }

  function uuid() {
    const b = crypto.getRandomValues(new Uint8Array(16)); // works on a shop LAN's plain http too
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // --- the cart ----------------------------------------------------------------------------------------------

  function loadCart() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY_CART) || "null");
      if (saved && Array.isArray(saved.lines)) return saved;
    } catch (error) { /* a damaged cart starts afresh */ }
    return { lines: [], member: null, memberName: null, discount: 0, approval: null };
  }

  function saveCart() {
    localStorage.setItem(KEY_CART, JSON.stringify(state));
  }

  function cartRequest() {
    const body = { till: TILL, lines: state.lines.map((line) => {
      const out = { code: line.code };
      for (const key of ["qty", "unit", "discount", "price_override", "approval", "batch", "batch_reason"]) {
        if (line[key] !== undefined && line[key] !== null && line[key] !== "" && line[key] !== 0) out[key] = line[key];
      }
      return out;
    }) };
    if (state.member) body.member = state.member;
    if (state.discount) {
      body.discount = state.discount;
      body.approval = state.approval;
    }
    return body;
  }

  let quoting = null;
  let quoteAgain = false;

  async function requote() {
    saveCart();
    if (quoting) {
      quoteAgain = true;
      return quoting;
    }
    quoting = (async () => {
      do {
        quoteAgain = false;
        if (!state.lines.length) {
          quote = null;
          await api("POST", "/api/v1/cart", { till: TILL, lines: [], member: state.member || undefined });
          render();
          continue;
        }
        const answer = await api("POST", "/api/v1/cart", cartRequest());
        if (answer.ok) {
          quote = answer.data;
          if (answer.data.member) state.memberName = answer.data.member.name;
        } else {
          const field = answer.data.details && answer.data.details.field;
          const match = field && /^lines\[(\d+)\]/.exec(field);
          if (match && /\.(approval|price_override|discount)$/.test(field)) {
            dropOverride(Number(match[1]));  // an approval that ran out: the line goes back to its own price
            say(answer.data.message, "error");
            quoteAgain = true;
          } else if (match) {
            const bad = state.lines[Number(match[1])];
            state.lines.splice(Number(match[1]), 1); // the line that cannot be sold leaves the cart
            selected = Math.min(selected, state.lines.length - 1);
            say(`${bad ? bad.code : ""}: ${answer.data.message}`, "error");
            beep();
            quoteAgain = true;
          } else if (field === "member") {
            state.member = null;
            state.memberName = null;
            say(answer.data.message, "error");
            quoteAgain = true;
          } else if (field === "discount" || field === "approval") {
            state.discount = 0;
            state.approval = null;
            say(answer.data.message, "error");
            quoteAgain = true;
          } else {
            say(answer.data.message, "error");
          }
          saveCart();
        }
        render();
      } while (quoteAgain);
    })();
    try {
      await quoting;
    } finally {
      quoting = null;
    }
  }

  function dropOverride(i) {
    const line = state.lines[i];
    if (!line) return;
    delete line.price_override;
    delete line.discount;
    delete line.approval;
    saveCart();
  }

  function beep() {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = 330;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
    } catch (error) { /* no sound card: the message shows anyway */ }
  }

  function render() {
    const body = $("[data-lines]");
    body.textContent = "";
    const priced = quote && quote.lines.length === state.lines.length ? quote.lines : null;
    state.lines.forEach((line, i) => {
      const p = priced ? priced[i] : null;
      const tr = document.createElement("tr");
      tr.dataset.line = String(i);
      if (i === selected) tr.classList.add("selected");
      const cells = [
        String(i + 1),
        p ? p.name : line.code,
        null, // quantity input
        null, // unit select
        p ? rupiah(p.unit_price) : "…",
        p && p.discount ? rupiah(p.discount) : "",
        p ? rupiah(p.total) : "…",
        null,
      ];
      cells.forEach((text, k) => {
        const td = document.createElement("td");
        if (k === 2) {
          const input = document.createElement("input");
          input.value = qtyText(p ? p.qty : (line.qty || "1"));
          input.inputMode = "decimal";
          input.className = "qty";
          input.setAttribute("aria-label", MSG.qty);
          input.readOnly = Boolean(p && p.from_label);
          input.addEventListener("keydown", (event) => {
            if (event.key === "Enter" || event.key === "Escape") {
              event.preventDefault();
              if (event.key === "Enter") setQty(i, input.value);
              scan.focus();
            }
          });
          input.addEventListener("change", () => setQty(i, input.value));
          td.append(input);
          td.className = "num";
        } else if (k === 3) {
          if (p && p.units.length > 1 && !p.from_label) {
            const select = document.createElement("select");
            for (const name of p.units) {
              const option = new Option(name, name, false, name === p.unit);
              select.append(option);
            }
            select.addEventListener("change", () => {
              line.unit = select.value;
              requote();
              scan.focus();
            });
            td.append(select);
          } else {
            td.textContent = p ? p.unit : (line.unit || "");
          }
        } else if (k === 7) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = "×";
          button.className = "remove";
          button.setAttribute("aria-label", MSG.remove);
          button.addEventListener("click", () => removeLine(i));
          td.append(button);
        } else {
          td.textContent = text;
          if (k >= 4) td.className = "num";
        }
        if (k === 1 && p) {
          const notes = [];
          if (p.tier !== "public") notes.push(MSG[`tier_${p.tier}`] || p.tier);
          if (p.capped_at_het) notes.push(MSG.het);
          if (p.approved_by) notes.push(fill(MSG.approved_by, { name: p.approved_by }));
          if (p.available !== undefined && Number(p.available) < Number(p.qty)) {
            notes.push(fill(MSG.stock_left, { qty: qtyText(p.available) }));
          }
          if (notes.length) {
            const small = document.createElement("small");
            small.className = "muted";
            small.textContent = " · " + notes.join(" · ");
            td.append(small);
          }
        }
        tr.append(td);
      });
      tr.addEventListener("click", (event) => {
        selected = i;
        if (!(event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement)) scan.focus();
        markSelected();
      });
      body.append(tr);
    });
    $("[data-empty]").hidden = state.lines.length > 0;
    const total = quote ? quote.total : 0;
    $("[data-subtotal]").textContent = rupiah(quote ? quote.subtotal : 0);
    $("[data-discount]").textContent = rupiah(quote ? quote.discount : 0);
    $("[data-tax]").textContent = rupiah(quote ? quote.tax : 0);
    $("[data-total]").textContent = rupiah(total);
    $("[data-member]").textContent = state.memberName || state.member || MSG.member_none;
    const quick = $("[data-quick]");
    quick.textContent = "";
    (quote ? quote.quick_amounts : []).forEach((amount, n) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = rupiah(amount);
      button.title = `Alt+${n + 1}`;
      button.addEventListener("click", () => payCash(amount));
      quick.append(button);
    });
  }

  function markSelected() {
    $$("[data-lines] tr").forEach((tr, i) => tr.classList.toggle("selected", i === selected));
  }

  function setQty(i, text) {
    const value = String(text).trim().replace(/\./g, "").replace(",", ".");
    if (!/^\d+(\.\d{1,3})?$/.test(value) || Number(value) <= 0) {
      say(MSG.qty + ": " + text, "error");
      render();
      return;
    }
    state.lines[i].qty = value;
    requote();
  }

  function removeLine(i) {
    if (i < 0 || i >= state.lines.length) return;
    state.lines.splice(i, 1);
    selected = Math.min(i, state.lines.length - 1);
    requote();
    scan.focus();
  }

  function changeQty(delta) {
    const line = state.lines[selected];
    const p = quote && quote.lines[selected];
    if (!line || (p && p.from_label)) return;
    const now = Number(line.qty || (p ? p.qty : 1));
    const next = Math.round((now + delta) * 1000) / 1000;
    if (next <= 0) {
      removeLine(selected);
      return;
    }
    line.qty = String(next);
    requote();
  }

  // --- scanning ----------------------------------------------------------------------------------------------

  const queue = [];
  let working = false;

  function enqueue(text) {
    queue.push(text);
    if (!working) work();
  }

  async function work() {
    working = true;
    while (queue.length) {
      await take(queue.shift());
    }
    working = false;
  }

  async function take(raw) {
    let text = raw.trim();
    if (!text) return;
    if (!shiftId) {
      say(MSG.no_shift, "error");
      openShiftDialog();
      return;
    }
    let qty = null;
    const multiplier = /^(\d+(?:[.,]\d{1,3})?)\*(.*)$/.exec(text);
    if (multiplier) {
      qty = multiplier[1].replace(",", ".");
      text = multiplier[2].trim();
      if (!text) {
        if (state.lines[selected]) setQty(selected, qty);
        return;
      }
    }
    if (/^AGT-\d{1,6}$/i.test(text)) { // a member card
      await chooseMember(text);
      return;
    }
    const existing = state.lines.findIndex((line) => line.code === text && !line.price_override && !line.discount);
    const p = existing >= 0 && quote ? quote.lines[existing] : null;
    if (existing >= 0 && !(p && p.from_label) && !qty) {
      const line = state.lines[existing];
      line.qty = String(Math.round((Number(line.qty || (p ? p.qty : 1)) + 1) * 1000) / 1000);
      selected = existing;
    } else {
      state.lines.push(qty ? { code: text, qty } : { code: text });
      selected = state.lines.length - 1;
    }
    say("");
    await requote();
  }

  // Search as you type (names, SKUs, barcodes): only for hand typing, never for a scanner's fast keys.
  let lastKey = 0;
  let fastKeys = 0;
  let searchTimer = null;
  let suggestions = [];
  let highlighted = -1;
  const list = $("[data-suggestions]");

  function closeSuggestions() {
    suggestions = [];
    highlighted = -1;
    list.hidden = true;
    list.textContent = "";
    scan.setAttribute("aria-expanded", "false");
  }

  async function search(text) {
    const answer = await api("GET", `/api/v1/products/search?q=${encodeURIComponent(text)}&limit=8`);
    if (!answer.ok || scan.value.trim() !== text) return;
    suggestions = answer.data.results;
    highlighted = -1;
    list.textContent = "";
    suggestions.forEach((item, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = `suggestion-${i}`;
      li.textContent = `${item.name} · ${rupiah(item.public_price)} / ${item.base_unit}`;
      const sku = document.createElement("small");
      sku.className = "muted";
      sku.textContent = ` ${item.sku}`;
      li.append(sku);
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(i);
      });
      list.append(li);
    });
    list.hidden = suggestions.length === 0;
    scan.setAttribute("aria-expanded", String(!list.hidden));
  }

  function pick(i) {
    const item = suggestions[i];
    const typed = scan.value.trim();
    const multiplier = /^(\d+(?:[.,]\d{1,3})?)\*/.exec(typed);
    scan.value = "";
    closeSuggestions();
    if (item) enqueue((multiplier ? multiplier[0] : "") + item.sku);
  }

  function highlight(i) {
    highlighted = i;
    $$("li", list).forEach((li, k) => li.setAttribute("aria-selected", String(k === i)));
    scan.setAttribute("aria-activedescendant", i >= 0 ? `suggestion-${i}` : "");
  }

  scan.addEventListener("keydown", (event) => {
    const now = performance.now();
    if (event.key.length === 1) {
      fastKeys = now - lastKey < FAST_KEY_MS ? fastKeys + 1 : 0;
      lastKey = now;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      const text = scan.value;
      scan.value = "";
      const typed = text.trim();
      if (highlighted >= 0) {
        scan.value = text;
        pick(highlighted);
        return;
      }
      const byHand = fastKeys < 4 && /[a-z]/i.test(typed) && /\s/.test(typed) && suggestions.length > 0;
      closeSuggestions();
      if (byHand) {
        scan.value = text;
        pick(0);
        return;
      }
      fastKeys = 0;
      enqueue(text);
      return;
    }
    if (event.key === "ArrowDown" && suggestions.length) {
      event.preventDefault();
      highlight(Math.min(highlighted + 1, suggestions.length - 1));
      return;
    }
    if (event.key === "ArrowUp" && suggestions.length) {
      event.preventDefault();
      highlight(Math.max(highlighted - 1, -1));
      return;
    }
    if (event.key === "Escape") {
      closeSuggestions();
      scan.value = "";
      return;
    }
    if (scan.value === "") {
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        event.preventDefault();
        selected = Math.max(0, Math.min(state.lines.length - 1, selected + (event.key === "ArrowUp" ? -1 : 1)));
        markSelected();
        return;
      }
      if (event.key === "+" || event.key === "-") {
        event.preventDefault();
        changeQty(event.key === "+" ? 1 : -1);
        return;
      }
      if (event.key === "Delete") {
        event.preventDefault();
        removeLine(selected);
      }
    }
  });

  scan.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const text = scan.value.trim().replace(/^\d+(?:[.,]\d{1,3})?\*/, "");
    if (text.length < 2 || fastKeys >= 4 || !/[a-z]/i.test(text)) {
      closeSuggestions();
      return;
    }
    searchTimer = setTimeout(() => search(scan.value.trim().replace(/^\d+(?:[.,]\d{1,3})?\*/, "")), 120);
  });

  // The scan field keeps the focus, unless the cashier is in a dialog or a cart field.
  function anyDialogOpen() {
    return Object.values(dialogs).some((d) => d.open);
  }
  scan.addEventListener("blur", () => {
    setTimeout(() => {
      const active = document.activeElement;
      // A click on the page's background gives the focus to nothing: the scan field takes it back. Tab to a
      // button, or a click into the cart, keeps its focus.
      if (!anyDialogOpen() && (!active || active === document.body)) scan.focus();
    }, 0);
  });

  // --- dialogs -----------------------------------------------------------------------------------------------

  function open(name) {
    const dialog = dialogs[name];
    $$("[data-error]", dialog).forEach((el) => { el.textContent = ""; });
    if (!dialog.open) dialog.showModal();
    return dialog;
  }

  function close(name) {
    const dialog = dialogs[name];
    if (dialog.open) dialog.close();
    if (!anyDialogOpen()) scan.focus();
  }

  for (const [name, dialog] of Object.entries(dialogs)) {
    $$("[data-close]", dialog).forEach((b) => b.addEventListener("click", () => close(name)));
    dialog.addEventListener("close", () => {
      if (!anyDialogOpen()) setTimeout(() => scan.focus(), 0);
    });
  }

  function showError(dialog, data) {
    const el = $("[data-error]", dialog);
    el.textContent = data.message || MSG.offline;
    const field = data.details && data.details.field;
    if (field) {
      const input = dialog.querySelector(`[name="${field.split(".").pop().replace(/\[.*$/, "")}"]`);
      if (input) input.focus();
    }
  }

  const money = (text) => Number(String(text).replace(/[^\d]/g, "")) || 0;

  // --- shift -------------------------------------------------------------------------------------------------

  function openShiftDialog() {
    const dialog = open("shift");
    const input = $("[name=opening_float]", dialog);
    input.select();
    input.focus();
  }

  $("[data-form=shift]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = $("button[type=submit]", form);
    if (button.disabled) return;
    button.disabled = true;
    const answer = await api("POST", "/api/v1/shifts", { till: TILL, opening_float: money(form.opening_float.value) });
    button.disabled = false;
    if (!answer.ok) {
      showError(dialogs.shift, answer.data);
      return;
    }
    shiftId = answer.data.id;
    $("[data-shift-label]").textContent = fill(MSG.shift, { number: answer.data.number });
    close("shift");
  });

  async function xReport() {
    if (!shiftId) return openShiftDialog();
    const answer = await api("POST", `/api/v1/shifts/${shiftId}/x`, {});
    if (!answer.ok) return say(answer.data.message, "error");
    showReport(fill(MSG.x_report, { number: answer.data.number }), answer.data);
  }

  function showReport(title, shift, html) {
    const dialog = open("report");
    $("[data-report-title]", dialog).textContent = title;
    const box = $("[data-report]", dialog);
    box.textContent = "";
    const table = document.createElement("table");
    table.className = "data";
    for (const row of shift.methods) {
      const tr = table.insertRow();
      tr.insertCell().textContent = row.label;
      const expected = tr.insertCell();
      expected.className = "num";
      expected.textContent = rupiah(row.expected);
      const counted = tr.insertCell();
      counted.className = "num";
      counted.textContent = row.counted === null || row.counted === undefined ? "" : rupiah(row.counted);
    }
    box.append(table);
    if (html) {
      const receipt = document.createElement("div");
      receipt.className = "receipt-preview";
      receipt.innerHTML = html; // our own receipt renderer's escaped HTML
      box.append(receipt);
    }
  }

  function closeShiftDialog() {
    if (!shiftId) return openShiftDialog();
    const dialog = open("close");
    api("GET", `/api/v1/shifts/${shiftId}`).then((answer) => {
      if (answer.ok) {
        $("[data-expected]", dialog).textContent = fill(MSG.expected, { amount: rupiah(answer.data.expected_cash) });
      }
    });
    const first = $("[data-denomination]", dialog);
    first.select();
    first.focus();
    updateCounted();
  }

  function updateCounted() {
    const dialog = dialogs.close;
    let total = 0;
    $$("[data-denomination]", dialog).forEach((input) => {
      total += Number(input.dataset.denomination) * (Number(input.value.replace(/\D/g, "")) || 0);
    });
    $("[data-counted]", dialog).textContent = rupiah(total);
    return total;
  }

  $$("[data-denomination]").forEach((input) => {
    input.addEventListener("input", updateCounted);
    input.addEventListener("focus", () => input.select());
  });

  $("[data-form=close]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = $("[data-confirm-close]", form);
    if (button.disabled) return;
    const counted = updateCounted();
    if (!window.confirm(fill(MSG.confirm_close, { amount: rupiah(counted) }))) return;
    const denominations = {};
    $$("[data-denomination]", form).forEach((input) => {
      const pieces = Number(input.value.replace(/\D/g, "")) || 0;
      if (pieces) denominations[input.dataset.denomination] = pieces;
    });
    button.disabled = true;
    const answer = await api("POST", `/api/v1/shifts/${shiftId}/close`, { denominations, counted_cash: counted });
    button.disabled = false;
    if (!answer.ok) return showError(dialogs.close, answer.data);
    close("close");
    shiftId = null;
    $("[data-shift-label]").textContent = fill(MSG.z_report, { number: answer.data.number });
    const report = await fetch(answer.data.report_url, { credentials: "same-origin" });
    const html = report.ok ? new DOMParser().parseFromString(await report.text(), "text/html")
      .querySelector("[data-z-report]") : null;
    showReport(fill(MSG.z_report, { number: answer.data.number }), answer.data, html ? html.innerHTML : "");
  });

  // --- member ------------------------------------------------------------------------------------------------

  let memberChoices = [];

  function memberDialog() {
    const dialog = open("member");
    const input = $("[name=q]", dialog);
    input.value = "";
    $("[data-choices]", dialog).textContent = "";
    memberChoices = [];
    input.focus();
  }

  async function chooseMember(text) {
    const answer = await api("GET", `/api/v1/members?q=${encodeURIComponent(text)}`);
    const results = answer.ok ? answer.data.results : [];
    if (results.length === 1 || (results.length && results[0].number.toUpperCase() === text.toUpperCase())) {
      state.member = results[0].number;
      state.memberName = results[0].name;
      await requote();
      return true;
    }
    say(answer.ok ? `${MSG.unknown}: ${text}` : answer.data.message, "error");
    return false;
  }

  const memberForm = $("[data-form=member]");
  let memberTimer = null;
  memberForm.q.addEventListener("input", () => {
    clearTimeout(memberTimer);
    memberTimer = setTimeout(async () => {
      const text = memberForm.q.value.trim();
      const box = $("[data-choices]", memberForm);
      if (text.length < 2) {
        box.textContent = "";
        return;
      }
      const answer = await api("GET", `/api/v1/members?q=${encodeURIComponent(text)}`);
      memberChoices = answer.ok ? answer.data.results : [];
      box.textContent = "";
      memberChoices.forEach((m, i) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `${m.number} · ${m.name}`;
        button.addEventListener("click", () => setMember(i));
        li.append(button);
        box.append(li);
      });
    }, 150);
  });

  function setMember(i) {
    const m = memberChoices[i];
    if (!m) return;
    state.member = m.number;
    state.memberName = m.name;
    close("member");
    requote();
  }

  memberForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = memberForm.q.value.trim();
    if (!text) return;
    if (await chooseMember(text)) {
      close("member");
    } else if (memberChoices.length) {
      setMember(0);
    } else {
      $("[data-error]", memberForm).textContent = `${MSG.unknown}: ${text}`;
    }
  });

  $("[data-action=no-member]").addEventListener("click", () => {
    state.member = null;
    state.memberName = null;
    close("member");
    requote();
  });

  // --- price, discount (manager's approval) -----------------------------------------------------------------

  function approvalDialog() {
    if (!state.lines.length) return say(MSG.empty, "error");
    const dialog = open("approval");
    const p = quote && quote.lines[selected];
    $("[data-approval-line]", dialog).textContent = p ? `${p.name} · ${p.qty} ${p.unit} · ${rupiah(p.total)}` : "";
    const form = $("[data-form=approval]");
    form.amount.value = "";
    form.pin.value = "";
    form.amount.focus();
  }

  $("[data-form=approval]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const kind = form.kind.value;
    const amount = money(form.amount.value);
    const line = state.lines[selected];
    let action;
    let detail;
    if (kind === "receipt") {
      action = "discount";
      detail = { receipt: 1, discount: amount };
    } else if (kind === "price") {
      action = "price_override";
      detail = { code: line.code, price: amount };
      if (line.discount) detail.discount = line.discount;
    } else {
      action = "discount";
      detail = { code: line.code, discount: amount };
      if (line.price_override !== undefined && line.price_override !== null) {
        action = "price_override";
        detail = { code: line.code, price: line.price_override, discount: amount };
      }
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    const answer = await api("POST", "/api/v1/approvals", {
      action, approver: form.approver.value.trim(), pin: form.pin.value, reason: form.reason.value.trim(), detail,
    });
    button.disabled = false;
    form.pin.value = "";
    if (!answer.ok) return showError(dialogs.approval, answer.data);
    if (kind === "receipt") {
      state.discount = amount;
      state.approval = answer.data.approval;
    } else {
      if (kind === "price") line.price_override = amount;
      else line.discount = amount;
      line.approval = answer.data.approval;
    }
    close("approval");
    say(answer.data.message);
    requote();
  });

  // --- weighing ----------------------------------------------------------------------------------------------

  async function weigh() {
    const p = quote && quote.lines[selected];
    if (!p || !p.sell_by_weight || p.from_label) return say(MSG.not_weighed, "error");
    const answer = await api("GET", root.dataset.scaleUrl);
    if (!answer.ok) return say(answer.data.message, "error");
    state.lines[selected].qty = answer.data.kg;
    say(fill(MSG.weighed, { kg: qtyText(answer.data.kg) }));
    requote();
  }

  // --- held carts --------------------------------------------------------------------------------------------

  async function hold() {
    if (!state.lines.length) return say(MSG.empty, "error");
    const now = new Date();
    const label = state.memberName || `${String(now.getHours()).padStart(2, "0")}.${String(now.getMinutes()).padStart(2, "0")}`;
    const answer = await api("POST", "/api/v1/held", { till: TILL, label, cart: cartRequest() });
    if (!answer.ok) return say(answer.data.message, "error");
    clearCart();
    say(MSG.held);
  }

  async function heldDialog() {
    const dialog = open("held");
    const answer = await api("GET", `/api/v1/held?till=${TILL}`);
    const box = $("[data-held]", dialog);
    box.textContent = "";
    const rows = answer.ok ? answer.data.results : [];
    $("[data-held-empty]", dialog).hidden = rows.length > 0;
    rows.forEach((row) => {
      const li = document.createElement("li");
      const resume = document.createElement("button");
      resume.type = "button";
      resume.className = "primary";
      resume.textContent = `${MSG.resume}: ${row.label || row.id} · ${row.lines} · ${rupiah(row.total)}`;
      resume.addEventListener("click", () => takeHeld(row, "resume"));
      const discard = document.createElement("button");
      discard.type = "button";
      discard.textContent = MSG.discard;
      discard.addEventListener("click", () => takeHeld(row, "discard"));
      li.append(resume, " ", discard);
      box.append(li);
    });
    const first = $("button", box);
    if (first) first.focus();
  }

  async function takeHeld(row, action) {
    const answer = await api("POST", `/api/v1/held/${row.id}/${action}`, { till: TILL });
    if (!answer.ok) return showError(dialogs.held, answer.data);
    if (action === "resume") {
      if (state.lines.length) await hold(); // the cart on the till goes on hold in its place
      state = { lines: row.cart.lines, member: row.cart.member || null, memberName: null, discount: 0, approval: null };
      selected = state.lines.length - 1;
      say(MSG.resumed);
      close("held");
      requote();
    } else {
      heldDialog();
    }
  }

  function clearCart(afterSale = false) {
    state = { lines: [], member: null, memberName: null, discount: 0, approval: null };
    quote = null;
    selected = -1;
    payments = [];
    saveCart();
    render();
    // After a sale the customer screen keeps the total and change (or the QRIS code) until the next customer.
    if (!afterSale) requote();
  }

  // --- payment -----------------------------------------------------------------------------------------------

  const payForm = $("[data-form=pay]");

  function payDialog() {
    if (!shiftId) return openShiftDialog();
    if (!state.lines.length || !quote) return say(MSG.empty, "error");
    if (paying) return; // a sale is on its way: never a second one
    payments = [];
    const dialog = open("pay");
    $("[data-pay-total]", dialog).textContent = rupiah(quote.total);
    payForm.method.value = "cash";
    methodChanged();
    payForm.amount.value = "";
    payForm.amount.focus();
    updatePay();
  }

  function payCash(amount) {
    if (!state.lines.length || !quote || paying) return;
    payDialog();
    payForm.amount.value = String(amount);
    updatePay();
    payForm.requestSubmit();
  }

  function remaining() {
    const paid = payments.reduce((sum, p) => sum + p.amount, 0);
    return quote.total - paid;
  }

  function methodChanged() {
    const method = payForm.method.value;
    const needsReference = method === "transfer" || method === "debit";
    $("[data-reference]", payForm).hidden = !needsReference;
    if (method !== "cash") payForm.amount.value = String(Math.max(remaining(), 0));
    const quick = $("[data-pay-quick]", payForm);
    quick.textContent = "";
    if (method === "cash") {
      quickAmounts(remaining()).forEach((amount, n) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `${n + 1} · ${rupiah(amount)}`;
        button.addEventListener("click", () => {
          payForm.amount.value = String(amount);
          updatePay();
          payForm.requestSubmit();
        });
        quick.append(button);
      });
    }
    updatePay();
  }

  function quickAmounts(total) {
    if (total <= 0) return [];
    const found = [total];
    for (const step of [1000, 5000, 10000, 50000, 100000]) {
      const amount = Math.ceil(total / step) * step;
      if (!found.includes(amount)) found.push(amount);
    }
    return found.sort((a, b) => a - b).slice(0, 6);
  }

  function updatePay() {
    if (!quote) return;
    const method = payForm.method.value;
    const typed = money(payForm.amount.value);
    const left = remaining();
    const afterThis = left - typed;
    const change = method === "cash" && afterThis < 0 ? -afterThis : 0;
    $("[data-change]", payForm).textContent = rupiah(change);
    $("[data-remaining]", payForm).textContent = afterThis > 0 ? fill(MSG.short, { amount: rupiah(afterThis) }) : "";
    const lines = $("[data-pay-lines]", payForm);
    lines.textContent = "";
    payments.forEach((p) => {
      const li = document.createElement("li");
      li.textContent = `${MSG["method_" + p.method]} · ${rupiah(p.amount)}${p.reference ? " · " + p.reference : ""}`;
      lines.append(li);
    });
  }

  payForm.addEventListener("change", (event) => {
    if (event.target.name === "method") methodChanged();
  });
  payForm.amount.addEventListener("input", updatePay);
  payForm.addEventListener("keydown", (event) => {
    if (event.target === payForm.reference || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = { t: "cash", q: "qris", r: "transfer", d: "debit", k: "kasbon" };
    const method = keys[event.key.toLowerCase()];
    if (method && payForm.querySelector(`input[value=${method}]`)) {
      event.preventDefault();
      payForm.method.value = method;
      methodChanged();
      (method === "transfer" || method === "debit" ? payForm.reference : payForm.amount).focus();
      return;
    }
    if (event.key === "+") {
      event.preventDefault();
      addPayment();
      return;
    }
    if (/^[1-6]$/.test(event.key) && payForm.method.value === "cash" && event.target !== payForm.amount) {
      const button = $$("[data-pay-quick] button", payForm)[Number(event.key) - 1];
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
  });
  $("[data-action=add-payment]").addEventListener("click", addPayment);

  function addPayment() {
    const amount = money(payForm.amount.value);
    if (!amount) return;
    payments.push({ method: payForm.method.value, amount, reference: payForm.reference.value.trim() });
    payForm.amount.value = "";
    payForm.reference.value = "";
    payForm.method.value = "cash";
    methodChanged();
    payForm.amount.focus();
  }

  payForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (paying) return; // Enter pressed twice: the first request stands
    const amount = money(payForm.amount.value);
    const all = payments.slice();
    if (amount) all.push({ method: payForm.method.value, amount, reference: payForm.reference.value.trim() });
    if (!all.length) {
      payForm.amount.value = String(remaining());
      updatePay();
      return;
    }
    const request = { id: uuid(), ...cartRequest(), payments: all.map((p) => {
      const out = { method: p.method, amount: p.amount };
      if (p.reference) out.reference = p.reference;
      return out;
    }) };
    await sendSale(request);
  });

  function outbox() {
    try {
      return JSON.parse(localStorage.getItem(KEY_OUTBOX) || "[]");
    } catch (error) {
      return [];
    }
  }

  function setOutbox(items) {
    localStorage.setItem(KEY_OUTBOX, JSON.stringify(items));
    const box = $("[data-outbox]");
    box.textContent = "";
    items.forEach((item) => {
      const li = document.createElement("li");
      li.textContent = `${MSG.waiting} ${rupiah(item.request.payments.reduce((s, p) => s + p.amount, 0))} · ${item.message || ""}`;
      box.append(li);
    });
    box.hidden = items.length === 0;
  }

  async function sendSale(request) {
    paying = request;
    $("[data-pay-submit]", payForm).disabled = true;
    setOutbox([...outbox().filter((item) => item.request.id !== request.id), { request, message: "" }]);
    await deliver(request, true);
  }

  async function deliver(request, current) {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await api("POST", "/api/v1/sales", request);
      if (answer.ok) {
        setOutbox(outbox().filter((item) => item.request.id !== request.id));
        if (current || (paying && paying.id === request.id)) finished(answer.data);
        else say(fill(MSG.sent, { number: answer.data.number }));
        return answer.data;
      }
      if (answer.status === 401) {
        // signed out (idle too long): the sale stays on this till and goes out after the next sign-in
        setOutbox(outbox().map((item) => (item.request.id === request.id ? { ...item, message: answer.data.message } : item)));
        if (dialogs.pay.open) $("[data-error]", dialogs.pay).textContent = answer.data.message;
        else say(answer.data.message, "error");
        return null;
      }
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
        setOutbox(outbox().filter((item) => item.request.id !== request.id)); // refused: nothing was sold
        const field = (answer.data.details && answer.data.details.field) || "";
        const match = /^lines\[(\d+)\]\.(approval|price_override|discount)$/.exec(field);
        if (match) {
          dropOverride(Number(match[1]));
          requote();
        } else if (field === "approval") {
          state.discount = 0;
          state.approval = null;
          requote();
        }
        if (paying && paying.id === request.id) {
          paying = null;
          $("[data-pay-submit]", payForm).disabled = false;
          if (dialogs.pay.open) showError(dialogs.pay, answer.data);
          else say(answer.data.message, "error");
        }
        return null;
      }
      // no answer, or the server is busy (503, another writer holds the database): keep the sale and send it
      // again, same id; busy is answered quickly, so it is retried sooner, after the server's Retry-After
      const busy = answer.status === 503;
      const message = busy ? MSG.busy : MSG.offline;
      setOutbox(outbox().map((item) => (item.request.id === request.id ? { ...item, message } : item)));
      if (dialogs.pay.open) $("[data-error]", dialogs.pay).textContent = message;
      const pause = busy ? Math.min(1000 * (answer.retryAfter || 1), 5000) : Math.min(1000 * 2 ** Math.min(attempt, 3), 8000);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  async function finished(sale) {
    paying = null;
    $("[data-pay-submit]", payForm).disabled = false;
    close("pay");
    if (sale.status === "pending") {
      pendingSale = sale;
      clearCart(true);
      showQris(sale);
      return;
    }
    showDone(sale);
  }

  async function showDone(sale) {
    lastSale = sale;
    clearCart(true);
    const dialog = open("done");
    $("[data-done-number]", dialog).textContent = sale.number;
    $("[data-done-change]", dialog).textContent = rupiah(sale.change);
    $("[data-done-paid]", dialog).textContent = fill(MSG.paid, { amount: rupiah(sale.tendered) });
    const box = $("[data-receipt]", dialog);
    box.textContent = "";
    $("[data-action=next-sale]", dialog).focus();
    const answer = await api("GET", `/api/v1/sales/${sale.id}/receipt`);
    if (answer.ok) box.innerHTML = answer.data.html; // our own receipt renderer's escaped HTML
  }

  $("[data-action=next-sale]").addEventListener("click", () => {
    close("done");
    api("POST", "/api/v1/cart", { till: TILL, lines: [] });
  });
  $("[data-action=reprint]").addEventListener("click", async () => {
    if (!lastSale) return;
    const answer = await api("POST", `/api/v1/sales/${lastSale.id}/reprint`, {});
    say(answer.ok ? MSG.copy : answer.data.message, answer.ok ? "" : "error");
  });

  // --- QRIS --------------------------------------------------------------------------------------------------

  function showQris(sale) {
    const dialog = open("qris");
    $("[data-qris-amount]", dialog).textContent = rupiah(sale.qris ? sale.qris.amount : sale.total);
    $("[data-qris-number]", dialog).textContent = sale.number;
    $("[data-qris-image]", dialog).src = root.dataset.qrisUrl.replace("NUMBER", encodeURIComponent(sale.number));
    $("[data-action=qris-confirm]", dialog).focus();
    banner(fill(MSG.pending, { number: sale.number }));
  }

  function banner(text) {
    const el = $("[data-banner]");
    el.textContent = text || "";
    el.hidden = !text;
  }

  $("[data-action=qris-confirm]").addEventListener("click", async (event) => {
    if (!pendingSale || event.target.disabled) return;
    event.target.disabled = true;
    const answer = await api("POST", `/api/v1/sales/${pendingSale.id}/confirm`, {});
    event.target.disabled = false;
    if (!answer.ok) return showError(dialogs.qris, answer.data);
    pendingSale = null;
    banner("");
    close("qris");
    showDone(answer.data);
  });

  $("[data-action=qris-cancel]").addEventListener("click", async (event) => {
    if (!pendingSale || event.target.disabled) return;
    if (!window.confirm(fill(MSG.confirm_cancel, { number: pendingSale.number }))) return;
    event.target.disabled = true;
    const answer = await api("POST", `/api/v1/sales/${pendingSale.id}/cancel`, { reason: MSG.reason_cancel });
    event.target.disabled = false;
    if (!answer.ok) return showError(dialogs.qris, answer.data);
    say(fill(MSG.cancelled, { number: pendingSale.number }));
    pendingSale = null;
    banner("");
    close("qris");
  });

  $("[data-banner]").addEventListener("click", () => {
    if (pendingSale) showQris(pendingSale);
  });

  // --- returns and voids -------------------------------------------------------------------------------------

  const returnForm = $("[data-form=return]");
  let returnSale = null;
  let returnId = null;

  function returnDialog() {
    if (!shiftId) return openShiftDialog();
    returnSale = null;
    returnId = null;
    const dialog = open("return");
    returnForm.reset();
    $("[data-return-sale]", dialog).textContent = "";
    $("[data-return-more]", dialog).hidden = true;
    $("[data-return-auth]", dialog).hidden = true;
    $("[data-return-result]", dialog).hidden = true;
    returnForm.number.focus();
  }

  function renderReturnSale(sale) {
    const box = $("[data-return-sale]", returnForm);
    box.textContent = "";
    const title = document.createElement("p");
    title.textContent = `${sale.number} · ${rupiah(sale.total)} · ${dateText(sale.business_date)}${sale.member ? " · " + sale.member.name : ""}`;
    box.append(title);
    const table = document.createElement("table");
    table.className = "data compact";
    sale.lines.forEach((line) => {
      const left = Number(line.qty) - Number(line.returned_qty);
      const tr = table.insertRow();
      tr.insertCell().textContent = `${line.line}. ${line.name}`;
      tr.insertCell().textContent = `${qtyText(line.qty)} ${line.unit} · ${rupiah(line.net)}`;
      const cell = tr.insertCell();
      const input = document.createElement("input");
      input.name = `line-${line.line}`;
      input.dataset.returnLine = String(line.line);
      input.value = "0";
      input.inputMode = "decimal";
      input.disabled = left <= 0;
      input.setAttribute("aria-label", `${line.name}: ${fill(MSG.returnable, { qty: qtyText(left) })}`);
      cell.append(input);
      const note = document.createElement("small");
      note.className = "muted";
      note.textContent = " " + fill(MSG.returnable, { qty: qtyText(left) });
      cell.append(note);
    });
    box.append(table);
  }

  returnForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const dialog = dialogs.return;
    const button = $("button[type=submit]", returnForm);
    if (button.disabled) return;
    if (!returnSale) {
      const number = returnForm.number.value.trim();
      if (!number) return;
      const answer = await api("GET", `/api/v1/sales/${encodeURIComponent(number)}`);
      if (!answer.ok) return showError(dialog, answer.data);
      returnSale = answer.data;
      returnId = uuid();
      renderReturnSale(returnSale);
      $("[data-return-more]", dialog).hidden = false;
      $("[data-return-auth]", dialog).hidden = false;
      const first = $("[data-return-line]:not([disabled])", dialog);
      if (first) {
        first.select();
        first.focus();
      }
      return;
    }
    const isVoid = returnForm.void.checked;
    const lines = $$("[data-return-line]", dialog)
      .map((input) => ({ line: Number(input.dataset.returnLine), qty: input.value.trim().replace(/\./g, "").replace(",", ".") }))
      .filter((item) => Number(item.qty) > 0);
    if (!isVoid && !lines.length) {
      $("[data-error]", dialog).textContent = MSG.empty;
      return;
    }
    button.disabled = true;
    try {
      const approval = await api("POST", "/api/v1/approvals", {
        action: isVoid ? "void_sale" : "refund", approver: returnForm.approver.value.trim(), pin: returnForm.pin.value,
        reason: returnForm.reason.value.trim(), detail: { sale: returnSale.number },
      });
      returnForm.pin.value = "";
      if (!approval.ok) return showError(dialog, approval.data);
      const answer = isVoid
        ? await api("POST", `/api/v1/sales/${returnSale.id}/void`, { approval: approval.data.approval, reason: returnForm.reason.value.trim() })
        : await api("POST", `/api/v1/sales/${returnSale.id}/returns`, {
          id: returnId, till: TILL, lines, refund: returnForm.refund.value, approval: approval.data.approval,
          reason: returnForm.reason.value.trim(),
        });
      if (!answer.ok) return showError(dialog, answer.data);
      const result = $("[data-return-result]", dialog);
      result.hidden = false;
      result.textContent = isVoid ? fill(MSG.voided, { number: answer.data.number })
        : fill(MSG.returned, { number: answer.data.number, amount: rupiah(answer.data.total) });
      returnSale = null;
      $("[data-return-sale]", dialog).textContent = "";
      $("[data-return-more]", dialog).hidden = true;
      $("[data-return-auth]", dialog).hidden = true;
      returnForm.number.value = "";
      returnForm.number.focus();
    } finally {
      button.disabled = false;
    }
  });

  // --- serial scanner (Server-Sent Events) ---------------------------------------------------------------------

  if (root.dataset.scanStream && window.EventSource) {
    const panel = $("[data-scan-panel]");
    const source = new EventSource(root.dataset.scanStream);
    source.addEventListener("scan", (event) => {
      const data = JSON.parse(event.data);
      if (!data.missed) {
        enqueue(data.code);
        return;
      }
      const li = document.createElement("li");
      li.textContent = `${data.code} `;
      const badge = document.createElement("span");
      badge.className = "badge warn";
      badge.textContent = MSG.missed;
      const add = document.createElement("button");
      add.type = "button";
      add.textContent = MSG.add;
      add.addEventListener("click", () => {
        enqueue(data.code);
        li.remove();
        scan.focus();
      });
      li.append(badge, " ", add);
      $("[data-missed]", panel).prepend(li);
    });
    source.addEventListener("scanner", (event) => {
      $("[data-scanner-state]", panel).textContent = JSON.parse(event.data).state;
    });
  }

  // --- keys and buttons --------------------------------------------------------------------------------------

  const actions = {
    "open-shift": openShiftDialog, "x-report": xReport, "close-shift": closeShiftDialog, member: memberDialog,
    pay: payDialog, screen: () => window.open(root.dataset.screenUrl, `layar-${TILL}`, "popup"),
  };
  for (const [name, fn] of Object.entries(actions)) {
    $$(`[data-action="${name}"]`).forEach((b) => b.addEventListener("click", fn));
  }

  document.addEventListener("keydown", (event) => {
    const keys = {
      F2: () => scan.focus(), F3: memberDialog, F4: hold, F6: heldDialog, F7: approvalDialog, F8: weigh,
      F9: payDialog, F10: returnDialog,
    };
    if (keys[event.key]) {
      event.preventDefault();
      if (event.key !== "F2" && anyDialogOpen()) return;
      keys[event.key]();
      return;
    }
    if (event.altKey && /^[1-6]$/.test(event.key) && !anyDialogOpen() && quote) {
      event.preventDefault();
      const amount = quote.quick_amounts[Number(event.key) - 1];
      if (amount) payCash(amount);
    }
  });

  // --- start -------------------------------------------------------------------------------------------------

  render();
  if (state.lines.length) requote();
  const waiting = outbox();
  setOutbox(waiting);
  for (const item of waiting) {
    paying = paying || item.request; // the first one is the sale this cart was being paid with
    deliver(item.request, false);
  }
  if (!shiftId) openShiftDialog();
  else {
    scan.focus();
    // A QRIS sale still waiting (the page was reloaded while the customer paid): offer it again.
    api("GET", `/api/v1/sales?till=${encodeURIComponent(TILL)}`).then((answer) => {
      const waiting = answer.ok ? answer.data.results.find((sale) => sale.status === "pending") : null;
      if (waiting && !pendingSale) {
        pendingSale = waiting;
        banner(fill(MSG.pending, { number: waiting.number }));
      }
    });
  }
}
