// The signature pad of the work order page and of the client's quote page: a <canvas data-signature-pad>
// in a form, drawn on with finger, pen or mouse; on submit the PNG goes into the form's hidden
// "signature" field (a form sent without a drawing is stopped and the pad marked). A
// [data-signature-clear] button in the form clears it. Pads swapped in by htmx are set up too.
(() => {
  "use strict";

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
      // The bitmap follows the displayed size, so the line stays sharp and under the finger.
      const ratio = window.devicePixelRatio || 1;
      const rect = canvas.getBoundingClientRect();
      if (!rect.width) return;
      const keep = drawn ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.4;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#101828";
      ctx.fillStyle = "#101828";
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
      ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
      ctx.fill();
      drawn = true;
      canvas.classList.add("signed");
      canvas.classList.remove("needs-signature");
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of events.length ? events : [event]) {
        const p = point(e);
        ctx.beginPath();
        ctx.moveTo(last.x, last.y);
        ctx.lineTo(p.x, p.y);
        ctx.stroke();
        last = p;
      }
    });
    const stop = () => {
      drawing = false;
    };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);

    const clear = form.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", () => {
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
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
    window.addEventListener("resize", () => {
      if (!drawing) resize();
    });
  }

  const enhance = (root) => root.querySelectorAll("canvas[data-signature-pad]").forEach(setupPad);
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (event) => enhance(event.target.parentNode || document));
})();
