// The app's rules, without the DOM or the network: what a work order looks like with the changes still
// queued on the phone, which lists it belongs to, what still blocks completing it.
//
// The server's copy (from the bundle) is never edited on the phone: every change is a command in the
// outbox, and the screen shows the server's copy with the queued commands replayed over it ("optimistic"),
// so what the technician sees is exactly what the server will be asked to do.

export const OPEN = new Set(["new", "planned", "in_progress", "on_hold"]);
export const DONE = new Set(["completed", "closed", "cancelled"]);

/** The next steps a technician assigned to the work order may take from each status (DOMAIN.md §1). */
export const NEXT_STEPS = {
  new: ["start"],
  planned: ["start"],
  in_progress: ["hold", "complete"],
  on_hold: ["resume"],
};
export const STEP_TARGET = { start: "in_progress", hold: "on_hold", resume: "in_progress", complete: "completed" };

/** An instant as ISO 8601 with the phone's own offset, e.g. 2026-03-02T09:00:00.000+01:00. */
export function isoWithOffset(date = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(Math.trunc(n))).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

function minutesBetween(start, end) {
  return Math.max(0, Math.round((Date.parse(end) - Date.parse(start)) / 60000));
}

/** A checkbox answer as the server stores it ("done" or ""); other kinds as typed. */
export function checklistValue(kind, value) {
  const raw = value === null || value === undefined ? "" : String(value).trim();
  if (kind === "checkbox") return ["true", "1", "yes", "on", "done"].includes(raw.toLowerCase()) ? "done" : "";
  if (kind === "pass_fail") return raw.toLowerCase();
  return raw;
}

function myRunningTimer(view) {
  return view.time_entries.find((e) => e.is_mine && e.is_running);
}

function stopTimer(entry, at) {
  entry.ended_at = at;
  entry.duration_minutes = minutesBetween(entry.started_at, at);
  entry.is_running = false;
}

const APPLY = {
  transition(view, c) {
    const p = c.payload;
    view.status = p.to;
    if (p.to === "in_progress" && !view.started_at) view.started_at = c.occurred_at;
    if (p.to === "on_hold") {
      view.hold_reason = p.hold_reason || "other";
      view.status_reason = p.reason || "";
    } else {
      view.hold_reason = "";
    }
    if (p.resolution_notes !== undefined && p.resolution_notes !== null) view.resolution_notes = p.resolution_notes;
    if (p.to === "completed") {
      view.completed_at = c.occurred_at;
      const running = myRunningTimer(view);
      if (running) stopTimer(running, c.occurred_at);
    }
  },
  "timer.start"(view, c, me) {
    if (myRunningTimer(view)) return;
    view.time_entries.push({
      id: `local:${c.mutation_id}`,
      technician: me,
      is_mine: true,
      kind: "labour",
      started_at: c.occurred_at,
      ended_at: null,
      duration_minutes: null,
      is_running: true,
      note: "",
      pending: true,
    });
  },
  "timer.stop"(view, c) {
    const running = myRunningTimer(view);
    if (running) {
      stopTimer(running, c.occurred_at);
      running.pending = true;
    }
  },
  "time.add"(view, c, me) {
    const p = c.payload;
    const end = new Date(Date.parse(p.started_at) + p.duration_minutes * 60000).toISOString();
    view.time_entries.push({
      id: `local:${c.mutation_id}`,
      technician: me,
      is_mine: true,
      kind: p.kind || "labour",
      started_at: p.started_at,
      ended_at: end,
      duration_minutes: p.duration_minutes,
      is_running: false,
      note: p.note || "",
      pending: true,
    });
  },
  "part.use"(view, c) {
    const p = c.payload;
    const meta = c.meta || {};
    view.part_usages.push({
      id: `local:${c.mutation_id}`,
      part_id: p.part_id,
      description: meta.name || p.note || `#${p.part_id}`,
      quantity: String(p.quantity),
      unit: meta.unit || "pc",
      pending: true,
    });
  },
  "checklist.answer"(view, c) {
    const item = view.checklist.find((i) => i.id === c.payload.item_id);
    if (item) {
      item.value = checklistValue(item.kind, c.payload.value);
      item.pending = true;
    }
  },
  "note.add"(view, c, me) {
    view.notes.push({
      id: `local:${c.mutation_id}`,
      author: me,
      body: c.payload.body,
      is_client_visible: Boolean(c.payload.is_client_visible),
      created_at: c.occurred_at,
      pending: true,
    });
  },
  "photo.add"(view, c) {
    const p = c.payload;
    view.photos.push({
      id: `local:${c.mutation_id}`,
      caption: p.caption || "",
      name: "photo.jpg",
      content_type: p.content_type,
      is_image: true,
      url: c.server_url || `data:${p.content_type};base64,${p.data_base64}`,
      thumbnail_url: null,
      created_at: c.occurred_at,
      pending: true,
    });
  },
  "signature.add"(view, c) {
    view.signature = {
      signed_by_name: c.payload.signer_name,
      signed_at: c.occurred_at,
      url: `data:image/png;base64,${c.payload.data_base64}`,
      pending: true,
    };
  },
  "reading.add"(view, c) {
    const meter = view.meters.find((m) => m.id === c.payload.meter_id);
    if (meter) {
      meter.last_value = String(c.payload.value);
      meter.last_read_at = c.occurred_at;
      meter.pending = true;
    }
  },
};

