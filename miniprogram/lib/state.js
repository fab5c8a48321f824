// What the login page shows, as plain data computed from the server's answers: the page's
// `data` is exactly one of these views (merged with setData), so the WXML holds no logic.

const { textsFor, format } = require('./i18n')
const { OUTCOMES } = require('./errors')

// WeChat scene values of a code read from a picture instead of the camera: a QR code or a mini
// program code long-pressed in a chat image (1012, 1048) or picked from the album (1013, 1049).
// Such a code may be a screenshot someone sent to get the reader to log them in.
const PICTURE_SCENES = [1012, 1013, 1048, 1049]

function fromPicture(enterScene) {
  return PICTURE_SCENES.indexOf(Number(enterScene)) !== -1
}

function decodeScene(raw) {
  const value = String(raw || '')
  try {
    return decodeURIComponent(value).trim()
  } catch (malformed) {
    // A stray "%": the server tells whether the raw value is a scene it knows.
    return value.trim()
  }
}

// WeChat passes the code's scene URL-encoded in the page's query.
function sceneOf(query) {
  return decodeScene(query && query.scene)
}

// The scene in the path wx.scanCode returns for a code of this mini program
// ("pages/login/login?scene=…"; iOS encodes the value, Android may not).
function sceneInPath(path) {
  const found = /[?&]scene=([^&#]*)/.exec(String(path || ''))
  return found ? decodeScene(found[1]) : ''
}

function emptyResult() {
  return { kind: '', icon: '', title: '', message: '', retry: false, rescan: false }
}

function initialView(locale) {
  return {
    locale,
    text: textsFor(locale),
    screen: 'loading',
    busy: false,
    fromPicture: false,
    app: { name: '', logoUrl: '', initial: '' },
    request: { browser: '', ip: '', location: '', time: '' },
    loginOnly: false,
    match: { required: false, choices: [] },
    picked: '',
    regionWarning: '',
    expires: '',
    nickname: '',
    privacy: false,
    result: emptyResult(),
  }
}

function pad(number) {
  return number < 10 ? '0' + number : String(number)
}

// "2026-11-21 16:00:05" in the phone's time zone; '' when the server sent no usable time.
function formatTime(iso) {
  const date = new Date(iso)
  if (!iso || Number.isNaN(date.getTime())) return ''
  const day = [date.getFullYear(), pad(date.getMonth() + 1), pad(date.getDate())].join('-')
  const time = [pad(date.getHours()), pad(date.getMinutes()), pad(date.getSeconds())].join(':')
  return day + ' ' + time
}

function orUnknown(value, text) {
  return typeof value === 'string' && value.trim() ? value.trim() : text.unknown
}

// The request screen, from the answer of POST /api/miniprogram/scan.
function requestView(answer, locale) {
  const text = textsFor(locale)
  const application = answer.application || {}
  const request = answer.request || {}
  const name = typeof application.name === 'string' ? application.name : ''
  return {
    screen: 'request',
    app: {
      name,
      logoUrl: typeof application.logo_url === 'string' ? application.logo_url : '',
      initial: (Array.from(name)[0] || '?').toUpperCase(),
    },
    request: {
      browser: orUnknown(request.browser, text),
      ip: orUnknown(request.ip, text),
      location: orUnknown(request.location, text),
      time: formatTime(request.created_at) || text.unknown,
    },
    loginOnly: answer.login_only === true,
    match: matchOf(answer.match),
    picked: '',
    regionWarning: regionWarning(request, text),
  }
}

// Number matching (API.md §3): when the scan answer asks for it, the person picks, among the
// choices, the two digits the computer shows under the code; Allow waits for a pick.
function matchOf(match) {
  const choices = match && Array.isArray(match.choices) ? match.choices.map(String) : []
  return { required: Boolean(match && match.required) && choices.length > 0, choices }
}

// The server says when the phone's network is in another region than the computer's
// (request.region_differs): a code sent to someone elsewhere is how logins are stolen.
function regionWarning(request, text) {
  if (request.region_differs !== true) return ''
  return format(text.regionDiffers, {
    phone: orUnknown(request.phone_location, text),
    pc: orUnknown(request.location, text),
  })
}

function expiresText(seconds, locale) {
  return format(textsFor(locale).expiresIn, { seconds })
}

// A result screen. `serverMessage` (the error body's message) is shown only for the generic
// outcome, where it says more than "something went wrong"; `canRetry` says whether the step
// that failed can run again.
function resultView(kind, locale, serverMessage, canRetry) {
  const outcome = OUTCOMES[kind] || OUTCOMES.error
  const known = textsFor(locale).results[kind] || textsFor(locale).results.error
  return {
    screen: 'result',
    result: {
      kind,
      icon: outcome.icon,
      title: known.title,
      message: kind === 'error' && serverMessage ? serverMessage : known.text,
      retry: outcome.retry && Boolean(canRetry),
      rescan: outcome.rescan,
    },
  }
}

module.exports = {
  PICTURE_SCENES,
  fromPicture,
  sceneOf,
  sceneInPath,
  initialView,
  formatTime,
  requestView,
  expiresText,
  resultView,
}
