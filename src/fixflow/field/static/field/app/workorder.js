// The work order screen: where to go and what is there, what to do, and everything recorded so far.
// Every button queues a command (see outbox.js) and the screen shows its effect at once.

import { SignaturePad, canScan, resizePhoto, scanBarcode } from "./capture.js";
import { NEXT_STEPS, STEP_TARGET, completionChecklist, elapsed, isoWithOffset, listOf, mapsUrl } from "./model.js";
import { LIST_TITLES } from "./screens.js";
import {
  HOLD_REASONS,
  PRIORITY_LABELS,
  badge,
  clockTime,
  day,
  fill,
  fmt,
  gettext,
  h,
  localInputValue,
  minutes,
  pendingMark,
  plural,
  quantity,
  statusBadge,
  when,
} from "./ui.js";

const RECORDING = new Set(["new", "planned", "in_progress", "on_hold", "completed"]);
const TIMER_STARTS = new Set(["new", "planned", "in_progress"]);
const SIGNING = new Set(["in_progress", "on_hold", "completed"]);
const STEP_LABELS = {
  start: gettext("Start work"),
  hold: gettext("Hold"),
  resume: gettext("Resume"),
  complete: gettext("Complete"),
};

function panel(name, title, ...children) {
  return h("section", { class: `panel fapp-section fapp-${name}`, dataset: { section: name } }, h("h2", {}, title), children);
}

function field(label, control, help) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, help ? h("p", { class: "help" }, help) : null);
}

// --- head, notices, where ------------------------------------------------------------------------------

function head(app, view) {
  const list = listOf(view);
  const site = view.site || {};
  return h(
    "section",
    { class: "fapp-wo-head" },
    h("a", { class: "fapp-back", href: `#/${list}` }, `‹ ${LIST_TITLES[list]}`),
    h("h1", {}, h("span", { class: "ref" }, view.number), " ", view.title),
    h(
      "div",
      { class: "badges" },
      statusBadge(view.status),
      view.priority && view.priority !== "normal" ? badge(view.priority, PRIORITY_LABELS[view.priority]) : null,
    ),
    view.scheduled_start
      ? h("p", { class: "muted" }, fmt(gettext("Planned for %(when)s"), { when: when(view.scheduled_start, site.timezone) }))
      : null,
    view.status === "on_hold"
      ? h(
          "p",
          { class: "notice notice-warn" },
          fmt(gettext("On hold: %(reason)s"), { reason: HOLD_REASONS[view.hold_reason] || view.hold_reason }),
          view.status_reason ? ` — ${view.status_reason}` : "",
        )
      : null,
    view.queued
      ? h(
          "p",
          { class: "fapp-wo-waiting", dataset: { waiting: view.queued } },
          plural("%(n)s change waiting to be sent", "%(n)s changes waiting to be sent", view.queued),
        )
      : null,
  );
}

const NOTICE_TITLES = {
  refused: gettext("Not applied"),
  held: gettext("Held for the office"),
  accepted: gettext("Accepted by the office"),
  rejected: gettext("Rejected by the office"),
};

function notices(app, view) {
  const items = app.noticesFor(view.id);
  if (!items.length) return null;
  return h(
    "section",
    { class: "fapp-notices", "aria-live": "polite" },
    items.map((n) =>
      h(
        "div",
        { class: `notice fapp-notice fapp-notice-${n.kind}`, dataset: { mutation: n.mutation_id, kind: n.kind } },
        h("b", {}, NOTICE_TITLES[n.kind] || n.kind),
        n.summary ? h("span", {}, ` · ${n.summary}`) : null,
        h("p", {}, n.message),
        h(
          "button",
          { type: "button", class: "btn btn-small", onclick: () => app.dismiss(n.mutation_id) },
          gettext("Dismiss"),
        ),
      ),
    ),
  );
}

