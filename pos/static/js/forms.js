// Every form that changes something takes effect once: its submit buttons are disabled after the first submit, so
// a double click or a double Enter sends it once (the server checks again: one-time tokens, ids).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "").toLowerCase() !== "post" || event.defaultPrevented) {
    return;
  }
  if (form.dataset.submitted === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  setTimeout(() => {
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach((button) => {
      button.disabled = true;
    });
  }, 0);
});
// Coming back with the browser's back button shows the page from its cache: let its forms be used again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-submitted]").forEach((form) => {
    delete form.dataset.submitted;
    form.querySelectorAll("[disabled]").forEach((button) => { button.disabled = false; });
  });
});
