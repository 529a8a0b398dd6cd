// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-nav-toggle]");
  if (toggle) {
    const nav = document.querySelector("[data-nav]");
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  }
  const confirmable = event.target.closest("[data-confirm]");
  if (confirmable && !window.confirm(confirmable.dataset.confirm)) {
    event.preventDefault();
  }
});

// Links between dependent selects: <select data-filter-by="client"> keeps only the options whose
// data-client matches the chosen client.
function applyDependentSelects(root) {
  root.querySelectorAll("select[data-filter-by]").forEach((select) => {
    const form = select.form;
    const parentName = select.dataset.filterBy;
    const parent = form && form.elements[parentName];
    if (!parent) return;
    const update = () => {
      const value = parent.value;
      select.querySelectorAll("option[data-parent]").forEach((opt) => {
        const visible = !value || opt.dataset.parent === value;
        opt.hidden = !visible;
        opt.disabled = !visible;
        if (!visible && opt.selected) select.value = "";
      });
    };
    parent.addEventListener("change", update);
    update();
  });
}
document.addEventListener("DOMContentLoaded", () => applyDependentSelects(document));
document.addEventListener("htmx:afterSwap", (e) => applyDependentSelects(e.target));

// Controls that need JavaScript show only when it runs (see [data-js-only] / [data-nojs] in app.css).
document.documentElement.classList.add("js");

// Copy buttons: <button data-copy="text">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    const label = button.textContent;
    button.textContent = "✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// A field shown only for one value of another: <div data-show-when="role" data-show-value="client_user">.
function applyShowWhen(root) {
  root.querySelectorAll("[data-show-when]").forEach((box) => {
    const form = box.closest("form");
    const control = form && form.elements[box.dataset.showWhen];
    if (!control) return;
    const update = () => { box.hidden = control.value !== box.dataset.showValue; };
    control.addEventListener("change", update);
    update();
  });
}

// Row editors built on Django formsets: <div data-formset="prefix"> with [data-rows], a
// <template data-empty> holding the empty form, [data-add-row], and per row [data-move] and
// [data-remove-row]. Removing ticks the row's DELETE box; the order is written into -ORDER on submit.
function applyFormsets(root) {
  root.querySelectorAll("[data-formset]").forEach((box) => {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    const prefix = box.dataset.formset;
    const total = box.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    const rows = box.querySelector("[data-rows]");
    const empty = box.querySelector("template[data-empty]");
    const renumber = () => {
      let position = 1;
      rows.querySelectorAll("[data-row]").forEach((row) => {
        const order = row.querySelector('input[name$="-ORDER"]');
        if (order) order.value = row.hidden ? "" : String(position++);
      });
    };
    box.addEventListener("click", (event) => {
      const add = event.target.closest("[data-add-row]");
      if (add && total && empty) {
        event.preventDefault();
        rows.insertAdjacentHTML("beforeend", empty.innerHTML.replace(/__prefix__/g, total.value));
        total.value = String(Number(total.value) + 1);
        renumber();
        const first = rows.lastElementChild.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
        return;
      }
      const move = event.target.closest("[data-move]");
      if (move) {
        event.preventDefault();
        const row = move.closest("[data-row]");
        let sibling = move.dataset.move === "up" ? row.previousElementSibling : row.nextElementSibling;
        while (sibling && sibling.hidden) {
          sibling = move.dataset.move === "up" ? sibling.previousElementSibling : sibling.nextElementSibling;
        }
        if (sibling) {
          if (move.dataset.move === "up") rows.insertBefore(row, sibling);
          else rows.insertBefore(row, sibling.nextElementSibling);
          move.focus();
          renumber();
        }
        return;
      }
      const remove = event.target.closest("[data-remove-row]");
      if (remove) {
        event.preventDefault();
        const row = remove.closest("[data-row]");
        const del = row.querySelector('input[name$="-DELETE"]');
        if (del) del.checked = true;
        row.hidden = true;
        renumber();
      }
    });
    const form = box.closest("form");
    if (form) form.addEventListener("submit", renumber);
  });
}

function enhance(root) {
  applyShowWhen(root);
  applyFormsets(root);
}
document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSwap", (e) => enhance(e.target));