function where(view) {
  const site = view.site || {};
  const client = view.client || {};
  const phone = client.contact_phone || client.phone;
  return panel(
    "where",
    gettext("Where"),
    h(
      "dl",
      { class: "props" },
      h("dt", {}, gettext("Client")),
      h("dd", {}, client.name || ""),
      client.contact_name || phone ? h("dt", {}, gettext("Contact")) : null,
      client.contact_name || phone
        ? h(
            "dd",
            {},
            client.contact_name || "",
            phone ? [" ", h("a", { href: `tel:${phone.replace(/[^\d+]/g, "")}` }, phone)] : null,
          )
        : null,
      h("dt", {}, gettext("Site")),
      h("dd", {}, site.name || ""),
    ),
    site.address
      ? h(
          "a",
          { class: "btn btn-big fapp-map", href: mapsUrl(site), target: "_blank", rel: "noopener noreferrer" },
          h("span", { class: "fapp-address-text" }, site.address),
          h("span", { class: "fapp-map-go" }, gettext("Map ↗")),
        )
      : null,
    site.access_notes
      ? h("p", { class: "access-notes fapp-access" }, h("b", {}, gettext("Access: ")), site.access_notes)
      : null,
  );
}

function equipment(view) {
  const e = view.equipment;
  if (!e) return null;
  const model = [e.manufacturer, e.model].filter(Boolean).join(" ");
  return panel(
    "equipment",
    gettext("Equipment"),
    h("p", { class: "fapp-equipment-name" }, h("b", {}, e.name), " ", e.status ? badge(e.status, e.status) : null),
    model || e.serial_number
      ? h(
          "p",
          { class: "muted" },
          model,
          e.serial_number ? `${model ? " · " : ""}${gettext("Serial")} ${e.serial_number}` : "",
        )
      : null,
    e.history && e.history.length
      ? h(
          "details",
          { class: "add-box", dataset: { keepOpen: "history" } },
          h("summary", {}, gettext("Recent work on it")),
          h(
            "ul",
            { class: "fapp-history" },
            e.history.map((w) =>
              h(
                "li",
                {},
                h("span", { class: "muted" }, day(w.date)),
                " ",
                h("b", {}, w.number),
                " ",
                w.title,
                w.resolution ? h("div", { class: "fapp-history-resolution" }, w.resolution) : null,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, gettext("No earlier work recorded on it.")),
  );
}

function description(view) {
  if (!view.description) return null;
  return panel("description", gettext("What to do"), h("p", { class: "pre" }, view.description));
}

// --- time ---------------------------------------------------------------------------------------------

function time(app, view) {
  const running = view.time_entries.find((e) => e.is_mine && e.is_running);
  const canRecord = RECORDING.has(view.status);
  let timer = null;
  if (running) {
    timer = h(
      "div",
      { class: "timer running fapp-timer", dataset: { running: "true" } },
      h("span", { class: "timer-dot", "aria-hidden": "true" }),
      h(
        "span",
        { class: "timer-text" },
        gettext("Timer running"),
        " · ",
        h("b", { class: "fapp-elapsed", dataset: { elapsedSince: running.started_at } }, elapsed(running.started_at)),
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-big btn-primary",
          onclick: () => app.act("timer.stop", view, {}, { summary: gettext("Timer stopped") }),
        },
        gettext("Stop timer"),
      ),
    );
  } else if (canRecord && view.status !== "completed") {
    const startable = TIMER_STARTS.has(view.status);
    timer = h(
      "div",
      { class: "timer fapp-timer", dataset: { running: "false" } },
      h("span", { class: "timer-text" }, startable ? gettext("Timer stopped") : gettext("Resume the work to run the timer.")),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-big",
          disabled: !startable,
          onclick: () => app.act("timer.start", view, {}, { summary: gettext("Timer started") }),
        },
        gettext("Start timer"),
      ),
    );
  }
  const entries = view.time_entries.filter((e) => !e.is_running);
  const tz = view.site && view.site.timezone;
  return panel(
    "time",
    gettext("Time"),
    timer,
    entries.length
      ? h(
          "ul",
          { class: "fapp-rows" },
          entries.map((e) =>
            h(
              "li",
              { dataset: { entry: e.id } },
              h("b", {}, minutes(e.duration_minutes)),
              " ",
              h("span", { class: "muted" }, `${clockTime(e.started_at, tz)}–${clockTime(e.ended_at, tz)} · ${e.technician}`),
              e.note ? h("div", {}, e.note) : null,
              pendingMark(e),
            ),
          ),
        )
      : h("p", { class: "muted" }, gettext("No time recorded yet.")),
    canRecord ? addTime(app, view) : null,
  );
}

