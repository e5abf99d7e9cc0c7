// Vehicle registration marks as the server reads them (aidant-core's
// `vrm`, which the linker uses): UK marks in the four formats, with any
// spacing and case; other countries' plates kept as written. The phone
// checks a registration with these rules before a record is saved, and a
// test in aidant-web holds them to the Rust parser's verdicts.

// Rust's `char::is_whitespace` (Unicode White_Space), which `str::trim` uses.
const WHITE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000
])

function trim (text) {
  const characters = Array.from(text)
  let start = 0
  let end = characters.length
  while (start < end && WHITE_SPACE.has(characters[start].codePointAt(0))) start++
  while (end > start && WHITE_SPACE.has(characters[end - 1].codePointAt(0))) end--
  return characters.slice(start, end)
}

const isLetter = (character) => /^[A-Za-z]$/.test(character)
const isDigit = (character) => /^[0-9]$/.test(character)

// Letters and digits in upper case, without the spaces, hyphens and dots
// people type between groups.
export function compactMark (raw) {
  let mark = ''
  for (const character of trim(raw)) {
    if (isLetter(character) || isDigit(character)) {
      mark += character.toUpperCase()
    } else if (character === ' ' || character === '-' || character === '.' || character === '\u00a0') {
      continue
    } else {
      return { error: `it contains ${JSON.stringify(character)}, which never appears on a plate` }
    }
  }
  if (mark === '') return { error: 'enter the registration' }
  return { mark }
}

function runs (mark) {
  const found = []
  for (const character of mark) {
    const letter = isLetter(character)
    const last = found[found.length - 1]
    if (last && last[0] === letter) last[1]++
    else found.push([letter, 1])
  }
  return found
}

const between = (value, low, high) => value >= low && value <= high

function classifyUk (mark) {
  const parts = runs(mark)
  const shape = (pattern) => parts.length === pattern.length && pattern.every(([letter, low, high], index) => parts[index][0] === letter && between(parts[index][1], low, high))
  if (shape([[true, 2, 2], [false, 2, 2], [true, 3, 3]])) return 'current'
  if (shape([[true, 1, 1], [false, 1, 3], [true, 3, 3]])) return 'prefix'
  if (shape([[true, 3, 3], [false, 1, 3], [true, 1, 1]])) return 'suffix'
  if (shape([[true, 1, 3], [false, 1, 4]]) || shape([[false, 1, 4], [true, 1, 3]])) {
    // A mark of only zeros was never issued.
    return /[1-9]/.test(mark) ? 'dateless' : null
  }
  return null
}

function ukDisplay (mark, format) {
  let split = 3
  if (format === 'current') split = 4
  else if (format === 'prefix') { const parts = runs(mark); split = parts[0][1] + parts[1][1] }
  else if (format === 'dateless') split = runs(mark)[0][1]
  return `${mark.slice(0, split)} ${mark.slice(split)}`
}

function parseUk (raw) {
  const { mark, error } = compactMark(raw)
  if (error) return { ok: false, message: error }
  const format = classifyUk(mark)
  if (!format) return { ok: false, message: `${mark} is not a UK registration (current, prefix, suffix or dateless): if the plate is foreign, give its country` }
  return { ok: true, mark, display: ukDisplay(mark, format), country: null }
}

// Parses a plate with the country it was seen with (blank for a UK one).
export function parseRegistration (raw, country) {
  const code = trim(country ?? '').join('')
  if (code === '') return parseUk(raw)
  const upper = code.replace(/[a-z]/g, (letter) => letter.toUpperCase())
  if (!/^[A-Z]{2,3}$/.test(upper)) return { ok: false, message: 'the country must be a two- or three-letter code, like RO or ROU' }
  if (upper === 'GB' || upper === 'UK' || upper === 'GBR') return parseUk(raw)
  const { mark, error } = compactMark(raw)
  if (error) return { ok: false, message: error }
  return { ok: true, mark, display: `${mark} (${upper})`, country: upper }
}
