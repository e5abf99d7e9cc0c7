// The operation board's live list: asks for records received since the
// last it has every few seconds, adds them at the top of the table and
// counts them into their team's line and their site's (in the table and on
// the map), and says so to screen readers.
const status = document.getElementById('board-status')
const rows = document.getElementById('record-rows')

const COUNTED = { vehicle_stop: 1, premises_visit: 1, arrest: 1, intelligence: 1, referral: 1 }

function cell (text) {
  const td = document.createElement('td')
  td.className = 'govuk-table__cell'
  td.textContent = text
  return td
}

async function poll () {
  const operation = status.dataset.operation
  let since = Number(status.dataset.since || 0)
  try {
    const response = await fetch(`/api/v1/staff/operations/${operation}/board?since=${since}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    if (!response.ok) return
    const answer = await response.json()
    const fresh = answer.records.filter((record) => !rows.querySelector(`[data-record="${CSS.escape(record.id)}"]`))
    for (const record of fresh) {
      const row = document.createElement('tr')
      row.className = 'govuk-table__row'
      row.dataset.record = record.id
      for (const text of [record.received, record.kind_label, record.site, record.team, record.summary, record.by]) row.append(cell(text))
      if (['vehicle_stop', 'premises_visit', 'intelligence'].includes(record.kind) && status.dataset.intelligence === 'yes') {
        const link = document.createElement('a')
        link.className = 'govuk-link'
        link.href = `/staff/intelligence/new?field_record=${encodeURIComponent(record.id)}`
        link.textContent = 'Record as intelligence'
        row.children[4].append(' ', link)
      }
      if (record.kind === 'safeguarded' && status.dataset.safeguard === 'yes') {
        // People safeguarded: a potential victim's case starts from here.
        const link = document.createElement('a')
        link.className = 'govuk-link'
        link.href = `/staff/victims/new?field_record=${encodeURIComponent(record.id)}`
        link.textContent = 'Open a potential victim\'s case'
        row.children[4].append(' ', link)
      }
      rows.prepend(row)
      // The site's count in the table, and on the map.
      const site = document.querySelector(`#sites tr[data-site="${CSS.escape(record.site)}"] td[data-site-records]`)
      if (site) site.textContent = String(Number(site.textContent) + 1)
      document.dispatchEvent(new CustomEvent('aidant:site-record', { detail: { site: record.site } }))
      const total = document.querySelector(`#by-team tr[data-team="${CSS.escape(record.team_id)}"] td[data-kind="${CSS.escape(record.kind)}"]`)
      if (total) total.textContent = String(Number(total.textContent) + (record.kind === 'safeguarded' ? record.people : (COUNTED[record.kind] ?? 0)))
    }
    since = Math.max(since, answer.since)
    status.dataset.since = String(since)
    if (fresh.length) {
      document.getElementById('no-records').hidden = true
      status.textContent = `${fresh.length} new ${fresh.length === 1 ? 'record' : 'records'} at ${new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}.`
    }
  } catch {
    // No connection for now: the next turn tries again.
  }
}

if (status && rows) setInterval(poll, 4000)