function addTime(app, view) {
  const id = `time-${view.id}`;
  const start = h("input", {
    type: "datetime-local",
    id: `${id}-start`,
    dataset: { keep: `${id}-start` },
    value: localInputValue(new Date(Date.now() - 30 * 60000)),
  });
  const duration = h("input", {
    type: "number",
    id: `${id}-minutes`,
    min: "1",
    max: "1440",
    inputmode: "numeric",
    dataset: { keep: `${id}-minutes` },
    value: "30",
  });
  const note = h("input", { type: "text", id: `${id}-note`, maxlength: "500", dataset: { keep: `${id}-note` } });
  const error = h("p", { class: "errorlist", role: "alert" });
  const add = () => {
    const started = new Date(start.value);
    const mins = Number.parseInt(duration.value, 10);
    if (Number.isNaN(started.getTime())) return void (error.textContent = gettext("Enter when the work started."));
    if (!(mins >= 1 && mins <= 1440)) return void (error.textContent = gettext("The duration must be between 1 minute and 24 hours."));
    app.act(
      "time.add",
      view,
      { started_at: isoWithOffset(started), duration_minutes: mins, note: note.value.trim() },
      { summary: fmt(gettext("%(minutes)s of time"), { minutes: minutes(mins) }) },
      { clear: [note] },
    );
  };
  return h(
    "details",
    { class: "add-box", dataset: { keepOpen: id } },
    h("summary", {}, gettext("Add time by hand")),
    h(
      "div",
      { class: "add-form" },
      field(gettext("Started"), start),
      field(gettext("Minutes"), duration),
      field(gettext("Note"), note),
      error,
      h("button", { type: "button", class: "btn btn-big", onclick: add }, gettext("Add time")),
    ),
  );
}

// --- checklist ------------------------------------------------------------------------------------------

function checklist(app, view) {
  if (!view.checklist.length) return null;
  const editable = RECORDING.has(view.status);
  const answer = (item, value) =>
    app.act(
      "checklist.answer",
      view,
      { item_id: item.id, value },
      { summary: fmt(gettext("Checklist: %(label)s"), { label: item.label }) },
    );
  return panel(
    "checklist",
    gettext("Checklist"),
    h(
      "ul",
      { class: "checklist" },
      view.checklist.map((item) => {
        const id = `check-${view.id}-${item.id}`;
        const label = h("span", {}, item.label, item.is_required ? h("span", { class: "req" }, gettext("required")) : null);
        let control;
        if (item.kind === "checkbox") {
          control = h(
            "label",
            { class: "check-label", for: id },
            h("input", {
              type: "checkbox",
              id,
              checked: Boolean(item.value),
              disabled: !editable,
              onchange: (e) => answer(item, e.target.checked ? "true" : "false"),
            }),
            label,
          );
        } else if (item.kind === "pass_fail") {
          const option = (value, text) =>
            h(
              "label",
              { class: `seg-${value}` },
              h("input", {
                type: "radio",
                name: id,
                value,
                checked: item.value === value,
                disabled: !editable,
                onchange: () => answer(item, value),
              }),
              h("span", {}, text),
            );
          control = h(
            "div",
            { class: "check-form" },
            h("span", { class: "check-label" }, label),
            h("div", { class: "segmented" }, option("pass", gettext("Pass")), option("fail", gettext("Fail"))),
          );
        } else {
          const input = h("input", {
            type: item.kind === "number" ? "number" : "text",
            id,
            step: "any",
            inputmode: item.kind === "number" ? "decimal" : null,
            value: item.value || "",
            disabled: !editable,
            dataset: { keep: id },
            onchange: (e) => answer(item, e.target.value),
          });
          control = h(
            "div",
            { class: "check-form" },
            h("label", { class: "check-label", for: id }, label),
            h("div", { class: "check-input" }, input),
          );
        }
        return h(
          "li",
          { class: `check-item kind-${item.kind}${item.value ? " answered" : ""}`, dataset: { item: item.id } },
          control,
          pendingMark(item),
        );
      }),
    ),
  );
}

// --- parts ------------------------------------------------------------------------------------------------

function parts(app, view) {
  const usages = view.part_usages;
  return panel(
    "parts",
    gettext("Parts used"),
    usages.length
      ? h(
          "ul",
          { class: "fapp-rows" },
          usages.map((u) =>
            h(
              "li",
              { dataset: { usage: u.id } },
              h("b", {}, `${quantity(u.quantity)} ${u.unit}`),
              " ",
              u.description,
              pendingMark(u),
            ),
          ),
        )
      : h("p", { class: "muted" }, gettext("No parts recorded yet.")),
    RECORDING.has(view.status) ? addPart(app, view) : null,
  );
}

