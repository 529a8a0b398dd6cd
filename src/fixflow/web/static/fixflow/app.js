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
