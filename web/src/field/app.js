// The field app: downloads the briefings of the officer's teams while
// there is signal, records vehicle stops, premises visits and what came of
// them with or without signal (kept on the phone, sealed), and sends them
// when signal returns, each record once: it carries its own id, and the
// server answers a record it already has with "already stored".
import { parseRegistration } from './vrm.js'
import * as vault from './vault.js'

const app = document.getElementById('field-app')
const status = document.getElementById('field-status')
const BATCH = 50
const LIMIT_LINE = 120
const LIMIT_NOTE = 2000
const LIMIT_PEOPLE = 500
const LIMIT_LIST = 20

const state = {
  key: null,
  bundle: null,
  briefing: null,
  records: [],
  signedOut: false,
  sending: false,
  notice: null
}

const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character])

function today () {
  const now = new Date()
  const pad = (number) => String(number).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

function label (choices, value) {
  return (choices.find((choice) => choice.value === value) ?? { label: value }).label
}

// Status: signal, what waits, what went wrong.

function waiting () {
  return state.records.filter((record) => record.state === 'waiting')
}

function showStatus () {
  const count = waiting().length
  const online = navigator.onLine
  const parts = [online ? 'You have signal.' : 'No signal: what you record is kept on this phone.']
  if (count > 0) parts.push(`${count} ${count === 1 ? 'record is' : 'records are'} waiting to be sent.`)
  else if (state.records.length > 0) parts.push('Everything recorded has been sent.')
  if (state.signedOut) parts.push('You are signed out: sign in to the workspace again on this phone, then come back here, to send them.')
  status.textContent = parts.join(' ')
  status.classList.toggle('aidant-field-status--offline', !online || state.signedOut)
}

// Sending.

async function send () {
  if (state.sending || !navigator.onLine || !state.key || !state.bundle) return
  const due = waiting().filter((record) => record.answers)
  if (due.length === 0) return
  state.sending = true
  try {
    const groups = new Map()
    for (const record of due) {
      const group = `${record.operation_id}/${record.team_id}`
      if (!groups.has(group)) groups.set(group, [])
      groups.get(group).push(record)
    }
    for (const [group, records] of groups) {
      for (let start = 0; start < records.length; start += BATCH) {
        const batch = records.slice(start, start + BATCH)
        const [operation, team] = group.split('/')
        let response
        try {
          response = await fetch(`/api/v1/staff/operations/${operation}/teams/${team}/records`, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.bundle.csrf_token },
            body: JSON.stringify({ records: batch.map((record) => record.answers) })
          })
        } catch {
          return // No signal after all: everything stays waiting.
        }
        if (response.status === 401) {
          state.signedOut = true
          return
        }
        if (!response.ok) {
          state.notice = { kind: 'problem', text: `The server did not take the records (${response.status}). They are kept on this phone and will be sent again.` }
          return
        }
        const answer = await response.json()
        for (const result of answer.results) {
          if (result.outcome === 'stored' || result.outcome === 'already_stored') await vault.setState(result.id, 'sent')
          else await vault.setState(result.id, 'refused', result.errors)
        }
      }
    }
  } finally {
    state.sending = false
    state.records = await vault.loadRecords(state.key)
    render()
  }
}

// Starting: the briefing from the server while there is signal, or as
// kept on the phone.

async function start () {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).catch(() => {})
  }
  const remembered = vault.rememberedKeyHex()
  let previous = remembered ? await vault.keyFromHex(remembered) : null
  let fetched = null
  if (navigator.onLine) {
    try {
      const response = await fetch('/api/v1/staff/field', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      if (response.status === 401 || response.status === 403) state.signedOut = true
      else if (response.ok) fetched = await response.json()
    } catch {
      fetched = null
    }
  }
  if (fetched) {
    const key = await vault.keyFromHex(fetched.key)
    if (previous && previous.id !== key.id) await vault.rekey(previous, key)
    previous = null
    vault.rememberKeyHex(fetched.key)
    state.key = key
    state.bundle = fetched
    await vault.saveBundle(key, fetched)
  } else if (previous) {
    state.key = previous
    state.bundle = await vault.loadBundle(previous)
  }
  if (state.key) state.records = await vault.loadRecords(state.key)
  const chosen = sessionStorage.getItem('aidant-field-team')
  const briefings = state.bundle?.briefings ?? []
  state.briefing = briefings.find((briefing) => `${briefing.operation_id}/${briefing.team_id}` === chosen) ?? (briefings.length === 1 ? briefings[0] : null)
  render()
  send()
}

