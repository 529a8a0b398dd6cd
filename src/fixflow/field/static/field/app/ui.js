// Small DOM and text helpers shared by the screens. Text goes through Django's JavaScript catalogue
// (/m/i18n.js defines `gettext`), so `makemessages -d djangojs` finds it.

export function gettext(text) {
  return typeof window.gettext === "function" ? window.gettext(text) : text;
}

/** `fmt("%(n)s waiting", {n: 3})`: Django's named interpolation. */
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_match, name) => String(values[name] ?? ""));
}

export function plural(one, many, count) {
  const text = typeof window.ngettext === "function" ? window.ngettext(one, many, count) : count === 1 ? one : many;
  return fmt(text, { n: count });
}

/** Build an element: h("button", {class: "btn", onclick: f, dataset: {id: 1}}, "Text", child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  let initial = null;
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "value") initial = value;
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "html") el.innerHTML = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  if (initial !== null) el.value = initial; // after the children: a <select> needs its options first
  return el;
}

/** Replace an element's children; like h(), it takes nested arrays and skips null, undefined and false. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const STATUS_LABELS = {
  new: gettext("New"),
  planned: gettext("Planned"),
  in_progress: gettext("In progress"),
  on_hold: gettext("On hold"),
  completed: gettext("Completed"),
  closed: gettext("Closed"),
  cancelled: gettext("Cancelled"),
};
const TONES = {
  new: "info",
  planned: "info",
  in_progress: "active",
  on_hold: "warn",
  completed: "ok",
  closed: "muted",
  cancelled: "muted",
  critical: "danger",
  high: "warn",
  normal: "info",
  low: "muted",
  operational: "ok",
  down: "danger",
  retired: "muted",
};
export const PRIORITY_LABELS = {
  critical: gettext("Critical"),
  high: gettext("High"),
  normal: gettext("Normal"),
  low: gettext("Low"),
};
export const HOLD_REASONS = {
  waiting_for_client: gettext("Waiting for client"),
  waiting_for_parts: gettext("Waiting for parts"),
  waiting_for_access: gettext("Waiting for access"),
  other: gettext("Other"),
};

export function badge(value, label) {
  return h("span", { class: `badge badge-${TONES[value] || "info"}`, dataset: { value } }, label);
}

export function statusBadge(status) {
  return badge(status, STATUS_LABELS[status] || status);
}

/** A date and time for people, in the site's time zone when known (the technician is there). */
export function when(iso, timeZone) {
  if (!iso) return "";
  const options = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  }
}

export function day(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" }).format(new Date(iso));
}

export function clockTime(iso, timeZone) {
  if (!iso) return "";
  try {
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: timeZone || undefined })
      .format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  }
}

export function minutes(value) {
  if (value === null || value === undefined) return "";
  const h = Math.floor(value / 60);
  const m = value % 60;
  if (h && m) return `${h} h ${String(m).padStart(2, "0")} min`;
  return h ? `${h} h` : `${m} min`;
}

/** A quantity without trailing zeros: "2.000" → "2". */
export function quantity(value) {
  const n = Number(value);
  return Number.isFinite(n) ? String(n) : String(value);
}

/** The little "waiting to be sent" marker next to a record made on the phone. */
export function pendingMark(record) {
  return record && record.pending
    ? h("span", { class: "fapp-pending", title: gettext("Waiting to be sent") }, gettext("waiting"))
    : null;
}

/** A value for <input type=datetime-local> from a Date, in the phone's time zone. */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}
