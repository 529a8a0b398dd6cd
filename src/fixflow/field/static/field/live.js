// Live updates of the office pages (issue 4, decision 0011). base.html loads this once for the roles
// that may follow work live. On the work order page, the work order list and the dispatcher's home it
// listens to /live/events/ (Server-Sent Events) and, when a work order it shows changed, fetches the
// page again and swaps in only the parts that differ: the work order page's status and sections, the
// list's row, the home's panels. It never touches a part the user is typing in or has opened (that
// part is refreshed when they leave it), never reloads the page, and coalesces bursts of events.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !window.EventSource || !window.DOMParser) return;
  const STREAM_URL = script.dataset.events;
  const TEXT_UPDATED = script.dataset.updated || "Updated";
  const QUIET_MS = 250; // wait this long for more events before fetching…
  const MAX_WAIT_MS = 1000; // …but never longer than this after the first one
  const FLASH_MS = 2000;

  // --- the page: which work orders it shows, and its parts that can change -------------------------

  const detailMatch = /\/work-orders\/(\d+)\/$/.exec(location.pathname);
  const linkTo = (id) => `a[href$="/work-orders/${id}/"]`;
  const PAGES = {
    // The work order page: the status badges, and each section of both columns.
    detail: {
      leaves: [".wo-head .badges"],
      parents: [".wo-main", ".wo-side"],
      concerns: (workOrderId) => workOrderId === Number(detailMatch[1]),
    },
    // The dispatcher's home: the counters and every panel.
    home: { leaves: [".stats"], parents: [".grid"], concerns: () => true },
    // The work order list: only the rows of the work orders that changed.
    list: { rows: true, concerns: (workOrderId) => Boolean(rowOf(document, workOrderId)) },
  };
  const kind =
    detailMatch && document.querySelector(".wo-layout") ? "detail"
    : document.querySelector("table.wo-list, #results") && /\/work-orders\/$/.test(location.pathname) ? "list"
    : document.querySelector(".stats") && document.querySelector(".grid") ? "home"
    : null;
  if (!kind) return;
  const page = PAGES[kind];

  function rowOf(root, workOrderId) {
    const link = root.querySelector(`#results ${linkTo(workOrderId)}`);
    return link && link.closest("tr");
  }

  // --- what the server last sent for each part (to tell a real change from our own scripts' touches) --

  const served = new WeakMap();
  function normalize(html) {
    return html
      .replace(/<input[^>]*name="csrfmiddlewaretoken"[^>]*>/g, "") // a new mask on every render
      .replace(/\b(htmx-(added|settling|swapping|request)|live-(flash|stale))\b/g, "")
      .replace(/\s+/g, " ")
      .replace(/ class=" ?"/g, "")
      .replace(/> </g, "><")
      .trim();
  }
  function servedHtml(el) {
    if (!served.has(el)) served.set(el, normalize(el.outerHTML));
    return served.get(el);
  }
  function parts(root) {
    const out = [];
    (page.leaves || []).forEach((sel) => root.querySelectorAll(sel).forEach((el) => out.push(el)));
    (page.parents || []).forEach((sel) => root.querySelectorAll(sel).forEach((p) => out.push(p, ...p.children)));
    if (page.rows) root.querySelectorAll("#results tbody tr").forEach((tr) => out.push(tr));
    return out;
  }
  // Now, before the other scripts enhance the page (deferred scripts run in order, before
  // DOMContentLoaded), the page is exactly what the server sent.
  parts(document).forEach(servedHtml);
  // Parts htmx swaps in come from the server too: remember them before they are enhanced.
  const rememberSwapped = () => parts(document).forEach(servedHtml);
  document.addEventListener("htmx:afterSwap", rememberSwapped);
  document.addEventListener("htmx:oobAfterSwap", rememberSwapped);

  // --- the user's hands: a part with a focused or changed field, or an opened form, is left alone ----

  const TYPING = "input:not([type=button],[type=submit],[type=reset],[type=checkbox],[type=radio],[type=hidden]), textarea, select, [contenteditable]";
  function isDirty(field) {
    if (field.disabled || field.type === "hidden") return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.type === "file") return Boolean(field.files && field.files.length);
    if (field.tagName === "SELECT") {
      const options = Array.from(field.options);
      if (field.multiple) return options.some((o) => o.selected !== o.defaultSelected);
      const preset = options.findIndex((o) => o.defaultSelected);
      return options.length > 0 && field.selectedIndex !== (preset === -1 ? 0 : preset);
    }
    return field.value !== field.defaultValue;
  }
  function isBusy(el) {
    const active = document.activeElement;
    if (active && el.contains(active) && active.matches(TYPING)) return true;
    if (Array.from(el.querySelectorAll("input, textarea, select")).some(isDirty)) return true;
    return Array.from(el.querySelectorAll("details[open]:not([data-open-wide])")).some((d) => d.querySelector("form, canvas"));
  }

  // --- swapping ------------------------------------------------------------------------------------

  let waiting = false; // a changed part was left alone: try again when the user lets go
  const flashed = [];

  function replace(old, html) {
    const parent = old.parentNode;
    const index = Array.prototype.indexOf.call(parent.children, old);
    if (window.htmx && htmx.swap) {
      // htmx binds the new part's hx-* attributes and fires htmx:load, which the page scripts enhance on
      htmx.swap(old, html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 20 });
    } else {
      const template = document.createElement("template");
      template.innerHTML = html;
      old.replaceWith(template.content);
    }
    return parent.children[index];
  }

  // Swap ``old`` for ``fresh`` (from the fetched page) when the server's HTML changed. Returns whether it did.
  function refreshPart(old, fresh) {
    if (!old || !fresh) return false;
    const html = fresh.outerHTML;
    const normalized = normalize(html);
    if (normalized === servedHtml(old)) return false;
    if (isBusy(old)) {
      waiting = true;
      return false;
    }
    const el = replace(old, html);
    if (el) {
      served.set(el, normalized);
      flashed.push(el);
    }
    return true;
  }

  function keysOf(parent) {
    const seen = {};
    return Array.from(parent.children).map((el) => {
      const key = el.id ? `#${el.id}` : `${el.tagName}.${Array.from(el.classList).sort().join(".")}`;
      seen[key] = (seen[key] || 0) + 1;
      return `${key}@${seen[key]}`;
    });
  }

  // A column or grid: part by part when the same parts are there; otherwise the whole of it (a section
  // appeared or went), unless the user is busy in it, then the parts both versions have.
  function refreshParent(old, fresh) {
    if (!old || !fresh) return;
    const oldKeys = keysOf(old);
    const freshKeys = keysOf(fresh);
    if (oldKeys.join() !== freshKeys.join() && !isBusy(old)) {
      const el = replace(old, fresh.outerHTML);
      if (el) {
        flashed.push(el);
        Array.from(el.children).forEach((child) => served.set(child, normalize(child.outerHTML)));
      }
      return;
    }
    const byKey = new Map(freshKeys.map((k, i) => [k, fresh.children[i]]));
    Array.from(old.children).forEach((child, i) => refreshPart(child, byKey.get(oldKeys[i])));
  }

  function apply(doc, workOrderIds) {
    waiting = false;
    if (page.rows) {
      workOrderIds.forEach((id) => {
        const row = rowOf(document, id);
        const fresh = rowOf(doc, id);
        if (row && !fresh) row.classList.add("live-stale"); // it no longer matches the filters
        else refreshPart(row, fresh);
      });
    } else {
      (page.leaves || []).forEach((sel) => refreshPart(document.querySelector(sel), doc.querySelector(sel)));
      (page.parents || []).forEach((sel) => refreshParent(document.querySelector(sel), doc.querySelector(sel)));
    }
    if (flashed.length) flash(flashed.splice(0));
  }

  // --- the discreet "updated" signs ----------------------------------------------------------------

  let toast = null;
  let toastTimer = null;
  function flash(elements) {
    elements.forEach((el) => {
      el.classList.add("live-flash");
      setTimeout(() => el.classList.remove("live-flash"), FLASH_MS);
    });
    if (!toast) {
      toast = document.createElement("div");
      toast.className = "live-toast";
      toast.setAttribute("role", "status");
      toast.setAttribute("aria-live", "polite");
      document.body.appendChild(toast);
    }
    toast.textContent = TEXT_UPDATED;
    toast.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toast.classList.remove("show"), FLASH_MS + 500);
  }
  const style = document.createElement("style");
  style.textContent = `
    @keyframes fixflow-live-flash { from { box-shadow: 0 0 0 3px var(--brand, #1f5fd6); } to { box-shadow: 0 0 0 3px transparent; } }
    .live-flash { animation: fixflow-live-flash ${FLASH_MS}ms ease-out; }
    tr.live-flash > td { animation: fixflow-live-row ${FLASH_MS}ms ease-out; }
    @keyframes fixflow-live-row { from { background: rgba(31, 95, 214, .14); } to { background: transparent; } }
    .live-stale { opacity: .55; }
    .live-toast { position: fixed; right: 1rem; bottom: 1rem; z-index: 100; padding: .3rem .8rem; border-radius: 999px;
      background: var(--brand, #1f5fd6); color: #fff; font-size: .85rem; opacity: 0; transition: opacity .3s; pointer-events: none; }
    .live-toast.show { opacity: .92; }
    @media (prefers-reduced-motion: reduce) { .live-flash, tr.live-flash > td { animation: none; } }
  `;
  document.head.appendChild(style);

  // --- fetching, coalesced -------------------------------------------------------------------------

  const changedIds = new Set();
  let everything = false;
  let timer = null;
  let firstAt = 0;
  let running = false;
  let leaving = false;

  let failures = 0; // fetches in a row that failed (offline, the server restarting, a 5xx)
  const RETRIES = 5; // then wait for the next event

  function schedule(delay = QUIET_MS, { retry = false } = {}) {
    const now = Date.now();
    if (!timer) firstAt = now;
    clearTimeout(timer);
    const wait = retry ? delay : Math.min(delay, firstAt + MAX_WAIT_MS - now);
    timer = setTimeout(run, Math.max(0, wait));
  }

  async function run() {
    timer = null;
    if (leaving) return;
    if (running || document.querySelector(".htmx-request")) {
      schedule(300); // the page is busy with its own request: its answer comes first
      return;
    }
    const ids = everything && page.rows ? idsOnPage() : Array.from(changedIds);
    changedIds.clear();
    everything = false;
    running = true;
    let failed = false;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
      if (leaving || response.redirected) return;
      if (!response.ok) {
        failed = response.status >= 500; // a 4xx (signed out, no longer allowed) will not get better
        return;
      }
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      apply(doc, ids);
      failures = 0;
    } catch (error) {
      failed = true; // offline or the server restarting
    } finally {
      running = false;
      if (failed && !leaving && failures < RETRIES) {
        // what changed is still to be shown: try again, 1 s, 2 s, 4 s… later (then at the next event)
        failures += 1;
        ids.forEach((id) => changedIds.add(id));
        schedule(1000 * 2 ** (failures - 1), { retry: true });
      }
    }
  }

  function idsOnPage() {
    return Array.from(document.querySelectorAll("#results tbody tr a[href*='/work-orders/']"))
      .map((a) => Number((/\/work-orders\/(\d+)\/$/.exec(a.getAttribute("href")) || [])[1]))
      .filter(Boolean);
  }

  // A part left alone while the user was in it: look again once they leave it — when the focus leaves
  // a field, an opened form is closed, or the page's own request (say, the note being sent) is answered.
  // Not on our own swaps: a part that stays busy must not make the page fetch itself over and over.
  const retry = () => { if (waiting) { everything = true; schedule(); } };
  document.addEventListener("focusout", retry);
  document.addEventListener("toggle", (event) => { if (!event.target.open) retry(); }, true);
  document.addEventListener("htmx:afterRequest", retry);
  // A form posted without htmx leaves the page: do not fetch it meanwhile (that fetch could take the
  // "saved" message meant for the page the browser is about to open).
  document.addEventListener("submit", (event) => { if (!event.defaultPrevented) leaving = true; });

  // --- the stream ----------------------------------------------------------------------------------

  let source = null;
  let lastId = script.dataset.since || ""; // the newest event when the server rendered this page
  let backoff = 5000;

  function connect() {
    // The stream replays what came after ``since`` (the browser's own reconnects send Last-Event-ID).
    source = new EventSource(lastId ? `${STREAM_URL}?since=${encodeURIComponent(lastId)}` : STREAM_URL);
    source.addEventListener("hello", () => {
      document.documentElement.dataset.live = "on"; // for the curious, and for the browser tests
      backoff = 5000;
    });
    ["hello", "work_order", "reset"].forEach((name) =>
      source.addEventListener(name, (event) => { if (event.lastEventId) lastId = event.lastEventId; }));
    source.addEventListener("work_order", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      if (!page.concerns(data.work_order)) return;
      changedIds.add(data.work_order);
      schedule();
    });
    source.addEventListener("reset", () => { everything = true; schedule(); });
    source.addEventListener("error", () => {
      // The browser reconnects by itself after a dropped stream; it gives up on a refusal or an
      // error page (a proxy's 502 while the server restarts): start again later, from the last event seen.
      if (source.readyState !== EventSource.CLOSED || leaving) return;
      document.documentElement.dataset.live = "off";
      source = null;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 300000);
    });
  }
  window.addEventListener("pagehide", () => {
    leaving = true;
    if (source) source.close();
    source = null;
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return; // back from the browser's cache: catch up
    leaving = false;
    if (!source) connect();
  });
  connect();
})();
