// The checkpoint app's service worker: every file of the app in one cache, served from the
// cache first, so the app starts and verifies with the network off. The build writes the
// app's version (a hash of its files) below: a new version installs its own cache when the
// device is online and removes the old one; the pinned root, settings and scan log live in
// IndexedDB and are untouched.
const VERSION = '__APP_VERSION__';
const CACHE = `checkpoint-${VERSION}`;
const FILES = [
  './',
  'index.html',
  'app.js',
  'camera.js',
  'decoder.js',
  'decoder.worker.js',
  'sound.js',
  'store.js',
  'i18n.js',
  'style.css',
  'icon.svg',
  'manifest.webmanifest',
  'pkg/checkpoint_wasm.js',
  'pkg/checkpoint_wasm_bg.wasm',
  'vendor/zxing/es/reader/index.js',
  'vendor/zxing/es/share.js',
  'vendor/zxing/reader/zxing_reader.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('checkpoint-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') return;
  event.respondWith(
    caches.match(event.request, { ignoreSearch: true }).then((hit) => hit ?? fetch(event.request)),
  );
});
