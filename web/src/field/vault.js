// What the field app keeps on the phone, in IndexedDB, every record and
// the briefing sealed with AES-256-GCM under the key the server gives the
// session. The key is held in the tab's sessionStorage: it survives a
// reload but not the tab, and the server gives it again only while the
// session lives, so a phone whose session has been ended from the
// workspace cannot read what it kept.

const DATABASE = 'aidant-field'
const KEY_ITEM = 'aidant-field-key'

function request (operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result)
    operation.onerror = () => reject(operation.error)
  })
}

let opened = null
function database () {
  if (!opened) {
    const opening = indexedDB.open(DATABASE, 1)
    opening.onupgradeneeded = () => {
      const db = opening.result
      db.createObjectStore('records', { keyPath: 'id' })
      db.createObjectStore('meta', { keyPath: 'name' })
    }
    opened = request(opening)
  }
  return opened
}

async function store (name, mode = 'readonly') {
  return (await database()).transaction(name, mode).objectStore(name)
}

function bytesOfHex (hex) {
  const bytes = new Uint8Array(hex.length / 2)
  for (let index = 0; index < bytes.length; index++) bytes[index] = parseInt(hex.slice(index * 2, index * 2 + 2), 16)
  return bytes
}

async function keyId (hex) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`aidant key id ${hex}`)))
  return Array.from(digest.slice(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

// A key to seal and open with, from its hexadecimal form.
export async function keyFromHex (hex) {
  const key = await crypto.subtle.importKey('raw', bytesOfHex(hex), 'AES-GCM', false, ['encrypt', 'decrypt'])
  return { key, id: await keyId(hex), hex }
}

export function rememberedKeyHex () {
  return sessionStorage.getItem(KEY_ITEM)
}

export function rememberKeyHex (hex) {
  sessionStorage.setItem(KEY_ITEM, hex)
}

export function forgetKey () {
  sessionStorage.removeItem(KEY_ITEM)
}

async function seal (key, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key.key, new TextEncoder().encode(JSON.stringify(value)))
  return { key_id: key.id, iv, data }
}

async function unseal (key, sealed) {
  if (sealed.key_id !== key.id) throw new Error('sealed under another key')
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, key.key, sealed.data)
  return JSON.parse(new TextDecoder().decode(plain))
}

// The briefing, sealed.
export async function saveBundle (key, bundle) {
  // Sealed first: a transaction ends at the first wait that is not its own.
  const sealed = await seal(key, bundle)
  const meta = await store('meta', 'readwrite')
  await request(meta.put({ name: 'bundle', sealed }))
}

export async function loadBundle (key) {
  const found = await request((await store('meta')).get('bundle'))
  if (!found) return null
  try {
    return await unseal(key, found.sealed)
  } catch {
    return null
  }
}

// A record: its id, operation and team and where it stands in the clear
// (to know what to send); what was recorded sealed.
export async function saveRecord (key, entry) {
  const { answers, ...plain } = entry
  const sealed = await seal(key, answers)
  const records = await store('records', 'readwrite')
  await request(records.put({ ...plain, sealed }))
}

export async function setState (id, state, errors = []) {
  const records = await store('records', 'readwrite')
  const found = await request(records.get(id))
  if (!found) return
  await request(records.put({ ...found, state, errors }))
}

export async function removeRecord (id) {
  await request((await store('records', 'readwrite')).delete(id))
}

// Every record, opened where the key opens it; `answers` is null for one
// kept under an earlier session's key.
export async function loadRecords (key) {
  const all = await request((await store('records')).getAll())
  const opened = []
  for (const entry of all) {
    const { sealed, ...plain } = entry
    let answers = null
    try {
      answers = await unseal(key, sealed)
    } catch {
      answers = null
    }
    opened.push({ ...plain, answers })
  }
  opened.sort((left, right) => right.saved_at - left.saved_at)
  return opened
}

// Seals again under `next` everything kept under `previous` (a new
// session on the same tab after the last one expired).
export async function rekey (previous, next) {
  const bundle = await loadBundle(previous)
  if (bundle) await saveBundle(next, bundle)
  for (const entry of await loadRecords(previous)) {
    if (entry.answers) await saveRecord(next, entry)
  }
}
