// The login page driven as a person would, against a real minilogin server in sandbox mode:
// the computer creates a QR login, a phone opens the page with its scene, and each way the
// person can answer (allow, deny, decline the phone number…) ends on its screen, on both sides.

const { describe, it, before, after, afterEach } = require('node:test')
const assert = require('node:assert/strict')

const { startServer } = require('./support/server')
const { computerLogin, phoneOf, setPhoneNumber, eventually } = require('./support/actors')
const { createLogin } = require('../lib/login')
const { wrap } = require('../lib/wx')
const { fakeWx } = require('./support/fake-wx')

describe('the login page against a real server', () => {
  let server
  const phones = []
  let serial = 0

  // A phone of a WeChat user no other test uses.
  function phone(options) {
    serial += 1
    const made = phoneOf(server, `mp-user-${serial}`, options)
    phones.push(made)
    return made
  }

  async function fault(body) {
    const response = await fetch(`${server.public}/_sandbox/wechat/faults`, {
      method: body ? 'POST' : 'DELETE',
      headers: { 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    })
    assert.ok(response.ok, `faults: ${response.status}`)
  }

  async function expireOnTheComputer(pc) {
    await eventually(async () => (await pc.status()).status === 'expired', {
      what: 'the code to expire',
    })
  }

  before(async () => {
    server = await startServer()
  })

  afterEach(async () => {
    for (const each of phones.splice(0)) each.leave()
  })

  after(async () => {
    if (server) await server.stop()
  })

  it('shows who asks, and Allow logs the computer in', async () => {
    const pc = await computerLogin(server)
    const alice = phone()

    await alice.open(pc.query)

    assert.equal(alice.data.screen, 'request')
    assert.equal(alice.data.app.name, '演示应用 Demo app')
    assert.equal(alice.data.app.initial, '演')
    assert.match(alice.data.request.browser, /Chrome/)
    assert.equal(alice.data.request.ip, '127.0.0.1')
    assert.match(alice.data.request.time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    assert.match(alice.data.expires, /^二维码将在 \d+ 秒后过期$/)
    assert.equal(alice.data.fromPicture, false)
    assert.equal(alice.data.text.allow, '允许使用手机号')
    assert.deepEqual(alice.device.titles, ['minilogin'])
    assert.equal((await pc.status()).status, 'scanned')

    alice.typeNickname('Alice')
    await alice.allow()

    assert.equal(alice.data.screen, 'result')
    assert.deepEqual(alice.result, {
      kind: 'authorized',
      icon: 'success',
      title: '登录成功',
      message: '请回到电脑继续操作。',
      retry: false,
      rescan: false,
    })
    const status = await pc.status()
    assert.equal(status.status, 'authorized')
    assert.equal(status.scanned.nickname, 'Alice')
    const tokens = await pc.exchange(status.code)
    assert.equal(tokens.status, 200)
    assert.ok((await tokens.json()).id_token)

    alice.close()
    assert.equal(alice.device.exits, 1)
  })

  it('Deny cancels the login on the computer', async () => {
    const pc = await computerLogin(server)
    const bob = phone()
    await bob.open(pc.query)

    await bob.deny()

    assert.equal(bob.result.kind, 'cancelled')
    assert.equal(bob.result.title, '已取消登录')
    assert.equal(bob.result.retry, false)
    const status = await pc.status()
    assert.deepEqual([status.status, status.error], ['cancelled', 'cancelled_by_user'])
  })

  it('declining the phone number cancels the login', async () => {
    const pc = await computerLogin(server)
    const carol = phone()
    await carol.open(pc.query)

    await carol.declinePhoneNumber()

    assert.equal(carol.result.kind, 'phone_denied')
    assert.equal(carol.result.message, '你没有允许使用手机号，本次登录已取消。')
    const status = await pc.status()
    assert.deepEqual([status.status, status.error], ['cancelled', 'phone_denied'])
  })

  it('a used-up phone number quota ends the login on its own screen', async () => {
    const pc = await computerLogin(server)
    const dave = phone()
    await dave.open(pc.query)

    await dave.phoneQuotaUsedUp()

    assert.equal(dave.result.kind, 'phone_quota')
    assert.equal(dave.result.title, '暂时无法验证手机号')
    assert.equal(dave.result.retry, false)
    const status = await pc.status()
    assert.deepEqual([status.status, status.error], ['cancelled', 'phone_quota'])
  })

  // Each failure of the phone-number button shows as itself; only those the person cannot get
  // past from this phone end the login, with a reason the computer can tell.
  for (const [kind, outcome, title] of [
    ['notPermitted', 'phone_not_permitted', '小程序无法获取手机号'],
    ['notDeclared', 'phone_not_permitted', '小程序无法获取手机号'],
    ['oldBaseLibrary', 'wechat_outdated', '请升级微信'],
  ]) {
    it(`the phone button's ${kind} ends the login as ${outcome}, not as declined`, async () => {
      const pc = await computerLogin(server)
      const erin = phone()
      await erin.open(pc.query)

      await erin.phoneButton(kind)

      assert.equal(erin.result.kind, outcome)
      assert.equal(erin.result.title, title)
      assert.equal(erin.result.retry, false)
      const status = await pc.status()
      assert.deepEqual([status.status, status.error], ['cancelled', 'phone_unavailable'])
    })
  }

  it('asks for the privacy guideline before the phone number, and Agree lets it on', async () => {
    const pc = await computerLogin(server)
    const fay = phone({ privacyRequired: true })
    await fay.open(pc.query)
    assert.equal(fay.data.privacy, false)

    fay.readPrivacy()
    await fay.throughPrivacy('agree')

    assert.equal(fay.device.privacy.contractsOpened, 1)
    assert.deepEqual(fay.device.privacy.answers, [{ buttonId: 'agree-privacy', event: 'agree' }])
    assert.equal(fay.data.privacy, false)
    assert.equal(fay.result.kind, 'authorized')
    assert.equal((await pc.status()).status, 'authorized')
  })

  it('a person who does not agree to the privacy guideline can retry; the login waits', async () => {
    const pc = await computerLogin(server)
    const gil = phone({ privacyRequired: true })
    await gil.open(pc.query)

    const detail = await gil.throughPrivacy('disagree')

    assert.equal(detail.errno, 104)
    assert.equal(gil.result.kind, 'privacy_denied')
    assert.equal(gil.result.retry, true)
    assert.equal((await pc.status()).status, 'scanned')

    await gil.retry()
    assert.equal(gil.data.screen, 'request')
    await gil.throughPrivacy('agree')

    assert.equal(gil.result.kind, 'authorized')
    assert.equal((await pc.status()).status, 'authorized')
  })

  it('the nickname input asks for the privacy guideline too, once', async () => {
    const pc = await computerLogin(server)
    const hal = phone({ privacyRequired: true })
    await hal.open(pc.query)

    const allowed = await hal.throughPrivacy('agree', 'nickname')
    hal.typeNickname('Hal')
    await hal.allow()

    assert.equal(allowed, true)
    assert.equal(hal.device.privacy.answers.length, 1)
    assert.equal(hal.result.kind, 'authorized')
    assert.equal((await pc.status()).scanned.nickname, 'Hal')
  })

  it('a second phone sees the code is already scanned; the first still logs in', async () => {
    const pc = await computerLogin(server)
    const first = phone()
    const second = phone()
    await first.open(pc.query)

    await second.open(pc.query)

    assert.equal(second.result.kind, 'already_scanned')
    assert.equal(second.result.title, '二维码已被扫描')
    assert.deepEqual([second.result.retry, second.result.rescan], [false, false])
    await first.allow()
    assert.equal(first.result.kind, 'authorized')
  })

  it('a code that expired before the scan shows the expired screen', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'short-lived' })
    await expireOnTheComputer(pc)
    const erin = phone()

    await erin.open(pc.query)

    assert.equal(erin.result.kind, 'expired')
    assert.equal(erin.result.title, '二维码已过期')
    assert.deepEqual([erin.result.retry, erin.result.rescan], [false, true])
  })

  it('the countdown ends on the expired screen when the code expires meanwhile', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'short-lived' })
    const frank = phone()
    await frank.open(pc.query)
    assert.equal(frank.data.screen, 'request')

    await eventually(() => frank.data.screen === 'result', { what: 'the countdown to end' })

    assert.equal(frank.result.kind, 'expired')
    await frank.allow()
    assert.equal(frank.result.kind, 'expired', 'a tap on a result screen does nothing')
    // expires_in is in whole seconds, rounded down: the phone gives up first, never later.
    await expireOnTheComputer(pc)
  })

  it('Allow after the code expired shows the expired screen', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'short-lived' })
    const device = fakeWx(server, { user: 'mp-late' })
    let view = null
    // A clock that stands still: the page's own countdown never ends, the server decides.
    const timers = { now: () => 0, setInterval: () => 1, clearInterval: () => {} }
    const login = createLogin({
      platform: wrap(device.wx),
      baseUrl: server.public,
      render: () => (view = login.view),
      timers,
    })
    await login.open(pc.query)
    assert.equal(view.screen, 'request')
    await expireOnTheComputer(pc)

    await login.allow(await device.button.allow())

    assert.equal(view.result.kind, 'expired')
  })

  it('login-only: no account for the phone number', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'login-only' })
    const grace = phone()
    await grace.open(pc.query)
    assert.equal(grace.data.loginOnly, true)

    await grace.allow()

    assert.equal(grace.result.kind, 'account_not_found')
    assert.equal(grace.result.title, '没有找到账号')
    const status = await pc.status()
    assert.deepEqual([status.status, status.error], ['cancelled', 'account_not_found'])
  })

  it('a blocked account cannot log in', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'login-only' })
    const heidi = phone()
    await setPhoneNumber(server, heidi.user, server.cases.blocked_phone)
    await heidi.open(pc.query)

    await heidi.allow()

    assert.equal(heidi.result.kind, 'account_blocked')
    assert.equal(heidi.result.title, '账号已停用')
  })

  it('without association: a phone number another account holds is in use', async () => {
    const number = '+8613600136000'
    const owner = phone()
    await setPhoneNumber(server, owner.user, number)
    const first = await computerLogin(server, { pool: 'mpcases', clientId: 'no-association' })
    await owner.open(first.query)
    await owner.allow()
    assert.equal(owner.result.kind, 'authorized')
    const other = phone()
    await setPhoneNumber(server, other.user, number)
    const second = await computerLogin(server, { pool: 'mpcases', clientId: 'no-association' })
    await other.open(second.query)

    await other.allow()

    assert.equal(other.result.kind, 'phone_in_use')
    assert.equal(other.result.title, '手机号已被占用')
  })

  it('ask-binding: the person finishes on the computer', async () => {
    const pc = await computerLogin(server, { pool: 'mpcases', clientId: 'ask-binding' })
    const ivan = phone()
    await ivan.open(pc.query)

    await ivan.allow()

    assert.equal(ivan.result.kind, 'needs_binding')
    assert.equal(ivan.result.icon, 'info')
    assert.equal((await pc.status()).status, 'needs_binding')
  })

  it('a network failure on opening offers Retry, which carries on', async () => {
    const pc = await computerLogin(server)
    const judy = phone()
    judy.device.online = false

    await judy.open(pc.query)

    assert.equal(judy.result.kind, 'network_error')
    assert.equal(judy.result.title, '网络错误')
    assert.equal(judy.result.retry, true)
    judy.device.online = true
    await judy.retry()
    assert.equal(judy.data.screen, 'request')
    await judy.allow()
    assert.equal(judy.result.kind, 'authorized')
  })

  it('a network failure on Allow goes back to the request for another tap', async () => {
    const pc = await computerLogin(server)
    const ken = phone()
    await ken.open(pc.query)
    ken.device.online = false

    await ken.allow()

    assert.equal(ken.result.kind, 'network_error')
    assert.equal(ken.result.retry, true)
    ken.device.online = true
    await ken.retry()
    assert.equal(ken.data.screen, 'request')
    assert.equal((await pc.status()).status, 'scanned')
    await ken.allow()
    assert.equal(ken.result.kind, 'authorized')
  })

  it('a tap while a call is under way does nothing', async () => {
    const pc = await computerLogin(server)
    const leo = phone()
    await leo.open(pc.query)
    // WeChat answers the phone number slowly, so the second taps land while confirm is waiting.
    await fault({ path: 'wxa/business/getuserphonenumber', errcode: 0, delay_ms: 400, times: 1 })
    const first = leo.allow()
    await eventually(() => leo.data.busy, { what: 'the confirm call to start' })

    await Promise.all([leo.deny(), leo.allow(), first])

    const calls = leo.device.requests.map((request) => request.url.split('/').pop())
    assert.deepEqual(calls, ['scan', 'confirm'])
    assert.equal(leo.result.kind, 'authorized')
  })

  it('WeChat being busy offers Retry', async () => {
    const pc = await computerLogin(server)
    const mallory = phone()
    await fault({ path: 'sns/jscode2session', errcode: -1, times: 1 })

    await mallory.open(pc.query)

    assert.equal(mallory.result.kind, 'wechat_unavailable')
    assert.equal(mallory.result.retry, true)
    await mallory.retry()
    assert.equal(mallory.data.screen, 'request')
  })

  it('WeChat refusing a risky account ends the login', async () => {
    const pc = await computerLogin(server)
    const niaj = phone()
    await fault({ path: 'sns/jscode2session', errcode: 40226, times: 1 })

    await niaj.open(pc.query)

    assert.equal(niaj.result.kind, 'wechat_refused')
    assert.equal(niaj.result.retry, false)
    await fault(null)
  })

  it('the computer cancelling while the person decides ends the login', async () => {
    const pc = await computerLogin(server)
    const olivia = phone()
    await olivia.open(pc.query)
    await pc.cancel()

    await olivia.allow()

    assert.equal(olivia.result.kind, 'login_cancelled')
    assert.equal(olivia.result.rescan, true)
  })

  it('launched from the chat list: no scene, and the scanner opens the code', async () => {
    const pc = await computerLogin(server)
    const peggy = phone()

    await peggy.open({})

    assert.equal(peggy.data.screen, 'no_scene')
    assert.equal(peggy.data.text.noSceneTitle, '请扫描电脑上的二维码')
    await peggy.scanCode()
    assert.equal(peggy.data.screen, 'no_scene', 'closing the scanner changes nothing')
    peggy.device.scans.push({ path: `pages/login/login?scene=${encodeURIComponent(pc.scene)}` })
    await peggy.scanCode()
    assert.equal(peggy.data.screen, 'request')
    await peggy.allow()
    assert.equal(peggy.result.kind, 'authorized')
  })

  it('a code that is not a login code says so', async () => {
    const quentin = phone()
    await quentin.open({})
    quentin.device.scans.push({ result: 'https://example.com/' })

    await quentin.scanCode()

    assert.equal(quentin.result.kind, 'not_login_code')
    assert.equal(quentin.result.rescan, true)
  })

  it('opened from a picture: the request warns about codes sent by others', async () => {
    const pc = await computerLogin(server)
    const rupert = phone({ enterScene: 1049 })

    await rupert.open(pc.query)

    assert.equal(rupert.data.screen, 'request')
    assert.equal(rupert.data.fromPicture, true)
    assert.match(rupert.data.text.fromImage, /图片/)
    await rupert.allow()
    assert.equal(rupert.result.kind, 'authorized')
  })

  it('a scene the server does not know shows the invalid code screen', async () => {
    const sybil = phone()

    await sybil.open({ scene: 'NoSuchScene00000' })

    assert.equal(sybil.result.kind, 'invalid_code')
    assert.equal(sybil.result.rescan, true)
  })

  it('a malformed scene is sent as it is and refused', async () => {
    const trent = phone()

    await trent.open({ scene: '%E4%zz' })

    assert.equal(trent.result.kind, 'invalid_code')
    assert.equal(trent.device.requests[0].data.scene, '%E4%zz')
  })

  it('a nickname that fails WeChat review is not sent', async () => {
    const pc = await computerLogin(server)
    const uma = phone()
    await uma.open(pc.query)
    uma.typeNickname('Not allowed')

    uma.nicknameReviewed(false)
    await uma.allow()

    const confirm = uma.device.requests.find((request) => request.url.endsWith('/confirm'))
    assert.equal(confirm.data.nickname, undefined)
    assert.equal(uma.result.kind, 'authorized')
  })

  it('in English when WeChat is set to English', async () => {
    const pc = await computerLogin(server)
    const first = phone()
    const victor = phone({ language: 'en' })
    await first.open(pc.query)

    await victor.open(pc.query)

    assert.deepEqual(victor.device.titles, ['minilogin'])
    assert.equal(victor.data.text.allow, 'Allow phone number')
    assert.equal(victor.data.text.deny, 'Deny')
    assert.equal(victor.result.title, 'Already scanned')
    assert.equal(victor.device.requests[0].header['Accept-Language'], 'en')
  })

  it('the server message is shown for an error the page has no words for', async () => {
    const walter = phone({ language: 'en' })

    await walter.open({ scene: 'x'.repeat(65) })

    assert.equal(walter.result.kind, 'error')
    assert.match(walter.result.message, /invalid parameters/)
    assert.equal(walter.result.retry, true)
  })
})
