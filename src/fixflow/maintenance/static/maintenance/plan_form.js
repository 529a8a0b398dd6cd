// The plan form: show only the fields of the chosen trigger and target. Without JavaScript every field
// shows and the server ignores the ones the choices do not use.
(function () {
  function valueOf(form, name) {
    const control = form.elements[name];
    if (!control) return "";
    if (typeof RadioNodeList !== "undefined" && control instanceof RadioNodeList) return control.value;
    if (control.type === "checkbox") return control.checked ? "on" : "";
    return control.value;
  }

  // <div data-pm-show="frequency=monthly,yearly"> shows for those values; data-pm-show="use_meter" when ticked
  function apply(form) {
    form.querySelectorAll("[data-pm-show]").forEach((box) => {
      const [name, values] = box.dataset.pmShow.split("=");
      const value = valueOf(form, name);
      box.hidden = values === undefined ? !value : !values.split(",").includes(value);
    });
  }

  // choosing an equipment item fills in its site (the equipment list is narrowed by the site)
  function fillSite(form, event) {
    const select = event.target;
    if (!select || select.name !== "equipment") return;
    const option = select.selectedOptions[0];
    const site = form.elements.site;
    if (option && option.dataset.parent && site && !site.value) {
      site.value = option.dataset.parent;
      site.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function setUp(form) {
    if (form.dataset.planReady) return;
    form.dataset.planReady = "1";
    apply(form);
    form.addEventListener("change", (event) => {
      fillSite(form, event);
      apply(form);
    });
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("form[data-plan-form]").forEach(setUp));
})();
