// Aidant's maps, drawn by Leaflet with no tile server: the coastline from
// /assets/uk-outline.json (Natural Earth, from the npm package world-atlas)
// and points placed at postcode centroids the server sends in the page.
// Two kinds:
// - the hotspot map (#hotspot-map): reports by postcode district or sector,
//   one circle each sized by its count, with a slider through the weeks of
//   the range that redraws the circles, the table below and the status line
//   without asking the server (so it works with the network gone);
// - the board's site map (#site-map): an operation's sites, each saying how
//   many records it has, updated as the board's list grows.
// Every number on a map is also in a table on the page.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'

// Great Britain and Northern Ireland, for a map with nothing on it.
const UK = [[49.9, -8.2], [60.9, 1.8]]

function readData () {
  const element = document.getElementById('map-data')
  if (!element) return null
  try {
    return JSON.parse(element.textContent)
  } catch {
    return null
  }
}

function baseMap (container) {
  const map = L.map(container, { zoomSnap: 0.5, minZoom: 4, maxZoom: 14, attributionControl: true })
  map.attributionControl.setPrefix('Leaflet')
  map.attributionControl.addAttribution('Coastline: Natural Earth. Postcode centroids: contains OS data © Crown copyright and database right 2025 (OGL v3.0)')
  map.createPane('outline')
  map.getPane('outline').style.zIndex = '250'
  fetch(container.dataset.outline, { credentials: 'same-origin' })
    .then((response) => (response.ok ? response.json() : null))
    .then((shapes) => {
      if (shapes) L.geoJSON(shapes, { pane: 'outline', interactive: false, style: { color: '#505a5f', weight: 1, fillColor: '#f3f2f1', fillOpacity: 1 } }).addTo(map)
    })
    .catch(() => {})
  return map
}

function fit (map, points) {
  if (points.length === 0) {
    map.fitBounds(UK)
  } else if (points.length === 1) {
    map.setView(points[0], 11)
  } else {
    map.fitBounds(L.latLngBounds(points).pad(0.2), { maxZoom: 12 })
  }
}

function siteMarker (site, text) {
  const icon = L.divIcon({ className: 'aidant-site-marker', iconSize: [14, 14] })
  const marker = L.marker([site.latitude, site.longitude], { icon, title: text, keyboard: true })
  marker.bindTooltip(text)
  return marker
}

function plural (count, one, many) {
  return `${count} ${count === 1 ? one : many}`
}

