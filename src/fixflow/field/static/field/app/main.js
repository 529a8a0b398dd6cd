// Fixflow technician app: start-up, the screens by route (#/today, #/upcoming, #/done, #/wo/<id>), and the
// phone's copy of the data. See db.js (storage), outbox.js (queued changes), sync.js (sending them),
// model.js (rules), screens.js and workorder.js (what is shown).

import { openDevice, openPerson, ownerKey } from "./db.js";
import { elapsed, searchParts, viewOf } from "./model.js";
import { enqueue, queued } from "./outbox.js";
import { renderList, renderMessage, renderStatus, renderSyncPanel } from "./screens.js";
import { Sync } from "./sync.js";
import { gettext, h } from "./ui.js";
import { renderWorkOrder } from "./workorder.js";

const config = JSON.parse(document.getElementById("fapp-config").textContent);
const LISTS = new Set(["today", "upcoming", "done"]);
const PARTS_KEEP_MS = 30 * 24 * 3600_000; // a part found online stays searchable offline this long

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const wo = hash.match(/^wo\/(\d+)$/);
  if (wo) return { name: "wo", id: Number(wo[1]), key: hash };
  return { name: LISTS.has(hash) ? hash : "today", key: LISTS.has(hash) ? hash : "today" };
}

function emptyData() {
  return { workOrders: [], outbox: [], settled: [], notices: [], held: [], dismissed: [], loaded: false };
}

class App {
  constructor() {
    this.config = config;
    this.person = null;
    this.session = null;
    this.deviceId = null;
    this.data = emptyData();
    this.views = new Map();
    this.padDrafts = new Map();
    this.photoDrafts = new Map();
    this.partDrafts = new Map();
    this.sync = null;
  }

  async boot() {
    const device = await openDevice();
    this.device = device.store;
    this.deviceId = device.deviceId;
    const last = await this.device.get("meta", "lastSession");
    if (last) await this.usePerson(last);
    this.sync = new Sync(this);
    await this.reload();
    this.sync.start();
    window.addEventListener("hashchange", () => this.render({ scrollTop: true }));
    document.addEventListener("click", (event) => this.onClick(event));
    document.getElementById("fapp-status").addEventListener("click", () => this.openSyncPanel());
    setInterval(() => this.tickTimers(), 1000);
    document.documentElement.dataset.appReady = "true";
    // The work orders first, then the app's own files: on a slow network the first visit gets the data
    // sooner, and the server is not asked for both at once.
    this.sync.run("open").finally(() => this.registerWorker());
  }

  registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(config.serviceWorker, { scope: config.scope })
      .catch((error) => console.warn("Fixflow: the service worker did not register", error));
    navigator.serviceWorker.ready.then(() => {
      document.documentElement.dataset.offlineReady = "true";
    });
  }

  // --- who is signed in -------------------------------------------------------------------------------

  async usePerson(session) {
    if (this.person) this.person.close();
    this.person = await openPerson(ownerKey(session));
    this.session = session;
  }

  /** Ask the server who is signed in; switch to that person's data if it is someone else. Null: signed out. */
  async confirmSession() {
    let response;
    try {
      response = await fetch(config.session, {
        credentials: "same-origin",
        redirect: "manual",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
    } catch {
      throw new Error(gettext("The network dropped; trying again soon."));
    }
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 302) {
      this.sync.changed({ signedOut: true });
      return null;
    }
    if (response.status === 403) {
      this.sync.changed({ error: gettext("Your role does no field work: nothing is sent from this phone.") });
      return null;
    }
    if (!response.ok) throw new Error(`${gettext("The server did not answer as expected")} (${response.status}).`);
    const session = await response.json();
    if (!this.session || ownerKey(session) !== ownerKey(this.session)) {
      await this.usePerson(session);
      await this.device.put("meta", session, "lastSession");
      await this.reload();
    } else {
      this.session = session;
    }
    this.sync.changed({ signedOut: false });
    return session;
  }

  loginUrl() {
    return `${config.login}?next=${encodeURIComponent(config.scope)}`;
  }

  signedOutNotice() {
    if (!this.sync || !this.sync.state.signedOut) return null;
    return h(
      "div",
      { class: "notice notice-warn fapp-signed-out" },
      h("b", {}, gettext("You are signed out.")),
      " ",
      gettext("Your changes stay on this phone until you sign in again."),
      " ",
      h("a", { href: this.loginUrl() }, gettext("Sign in")),
    );
  }

  // --- the data on the phone ---------------------------------------------------------------------------

  async reload() {
    if (!this.person) {
      this.data = emptyData();
      this.views = new Map();
      this.render();
      return;
    }
    const p = this.person;
    const [workOrders, outbox, settled, notices, held, dismissed, bundleAt] = await Promise.all([
      p.all("workOrders"),
      queued(p),
      p.all("settled"),
      p.all("notices"),
      p.get("meta", "held"),
      p.get("meta", "dismissed"),
      p.get("meta", "bundleAt"),
    ]);
    this.data = {
      workOrders,
      outbox,
      settled,
      notices,
      held: held || [],
      dismissed: dismissed || [],
      loaded: Boolean(bundleAt),
    };
    this.buildViews();
    this.render();
  }

  buildViews() {
    const me = (this.session && this.session.user.name) || "";
    const byWorkOrder = (commands) => {
      const out = new Map();
      for (const c of commands) out.set(c.work_order_id, [...(out.get(c.work_order_id) || []), c]);
      return out;
    };
    const queuedBy = byWorkOrder(this.data.outbox);
    const settledBy = byWorkOrder(this.data.settled);
    this.views = new Map(
      this.data.workOrders.map((wo) => [
        wo.id,
        viewOf(wo, { queued: queuedBy.get(wo.id) || [], settled: settledBy.get(wo.id) || [], me }),
      ]),
    );
  }

  hasData() {
    return this.data.loaded || this.data.workOrders.length > 0;
  }

  waiting() {
    return this.data.outbox.length;
  }

  /** The bundle from the server replaces the phone's copy (work orders with changes still queued stay), and
   * refreshes the parts kept for offline search: the bundle's, and those found online in the last 30 days. */
  async storeBundle(bundle, startedAt) {
    await this.person.tx(["workOrders", "outbox", "settled", "meta", "parts"], async (stores, promised) => {
      const waiting = new Set((await promised(stores.outbox.getAll())).map((c) => c.work_order_id));
      const fresh = new Set(bundle.work_orders.map((wo) => wo.id));
      for (const id of await promised(stores.workOrders.getAllKeys())) {
        if (!fresh.has(id) && !waiting.has(id)) stores.workOrders.delete(id);
      }
      for (const wo of bundle.work_orders) stores.workOrders.put(wo);
      for (const c of await promised(stores.settled.getAll())) {
        if (c.applied_at < startedAt) stores.settled.delete(c.mutation_id);
      }
      stores.meta.put(bundle.held || [], "held");
      stores.meta.put(bundle.server_time, "serverTime");
      stores.meta.put(Date.now(), "bundleAt");
      const keptAt = Date.now();
      const bundled = new Set();
      for (const part of bundle.parts || []) {
        bundled.add(part.id);
        stores.parts.put({ ...part, keptAt });
      }
      for (const part of await promised(stores.parts.getAll())) {
        if (!bundled.has(part.id) && !(part.keptAt > keptAt - PARTS_KEEP_MS)) stores.parts.delete(part.id);
      }
      const known = new Set(await promised(stores.parts.getAllKeys()));
      for (const wo of bundle.work_orders) {
        for (const usage of wo.part_usages || []) {
          if (usage.part_id && !known.has(usage.part_id)) {
            known.add(usage.part_id);
            const { part_id: id, description: name, unit } = usage;
            stores.parts.put({ id, sku: "", name, unit, barcode: "", keptAt });
          }
        }
      }
    });
    markOnce("fapp-bundle-fresh");
  }

  /** Parts found online: kept for offline search (for 30 days, or as long as the bundle carries them). */
  async rememberParts(parts) {
    if (!this.person || !parts.length) return;
    const keptAt = Date.now();
    await this.person.tx(["parts"], async (stores) => {
      for (const part of parts) stores.parts.put({ ...part, keptAt });
    });
  }

  async localParts(text) {
    return this.person ? searchParts(await this.person.all("parts"), text) : [];
  }

  /** What the technician should read on a work order: refused or held changes, the office's decisions. */
  noticesFor(workOrderId) {
    const dismissed = new Set(this.data.dismissed);
    const byId = new Map();
    for (const n of this.data.notices) {
      if (n.work_order_id === workOrderId) byId.set(n.mutation_id, { ...n, kind: n.status });
    }
    for (const m of this.data.held) {
      if (m.work_order_id !== workOrderId) continue;
      const kind = m.resolution || (m.status === "held" ? "held" : m.status);
      const local = byId.get(m.mutation_id);
      byId.set(m.mutation_id, { ...(local || {}), ...m, kind, summary: (local && local.summary) || "" });
    }
    return [...byId.values()].filter((n) => !dismissed.has(n.mutation_id));
  }

  async dismiss(mutationId) {
    await this.person.tx(["notices", "meta"], async (stores, promised) => {
      stores.notices.delete(mutationId);
      const dismissed = (await promised(stores.meta.get("dismissed"))) || [];
      if (!dismissed.includes(mutationId)) stores.meta.put([...dismissed, mutationId].slice(-500), "dismissed");
    });
    await this.reload();
  }

  partDraft(id) {
    if (!this.partDrafts.has(id)) this.partDrafts.set(id, { part: null });
    return this.partDrafts.get(id);
  }

  photoDraft(id) {
    if (!this.photoDrafts.has(id)) this.photoDrafts.set(id, { photo: null, busy: false });
    return this.photoDrafts.get(id);
  }

  /**
   * Do something on a work order: queue the command (applied on the screen at once), then send it if the
   * phone is online. `options.clear` lists inputs to empty, so the next screen does not show the old text.
   */
  async act(type, view, payload, meta = null, options = {}) {
    if (!this.person) return;
    const server = this.data.workOrders.find((wo) => wo.id === view.id) || view;
    await enqueue(this.person, this.deviceId, { type, workOrder: server, payload, meta });
    for (const input of options.clear || []) input.value = "";
    await this.reload();
    if (navigator.onLine) this.sync.run("change");
  }

  // --- screens ----------------------------------------------------------------------------------------------

  render({ scrollTop = false } = {}) {
    const main = document.getElementById("fapp-main");
    const current = route();
    const kept = main.dataset.route === current.key ? keep(main, this) : null;
    let screen;
    if (current.name === "wo") {
      const view = this.views.get(current.id);
      screen = view
        ? renderWorkOrder(this, view)
        : renderMessage(
            gettext("Not on this phone"),
            gettext("This work order is not among your work orders on this phone. Sync to fetch them again."),
            h("p", {}, h("a", { class: "btn", href: "#/today" }, gettext("Back to today"))),
          );
    } else {
      screen = renderList(this, current.name);
    }
    main.dataset.route = current.key;
    main.replaceChildren(screen);
    document.body.dataset.screen = current.name;
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.classList.toggle("active", tab.dataset.tab === current.name);
      if (tab.dataset.tab === current.name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    if (kept) restore(main, kept, this);
    else if (scrollTop) window.scrollTo(0, 0);
    this.showStatus();
    if (this.hasData()) markOnce("fapp-list-shown"); // how long the app took to show the work (fixflow bench)
  }

  showStatus() {
    const button = document.getElementById("fapp-status");
    if (button) renderStatus(this, button);
    const dialog = document.getElementById("fapp-sync-dialog");
    if (dialog && dialog.open) dialog.replaceChildren(renderSyncPanel(this));
  }

  openSyncPanel() {
    const dialog = document.getElementById("fapp-sync-dialog");
    dialog.replaceChildren(renderSyncPanel(this));
    dialog.showModal();
  }

  onClick(event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    if (target.dataset.action === "sync-now") {
      event.preventDefault();
      this.sync.run("demand");
    } else if (target.dataset.action === "close-sheet") {
      target.closest("dialog").close();
    }
  }

  tickTimers() {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-elapsed-since]")) {
      el.textContent = elapsed(el.dataset.elapsedSince, now);
    }
  }
}

