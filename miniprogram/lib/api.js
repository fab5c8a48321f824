// The server's mini program API (API.md §3): POST {baseUrl}/api/miniprogram/scan, confirm and
// cancel. Answers are returned as they come; failures are thrown as ApiError.

const { ApiError } = require('./errors')

// `request` is the wx wrapper's request(); `locale` goes out as Accept-Language so that the
// server's error messages are in the phone's language.
function createApi({ request, baseUrl, locale }) {
  const root = String(baseUrl).replace(/\/+$/, '') + '/api/miniprogram/'

  async function post(path, body) {
    let response
    try {
      response = await request({
        url: root + path,
        method: 'POST',
        data: body,
        header: { 'Content-Type': 'application/json', 'Accept-Language': locale },
      })
    } catch (failure) {
      throw new ApiError('network_error', failure && failure.message, 0)
    }
    const data = response.data && typeof response.data === 'object' ? response.data : {}
    if (response.statusCode >= 200 && response.statusCode < 300) return data
    const code = typeof data.error === 'string' ? data.error : 'error'
    const message = typeof data.message === 'string' ? data.message : ''
    throw new ApiError(code, message, response.statusCode)
  }

  return {
    scan: (scene, jsCode) => post('scan', { scene, js_code: jsCode }),
    confirm: (session, phoneCode, profile) =>
      post('confirm', Object.assign({ session, phone_code: phoneCode }, profile)),
    cancel: (session, reason) => post('cancel', reason ? { session, reason } : { session }),
  }
}

module.exports = { createApi }