function hotspotMap (container, data) {
  const map = baseMap(container)
  const weeks = data.weeks ?? []
  const placed = data.areas.filter((area) => area.latitude !== null && area.longitude !== null)
  const countIn = (area, week) => (week === null ? area.weeks.reduce((sum, count) => sum + count, 0) : (area.weeks[week] ?? 0))
  const largest = Math.max(1, ...data.areas.map((area) => countIn(area, null)))
  const circles = new Map()
  for (const area of placed) {
    const total = countIn(area, null)
    const circle = L.circleMarker([area.latitude, area.longitude], { color: '#942514', weight: 1, fillColor: '#d4351c', fillOpacity: 0.55, radius: 4 + 22 * Math.sqrt(total / largest) })
    circle.bindTooltip(`${area.code}: ${plural(total, 'report', 'reports')}`)
    circle.addTo(map)
    circles.set(area.code, circle)
  }
  // Each place named beside its circle while there are few enough to read
  // (the names are in the table for screen readers, so hidden from them here).
  if (placed.length <= 40) {
    for (const area of placed) {
      const text = document.createElement('span')
      text.textContent = area.code
      text.setAttribute('aria-hidden', 'true')
      const icon = L.divIcon({ className: 'aidant-map-label', html: text, iconSize: [64, 18], iconAnchor: [32, -4] })
      L.marker([area.latitude, area.longitude], { icon, interactive: false, keyboard: false }).addTo(map)
    }
  }
  for (const site of data.sites) siteMarker(site, `${site.name} (${site.operation}, ${site.dates})`).addTo(map)
  fit(map, [...placed.map((area) => [area.latitude, area.longitude]), ...data.sites.map((site) => [site.latitude, site.longitude])])

  const rows = document.getElementById('areas-rows')
  const status = document.getElementById('map-status')
  const select = document.getElementById('week')
  const slider = document.getElementById('week-slider')
  const caption = document.querySelector('#areas-table caption')

  function show (week, announce) {
    let shown = 0
    for (const area of placed) {
      const count = countIn(area, week)
      const circle = circles.get(area.code)
      if (count === 0) {
        circle.remove()
        continue
      }
      circle.setRadius(4 + 22 * Math.sqrt(count / largest))
      circle.setTooltipContent(`${area.code}: ${plural(count, 'report', 'reports')}`)
      if (!map.hasLayer(circle)) circle.addTo(map)
    }
    const counted = data.areas.map((area) => [area.code, countIn(area, week)]).filter(([, count]) => count > 0)
    counted.sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))
    rows.replaceChildren()
    for (const [code, count] of counted) {
      shown += count
      const row = document.createElement('tr')
      row.className = 'govuk-table__row'
      row.dataset.area = code
      const name = document.createElement('th')
      name.scope = 'row'
      name.className = 'govuk-table__header'
      name.textContent = code
      const cell = document.createElement('td')
      cell.className = 'govuk-table__cell govuk-table__cell--numeric'
      cell.textContent = String(count)
      row.append(name, cell)
      rows.append(row)
    }
    if (counted.length === 0) {
      const row = document.createElement('tr')
      row.className = 'govuk-table__row'
      const cell = document.createElement('td')
      cell.className = 'govuk-table__cell'
      cell.colSpan = 2
      cell.textContent = 'No reports to place.'
      row.append(cell)
      rows.append(row)
    }
    const when = week === null ? 'in all weeks of the range' : `in the week beginning ${weeks[week]}`
    const level = data.level.toLowerCase()
    if (caption) caption.textContent = `Reports by ${level}${week === null ? '' : `, week beginning ${weeks[week]}`}`
    slider.setAttribute('aria-valuetext', week === null ? 'All weeks' : `Week beginning ${weeks[week]}`)
    if (announce) status.textContent = `${plural(shown, 'report', 'reports')} placed ${when}.`
  }

  if (slider && weeks.length > 0) {
    slider.parentElement.hidden = false
    const start = typeof data.week === 'number' ? data.week + 1 : 0
    slider.value = String(start)
    slider.addEventListener('input', () => {
      const value = Number(slider.value)
      const week = value === 0 ? null : value - 1
      if (select) select.selectedIndex = value
      show(week, true)
    })
    if (select) {
      select.addEventListener('change', () => {
        slider.value = String(select.selectedIndex)
        show(select.selectedIndex === 0 ? null : select.selectedIndex - 1, true)
      })
    }
    show(start === 0 ? null : start - 1, false)
  }
}

function siteMap (container, data) {
  const map = baseMap(container)
  const markers = new Map()
  const label = (site, records) => `${site.name}: ${plural(records, 'record', 'records')}`
  for (const site of data.sites) {
    const marker = siteMarker(site, label(site, site.records))
    marker.addTo(map)
    markers.set(site.name, { site, marker, records: site.records })
  }
  fit(map, data.sites.map((site) => [site.latitude, site.longitude]))
  // The board tells the map of each new record at a site.
  document.addEventListener('aidant:site-record', (event) => {
    const entry = markers.get(event.detail.site)
    if (!entry) return
    entry.records += 1
    const text = label(entry.site, entry.records)
    entry.marker.setTooltipContent(text)
    const element = entry.marker.getElement()
    if (element) element.title = text
  })
}

const data = readData()
const hotspots = document.getElementById('hotspot-map')
const sites = document.getElementById('site-map')
if (data && hotspots) hotspotMap(hotspots, data)
if (data && sites) siteMap(sites, data)
