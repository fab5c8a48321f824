// The two devices of a login, as the tests drive them: the computer creates a QR login through
// the browser's API (API.md §1), and a phone runs the real login page with a fake `wx`.

const crypto = require('node:crypto')
const { fakeWx } = require('./fake-wx')
const { loadPage } = require('./runtime')

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36'

// A QR login created as the PC page creates one, and its scene as its code carries it (read
// through the sandbox demo's helper, which answers the holder of the login's secret).
async function computerLogin(server, { pool = 'demo', clientId = 'demo' } = {}) {
  const verifier = crypto.randomBytes(32).toString('base64url')
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url')
  const issuer = `${server.public}/pools/${pool}`
  const created = await fetch(`${issuer}/api/qrcodes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': CHROME },
    body: JSON.stringify({
      client_id: clientId,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'openid profile phone',
    }),
  })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`)
  const login = await created.json()
  const auth = { Authorization: `Bearer ${login.secret}` }
  // In sandbox mode the create answer says where the code's phone page is (API.md §1).
  const scene = new URL(login.sandbox_phone_url).searchParams.get('scene')

  return {
    id: login.id,
    scene,
    // Number matching (recycled codes): the digits the computer shows under the code.
    match: login.match,
    // What WeChat hands the page's onLoad: the scene URL-encoded.
    query: { scene: encodeURIComponent(scene) },
    async status(wait) {
      const params = wait ? `?wait=${wait.seconds}&last=${wait.last}` : ''
      const response = await fetch(`${issuer}/api/qrcodes/${login.id}${params}`, { headers: auth })
      return response.json()
    },
    async cancel() {
      const response = await fetch(`${issuer}/api/qrcodes/${login.id}`, { method: 'DELETE', headers: auth })
      if (response.status !== 204) throw new Error(`cancel: ${response.status}`)
    },
    async exchange(code) {
      return fetch(`${issuer}/oidc/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          client_id: clientId,
        }),
      })
    },
  }
}

async function setPhoneNumber(server, user, phone) {
  const response = await fetch(`${server.public}/_sandbox/wx/users/${encodeURIComponent(user)}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ phone }),
  })
  if (!response.ok) throw new Error(`set phone: ${response.status} ${await response.text()}`)
}

// A person with WeChat (`user` of the sandbox) and the mini program's login page.
function phoneOf(server, user, options = {}) {
  const device = fakeWx(server, Object.assign({ user }, options))
  let page = null
  return {
    user,
    device,
    get data() {
      return page.data
    },
    get result() {
      return page.data.result
    },
    async open(query) {
      page = loadPage('pages/login/login', { wx: device.wx, app: { config: { baseUrl: server.public } } })
      await page.onLoad(query)
    },
    async allow() {
      await page.onAllow({ type: 'getphonenumber', detail: await device.button.allow() })
    },
    async declinePhoneNumber() {
      await page.onAllow({ type: 'getphonenumber', detail: await device.button.decline() })
    },
    async phoneQuotaUsedUp() {
      await page.onAllow({ type: 'getphonenumber', detail: await device.button.quotaUsedUp() })
    },
    pick: (digits) => page.onPick({ type: 'tap', currentTarget: { dataset: { digits } } }),
    // The button failing as WeChat makes it fail: notPermitted, notDeclared, oldBaseLibrary.
    async phoneButton(kind) {
      await page.onAllow({ type: 'getphonenumber', detail: await device.button[kind]() })
    },
    // Taps the button (or focuses the nickname input) while WeChat asks for the privacy
    // guideline first, and answers the page's prompt: 'agree' or 'disagree'.
    async throughPrivacy(choice, control = 'phone') {
      const tapped = control === 'phone' ? device.button.allow() : device.focusNickname()
      await eventually(() => page.data.privacy, { what: 'the privacy prompt' })
      if (choice === 'agree') page.onAgreePrivacy({ type: 'agreeprivacyauthorization' })
      else page.onDisagreePrivacy({ type: 'tap' })
      const outcome = await tapped
      if (control === 'phone') await page.onAllow({ type: 'getphonenumber', detail: outcome })
      return outcome
    },
    readPrivacy: () => page.onReadPrivacy({ type: 'tap' }),
    deny: () => page.onDeny({ type: 'tap' }),
    retry: () => page.onRetry({ type: 'tap' }),
    scanCode: () => page.onScanCode({ type: 'tap' }),
    close: () => page.onClose({ type: 'tap' }),
    typeNickname: (value) => page.onNickname({ type: 'input', detail: { value } }),
    nicknameReviewed: (pass) =>
      page.onNicknameReview({ type: 'nicknamereview', detail: { pass, timeout: false } }),
    leave: () => page && page.onUnload(),
  }
}

async function eventually(check, { timeoutMs = 8000, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

module.exports = { computerLogin, phoneOf, setPhoneNumber, eventually }