function addPart(app, view) {
  const id = `part-${view.id}`;
  const state = app.partDraft(view.id);
  const search = h("input", {
    type: "search",
    id: `${id}-q`,
    placeholder: gettext("Name, SKU or barcode"),
    autocomplete: "off",
    enterkeyhint: "search",
    dataset: { keep: `${id}-q` },
  });
  const results = h("ul", { class: "fapp-part-results", role: "listbox", "aria-label": gettext("Parts found") });
  const chosen = h("p", { class: "fapp-part-chosen" });
  const qty = h("input", {
    type: "number",
    id: `${id}-qty`,
    min: "0",
    step: "any",
    inputmode: "decimal",
    value: "1",
    dataset: { keep: `${id}-qty` },
  });
  const error = h("p", { class: "errorlist", role: "alert" });
  const addButton = h("button", { type: "button", class: "btn btn-big btn-primary", disabled: true }, gettext("Add part"));
  const showChosen = () => {
    fill(
      chosen,
      state.part
        ? [h("b", {}, state.part.name), state.part.sku ? h("span", { class: "muted" }, ` · ${state.part.sku}`) : null]
        : h("span", { class: "muted" }, gettext("Search the catalogue, then choose a part.")),
    );
    addButton.disabled = !state.part;
  };
  const showResults = () => {
    const found = state.results || [];
    fill(
      results,
      found.map((p) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "fapp-part-option",
              dataset: { part: p.id },
              onclick: () => {
                state.part = p;
                state.results = null;
                results.replaceChildren();
                showChosen();
                qty.focus();
              },
            },
            h("b", {}, p.name),
            p.sku ? h("span", { class: "muted" }, ` · ${p.sku}`) : null,
          ),
        ),
      ),
      state.results && !found.length ? h("li", { class: "muted" }, gettext("No part found.")) : null,
      state.results && state.offline
        ? h("li", { class: "help" }, gettext("Offline: searching the parts kept on this phone."))
        : null,
    );
  };
  let timer = null;
  let asked = 0;
  // the results are kept in the draft, so a redraw of the screen (after a sync) does not lose them
  const find = async (text) => {
    const ask = ++asked;
    const { parts: found, offline } = await app.sync.searchParts(text);
    if (ask !== asked) return;
    state.results = found;
    state.offline = offline;
    showResults();
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => find(search.value), 250);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      find(search.value);
    }
  });
  addButton.addEventListener("click", () => {
    const amount = Number(qty.value);
    if (!state.part) return;
    if (!(amount > 0)) return void (error.textContent = gettext("Enter a quantity above zero."));
    const part = state.part;
    state.part = null;
    state.results = null;
    app.act(
      "part.use",
      view,
      { part_id: part.id, quantity: String(qty.value) },
      { name: part.name, unit: part.unit || "pc", summary: `${quantity(qty.value)} × ${part.name}` },
      { clear: [search] },
    );
  });
  const scan = canScan()
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-big fapp-scan-button",
          onclick: async () => {
            try {
              const code = await scanBarcode();
              if (code) {
                search.value = code;
                await find(code);
              }
            } catch (e) {
              error.textContent = fmt(gettext("The camera could not be used: %(error)s"), { error: e.message });
            }
          },
        },
        gettext("Scan"),
      )
    : null;
  showChosen();
  showResults();
  return h(
    "details",
    { class: "add-box", dataset: { keepOpen: id } },
    h("summary", {}, gettext("Add a part")),
    h(
      "div",
      { class: "add-form" },
      h(
        "div",
        { class: "field" },
        h("label", { for: search.id }, gettext("Find a part")),
        h("div", { class: "fapp-search-row" }, search, scan),
      ),
      results,
      chosen,
      field(gettext("Quantity"), qty),
      error,
      addButton,
    ),
  );
}

// --- notes, photos, signature, meters -------------------------------------------------------------------

