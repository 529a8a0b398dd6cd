// IndexedDB with promises: the phone's own storage, which outlives reloads, restarts and lost network.
//
// Two databases:
// - "fixflow-field" (one per phone): this device's id and who used the app last;
// - "fixflow-field:<organization>:<user>" (one per person): their work orders as the server last sent
//   them, their outbox of queued changes (numbered by their own `seq`, as the server orders each
//   person's device separately), changes applied but not yet in a fresh bundle, notices to show,
//   and the parts to search offline (the bundle's, and those found online lately).

const DEVICE_DB = "fixflow-field";
const PERSON_DB_VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = () => upgrade(request.result);
  return promised(request);
}

/** A small wrapper: get/put/delete/all on one database, each call its own transaction unless `tx` is used. */
export class Store {
  constructor(db) {
    this.db = db;
  }

  async get(store, key) {
    return promised(this.db.transaction(store).objectStore(store).get(key));
  }

  async all(store) {
    return promised(this.db.transaction(store).objectStore(store).getAll());
  }

  async put(store, value, key) {
    const tx = this.db.transaction(store, "readwrite");
    tx.objectStore(store).put(value, key);
    return done(tx);
  }

  async delete(store, key) {
    const tx = this.db.transaction(store, "readwrite");
    tx.objectStore(store).delete(key);
    return done(tx);
  }

  /** Run `work(stores)` in one read-write transaction over `names`; resolves when it has committed. */
  async tx(names, work) {
    const tx = this.db.transaction(names, "readwrite");
    const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
    const result = await work(stores, promised);
    await done(tx);
    return result;
  }

  close() {
    this.db.close();
  }
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
  });
}

/** The phone's database: its device id (made once, kept) and the last person who used the app. */
export async function openDevice() {
  const db = await open(DEVICE_DB, 1, (d) => d.createObjectStore("meta"));
  const store = new Store(db);
  let deviceId = await store.get("meta", "deviceId");
  if (!deviceId) {
    deviceId = crypto.randomUUID();
    await store.put("meta", deviceId, "deviceId");
  }
  return { store, deviceId };
}

export function ownerKey(session) {
  return `${session.organization.id}:${session.user.id}`;
}

/** One person's database (see the top of this file). */
export async function openPerson(owner) {
  const db = await open(`${DEVICE_DB}:${owner}`, PERSON_DB_VERSION, (d) => {
    d.createObjectStore("meta");
    d.createObjectStore("workOrders", { keyPath: "id" });
    d.createObjectStore("outbox", { keyPath: "seq" });
    d.createObjectStore("settled", { keyPath: "mutation_id" });
    d.createObjectStore("notices", { keyPath: "mutation_id" });
    d.createObjectStore("parts", { keyPath: "id" });
  });
  return new Store(db);
}
