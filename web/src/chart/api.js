// The two requests the chart makes: its data (with or without expanding an
// entity) and the audit entry a PNG needs before it may be saved. Both send
// JSON with the session's CSRF token in a header; a refusal comes back as an
// RFC 9457 problem, whose detail is what the analyst is shown.

/** A refusal or failure, with the text to show the analyst. */
export class ChartRequestError extends Error {
  constructor (title, detail, status) {
    super(detail || title)
    this.title = title
    this.detail = detail
    this.status = status
  }
}

/** The chart's data for `entities`; with `expand`, the entity whose
 *  neighbours to add (`offset` of them skipped, a hub only with `force`). */
export async function requestChartData (config, { entities, expand = null, offset = 0, force = false }) {
  const body = expand === null ? { entities, expand: null } : { entities, expand, offset, force }
  if (config.chartId) body.chart = config.chartId
  const response = await post(config, config.dataUrl, body, 'The chart could not be loaded')
  return response.json()
}

/** Records in the audit log that a PNG of these entities is being saved;
 *  resolves only once the server has answered 2xx. */
export async function recordPngExport (config, entities) {
  const body = { format: 'png', entities }
  if (config.chartId) body.chart = config.chartId
  await post(config, config.exportAuditUrl, body, 'The image could not be recorded, so it was not saved')
}

async function post (config, url, body, failure) {
  let response
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': config.csrfToken },
      body: JSON.stringify(body)
    })
  } catch {
    throw new ChartRequestError(failure, 'The server could not be reached. Check your connection and try again.', 0)
  }
  if (response.ok) return response
  let problem = {}
  try {
    problem = await response.json()
  } catch {
    // Not a problem document (a proxy's error page, say): say what we know.
  }
  const title = typeof problem.title === 'string' && problem.title ? problem.title : failure
  const detail = typeof problem.detail === 'string' && problem.detail ? problem.detail : `${failure} (the server answered ${response.status}).`
  throw new ChartRequestError(title, detail, response.status)
}
