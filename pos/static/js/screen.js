// The customer screen: follows the till through Server-Sent Events (cart, total, change, the QRIS code).
const root = document.querySelector("[data-screen]");
if (root && window.EventSource) {
  const MSG = JSON.parse(root.querySelector("[data-messages]").textContent);
  const $ = (sel) => root.querySelector(sel);
  const views = Array.from(root.querySelectorAll("[data-view]"));
  const show = (name) => views.forEach((view) => { view.hidden = view.dataset.view !== name; });

  function render(state) {
    if (state.type === "cart" && state.lines && state.lines.length) {
      const body = $("[data-lines]");
      body.textContent = "";
      for (const line of state.lines) {
        const tr = body.insertRow();
        tr.insertCell().textContent = line.name;
        const qty = tr.insertCell();
        qty.textContent = `${String(line.qty).replace(".", ",")} ${line.unit}`;
        const total = tr.insertCell();
        total.className = "num";
        total.textContent = line.total_text;
      }
      $("[data-total]").textContent = state.total_text;
      $("[data-member]").textContent = state.member ? MSG.member.replace("{name}", state.member) : "";
      show("cart");
    } else if (state.type === "paid") {
      $("[data-paid-total]").textContent = state.total_text;
      $("[data-paid-tendered]").textContent = state.tendered_text;
      $("[data-paid-change]").textContent = state.change_text;
      show("paid");
    } else if (state.type === "qris") {
      $("[data-qris-amount]").textContent = state.qris_text;
      $("[data-qris-image]").src = state.qris_image;
      show("qris");
    } else {
      show("idle");
    }
  }

  const source = new EventSource(root.dataset.stream);
  for (const type of ["idle", "cart", "paid", "qris", "cancelled", "pending", "voided"]) {
    source.addEventListener(type, (event) => {
      $("[data-connection]").textContent = "";
      render(JSON.parse(event.data));
    });
  }
  source.addEventListener("error", () => { $("[data-connection]").textContent = MSG.offline; });
}
