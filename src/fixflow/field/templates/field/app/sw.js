// Fixflow technician app: the service worker (scope {{ shell }}), rendered by fixflow.field.app_views.
//
// It keeps the app shell and its static files in a cache named after their version, so the app opens
// without network. The shell is served from the cache at once and refreshed in the background; static
// files from the cache. The API is never cached here: the app keeps its data in IndexedDB and sends its
// changes itself, so a request to /api/ passes through untouched (and fails plainly when offline).
"use strict";

const VERSION = "{{ version }}";
const CACHE = `fixflow-field-${VERSION}`;
const SHELL = "{{ shell }}";
const PRECACHE = {{ precache|safe }};
const STATIC = "{{ static_url }}";

async function fetchForCache(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
  if (!response.ok || response.redirected) throw new Error(`${url}: ${response.status}`);
  return response;
}

async function keep(cache, url) {
  try {
    await cache.put(url, await fetchForCache(url));
  } catch (error) {
    // Signed out while the worker updates: keep what the previous version cached.
    const previous = await caches.match(url);
    if (!previous) throw error;
    await cache.put(url, previous);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The app's pages one after the other (each reads the session), then the static files all at once.
      for (const url of PRECACHE.filter((u) => !u.startsWith(STATIC))) await keep(cache, url);
      await Promise.all(PRECACHE.filter((u) => u.startsWith(STATIC)).map((url) => keep(cache, url)));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("fixflow-field-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function shell(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(SHELL);
  const fresh = fetch(event.request).then(async (response) => {
    if (response.ok && !response.redirected && response.type === "basic") await cache.put(SHELL, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => undefined));
    return cached;
  }
  return fresh;
}

async function cacheFirst(request, path) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await cache.put(path, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === SHELL) event.respondWith(shell(event));
    return;
  }
  if (PRECACHE.includes(url.pathname)) event.respondWith(cacheFirst(request, url.pathname));
});