function notes(app, view) {
  const id = `note-${view.id}`;
  const body = h("textarea", { id, rows: "3", dataset: { keep: id }, placeholder: gettext("What you found or did") });
  return panel(
    "notes",
    gettext("Notes and findings"),
    view.notes.length
      ? h(
          "ul",
          { class: "notes" },
          view.notes.map((n) =>
            h(
              "li",
              { class: "note", dataset: { note: n.id } },
              h("div", { class: "note-meta" }, h("b", {}, n.author), h("time", {}, when(n.created_at)), pendingMark(n)),
              h("div", { class: "pre" }, n.body),
            ),
          ),
        )
      : null,
    RECORDING.has(view.status)
      ? h(
          "div",
          { class: "add-form" },
          h("label", { class: "sr-only", for: id }, gettext("New note")),
          body,
          h(
            "button",
            {
              type: "button",
              class: "btn btn-big",
              onclick: () => {
                if (!body.value.trim()) return body.focus();
                app.act("note.add", view, { body: body.value.trim() }, { summary: gettext("Note") }, { clear: [body] });
              },
            },
            gettext("Add note"),
          ),
        )
      : null,
  );
}

function photos(app, view) {
  const id = `photo-${view.id}`;
  const draft = app.photoDraft(view.id);
  // no `capture`: the phone then offers the camera and the gallery both
  const input = h("input", { type: "file", id, accept: "image/*", class: "fapp-photo-input" });
  const caption = h("input", { type: "text", id: `${id}-caption`, maxlength: "200", dataset: { keep: `${id}-caption` } });
  const preview = h("div", { class: "fapp-photo-preview" });
  const error = h("p", { class: "errorlist", role: "alert" });
  const add = h("button", { type: "button", class: "btn btn-big btn-primary", disabled: !draft.photo }, gettext("Add photo"));
  const showDraft = () => {
    const src = draft.photo ? `data:${draft.photo.contentType};base64,${draft.photo.base64}` : null;
    fill(preview, src ? h("img", { src, alt: "" }) : null);
    add.disabled = !draft.photo || draft.busy;
  };
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    draft.busy = true;
    error.textContent = "";
    add.disabled = true;
    try {
      draft.photo = await resizePhoto(file);
    } catch {
      error.textContent = gettext("This file is not a picture the phone can read.");
    } finally {
      draft.busy = false;
      showDraft();
    }
  });
  add.addEventListener("click", () => {
    if (!draft.photo) return;
    const photo = draft.photo;
    const text = caption.value.trim();
    draft.photo = null;
    app.act(
      "photo.add",
      view,
      { caption: text, content_type: photo.contentType, data_base64: photo.base64 },
      { summary: text ? fmt(gettext("Photo: %(caption)s"), { caption: text }) : gettext("Photo") },
      { clear: [caption] },
    );
  });
  showDraft();
  return panel(
    "photos",
    gettext("Photos"),
    view.photos.length
      ? h(
          "div",
          { class: "thumbs" },
          view.photos.map((p) =>
            h(
              "figure",
              { dataset: { photo: p.id } },
              p.is_image
                ? h("img", { src: p.thumbnail_url || p.url, alt: p.caption || p.name, loading: "lazy" })
                : h("a", { href: p.url }, p.name),
              h("figcaption", {}, p.caption || "", pendingMark(p)),
            ),
          ),
        )
      : h("p", { class: "muted" }, gettext("No photos yet.")),
    RECORDING.has(view.status)
      ? h(
          "div",
          { class: "add-form" },
          h("label", { class: "btn btn-big fapp-photo-pick", for: id }, gettext("Take or choose a photo"), input),
          preview,
          field(gettext("Caption"), caption),
          error,
          add,
        )
      : null,
  );
}

