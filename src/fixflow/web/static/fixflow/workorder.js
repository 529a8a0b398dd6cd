// Work request and work order pages: htmx error swaps, dependent select cascade, the running
// timer, wide-screen filters and the client signature pad. Every form still works without it.
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

  // Signature pad: draw with finger, pen or mouse; the PNG goes into the hidden "signature" field.
  function setupPad(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    const form = canvas.closest("form");
    const field = form.querySelector('input[name="signature"]');
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let drawn = false;
    let last = null;

    function resize() {
      // Match the bitmap to the displayed size so lines stay sharp and under the finger.
      const ratio = window.devicePixelRatio || 1;
      const rect = canvas.getBoundingClientRect();
      if (!rect.width) return;
      const keep = drawn ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.2;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#101828";
      if (keep) {
        const img = new Image();
        img.onload = () => ctx.drawImage(img, 0, 0, rect.width, rect.height);
        img.src = keep;
      }
    }
    function point(event) {
      const rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      drawn = true;
      canvas.classList.add("signed");
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);

    const clear = form.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", () => {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        canvas.classList.remove("signed");
        if (field) field.value = "";
      });
    }
    form.addEventListener("submit", (event) => {
      if (!drawn) {
        event.preventDefault();
        canvas.classList.add("needs-signature");
        canvas.focus();
        return;
      }
      if (field) field.value = canvas.toDataURL("image/png");
    });
    resize();
    // A folded <details> has no size yet: size the pad when it opens.
    const box = canvas.closest("details");
    if (box) box.addEventListener("toggle", () => { if (box.open && !drawn) resize(); });
    window.addEventListener("resize", () => { if (!drawing) resize(); });
  }

  function enhance(root) {
    openWide(root);
    root.querySelectorAll("canvas[data-signature-pad]").forEach(setupPad);
    tickTimers();
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  // Sections swapped in by htmx (also out of band) get the same treatment.
  document.addEventListener("htmx:load", (event) => enhance(event.target.parentNode || document));
})();
