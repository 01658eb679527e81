// A background job's page: its progress bar and counts follow the job's JSON status every second; when the job has
// ended the page is loaded again to show its outcome. (Without JavaScript the page refreshes itself instead.)
(() => {
  const card = document.querySelector("[data-job][data-status-url]");
  if (!card) return;
  const url = card.dataset.statusUrl;
  const bar = card.querySelector("[data-job-progress]");
  const state = card.querySelector("[data-job-state]");
  const count = card.querySelector("[data-job-count]");
  const number = (n) => n.toLocaleString(document.documentElement.lang === "en" ? "en" : "id-ID");
  const template = { of: card.dataset.textOf || "", sofar: card.dataset.textSofar || "" };
  let delay = 1000;

  const show = (job) => {
    if (state) state.textContent = job.state_label + (job.phase_label ? " · " + job.phase_label : "");
    if (bar) {
      if (job.indeterminate) {
        bar.removeAttribute("value");
      } else {
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        bar.textContent = job.percent + "%";
      }
    }
    if (count) {
      if (job.total && !job.indeterminate) {
        count.textContent = template.of.replace("{done}", number(job.done)).replace("{total}", number(job.total))
          + " (" + job.percent + "%)";
      } else if (job.done) {
        count.textContent = template.sofar.replace("{done}", number(job.done));
      }
    }
  };

  const poll = () => {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((job) => {
        delay = 1000;
        if (job.finished) {
          window.location.reload();
          return;
        }
        show(job);
        setTimeout(poll, delay);
      })
      .catch(() => {
        delay = Math.min(delay * 2, 10000); // the server is busy or restarting: ask again, less often
        setTimeout(poll, delay);
      });
  };
  setTimeout(poll, delay);
})();
