// Aidant's own script. Loaded as a module, so it runs after the page is parsed.
// Everything here is an enhancement: every page works without JavaScript.
import { initAll } from './govuk-frontend.min.js'

// Start govuk-frontend's components (error summary focus, conditional reveals,
// character counts). The exit button is ours, below, not govuk-frontend's:
// it must use location.replace so that Back does not return to the form.
initAll()

const exitUrl = document.body.dataset.exitUrl

/** Blank the page at once, ask the server to discard any draft, then
 *  replace this page in the history with the neutral site. The page is
 *  already blank, so waiting for the server's answer (never more than a
 *  third of a second) costs nothing, and it means Back cannot find the
 *  answers still there. */
function quickExit (event) {
  if (event) event.preventDefault()
  document.body.classList.add('aidant-exiting')
  document.title = 'Weather'
  let left = false
  const leave = () => {
    if (left) return
    left = true
    window.location.replace(exitUrl)
  }
  setTimeout(leave, 300)
  fetch('/exit/discard', { method: 'POST', keepalive: true, credentials: 'same-origin' }).then(leave, leave)
}

if (exitUrl) {
  for (const button of document.querySelectorAll('.aidant-exit-button')) {
    button.addEventListener('click', quickExit)
  }

  // Escape leaves at once, as on the police site; Shift pressed three times
  // within five seconds leaves too, as GOV.UK's "Exit this page" does.
  let shiftPresses = []
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      quickExit(event)
      return
    }
    if (event.key === 'Shift' && !event.repeat) {
      const now = Date.now()
      shiftPresses = shiftPresses.filter((time) => now - time < 5000)
      shiftPresses.push(now)
      if (shiftPresses.length >= 3) quickExit(event)
    }
  })
}
