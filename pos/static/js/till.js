// The till page's device stream: scans from the till's serial scanner (Server-Sent Events), shown as they come.
// A scan that arrived while no page listened is delivered later, marked as missed, never dropped.
const panel = document.querySelector("[data-scan-stream]");
if (panel && window.EventSource) {
  const list = panel.querySelector("ul");
  const state = panel.querySelector("[data-scanner-state]");
  const source = new EventSource(panel.dataset.scanStream);
  const show = (text, missed) => {
    const item = document.createElement("li");
    item.textContent = text;
    if (missed) {
      const badge = document.createElement("span");
      badge.className = "badge warn";
      badge.textContent = panel.dataset.missedLabel;
      item.append(" ", badge);
    }
    list.prepend(item);
    while (list.children.length > 10) list.lastElementChild.remove();
  };
  source.addEventListener("scan", (event) => {
    const data = JSON.parse(event.data);
    show(data.code, data.missed);
  });
  source.addEventListener("scanner", (event) => {
    state.textContent = JSON.parse(event.data).state;
  });
  source.addEventListener("weight", (event) => {
    const data = JSON.parse(event.data);
    if (data.kg) show(data.kg + " kg", data.missed);
  });
}
