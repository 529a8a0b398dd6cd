// The home screens ("Today", "Upcoming", "Done"), the status indicator in the top bar and the sync panel.

import { lists } from "./model.js";
import { PRIORITY_LABELS, badge, day, fmt, gettext, h, plural, statusBadge, when } from "./ui.js";

export const LIST_TITLES = {
  today: gettext("Today"),
  upcoming: gettext("Upcoming"),
  done: gettext("Done"),
};
const EMPTY = {
  today: gettext("Nothing planned for today."),
  upcoming: gettext("Nothing planned for the next days yet."),
  done: gettext("Nothing done in the last seven days."),
};

function card(app, view) {
  const site = view.site || {};
  const notices = app.noticesFor(view.id).length;
  return h(
    "article",
    { class: `job-card fapp-card${view.priority === "critical" ? " job-critical" : ""}`, dataset: { id: view.id } },
    h(
      "a",
      { class: "job-link", href: `#/wo/${view.id}` },
      h(
        "span",
        { class: "job-top" },
        h("span", { class: "job-number" }, view.number),
        h(
          "span",
          { class: "fapp-badges" },
          statusBadge(view.status),
          view.priority && view.priority !== "normal" ? badge(view.priority, PRIORITY_LABELS[view.priority]) : null,
        ),
      ),
      h("span", { class: "job-title" }, view.title),
      view.scheduled_start || view.due_at
        ? h("span", { class: "job-when" }, when(view.scheduled_start || view.due_at, site.timezone))
        : null,
      h(
        "span",
        { class: "fapp-where" },
        h("b", {}, site.name || ""),
        h("span", { class: "muted" }, ` · ${view.client ? view.client.name : ""}`),
      ),
      site.address ? h("span", { class: "muted fapp-address" }, site.address) : null,
      view.queued
        ? h("span", { class: "fapp-card-waiting" }, plural("%(n)s change waiting", "%(n)s changes waiting", view.queued))
        : null,
      notices ? h("span", { class: "fapp-card-notice" }, plural("%(n)s message", "%(n)s messages", notices)) : null,
    ),
  );
}

/** One of the three lists. */
export function renderList(app, name) {
  const grouped = lists([...app.views.values()]);
  const items = grouped[name] || [];
  const loaded = app.hasData();
  return h(
    "section",
    { class: "fapp-list", dataset: { screen: name, loaded: loaded ? "true" : "false" } },
    h(
      "div",
      { class: "fapp-head" },
      h("div", {}, h("h1", {}, LIST_TITLES[name]), name === "today" ? h("p", { class: "muted" }, day(new Date())) : null),
      syncButton(app),
    ),
    app.signedOutNotice(),
    items.length
      ? h("div", { class: "job-cards fapp-cards" }, items.map((view) => card(app, view)))
      : h(
          "p",
          { class: "empty panel" },
          loaded ? EMPTY[name] : gettext("Your work orders appear here once the app has loaded them with network."),
        ),
  );
}

export function syncButton(app, extra = "") {
  return h(
    "button",
    { type: "button", class: `btn fapp-sync-now ${extra}`, dataset: { action: "sync-now" } },
    gettext("Sync now"),
  );
}

/** The indicator: online or offline, and how many changes wait to be sent. */
export function statusOf(app) {
  const waiting = app.waiting();
  const s = app.sync ? app.sync.state : {};
  let state = "online";
  if (!navigator.onLine) state = "offline";
  else if (s.signedOut) state = "signed-out";
  else if (s.syncing) state = "syncing";
  else if (s.error) state = "error";
  const waitingText = plural("%(n)s waiting", "%(n)s waiting", waiting);
  const labels = {
    offline: waiting ? `${gettext("Offline")} · ${waitingText}` : gettext("Offline"),
    "signed-out": `${gettext("Signed out")} · ${waitingText}`,
    syncing: waiting ? `${gettext("Sending")} · ${waitingText}` : gettext("Updating…"),
    error: `${gettext("Not sent yet")} · ${waitingText}`,
    online: waiting ? `${gettext("Online")} · ${waitingText}` : `${gettext("Online")} · ${gettext("all sent")}`,
  };
  return { state, waiting, label: labels[state] };
}

export function renderStatus(app, button) {
  const { state, waiting, label } = statusOf(app);
  button.dataset.state = state;
  button.dataset.waiting = String(waiting);
  button.replaceChildren(h("span", { class: "fapp-dot", "aria-hidden": "true" }), h("span", {}, label));
  button.setAttribute("aria-label", `${label}. ${gettext("Tap for details and to sync now.")}`);
}

const EXPLAIN = {
  offline: gettext(
    "No network. Keep working: every change is saved on this phone and sent by itself when the network is back.",
  ),
  "signed-out": gettext("You are signed out. Your changes stay on this phone; sign in to send them."),
  syncing: gettext("Sending your changes and fetching your work orders…"),
  error: gettext("The last attempt to send did not get through. Your changes are safe on this phone."),
  online: gettext("Online. Changes are sent as you make them."),
};

/** The panel behind the indicator: what the state means, what waits, when it last synced, "Sync now". */
export function renderSyncPanel(app) {
  const { state, waiting } = statusOf(app);
  const s = app.sync ? app.sync.state : {};
  const commands = app.data.outbox;
  return h(
    "div",
    { class: "fapp-sheet-body" },
    h("h2", {}, gettext("Sync")),
    h("p", {}, EXPLAIN[state]),
    s.error ? h("p", { class: "notice notice-warn" }, s.error) : null,
    waiting
      ? h(
          "div",
          {},
          h("h3", {}, plural("%(n)s change waiting to be sent", "%(n)s changes waiting to be sent", waiting)),
          h(
            "ul",
            { class: "fapp-waiting-list" },
            commands.slice(0, 30).map((c) => {
              const wo = app.views.get(c.work_order_id);
              return h(
                "li",
                {},
                h("b", {}, wo ? wo.number : `#${c.work_order_id}`),
                " ",
                (c.meta && c.meta.summary) || c.type,
              );
            }),
          ),
        )
      : h("p", { class: "muted" }, gettext("Nothing waiting: everything was sent.")),
    s.lastSyncAt
      ? h("p", { class: "muted" }, fmt(gettext("Last synced %(when)s."), { when: when(new Date(s.lastSyncAt)) }))
      : null,
    h(
      "div",
      { class: "fapp-sheet-actions" },
      state === "signed-out"
        ? h("a", { class: "btn btn-primary btn-big", href: app.loginUrl() }, gettext("Sign in"))
        : syncButton(app, "btn-primary btn-big"),
      h("button", { type: "button", class: "btn btn-big", dataset: { action: "close-sheet" } }, gettext("Close")),
    ),
    h("p", { class: "help" }, h("a", { href: app.config.home }, gettext("Open the office pages of Fixflow"))),
  );
}

export function renderMessage(title, text, ...extra) {
  return h("section", { class: "fapp-list" }, h("div", { class: "panel" }, h("h1", {}, title), h("p", {}, text), extra));
}
