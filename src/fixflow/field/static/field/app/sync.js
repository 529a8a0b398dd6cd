// Sync: send the outbox to POST /api/v1/field/sync in `seq` order, in batches, then fetch a fresh bundle.
//
// It starts by itself when the network comes back (`online`), when the app opens or comes to the front,
// every 30 seconds while online with changes waiting (and every 5 minutes to refresh the work orders),
// after each change made online, and when the technician taps "Sync now". One run at a time; a request
// for another run while one is going is remembered and runs right after.

import { batches, notice, queued, settle, wire } from "./outbox.js";
import { gettext } from "./ui.js";

const PERIOD_MS = 30_000;
const REFRESH_MS = 5 * 60_000;
export const BUNDLE_DAYS = 7;
const MAX_REQUEST_BYTES = 4_500_000; // the server reads at most 5 MB of JSON per request

class SignedOut extends Error {}
class RetryLater extends Error {}

export function readCookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split(";").map((c) => c.trim()).find((c) => c.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

export class Sync {
  constructor(app) {
    this.app = app;
    this.config = app.config;
    this.running = null;
    this.again = false;
    this.state = { syncing: false, lastSyncAt: null, lastBundleAt: null, error: "", signedOut: false };
  }

  start() {
    window.addEventListener("online", () => this.run("online"));
    window.addEventListener("offline", () => this.changed());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.run("visible");
    });
    setInterval(() => this.tick(), PERIOD_MS);
  }

  tick() {
    if (!navigator.onLine || document.hidden) return;
    const stale = !this.state.lastBundleAt || Date.now() - this.state.lastBundleAt > REFRESH_MS;
    if (this.app.waiting() > 0 || stale) this.run("periodic");
  }

  changed(patch = {}) {
    Object.assign(this.state, patch);
    this.app.showStatus();
  }

  /** Start a run (or queue one after the current run); resolves when the run that covers it has ended. */
  run(reason = "demand") {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const job = async () => {
      await this.once(reason);
      while (this.again) {
        this.again = false;
        await this.once("again");
      }
    };
    this.running = (navigator.locks ? navigator.locks.request("fixflow-field-sync", job) : job()).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async once(reason) {
    if (!navigator.onLine) {
      this.changed();
      return;
    }
    this.changed({ syncing: true, error: "" });
    try {
      const session = await this.app.confirmSession();
      if (!session) return;
      await this.sendOutbox();
      await this.refreshBundle(); // with the parts to search offline
      this.changed({ lastSyncAt: Date.now(), signedOut: false });
      document.documentElement.dataset.lastSync = String(this.state.lastSyncAt);
    } catch (error) {
      if (error instanceof SignedOut) this.changed({ signedOut: true });
      else this.changed({ error: navigator.onLine ? error.message : "" });
      console.warn("Fixflow sync:", reason, error);
    } finally {
      this.changed({ syncing: false });
      await this.app.reload();
    }
  }

  async request(url, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.body) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = readCookie(this.config.csrfCookie);
    }
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...options, headers });
    } catch {
      throw new RetryLater(gettext("The network dropped; trying again soon."));
    }
    if (response.status === 401) throw new SignedOut();
    return response;
  }

  async sendOutbox() {
    const person = this.app.person;
    if (!person) return;
    const commands = await queued(person);
    for (const batch of batches(commands)) {
      await this.sendBatch(person, batch);
      await this.app.reload();
    }
  }

  async sendBatch(person, batch) {
    const body = JSON.stringify({ device_id: this.app.deviceId, commands: batch.map(wire) });
    if (body.length > MAX_REQUEST_BYTES) {
      await this.refuseLocally(person, batch[0], gettext("This change is too large to send (over 4.5 MB)."));
      return;
    }
    let response = await this.request(this.config.sync, { method: "POST", body });
    if (response.status === 403) {
      // Most likely a CSRF cookie that changed (signed in again elsewhere): fetch it anew once.
      await this.app.confirmSession();
      response = await this.request(this.config.sync, { method: "POST", body });
    }
    if (response.ok) {
      const answer = await response.json();
      await settle(person, batch, answer.results || []);
      return;
    }
    if (response.status >= 500 || response.status === 429 || response.status === 409 || response.status === 403) {
      throw new RetryLater(`${gettext("The server could not take the changes now")} (${response.status}).`);
    }
    // The batch itself was refused (its shape): find the command at fault by sending them one by one.
    const problem = await response.json().catch(() => ({}));
    if (batch.length > 1) {
      for (const command of batch) await this.sendBatch(person, [command]);
      return;
    }
    await this.refuseLocally(person, batch[0], problem.detail || `${response.status} ${response.statusText}`);
  }

  async refuseLocally(person, command, message) {
    await person.tx(["outbox", "notices"], async (stores) => {
      stores.outbox.delete(command.seq);
      stores.notices.put(notice(command, "refused", message));
    });
  }

  async refreshBundle() {
    const started = Date.now();
    const response = await this.request(`${this.config.bundle}?days=${BUNDLE_DAYS}`);
    if (!response.ok) throw new RetryLater(`${gettext("Could not load your work orders")} (${response.status}).`);
    const bundle = await response.json();
    await this.app.storeBundle(bundle, started);
    this.changed({ lastBundleAt: Date.now() });
  }

  /** Search the catalogue: on the server when online, else (or when that fails) among the parts on the phone
   * (the bundle's, and those found online lately). */
  async searchParts(text) {
    if (navigator.onLine) {
      try {
        const response = await this.request(`${this.config.parts}?q=${encodeURIComponent(text.trim())}`);
        if (response.ok) {
          const parts = await response.json();
          await this.app.rememberParts(parts);
          return { parts, offline: false };
        }
      } catch (error) {
        console.warn("Fixflow parts search:", error);
      }
    }
    return { parts: await this.app.localParts(text), offline: true };
  }
}