function signature(app, view) {
  const sig = view.signature;
  if (sig) {
    return panel(
      "signature",
      gettext("Client's signature"),
      h(
        "figure",
        { class: "signature" },
        h("img", { src: sig.url, alt: fmt(gettext("Signed by %(name)s"), { name: sig.signed_by_name }) }),
        h("figcaption", {}, fmt(gettext("Signed by %(name)s"), { name: sig.signed_by_name }), " ", pendingMark(sig)),
      ),
    );
  }
  if (!SIGNING.has(view.status)) {
    if (!view.requires_signature) return null;
    const later = h("p", { class: "muted" }, gettext("The client signs once the work has started."));
    return panel("signature", gettext("Client's signature"), later);
  }
  const id = `sign-${view.id}`;
  const canvas = h("canvas", {
    class: "signature-pad fapp-pad",
    id,
    dataset: { pad: id },
    "aria-label": gettext("Signature pad"),
  });
  const name = h("input", {
    type: "text",
    id: `${id}-name`,
    maxlength: "200",
    autocomplete: "name",
    dataset: { keep: `${id}-name` },
  });
  const error = h("p", { class: "errorlist", role: "alert" });
  const save = h("button", { type: "button", class: "btn btn-big btn-primary" }, gettext("Save signature"));
  const clear = h("button", { type: "button", class: "btn btn-big" }, gettext("Clear"));
  requestAnimationFrame(() => {
    const pad = new SignaturePad(canvas);
    canvas.padInstance = pad;
    canvas.dataset.ready = "true";
    const saved = app.padDrafts.get(id);
    if (saved) pad.restore(saved);
    clear.addEventListener("click", () => {
      pad.clear();
      app.padDrafts.delete(id);
    });
    save.addEventListener("click", () => {
      if (pad.isEmpty()) return void (error.textContent = gettext("Ask the client to sign on the pad first."));
      if (!name.value.trim()) {
        error.textContent = gettext("Enter the name of the person who signed.");
        return name.focus();
      }
      const signer = name.value.trim();
      const image = pad.toBase64();
      pad.clear(); // queued now: the next screen must not keep the drawing as a draft
      app.padDrafts.delete(id);
      app.act(
        "signature.add",
        view,
        { signer_name: signer, data_base64: image },
        { summary: fmt(gettext("Signed by %(name)s"), { name: signer }) },
      );
    });
  });
  return panel(
    "signature",
    gettext("Client's signature"),
    view.requires_signature ? h("p", { class: "help" }, gettext("Required before the work order can be completed.")) : null,
    canvas,
    field(gettext("Name of the person signing"), name),
    error,
    h("div", { class: "fapp-row" }, save, clear),
  );
}

function lastReading(meter) {
  if (meter.last_value === null || meter.last_value === undefined) return gettext("no reading yet");
  return fmt(gettext("last %(value)s %(unit)s"), { value: quantity(meter.last_value), unit: meter.unit });
}

function meterReadings(app, view) {
  if (!view.meters.length) return null;
  return panel(
    "meters",
    gettext("Meter readings"),
    h(
      "ul",
      { class: "fapp-rows" },
      view.meters.map((m) => {
        const id = `meter-${view.id}-${m.id}`;
        const input = h("input", { type: "number", id, step: "any", inputmode: "decimal", dataset: { keep: id } });
        return h(
          "li",
          { dataset: { meter: m.id } },
          h("label", { for: id }, h("b", {}, m.name), " ", h("span", { class: "muted" }, lastReading(m))),
          pendingMark(m),
          RECORDING.has(view.status)
            ? h(
                "div",
                { class: "fapp-search-row" },
                input,
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn",
                    onclick: () => {
                      if (input.value === "") return input.focus();
                      const summary = `${m.name}: ${input.value} ${m.unit}`;
                      const payload = { meter_id: m.id, value: input.value };
                      app.act("reading.add", view, payload, { summary }, { clear: [input] });
                    },
                  },
                  gettext("Save"),
                ),
              )
            : null,
        );
      }),
    ),
  );
}

// --- status changes: the bar at the bottom and its sheets ------------------------------------------------

function holdSheet(app, view) {
  const id = `sheet-hold-${view.id}`;
  const reason = h(
    "select",
    { id: `${id}-reason`, dataset: { keep: `${id}-reason` } },
    Object.entries(HOLD_REASONS).map(([value, label]) => h("option", { value }, label)),
  );
  const text = h("textarea", { id: `${id}-text`, rows: "3", dataset: { keep: `${id}-text` } });
  const dialog = h(
    "dialog",
    { class: "fapp-sheet", id },
    h(
      "div",
      { class: "fapp-sheet-body" },
      h("h2", {}, gettext("Put on hold")),
      field(gettext("Why?"), reason),
      field(gettext("Details"), text, gettext("Shown to the office, e.g. which part is missing.")),
      h(
        "div",
        { class: "fapp-sheet-actions" },
        h(
          "button",
          {
            type: "button",
            class: "btn btn-primary btn-big",
            onclick: () => {
              dialog.close();
              app.act(
                "transition",
                view,
                { to: "on_hold", hold_reason: reason.value, reason: text.value.trim() },
                { summary: fmt(gettext("On hold: %(reason)s"), { reason: HOLD_REASONS[reason.value] }) },
                { clear: [text] },
              );
            },
          },
          gettext("Put on hold"),
        ),
        h("button", { type: "button", class: "btn btn-big", onclick: () => dialog.close() }, gettext("Cancel")),
      ),
    ),
  );
  return dialog;
}