window.addEventListener('online', () => { showStatus(); send() })
window.addEventListener('offline', showStatus)
setInterval(() => { if (navigator.onLine) send() }, 30000)

// The pages.

function heading (text) {
  return `<h1 class="govuk-heading-l">${escape(text)}</h1>`
}

function render () {
  showStatus()
  if (!state.bundle) {
    app.innerHTML = `${heading('Aidant field app')}
      <p class="govuk-body">Sign in to the workspace on this phone while you have signal, then open the field app again: it downloads your team's briefing and then works without signal.</p>
      <a class="govuk-button" data-module="govuk-button" href="/staff/sign-in">Sign in</a>`
    return
  }
  if (!state.briefing) return renderChoice()
  renderHome()
}

function renderChoice () {
  const briefings = state.bundle.briefings
  if (briefings.length === 0) {
    app.innerHTML = `${heading('No operations for you yet')}
      <p class="govuk-body">You are not in a team of an operation that is planned or running. When the operation's lead puts you in one, open the field app again with signal.</p>`
    return
  }
  app.innerHTML = `${heading('Choose your team')}
    <ul class="govuk-list">${briefings.map((briefing, index) => `<li><button type="button" class="govuk-button govuk-button--secondary" data-module="govuk-button" data-choose="${index}">${escape(briefing.team)}<span class="govuk-visually-hidden">,</span> ${escape(briefing.operation)}, ${escape(briefing.dates)}</button></li>`).join('')}</ul>`
  for (const button of app.querySelectorAll('[data-choose]')) {
    button.addEventListener('click', () => {
      state.briefing = briefings[Number(button.dataset.choose)]
      sessionStorage.setItem('aidant-field-team', `${state.briefing.operation_id}/${state.briefing.team_id}`)
      render()
      app.querySelector('h1')?.focus()
    })
  }
}

function recordLine (record) {
  const answers = record.answers
  if (!answers) return `<li class="aidant-field-record">A record kept under an earlier session: sign in on this tab as before to send it.</li>`
  const briefing = state.bundle.briefings.find((candidate) => candidate.team_id === record.team_id)
  const site = briefing?.sites.find((candidate) => candidate.id === answers.site)
  const what = label(state.bundle.kinds, answers.kind)
  const detail = answers.kind === 'vehicle_stop' ? (parseRegistration(answers.registration, answers.country).display ?? answers.registration) : (answers.business || '')
  const tag = { waiting: '<strong class="govuk-tag govuk-tag--yellow">Waiting to send</strong>', sent: '<strong class="govuk-tag govuk-tag--green">Sent</strong>', refused: '<strong class="govuk-tag govuk-tag--red">Not accepted</strong>' }[record.state]
  const errors = record.state === 'refused'
    ? `<ul class="govuk-list govuk-error-message">${(record.errors ?? []).map((error) => `<li>${escape(error.message)}</li>`).join('')}</ul>
       <button type="button" class="govuk-button govuk-button--warning govuk-!-margin-bottom-0" data-module="govuk-button" data-remove="${escape(record.id)}">Remove from this phone<span class="govuk-visually-hidden">: ${escape(what)} ${escape(detail)}</span></button>`
    : ''
  return `<li class="aidant-field-record" data-record="${escape(record.id)}" data-state="${escape(record.state)}">${tag} ${escape(what)}${detail ? `: ${escape(detail)}` : ''}${site ? `, ${escape(site.name)}` : ''} <span class="govuk-body-s">(${escape(answers.recorded_on)})</span>${errors}</li>`
}

