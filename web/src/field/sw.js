// The field app's service worker: keeps the app's shell (its page, script,
// styles, manifest and icon, which hold no data) so that the app opens
// without signal. The shell is fetched from the network first, so a new
// release arrives with signal; the API is never cached or answered here:
// what the app downloads and records lives in IndexedDB, sealed.
const CACHE = 'aidant-field-shell-v1'
const SHELL = ['/field/', '/assets/field.js', '/assets/aidant.css', '/field/manifest.webmanifest', '/field/icon.svg']

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('aidant-field-') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  )
})

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return
  const path = url.pathname === '/field' ? '/field/' : url.pathname
  if (!SHELL.includes(path)) return
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone()
          caches.open(CACHE).then((cache) => cache.put(path, copy))
        }
        return response
      })
      .catch(() => caches.match(path).then((cached) => cached ?? Response.error()))
  )
})