/**
 * The work order as the technician should see it: the server's copy with the commands replayed in `seq`
 * order. `settled` are commands the server applied after this copy was sent (their `applied_version` is
 * newer than the copy's): they are replayed too until a fresh bundle includes them.
 */
export function viewOf(snapshot, { queued = [], settled = [], me = "" } = {}) {
  const view = structuredClone(snapshot);
  view.time_entries ||= [];
  view.part_usages ||= [];
  view.notes ||= [];
  view.photos ||= [];
  view.checklist ||= [];
  view.meters ||= [];
  const stillNeeded = settled.filter((c) => !(snapshot.version >= c.applied_version));
  const commands = [...stillNeeded, ...queued].sort((a, b) => a.seq - b.seq);
  for (const command of commands) {
    const apply = APPLY[command.type];
    if (apply) apply(view, command, me);
  }
  view.queued = queued.length;
  return view;
}

/** The completion guards (DOMAIN.md §1) as a list to tick: each with whether it is met on the phone now. */
export function completionChecklist(view, resolutionNotes, t = (s) => s) {
  const items = [];
  const notes = resolutionNotes !== undefined ? resolutionNotes : view.resolution_notes || "";
  items.push({ guard: "has_resolution_notes", label: t("Resolution notes written"), met: Boolean(notes.trim()) });
  const required = view.checklist.filter((i) => i.is_required);
  if (required.length) {
    const open = required.filter((i) => !i.value);
    items.push({
      guard: "required_checklist_answered",
      label: t("Required checklist items answered"),
      met: open.length === 0,
      detail: open.map((i) => i.label).join(", "),
    });
  }
  if (view.requires_signature) {
    items.push({ guard: "has_required_signature", label: t("Client's signature"), met: Boolean(view.signature) });
  }
  const own = new Set(items.map((i) => i.guard));
  for (const missing of view.missing || []) {
    if (!own.has(missing.guard)) items.push({ guard: missing.guard, label: missing.message, met: false });
  }
  return items;
}

function localDay(iso) {
  const d = new Date(iso);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "today", "upcoming" or "done": started or paused work and anything planned up to today is today's. */
export function listOf(wo, now = new Date()) {
  if (DONE.has(wo.status)) return "done";
  if (wo.status === "in_progress" || wo.status === "on_hold") return "today";
  const when = wo.scheduled_start || wo.due_at;
  if (!when) return "today";
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  return localDay(when) <= today ? "today" : "upcoming";
}

function sortKey(wo) {
  return Date.parse(wo.scheduled_start || wo.due_at || wo.completed_at || 0) || 0;
}

/** The three lists of the home screen, each in the order the work will be (or was) done. */
export function lists(views, now = new Date()) {
  const out = { today: [], upcoming: [], done: [] };
  for (const view of views) out[listOf(view, now)].push(view);
  const running = (wo) => (wo.status === "in_progress" ? 0 : wo.status === "on_hold" ? 1 : 2);
  out.today.sort((a, b) => running(a) - running(b) || sortKey(a) - sortKey(b));
  out.upcoming.sort((a, b) => sortKey(a) - sortKey(b));
  out.done.sort((a, b) => sortKey(b) - sortKey(a));
  return out;
}

/** Elapsed time as h:mm:ss. */
export function elapsed(sinceIso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** Parts found on the phone when offline: name or SKU containing the text, or the whole barcode; by name. */
export function searchParts(parts, text) {
  const q = text.trim().toLowerCase();
  const found = q
    ? parts.filter(
        (p) =>
          (p.name || "").toLowerCase().includes(q) ||
          (p.sku || "").toLowerCase().includes(q) ||
          (p.barcode || "").toLowerCase() === q,
      )
    : parts;
  const byName = (a, b) => (a.name || "").localeCompare(b.name || "") || a.id - b.id;
  return [...found].sort(byName).slice(0, 20);
}

/** A map link for a site: its coordinates when known, else its address. */
export function mapsUrl(site) {
  if (site.latitude !== null && site.latitude !== undefined && site.longitude !== null && site.longitude !== undefined) {
    return `https://maps.google.com/?q=${encodeURIComponent(`${site.latitude},${site.longitude}`)}`;
  }
  return `https://maps.google.com/?q=${encodeURIComponent(site.address.replace(/\s+/g, " ").trim())}`;
}