function renderHome () {
  const briefing = state.briefing
  const mine = state.records.filter((record) => record.team_id === briefing.team_id || !record.answers)
  const notice = state.notice
  state.notice = null
  app.innerHTML = `
    ${notice ? `<div class="govuk-notification-banner${notice.kind === 'success' ? ' govuk-notification-banner--success' : ''}" role="alert" aria-labelledby="notice-title" data-module="govuk-notification-banner">
      <div class="govuk-notification-banner__header"><h2 class="govuk-notification-banner__title" id="notice-title">${notice.kind === 'success' ? 'Saved' : 'Important'}</h2></div>
      <div class="govuk-notification-banner__content"><p class="govuk-notification-banner__heading">${escape(notice.text)}</p></div></div>` : ''}
    <span class="govuk-caption-l">${escape(briefing.operation)}, ${escape(briefing.dates)}</span>
    ${heading(briefing.team)}
    <details class="govuk-details" id="briefing">
      <summary class="govuk-details__summary"><span class="govuk-details__summary-text">Your briefing</span></summary>
      <div class="govuk-details__text">
        <h2 class="govuk-heading-s">Tasks</h2><p class="govuk-body aidant-pre-line">${escape(briefing.tasks || 'None given')}</p>
        <h2 class="govuk-heading-s">Team</h2><ul class="govuk-list">${briefing.members.map((member) => `<li>${escape(member.name)} (${escape(member.organisation)})</li>`).join('')}</ul>
        <h2 class="govuk-heading-s">Sites</h2>
        ${briefing.sites.map((site) => `<h3 class="govuk-heading-s govuk-!-margin-bottom-1">${escape(site.name)}</h3><p class="govuk-body-s govuk-!-margin-bottom-1">${escape(site.kind)}${site.postcode ? `, ${escape(site.postcode)}` : ''}</p><p class="govuk-body aidant-pre-line">${escape(site.reason)}</p>${site.records.length ? `<p class="govuk-body-s">Behind it: ${site.records.map((record) => `${escape(record.kind)} ${escape(record.reference)}`).join(', ')}</p>` : ''}`).join('') || '<p class="govuk-body">No sites.</p>'}
      </div>
    </details>
    <h2 class="govuk-heading-m">Record</h2>
    <ul class="govuk-list aidant-field-actions">
      ${state.bundle.kinds.map((kind) => `<li><button type="button" class="govuk-button govuk-!-margin-bottom-2" data-module="govuk-button" data-kind="${escape(kind.value)}">${escape(kind.label)}</button></li>`).join('')}
    </ul>
    <h2 class="govuk-heading-m">On this phone</h2>
    ${mine.length ? `<ul class="govuk-list" id="records">${mine.map(recordLine).join('')}</ul>` : '<p class="govuk-body" id="records">Nothing recorded yet.</p>'}
    ${waiting().length && navigator.onLine ? '<button type="button" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="send-now">Send now</button>' : ''}
    ${state.bundle.briefings.length > 1 ? '<p class="govuk-body"><button type="button" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="change-team">Change team</button></p>' : ''}`
  for (const button of app.querySelectorAll('[data-kind]')) button.addEventListener('click', () => renderForm(button.dataset.kind, {}, []))
  for (const button of app.querySelectorAll('[data-remove]')) {
    button.addEventListener('click', async () => {
      await vault.removeRecord(button.dataset.remove)
      state.records = await vault.loadRecords(state.key)
      render()
    })
  }
  app.querySelector('#send-now')?.addEventListener('click', send)
  app.querySelector('#change-team')?.addEventListener('click', () => { state.briefing = null; sessionStorage.removeItem('aidant-field-team'); render() })
}

// A record's form, with the server's rules checked before it is saved.

