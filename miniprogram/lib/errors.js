// What the person sees when a login ends or fails: every outcome is one result screen, and
// every error code of the server's mini program API (API.md §3) leads to one of them.
//
// OUTCOMES and CODES are plain JSON data, shared with the sandbox's phone simulator the same
// way as the texts (see i18n.js).

// icon: the WeChat <icon> type shown; retry: trying the same step again can help;
// rescan: scanning a fresh code from the computer is the way on.
const OUTCOMES = {
  authorized: { icon: 'success', retry: false, rescan: false },
  needs_binding: { icon: 'info', retry: false, rescan: false },
  cancelled: { icon: 'cancel', retry: false, rescan: false },
  phone_denied: { icon: 'cancel', retry: false, rescan: false },
  phone_quota: { icon: 'warn', retry: false, rescan: false },
  match_failed: { icon: 'cancel', retry: false, rescan: true },
  phone_not_permitted: { icon: 'warn', retry: false, rescan: false },
  wechat_outdated: { icon: 'warn', retry: false, rescan: false },
  privacy_denied: { icon: 'info', retry: true, rescan: false },
  phone_failed: { icon: 'warn', retry: true, rescan: false },
  expired: { icon: 'warn', retry: false, rescan: true },
  already_scanned: { icon: 'warn', retry: false, rescan: false },
  invalid_code: { icon: 'warn', retry: false, rescan: true },
  not_login_code: { icon: 'warn', retry: false, rescan: true },
  session_ended: { icon: 'warn', retry: false, rescan: true },
  login_cancelled: { icon: 'cancel', retry: false, rescan: true },
  account_not_found: { icon: 'warn', retry: false, rescan: false },
  phone_in_use: { icon: 'warn', retry: false, rescan: false },
  account_blocked: { icon: 'warn', retry: false, rescan: false },
  wechat_misconfigured: { icon: 'warn', retry: false, rescan: false },
  wechat_refused: { icon: 'warn', retry: false, rescan: false },
  wechat_unavailable: { icon: 'warn', retry: true, rescan: false },
  busy: { icon: 'warn', retry: true, rescan: false },
  network_error: { icon: 'warn', retry: true, rescan: false },
  error: { icon: 'warn', retry: true, rescan: false },
}

// The server's error codes (and network_error, the mini program's own) -> outcome.
const CODES = {
  already_scanned: 'already_scanned',
  scene_not_found: 'invalid_code',
  qrlogin_expired: 'expired',
  qrlogin_cancelled: 'login_cancelled',
  // A confirm whose answer was lost, sent again: the first one did its work.
  qrlogin_authorized: 'authorized',
  qrlogin_consumed: 'authorized',
  qrlogin_needs_binding: 'needs_binding',
  session_not_found: 'session_ended',
  account_not_found: 'account_not_found',
  match_failed: 'match_failed',
  phone_in_use: 'phone_in_use',
  account_blocked: 'account_blocked',
  rate_limited: 'busy',
  wechat_invalid_credentials: 'wechat_misconfigured',
  wechat_ip_not_allowed: 'wechat_misconfigured',
  wechat_api_unauthorized: 'wechat_misconfigured',
  wechat_high_risk: 'wechat_refused',
  wechat_phone_quota: 'phone_quota',
  network_error: 'network_error',
}

// A call to the server that did not succeed: `code` is the server's error code (or
// network_error when no answer came), `message` its human text in the phone's language.
class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code)
    this.name = 'ApiError'
    this.code = code
    this.status = status
  }
}

function outcomeOf(code) {
  if (Object.prototype.hasOwnProperty.call(CODES, code)) return CODES[code]
  // Any other WeChat failure (busy, timeout, a used code…) passes: the step can run again.
  if (/^wechat_/.test(String(code))) return 'wechat_unavailable'
  return 'error'
}

module.exports = { OUTCOMES, CODES, ApiError, outcomeOf }
