// Quote pages: the line editor (a line's amount previewed while typing; the server saves each change and
// sends the totals), the send dialog, the source choice of a new quote, confirmations, copying the client's
// link (the public page's signature pad is fixflow/signature-pad.js). Every form works without it.
(() => {
  "use strict";

  // htmx 2 does not swap 4xx answers; a refused line comes back as 422 with its errors.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // --- the line editor -------------------------------------------------------------------------

  function number(input) {
    if (!input) return NaN;
    const text = String(input.value || "").trim().replace(",", ".");
    return text === "" ? NaN : Number(text);
  }

  function places(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch (e) {
      return 2;
    }
  }

  // The line net as the server computes it (quantity × price × (1 − discount), rounded half up): a preview
  // while typing; the saved amount replaces it when the server answers.
  function preview(row) {
    const qty = number(row.querySelector("input[name$='-quantity']"));
    const price = number(row.querySelector("input[name$='-unit_price']"));
    const discount = number(row.querySelector("input[name$='-discount_percent']")) || 0;
    const out = row.querySelector(".qline-net");
    if (!out || Number.isNaN(qty) || Number.isNaN(price)) return;
    const currency = row.dataset.currency || "EUR";
    const digits = places(currency);
    const factor = 10 ** digits;
    const exact = qty * price * (100 - discount) / 100;
    const rounded = Math.sign(exact) * Math.round(Math.abs(exact) * factor + 1e-9) / factor;
    out.textContent = `${rounded.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
    out.classList.add("is-preview");
  }

  function toggleReason(row) {
    const reason = row.querySelector(".qline-reason");
    if (!reason) return;
    const discount = number(row.querySelector("input[name$='-discount_percent']")) || 0;
    const typed = reason.querySelector("input") && reason.querySelector("input").value;
    reason.hidden = !(discount > 0 || typed);
  }

  document.addEventListener("input", (event) => {
    const row = event.target.closest("form[data-line]");
    if (row) {
      preview(row);
      toggleReason(row);
    }
  });

  // --- dialogs, confirmations, copy ------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        const first = dialog.querySelector("input:not([type=hidden]), textarea");
        if (first) first.focus();
      }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      else history.back();
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const field = document.querySelector(copy.dataset.copy);
      if (field) {
        field.select();
        if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(() => {});
        copy.textContent = copy.dataset.copied || "Copied";
      }
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // Forms outside the editor (send, header) rest on the version the editor's own saves have reached.
    const current = document.getElementById("quote-version");
    const version = form.querySelector("input[type=hidden][name$='version']");
    if (current && version && !form.closest("#quote-editor")) version.value = current.value;
  });

  // A new quote: show only the fields of the chosen source.
  function showSource(form) {
    const chosen = form.querySelector("input[name=source]:checked");
    const value = chosen ? chosen.value : "blank";
    form.querySelectorAll("[data-source]").forEach((box) => {
      box.hidden = box.dataset.source !== value;
    });
  }
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-quote-create]");
    if (form && event.target.name === "source") showSource(form);
  });

  function enhance(root) {
    root.querySelectorAll("form[data-line]").forEach(toggleReason);
    root.querySelectorAll("form[data-quote-create]").forEach(showSource);
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (event) => enhance(event.target.parentNode || document));
})();
