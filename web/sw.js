// Service worker: after the first visit the app works with no network. It
// caches the page, the WebAssembly build this browser runs, the model and
// the face detector at install; web/build.sh stamps the version, so each build gets
// a fresh cache and the old one is deleted.
'use strict';

const CACHE = 'fer-__FER_BUILD_VERSION__';
// What the app needs to run offline. Not the install icons: the browser
// fetches the manifest's (192 and 512 px) and iOS the apple-touch-icon (180)
// itself when the user installs the app, and they would cost every first
// visit 9 KB of the 1 MB budget (docs/web-app.md, download size).
const SHELL = ['./', 'index.html', 'app.js', 'worker.js', 'style.css', 'manifest.webmanifest', 'icons/icon.svg'];
// What worker.js fetches: gzip copies where it can inflate them.
const gz = typeof DecompressionStream === 'function' ? '.gz' : '';

// Same probe as worker.js: cache only the build this browser will run (the
// other one is fetched, and then cached, only when a page asks for it).
const SIMD_PROBE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b]);
const build = (() => { try { return WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'plain'; } catch (e) { return 'plain'; } })();

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll([...SHELL, `fer-${build}.js`, `fer-${build}.wasm${gz}`,
                                 `model/fernet-int8.tflite${gz}`, `model/yunet-int8.tflite${gz}`]))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('fer-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Cache first: every file of a build is immutable under its version. Query
// strings (?debug, ?build) select behaviour, not content.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(request, { ignoreSearch: true });
    if (hit) return hit;
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  }));
});
