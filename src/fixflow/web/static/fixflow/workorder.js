// Work request and work order pages: htmx error swaps, dependent select cascade, the running
// timer and wide-screen filters (the signature pad is signature-pad.js). Every form still works without it.
(() => {
  "use strict";

  // htmx 2 does not swap 4xx answers by default; our 422 answers carry the form with its errors.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // app.js filters a dependent select when its parent changes; pass the change on down the chain
  // (client → site → equipment) without bubbling, so auto-submitting filter forms fire only once.
  function cascade(select) {
    const form = select.form;
    if (!form || !select.name) return;
    form.querySelectorAll(`select[data-filter-by="${select.name}"]`).forEach((child) => {
      child.dispatchEvent(new Event("change"));
      cascade(child);
    });
  }
  document.addEventListener("change", (event) => {
    // Our own change events do not bubble, so this runs once per user change.
    if (event.target.matches("select")) cascade(event.target);
  });

  // Filter boxes that phones keep folded are open on wide screens.
  function openWide(root) {
    if (!window.matchMedia("(min-width: 900px)").matches) return;
    root.querySelectorAll("details[data-open-wide]").forEach((d) => { d.open = true; });
  }

  // A running timer shows how long it has been running.
  function elapsed(since) {
    const minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return h ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
  }
  function tickTimers() {
    document.querySelectorAll("[data-since]").forEach((el) => {
      const since = Date.parse(el.dataset.since);
      if (!Number.isNaN(since)) el.textContent = elapsed(since);
    });
  }
  setInterval(tickTimers, 15000);

  function enhance(root) {
    openWide(root);
    tickTimers();
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  // Sections swapped in by htmx (also out of band) get the same treatment.
  document.addEventListener("htmx:load", (event) => enhance(event.target.parentNode || document));
})();
