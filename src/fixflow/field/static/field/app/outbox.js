// The outbox: every change the technician makes is a command queued here first (DOMAIN.md §5 rule 2),
// whether the phone is online or not. The sync sends them in `seq` order; nothing is ever sent twice
// under a new id, so a retry after a lost answer is recognised by the server (same mutation_id).

import { isoWithOffset } from "./model.js";

/**
 * Queue one command for a work order; resolves with it once it is safely stored.
 * `workOrder` is the server's copy (its version is the command's base version); `meta` is for this
 * phone only (e.g. the part's name to show before the server answers) and is never sent.
 */
export async function enqueue(person, deviceId, { type, workOrder, payload = {}, meta = null }) {
  return person.tx(["meta", "outbox"], async (stores, promised) => {
    const last = (await promised(stores.meta.get("seq"))) || 0;
    const command = {
      mutation_id: crypto.randomUUID(),
      device_id: deviceId,
      seq: last + 1,
      type,
      work_order_id: workOrder.id,
      payload,
      occurred_at: isoWithOffset(new Date()),
      base_version: Number.isInteger(workOrder.version) ? workOrder.version : null,
      meta,
      queued_at: Date.now(),
    };
    stores.meta.put(command.seq, "seq");
    stores.outbox.put(command);
    return command;
  });
}

/** The queued commands, oldest first. */
export async function queued(person) {
  const all = await person.all("outbox");
  return all.sort((a, b) => a.seq - b.seq);
}

/** What goes over the wire: the contract's fields only. */
export function wire(command) {
  const { mutation_id, seq, type, work_order_id, payload, occurred_at, base_version } = command;
  return { mutation_id, seq, type, work_order_id, payload, occurred_at, base_version };
}

/** Batches of at most `maxCommands` and about `maxBytes` of JSON each (photos are large), in seq order. */
export function batches(commands, { maxCommands = 50, maxBytes = 3_000_000 } = {}) {
  const out = [];
  let current = [];
  let size = 0;
  for (const command of commands) {
    const bytes = JSON.stringify(wire(command)).length;
    if (current.length && (current.length >= maxCommands || size + bytes > maxBytes)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(command);
    size += bytes;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Record the server's answers: applied → out of the outbox (kept as "settled" until a fresh bundle shows
 * it); refused or held → out of the outbox, into the notices shown on the work order until dismissed;
 * pending (the server waits for an earlier change of this phone) → stays queued and is sent again.
 */
export async function settle(person, commands, results) {
  const byId = new Map(commands.map((c) => [c.mutation_id, c]));
  const summary = { applied: 0, refused: 0, held: 0, pending: 0 };
  await person.tx(["outbox", "settled", "notices"], async (stores) => {
    for (const result of results) {
      const command = byId.get(result.mutation_id);
      if (!command) continue;
      summary[result.status] = (summary[result.status] || 0) + 1;
      if (result.status === "pending") continue;
      stores.outbox.delete(command.seq);
      if (result.status === "applied") {
        stores.settled.put(settledOf(command, result));
      } else {
        stores.notices.put(notice(command, result.status, result.message));
      }
    }
  });
  return summary;
}

// Kept until a fresh bundle includes it. A photo's bytes are dropped: the server's own URL shows it now.
function settledOf(command, result) {
  const kept = {
    ...command,
    applied_version: result.work_order ? result.work_order.version : null,
    applied_at: Date.now(),
    result: result.result || {},
  };
  if (command.type === "photo.add") {
    kept.payload = { ...command.payload, data_base64: "" };
    kept.server_url = (result.result && (result.result.thumbnail_url || result.result.url)) || "";
  }
  return kept;
}

/** A notice for the work order screen: what was refused or held, and the server's words. */
export function notice(command, status, message) {
  return {
    mutation_id: command.mutation_id,
    work_order_id: command.work_order_id,
    type: command.type,
    status,
    message,
    summary: (command.meta && command.meta.summary) || "",
    at: Date.now(),
  };
}