function field (name, labelText, value, errors, { hint = '', width = '', type = 'text', inputmode = '' } = {}) {
  const error = errors.find((candidate) => candidate.field === name)
  const described = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ')
  return `<div class="govuk-form-group${error ? ' govuk-form-group--error' : ''}">
    <label class="govuk-label" for="${name}">${escape(labelText)}</label>
    ${hint ? `<div id="${name}-hint" class="govuk-hint">${escape(hint)}</div>` : ''}
    ${error ? `<p id="${name}-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ${escape(error.message)}</p>` : ''}
    <input class="govuk-input${width ? ` govuk-input--width-${width}` : ''}${error ? ' govuk-input--error' : ''}" id="${name}" name="${name}" type="${type}"${inputmode ? ` inputmode="${inputmode}"` : ''} autocomplete="off" spellcheck="false" value="${escape(value ?? '')}"${described ? ` aria-describedby="${described}"` : ''}>
  </div>`
}

function choiceGroup (type, name, legend, options, selected, errors, hint = '') {
  const error = errors.find((candidate) => candidate.field === name)
  const described = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ')
  const chosen = new Set(Array.isArray(selected) ? selected : [selected])
  const kind = type === 'radio' ? 'radios' : 'checkboxes'
  return `<div class="govuk-form-group${error ? ' govuk-form-group--error' : ''}">
    <fieldset class="govuk-fieldset"${described ? ` aria-describedby="${described}"` : ''}>
      <legend class="govuk-fieldset__legend govuk-fieldset__legend--s">${escape(legend)}</legend>
      ${hint ? `<div id="${name}-hint" class="govuk-hint">${escape(hint)}</div>` : ''}
      ${error ? `<p id="${name}-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ${escape(error.message)}</p>` : ''}
      <div class="govuk-${kind} govuk-${kind}--small" data-module="govuk-${kind}">
        ${options.map((option, index) => {
          const id = index === 0 ? name : `${name}-${index}`
          return `<div class="govuk-${kind}__item"><input class="govuk-${kind}__input" id="${id}" name="${name}" type="${type}" value="${escape(option.value)}"${chosen.has(option.value) ? ' checked' : ''}><label class="govuk-label govuk-${kind}__label" for="${id}">${escape(option.label)}</label></div>`
        }).join('')}
      </div>
    </fieldset>
  </div>`
}

function yesNo (name, labelText, checked) {
  return `<div class="govuk-form-group"><div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes"><div class="govuk-checkboxes__item">
    <input class="govuk-checkboxes__input" id="${name}" name="${name}" type="checkbox" value="yes"${checked ? ' checked' : ''}>
    <label class="govuk-label govuk-checkboxes__label" for="${name}">${escape(labelText)}</label></div></div></div>`
}

function signsFor (kind, siteId) {
  const site = state.briefing.sites.find((candidate) => candidate.id === siteId)
  const sector = site ? site.sector : (kind === 'vehicle_stop' ? 'lorries_and_services' : 'general')
  return (state.bundle.signs.find((group) => group.sector === sector) ?? { signs: [] }).signs.map((sign) => ({ value: sign.id, label: sign.text }))
}

const list = (text) => String(text ?? '').split(',').map((item) => item.trim()).filter(Boolean)

function renderForm (kind, values, errors) {
  const briefing = state.briefing
  const what = label(state.bundle.kinds, kind)
  const sites = [...briefing.sites.map((site) => ({ value: site.id, label: site.name })), { value: '', label: 'Elsewhere' }]
  const people = kind === 'vehicle_stop' ? 'How many people in the vehicle, driver included' : kind === 'premises_visit' ? 'How many people spoken to' : kind === 'safeguarded' ? 'How many people were safeguarded' : 'How many people (optional)'
  const blocks = [choiceGroup('radio', 'site', 'Where', sites, values.site ?? (briefing.sites[0]?.id ?? ''), errors)]
  if (kind === 'vehicle_stop') {
    blocks.push(field('registration', 'Registration', values.registration, errors, { hint: 'As on the plate, like LJ15 XKR', width: '10' }))
    blocks.push(field('country', 'Country of a foreign plate (optional)', values.country, errors, { hint: 'Two or three letters, like RO; leave blank for a UK plate', width: '4' }))
    blocks.push(field('vehicle', 'Vehicle (optional)', values.vehicle, errors, { hint: 'Make, model, colour' }))
    blocks.push(field('trailer', 'Trailer (optional)', values.trailer, errors))
  }
  if (kind === 'premises_visit') blocks.push(field('business', 'Business', values.business, errors, { hint: 'Its name, if not the site' }))
  if (kind === 'arrest') blocks.push(choiceGroup('radio', 'offence', 'Offence', state.bundle.offences, values.offence ?? '', errors))
  if (kind === 'referral') blocks.push(field('referred_to', 'Referred to', values.referred_to, errors, { hint: 'For example, the local authority, or a support charity' }))
  if (kind !== 'arrest' && kind !== 'referral' && kind !== 'intelligence') {
    blocks.push(field('people', people, values.people, errors, { width: '3', inputmode: 'numeric' }))
    blocks.push(choiceGroup('checkbox', 'age_groups', 'Approximate ages (optional)', state.bundle.age_groups, values.age_groups ?? [], errors))
    blocks.push(field('nationalities', 'Nationalities (optional)', values.nationalities, errors, { hint: 'Separate them with commas' }))
    blocks.push(field('languages', 'Languages spoken (optional)', values.languages, errors, { hint: 'Separate them with commas' }))
  }
  if (kind === 'vehicle_stop' || kind === 'premises_visit') {
    const signs = signsFor(kind, values.site ?? (briefing.sites[0]?.id ?? ''))
    if (signs.length) blocks.push(choiceGroup('checkbox', 'signs', 'Signs seen (optional)', signs, values.signs ?? [], errors))
  }
  if (kind === 'premises_visit') {
    blocks.push(yesNo('documents_held_by_others', 'Someone else holds people\u2019s passports or identity documents', values.documents_held_by_others))
    blocks.push(yesNo('accommodation_on_site', 'People live on the premises', values.accommodation_on_site))
  }
  if (kind === 'vehicle_stop' || kind === 'premises_visit') blocks.push(choiceGroup('radio', 'outcome', 'How it ended', state.bundle.outcomes, values.outcome ?? '', errors))
  const noteError = errors.find((candidate) => candidate.field === 'note')
  blocks.push(`<div class="govuk-form-group${noteError ? ' govuk-form-group--error' : ''}"><label class="govuk-label" for="note">${kind === 'intelligence' ? 'What the intelligence is about (optional)' : 'Note (optional)'}</label>
    <div id="note-hint" class="govuk-hint">No names of potential victims: they are recorded in a safeguarding case</div>
    ${noteError ? `<p id="note-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ${escape(noteError.message)}</p>` : ''}
    <textarea class="govuk-textarea${noteError ? ' govuk-textarea--error' : ''}" id="note" name="note" rows="3" aria-describedby="note-hint${noteError ? ' note-error' : ''}">${escape(values.note ?? '')}</textarea></div>`)
  const summary = errors.length
    ? `<div class="govuk-error-summary" data-module="govuk-error-summary"><div role="alert"><h2 class="govuk-error-summary__title">There is a problem</h2><div class="govuk-error-summary__body"><ul class="govuk-list govuk-error-summary__list">${errors.map((error) => `<li><a href="#${escape(error.field)}">${escape(error.message)}</a></li>`).join('')}</ul></div></div></div>`
    : ''
  app.innerHTML = `${summary}<span class="govuk-caption-l">${escape(briefing.team)}</span>${heading(what)}
    <form id="record-form" novalidate>${blocks.join('')}
      <div class="govuk-button-group"><button type="submit" class="govuk-button" data-module="govuk-button">Save</button><button type="button" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="cancel">Cancel</button></div>
    </form>`
  document.title = `${errors.length ? 'Error: ' : ''}${what} – Aidant field app`
  const form = app.querySelector('#record-form')
  const read = () => {
    const data = new FormData(form)
    return {
      site: data.get('site') ?? '',
      registration: data.get('registration') ?? '',
      country: data.get('country') ?? '',
      vehicle: data.get('vehicle') ?? '',
      trailer: data.get('trailer') ?? '',
      business: data.get('business') ?? '',
      people: data.get('people') ?? '',
      age_groups: data.getAll('age_groups'),
      nationalities: data.get('nationalities') ?? '',
      languages: data.get('languages') ?? '',
      signs: data.getAll('signs'),
      documents_held_by_others: data.get('documents_held_by_others') === 'yes',
      accommodation_on_site: data.get('accommodation_on_site') === 'yes',
      outcome: data.get('outcome') ?? '',
      offence: data.get('offence') ?? '',
      referred_to: data.get('referred_to') ?? '',
      note: data.get('note') ?? ''
    }
  }
  // The signs asked about follow the site chosen.
  for (const radio of form.querySelectorAll('input[name="site"]')) radio.addEventListener('change', () => renderForm(kind, read(), errors))
  app.querySelector('#cancel').addEventListener('click', () => { document.title = 'Aidant field app'; render() })
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const typed = read()
    const problems = check(kind, typed)
    if (problems.length) {
      renderForm(kind, typed, problems)
      app.querySelector('.govuk-error-summary')?.focus()
      app.querySelector('.govuk-error-summary a')?.focus()
      return
    }
    const answers = {
      id: crypto.randomUUID(),
      kind,
      site: typed.site,
      recorded_on: today(),
      registration: kind === 'vehicle_stop' ? typed.registration.trim() : '',
      country: kind === 'vehicle_stop' ? typed.country.trim() : '',
      vehicle: typed.vehicle.trim(),
      trailer: typed.trailer.trim(),
      business: typed.business.trim(),
      people: typed.people.trim(),
      age_groups: typed.age_groups,
      nationalities: list(typed.nationalities),
      languages: list(typed.languages),
      signs: typed.signs,
      documents_held_by_others: typed.documents_held_by_others,
      accommodation_on_site: typed.accommodation_on_site,
      outcome: typed.outcome,
      offence: typed.offence,
      referred_to: typed.referred_to.trim(),
      note: typed.note.trim()
    }
    await vault.saveRecord(state.key, { id: answers.id, operation_id: briefing.operation_id, team_id: briefing.team_id, state: 'waiting', saved_at: Date.now(), answers })
    state.records = await vault.loadRecords(state.key)
    state.notice = { kind: 'success', text: navigator.onLine ? `${what} saved on this phone; sending it now.` : `${what} saved on this phone. It will be sent when there is signal.` }
    document.title = 'Aidant field app'
    render()
    app.querySelector('.govuk-notification-banner')?.focus()
    send()
  })
}

// The server's rules (aidant-core's `FieldRecord::parse`), so that what
// the phone saves the server takes.
function check (kind, typed) {
  const errors = []
  const add = (field, message) => errors.push({ field, message })
  const line = (name, what) => {
    const value = typed[name].trim()
    if (Array.from(value).length > LIMIT_LINE || /[\r\n]/.test(value)) add(name, `${what} must be ${LIMIT_LINE} characters or fewer, on one line`)
  }
  if (kind === 'vehicle_stop') {
    const parsed = parseRegistration(typed.registration, typed.country)
    if (!parsed.ok) add(typed.country.trim() && /country/.test(parsed.message) ? 'country' : 'registration', `Check the registration: ${parsed.message}`)
  }
  line('vehicle', 'The vehicle')
  line('trailer', 'The trailer')
  line('business', 'The business')
  line('referred_to', 'Who it was referred to')
  const people = typed.people.trim()
  if (people !== '' && (!/^[0-9]+$/.test(people) || Number(people) > LIMIT_PEOPLE)) add('people', `Enter how many people as a whole number from 0 to ${LIMIT_PEOPLE}`)
  for (const name of ['nationalities', 'languages']) {
    const items = list(typed[name])
    if (items.length > LIMIT_LIST || items.some((item) => Array.from(item).length > LIMIT_LINE)) add(name, `Give at most ${LIMIT_LIST} ${name}, each of ${LIMIT_LINE} characters or fewer`)
  }
  if (Array.from(typed.note.trim()).length > LIMIT_NOTE) add('note', `The note must be ${LIMIT_NOTE} characters or fewer`)
  if ((kind === 'vehicle_stop' || kind === 'premises_visit') && !typed.outcome) add('outcome', 'Choose how it ended')
  if (kind === 'premises_visit' && !typed.business.trim() && !typed.site) add('business', 'Enter the business, or choose the site')
  if (kind === 'safeguarded' && (people === '' || Number(people) === 0) && !errors.some((error) => error.field === 'people')) add('people', 'Enter how many people were safeguarded')
  if (kind === 'arrest' && !typed.offence) add('offence', 'Choose the offence')
  if (kind === 'referral' && !typed.referred_to.trim()) add('referred_to', 'Enter who the referral was made to')
  return errors
}

start()