function completeSheet(app, view) {
  const id = `sheet-complete-${view.id}`;
  const notesInput = h("textarea", {
    id: `${id}-notes`,
    rows: "4",
    dataset: { keep: `${id}-notes` },
    value: view.resolution_notes || "",
  });
  const list = h("ul", { class: "fapp-guards" });
  const running = view.time_entries.some((e) => e.is_mine && e.is_running);
  const confirm = h("button", { type: "button", class: "btn btn-primary btn-big" }, gettext("Complete work order"));
  const update = () => {
    const items = completionChecklist(view, notesInput.value, gettext);
    fill(
      list,
      items.map((g) =>
        h(
          "li",
          { class: g.met ? "is-met" : "is-missing", dataset: { guard: g.guard, met: String(g.met) } },
          h("span", { class: "fapp-tick", "aria-hidden": "true" }, g.met ? "✓" : "✗"),
          h("span", {}, g.label, g.detail && !g.met ? h("small", { class: "muted" }, ` (${g.detail})`) : null),
        ),
      ),
    );
    confirm.disabled = items.some((g) => !g.met);
  };
  notesInput.addEventListener("input", update);
  const dialog = h(
    "dialog",
    { class: "fapp-sheet", id },
    h(
      "div",
      { class: "fapp-sheet-body" },
      h("h2", {}, gettext("Complete the work order")),
      field(gettext("Resolution notes"), notesInput, gettext("What was found and what was done.")),
      h("h3", {}, gettext("Before completing")),
      list,
      running ? h("p", { class: "help" }, gettext("Your running timer will be stopped.")) : null,
      h(
        "div",
        { class: "fapp-sheet-actions" },
        confirm,
        h("button", { type: "button", class: "btn btn-big", onclick: () => dialog.close() }, gettext("Cancel")),
      ),
    ),
  );
  confirm.addEventListener("click", () => {
    if (confirm.disabled) return;
    dialog.close();
    app.act(
      "transition",
      view,
      { to: "completed", resolution_notes: notesInput.value.trim() },
      { summary: gettext("Completed") },
    );
  });
  update();
  dialog.refresh = update;
  return dialog;
}

function actionBar(app, view, sheets) {
  const steps = NEXT_STEPS[view.status] || [];
  const buttons = steps.map((step) => {
    const primary = step === "start" || step === "complete" || step === "resume";
    return h(
      "button",
      {
        type: "button",
        class: `btn btn-big ${primary ? "btn-primary" : ""}`,
        dataset: { step },
        onclick: () => {
          if (sheets[step]) {
            sheets[step].refresh?.();
            sheets[step].showModal();
            return;
          }
          app.act("transition", view, { to: STEP_TARGET[step] }, { summary: STEP_LABELS[step] });
        },
      },
      STEP_LABELS[step],
    );
  });
  return h(
    "div",
    { class: "fapp-actionbar", role: "toolbar", "aria-label": gettext("Next step") },
    h("a", { class: "btn btn-big fapp-actionbar-back", href: `#/${listOf(view)}`, "aria-label": gettext("Back to the list") }, "‹"),
    buttons.length ? buttons : h("span", { class: "fapp-actionbar-status" }, statusBadge(view.status)),
  );
}

/** The whole screen of one work order. */
export function renderWorkOrder(app, view) {
  const sheets = {};
  if ((NEXT_STEPS[view.status] || []).includes("hold")) sheets.hold = holdSheet(app, view);
  if ((NEXT_STEPS[view.status] || []).includes("complete")) sheets.complete = completeSheet(app, view);
  return h(
    "div",
    { class: "fapp-wo", dataset: { screen: "work-order", id: view.id, status: view.status } },
    head(app, view),
    notices(app, view),
    app.signedOutNotice(),
    where(view),
    equipment(view),
    description(view),
    time(app, view),
    checklist(app, view),
    parts(app, view),
    notes(app, view),
    photos(app, view),
    signature(app, view),
    meterReadings(app, view),
    actionBar(app, view, sheets),
    Object.values(sheets),
  );
}