function markOnce(name) {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}

// A screen is drawn anew after every change; what the technician is typing, which boxes are open, the
// drawing on the signature pad and the scroll position survive it.
function keep(root, app) {
  const state = { fields: {}, open: [], dialogs: [], focus: null, scroll: window.scrollY };
  for (const el of root.querySelectorAll("[data-keep]")) state.fields[el.dataset.keep] = el.value;
  for (const d of root.querySelectorAll("details[data-keep-open]")) if (d.open) state.open.push(d.dataset.keepOpen);
  for (const d of root.querySelectorAll("dialog[open]")) state.dialogs.push(d.id);
  for (const canvas of root.querySelectorAll("canvas[data-pad]")) {
    const saved = canvas.padInstance && canvas.padInstance.snapshot();
    if (saved) app.padDrafts.set(canvas.dataset.pad, saved);
  }
  const active = document.activeElement;
  if (active && root.contains(active) && active.dataset.keep) {
    state.focus = { key: active.dataset.keep, start: active.selectionStart, end: active.selectionEnd };
  }
  return state;
}

function restore(root, state) {
  for (const el of root.querySelectorAll("[data-keep]")) {
    if (el.dataset.keep in state.fields) el.value = state.fields[el.dataset.keep];
  }
  for (const d of root.querySelectorAll("details[data-keep-open]")) d.open = state.open.includes(d.dataset.keepOpen);
  for (const id of state.dialogs) {
    const dialog = document.getElementById(id);
    if (dialog && !dialog.open) {
      dialog.refresh?.();
      dialog.showModal();
    }
  }
  if (state.focus) {
    const el = root.querySelector(`[data-keep="${CSS.escape(state.focus.key)}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      try {
        if (state.focus.start !== null) el.setSelectionRange(state.focus.start, state.focus.end);
      } catch {
        // inputs of type number have no selection
      }
    }
  }
  window.scrollTo(0, state.scroll);
}

const app = new App();
window.fixflowField = app; // for the browser tests and the curious
app.boot().catch((error) => {
  console.error(error);
  document.getElementById("fapp-main").replaceChildren(
    renderMessage(gettext("The app could not start"), String(error && error.message ? error.message : error)),
  );
});
