// A fake `wx` for the tests, as close to WeChat's as the sandbox allows: wx.login asks the
// sandbox's simulated phone for a js_code (POST /_sandbox/wx/login), wx.request is real HTTP,
// and the phone-number button's event detail carries a code from POST /_sandbox/wx/phone_code.

const SANDBOX_APP_ID = 'wx0000000000sandbox'
const SCAN_A_MINI_PROGRAM_CODE = 1047

async function sandboxCode(server, kind, appid, user) {
  const response = await fetch(`${server.public}/_sandbox/wx/${kind}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ appid, user }),
  })
  if (!response.ok) throw new Error(`${kind}: ${response.status} ${await response.text()}`)
  return (await response.json()).code
}

// The button's detail when the person has not agreed to the privacy guideline.
const PRIVACY_NOT_AUTHORIZED = { errMsg: 'getPhoneNumber:fail privacy permission is not authorized', errno: 104 }

function fakeWx(server, options) {
  const {
    user,
    appid = SANDBOX_APP_ID,
    language = 'zh_CN',
    enterScene = SCAN_A_MINI_PROGRAM_CODE,
    baseLibrary = '3.3.4',
    privacyRequired = false,
  } = options
  // `online` false: requests fail as WeChat's do without a network. `scans`: what the next
  // wx.scanCode calls see ({ path } of a code, { result } of another code, or null: closed).
  // `privacy`: whether the person must still agree to the privacy guideline, the page's
  // onNeedPrivacyAuthorization handler, and what the page answered it.
  const phone = {
    online: true,
    scans: [],
    titles: [],
    exits: 0,
    requests: [],
    privacy: { required: privacyRequired, handler: null, answers: [], contractsOpened: 0 },
  }

  // What WeChat does before a privacy-scoped control (the phone-number button, the nickname
  // input) goes on: asks the page's handler, which resolves once the person chose; only
  // { event: 'agree' } with the id of the page's agreePrivacyAuthorization button lets it on.
  async function privacyGate(referrer) {
    const privacy = phone.privacy
    if (!privacy.required) return true
    if (!privacy.handler) return false
    const answer = await new Promise((resolve) => privacy.handler(resolve, { referrer }))
    privacy.answers.push(answer)
    if (answer && answer.event === 'agree' && typeof answer.buttonId === 'string') {
      privacy.required = false
      return true
    }
    return false
  }
  phone.focusNickname = () => privacyGate('nickname')

  phone.wx = {
    login({ success, fail }) {
      sandboxCode(server, 'login', appid, user).then(
        (code) => success({ errMsg: 'login:ok', code }),
        (error) => fail({ errMsg: `login:fail ${error.message}` }),
      )
    },

    request({ url, method = 'GET', data, header = {}, success, fail }) {
      phone.requests.push({ url, method, data, header })
      if (!phone.online) {
        setImmediate(() => fail({ errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' }))
        return
      }
      fetch(url, { method, headers: header, body: data === undefined ? undefined : JSON.stringify(data) })
        .then(async (response) => {
          const text = await response.text()
          let parsed = text
          try {
            parsed = JSON.parse(text)
          } catch (notJson) {
            // WeChat hands over the text as it is when it is not JSON.
          }
          success({ errMsg: 'request:ok', statusCode: response.status, data: parsed, header: {} })
        })
        .catch((error) => fail({ errMsg: `request:fail ${error.message}` }))
    },

    getAppBaseInfo: () => ({ language, SDKVersion: baseLibrary, version: '8.0.50' }),
    onNeedPrivacyAuthorization: (handler) => (phone.privacy.handler = handler),
    openPrivacyContract: () => (phone.privacy.contractsOpened += 1),
    getEnterOptionsSync: () => ({ scene: enterScene, path: 'pages/login/login', query: {} }),
    setNavigationBarTitle: ({ title }) => phone.titles.push(title),
    exitMiniProgram: () => (phone.exits += 1),

    scanCode({ success, fail }) {
      const next = phone.scans.shift()
      setImmediate(() => {
        const scanType = next && next.path ? 'WX_CODE' : 'QR_CODE'
        if (!next) fail({ errMsg: 'scanCode:fail cancel' })
        else success(Object.assign({ errMsg: 'scanCode:ok', scanType, result: '' }, next))
      })
    },
  }

  // The phone-number button's event details, for each way the person can answer.
  phone.button = {
    allow: async () => {
      if (!(await privacyGate('getPhoneNumber'))) return PRIVACY_NOT_AUTHORIZED
      return { errMsg: 'getPhoneNumber:ok', code: await sandboxCode(server, 'phone_code', appid, user) }
    },
    decline: async () => ({ errMsg: 'getPhoneNumber:fail user deny' }),
    quotaUsedUp: async () => ({ errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 }),
    // An unverified (or personal) mini program may not use the button.
    notPermitted: async () => ({ errMsg: 'getPhoneNumber:fail no permission' }),
    // The privacy guideline does not declare 手机号.
    notDeclared: async () => ({
      errMsg: 'getPhoneNumber:fail api scope is not declared in the privacy agreement',
      errno: 112,
    }),
    // A base library before 2.21.2: allowed, but only the encrypted data, no code.
    oldBaseLibrary: async () => ({ errMsg: 'getPhoneNumber:ok', encryptedData: 'ZW5jcnlwdGVk', iv: 'aXY=' }),
  }
  return phone
}

module.exports = { fakeWx, SANDBOX_APP_ID, PRIVACY_NOT_AUTHORIZED }
