// The one module that calls WeChat's `wx`: each capability the mini program uses, with
// promises instead of callbacks. Everything else receives this wrapper, so the logic runs the
// same against the real `wx` and against the fake one of the tests.

const REQUEST_TIMEOUT_MS = 15000

function callback(resolve, reject, take) {
  return {
    success: (res) => {
      try {
        resolve(take(res))
      } catch (error) {
        reject(error)
      }
    },
    fail: (err) => reject(new Error((err && err.errMsg) || 'fail')),
  }
}

function wrap(wx) {
  return {
    // The js_code that the server exchanges with jscode2session.
    login() {
      return new Promise((resolve, reject) =>
        wx.login(
          callback(resolve, reject, (res) => {
            if (!res.code) throw new Error(res.errMsg || 'login:fail no code')
            return res.code
          }),
        ),
      )
    },

    // An HTTP request; resolves with any HTTP status, rejects only when no answer came.
    request({ url, method, data, header }) {
      return new Promise((resolve, reject) =>
        wx.request(
          Object.assign(
            { url, method, data, header, timeout: REQUEST_TIMEOUT_MS, dataType: 'json' },
            callback(resolve, reject, (res) => ({ statusCode: res.statusCode, data: res.data })),
          ),
        ),
      )
    },

    // WeChat's language setting ("zh_CN", "en"…); getAppBaseInfo replaced getSystemInfoSync.
    language() {
      const info = typeof wx.getAppBaseInfo === 'function' ? wx.getAppBaseInfo() : wx.getSystemInfoSync()
      return (info && info.language) || ''
    },

    // How the mini program was opened this time (WeChat's scene value: 1047 scanned a code…).
    enterScene() {
      const options =
        typeof wx.getEnterOptionsSync === 'function' ? wx.getEnterOptionsSync() : wx.getLaunchOptionsSync()
      return options ? Number(options.scene) : 0
    },

    // Scans with the camera only: a code chosen from the album may be a picture someone sent.
    // Resolves with the path a code of this mini program carries, '' for any other code, and
    // null when the person closed the scanner.
    scanCode() {
      return new Promise((resolve) =>
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ['wxCode', 'qrCode'],
          success: (res) => resolve(res.path || ''),
          fail: () => resolve(null),
        }),
      )
    },

    // Privacy (用户隐私保护指引, since base library 2.32.3): WeChat calls `handler(resolve,
    // eventInfo)` when the person must first agree to the guideline, before the phone-number
    // button or the type="nickname" input may go on; the page shows its own prompt and calls
    // resolve({ buttonId, event: 'agree' }) or resolve({ event: 'disagree' }). Older base
    // libraries have no privacy check: false.
    onNeedPrivacyAuthorization(handler) {
      if (typeof wx.onNeedPrivacyAuthorization !== 'function') return false
      wx.onNeedPrivacyAuthorization(handler)
      return true
    },

    // Opens the guideline's text, as WeChat shows it.
    openPrivacyContract() {
      if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({})
    },

    setTitle(title) {
      wx.setNavigationBarTitle({ title })
    },

    exit() {
      wx.exitMiniProgram()
    },
  }
}

module.exports = { wrap }
