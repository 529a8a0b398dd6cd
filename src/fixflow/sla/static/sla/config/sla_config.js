// The week editor of a business calendar: show only the filled interval rows and one way to add more,
// remove rows, copy Monday to the other weekdays. Without JavaScript every row shows (blank ones are
// ignored by the server). The week picture refreshes through htmx on every change ("sla-week-changed").
(function () {
  const MAX_ROWS = 12;

  function changed(editor) {
    editor.dispatchEvent(new CustomEvent("sla-week-changed", { bubbles: true }));
  }

  function rowsOf(day) {
    return Array.from(day.querySelectorAll("[data-interval]"));
  }

  function isBlank(row) {
    return Array.from(row.querySelectorAll("input")).every((input) => !input.value.trim());
  }

  function refreshClosed(day) {
    const visible = rowsOf(day).filter((row) => !row.hidden);
    const closed = day.querySelector("[data-closed]");
    if (closed) closed.hidden = visible.length > 0;
  }

  function addRow(day) {
    const hidden = rowsOf(day).find((row) => row.hidden);
    if (hidden) {
      hidden.hidden = false;
      refreshClosed(day);
      return hidden;
    }
    const rows = rowsOf(day);
    if (!rows.length || rows.length >= MAX_ROWS) return null;
    const template = rows[rows.length - 1];
    const index = rows.length;
    const copy = template.cloneNode(true);
    copy.classList.remove("has-error");
    copy.querySelectorAll(".errorlist").forEach((e) => e.remove());
    copy.querySelectorAll("input, label").forEach((el) => {
      for (const attr of ["name", "id", "for"]) {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/(w\d-)\d+(-)/, `$1${index}$2`));
      }
      if (el.tagName === "INPUT") el.value = "";
    });
    copy.hidden = false;
    template.after(copy);
    refreshClosed(day);
    return copy;
  }

  function setDay(day, intervals) {
    rowsOf(day).forEach((row) => {
      row.querySelectorAll("input").forEach((input) => { input.value = ""; });
      row.hidden = true;
    });
    intervals.forEach(([start, end]) => {
      const row = addRow(day);
      if (!row) return;
      const [a, b] = row.querySelectorAll("input");
      a.value = start;
      b.value = end;
    });
    refreshClosed(day);
  }

  function intervalsOf(day) {
    return rowsOf(day)
      .filter((row) => !row.hidden && !isBlank(row))
      .map((row) => Array.from(row.querySelectorAll("input")).map((input) => input.value.trim()));
  }

  function setup(editor) {
    if (editor.dataset.ready) return;
    editor.dataset.ready = "1";
    editor.querySelectorAll("[data-weekday]").forEach((day) => {
      // keep the filled rows and those with errors; hide the blank ones (the "+" brings them back)
      rowsOf(day).forEach((row) => { row.hidden = isBlank(row) && !row.classList.contains("has-error"); });
      refreshClosed(day);
    });
    editor.addEventListener("click", (event) => {
      const add = event.target.closest("[data-add-interval]");
      if (add) {
        event.preventDefault();
        const row = addRow(add.closest("[data-weekday]"));
        if (row) row.querySelector("input").focus();
        return;
      }
      const remove = event.target.closest("[data-remove-interval]");
      if (remove) {
        event.preventDefault();
        const row = remove.closest("[data-interval]");
        row.querySelectorAll("input").forEach((input) => { input.value = ""; });
        row.classList.remove("has-error");
        row.querySelectorAll(".errorlist").forEach((e) => e.remove());
        row.hidden = true;
        refreshClosed(row.closest("[data-weekday]"));
        changed(editor);
        return;
      }
      const copy = event.target.closest("[data-copy-monday]");
      if (copy) {
        event.preventDefault();
        const days = editor.querySelectorAll("[data-weekday]");
        const monday = intervalsOf(days[0]);
        for (let i = 1; i <= 4; i++) setDay(days[i], monday);
        changed(editor);
      }
    });
  }

  function enhance(root) {
    root.querySelectorAll("[data-week-editor]").forEach(setup);
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:afterSwap", (e) => enhance(e.target));
})();
