// The pure parts of the mini program's logic: languages, scenes, the mapping from the server's
// error codes to result screens, and the views the page shows.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { TEXTS, localeOf, format } = require('../lib/i18n')
const { OUTCOMES, CODES, ApiError, outcomeOf } = require('../lib/errors')
const state = require('../lib/state')
const { createApi } = require('../lib/api')
const { wrap } = require('../lib/wx')

describe('languages', () => {
  it('is English only when WeChat says English', () => {
    for (const language of ['en', 'en_US', 'en-GB', 'EN']) assert.equal(localeOf(language), 'en')
    for (const language of ['zh_CN', 'zh_TW', 'zh_HK', 'ja', 'english', '', undefined, null]) {
      assert.equal(localeOf(language), 'zh-CN', String(language))
    }
  })

  it('fills placeholders and leaves unknown ones', () => {
    assert.equal(format('{seconds} s, {other}', { seconds: 5 }), '5 s, {other}')
  })

  it('has every text in both languages, with the same placeholders', () => {
    const shape = (texts) =>
      Object.entries(texts).map(([key, value]) =>
        typeof value === 'string' ? [key, (value.match(/\{\w+\}/g) || []).sort()] : [key, shape(value)],
      )
    assert.deepEqual(shape(TEXTS.en), shape(TEXTS['zh-CN']))
  })

  it('has a title and a message for every outcome', () => {
    for (const locale of Object.keys(TEXTS)) {
      assert.deepEqual(Object.keys(TEXTS[locale].results).sort(), Object.keys(OUTCOMES).sort())
      for (const result of Object.values(TEXTS[locale].results)) {
        assert.ok(result.title && result.text)
      }
    }
  })
})

describe('outcomes of the server error codes', () => {
  it('maps the codes of API.md §3 to their screens', () => {
    const expected = {
      already_scanned: 'already_scanned',
      scene_not_found: 'invalid_code',
      qrlogin_expired: 'expired',
      qrlogin_cancelled: 'login_cancelled',
      session_not_found: 'session_ended',
      account_not_found: 'account_not_found',
      phone_in_use: 'phone_in_use',
      account_blocked: 'account_blocked',
      wechat_invalid_code: 'wechat_unavailable',
      wechat_code_used: 'wechat_unavailable',
      wechat_busy: 'wechat_unavailable',
      wechat_timeout: 'wechat_unavailable',
      wechat_rate_limited: 'wechat_unavailable',
      wechat_invalid_credentials: 'wechat_misconfigured',
      wechat_high_risk: 'wechat_refused',
      wechat_phone_quota: 'phone_quota',
      rate_limited: 'busy',
      network_error: 'network_error',
      invalid_request: 'error',
      something_new: 'error',
    }
    for (const [code, outcome] of Object.entries(expected)) assert.equal(outcomeOf(code), outcome, code)
  })

  it('names only outcomes that exist', () => {
    for (const outcome of Object.values(CODES)) assert.ok(OUTCOMES[outcome], outcome)
  })

  it('offers Retry only where trying again can help', () => {
    const retried = Object.keys(OUTCOMES).filter((kind) => OUTCOMES[kind].retry)
    assert.deepEqual(retried.sort(), [
      'busy',
      'error',
      'network_error',
      'phone_failed',
      'privacy_denied',
      'wechat_unavailable',
    ])
  })
})

describe('the phone-number button', () => {
  const { phoneAnswer, PHONE_CODE_BASE_LIBRARY } = require('../lib/phone')

  it('tells its failures apart', () => {
    const cases = [
      [{ errMsg: 'getPhoneNumber:ok', code: 'c0de' }, { code: 'c0de' }],
      [{ errMsg: 'getPhoneNumber:fail user deny' }, { failure: 'phone_denied', cancel: 'phone_denied' }],
      [{ errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 }, { failure: 'phone_quota', cancel: 'phone_quota' }],
      [
        { errMsg: 'getPhoneNumber:fail no permission' },
        { failure: 'phone_not_permitted', cancel: 'phone_unavailable' },
      ],
      [
        { errMsg: 'getPhoneNumber:fail api scope is not declared in the privacy agreement', errno: 112 },
        { failure: 'phone_not_permitted', cancel: 'phone_unavailable' },
      ],
      [
        { errMsg: 'getPhoneNumber:fail privacy permission is not authorized', errno: 104 },
        { failure: 'privacy_denied', cancel: null },
      ],
      [{ errMsg: 'getPhoneNumber:ok', encryptedData: 'x', iv: 'y' }, { failure: 'wechat_outdated', cancel: 'phone_unavailable' }],
      [{ errMsg: 'getPhoneNumber:fail system error' }, { failure: 'phone_failed', cancel: null }],
      [undefined, { failure: 'phone_failed', cancel: null }],
    ]
    for (const [detail, expected] of cases) assert.deepEqual(phoneAnswer(detail), expected, JSON.stringify(detail))
  })

  it('names the base library the README asks for', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
    assert.match(readme, new RegExp(`基础库.*${PHONE_CODE_BASE_LIBRARY.replace(/\./g, '\\.')}`))
  })
})

describe('scenes', () => {
  it('decodes the scene WeChat passes URL-encoded', () => {
    assert.equal(state.sceneOf({ scene: 'a%3D1%26b' }), 'a=1&b')
    assert.equal(state.sceneOf({ scene: 'AbC123' }), 'AbC123')
    assert.equal(state.sceneOf({ scene: '%E4%zz' }), '%E4%zz')
    assert.equal(state.sceneOf({}), '')
    assert.equal(state.sceneOf(undefined), '')
  })

  it('reads the scene from a scanned path, encoded (iOS) or not (Android)', () => {
    assert.equal(state.sceneInPath('pages/login/login?scene=AbC123'), 'AbC123')
    assert.equal(state.sceneInPath('pages/login/login?x=1&scene=a%3D1'), 'a=1')
    assert.equal(state.sceneInPath('pages/login/login'), '')
    assert.equal(state.sceneInPath(''), '')
  })

  it('knows the launches from a picture', () => {
    for (const scene of [1012, 1013, 1048, 1049]) assert.equal(state.fromPicture(scene), true)
    for (const scene of [1011, 1047, 1001, 0, undefined]) assert.equal(state.fromPicture(scene), false)
  })
})

describe('views', () => {
  it('formats the request time in local time, or says unknown', () => {
    const date = new Date(2026, 10, 21, 8, 5, 9)
    assert.equal(state.formatTime(date.toISOString()), '2026-11-21 08:05:09')
    assert.equal(state.formatTime('not a time'), '')
    assert.equal(state.formatTime(null), '')
  })

  it('fills what the server left out of a scan answer', () => {
    const view = state.requestView({ application: { name: 'bank', logo_url: null }, request: {} }, 'en')
    assert.deepEqual(view.app, { name: 'bank', logoUrl: '', initial: 'B' })
    const unknown = 'Unknown'
    assert.deepEqual(view.request, { browser: unknown, ip: unknown, location: unknown, time: unknown })
    assert.equal(view.loginOnly, false)
    assert.equal(view.regionWarning, '')
  })

  it('warns when the phone is on a network in another region than the computer', () => {
    const request = { location: '北京 北京市', phone_location: '广东省 深圳市', region_differs: true }
    const warning = state.requestView({ request }, 'zh-CN').regionWarning
    assert.ok(warning.includes('广东省 深圳市') && warning.includes('北京 北京市'), warning)
    assert.equal(state.requestView({ request: { ...request, region_differs: false } }, 'en').regionWarning, '')
  })

  it('shows the server message only for the generic error', () => {
    assert.equal(state.resultView('error', 'en', 'Bad scene.', true).result.message, 'Bad scene.')
    assert.equal(state.resultView('error', 'en', '', true).result.message, TEXTS.en.results.error.text)
    const expired = state.resultView('expired', 'zh-CN', 'ignored', true).result
    assert.equal(expired.message, TEXTS['zh-CN'].results.expired.text)
    assert.equal(expired.retry, false)
  })

  it('offers Retry only when the failed step can run again', () => {
    assert.equal(state.resultView('network_error', 'en', '', true).result.retry, true)
    assert.equal(state.resultView('network_error', 'en', '', false).result.retry, false)
  })
})

describe('the API client', () => {
  const answer = (statusCode, data) => async () => ({ statusCode, data })

  it('sends JSON in the phone language and returns the answer', async () => {
    const sent = []
    const api = createApi({
      request: async (options) => {
        sent.push(options)
        return { statusCode: 200, data: { status: 'cancelled' } }
      },
      baseUrl: 'https://login.example.com/',
      locale: 'en',
    })

    assert.deepEqual(await api.cancel('s1'), { status: 'cancelled' })
    assert.deepEqual(sent, [
      {
        url: 'https://login.example.com/api/miniprogram/cancel',
        method: 'POST',
        data: { session: 's1' },
        header: { 'Content-Type': 'application/json', 'Accept-Language': 'en' },
      },
    ])
  })

  it('throws the error body as an ApiError', async () => {
    const taken = answer(409, { error: 'already_scanned', message: 'Taken.' })
    const api = createApi({ request: taken, baseUrl: 'x', locale: 'en' })
    await assert.rejects(api.scan('s', 'c'), (error) => {
      assert.ok(error instanceof ApiError)
      assert.deepEqual([error.code, error.message, error.status], ['already_scanned', 'Taken.', 409])
      return true
    })
  })

  it('makes an answer that is not the contract body a generic error', async () => {
    const api = createApi({ request: answer(502, '<html>Bad gateway</html>'), baseUrl: 'x', locale: 'en' })
    await assert.rejects(api.scan('s', 'c'), { code: 'error', status: 502 })
  })

  it('makes a request that got no answer a network error', async () => {
    const api = createApi({
      request: async () => {
        throw new Error('request:fail timeout')
      },
      baseUrl: 'x',
      locale: 'en',
    })
    await assert.rejects(api.scan('s', 'c'), { code: 'network_error', status: 0 })
  })
})

describe('the wx wrapper', () => {
  it('turns a wx.login without a code into a failure', async () => {
    const platform = wrap({ login: ({ success }) => success({ errMsg: 'login:ok' }) })
    await assert.rejects(platform.login(), /login:ok/)
  })

  it('falls back to getSystemInfoSync and getLaunchOptionsSync on old base libraries', () => {
    const platform = wrap({
      getSystemInfoSync: () => ({ language: 'en' }),
      getLaunchOptionsSync: () => ({ scene: 1048 }),
    })
    assert.equal(platform.language(), 'en')
    assert.equal(platform.enterScene(), 1048)
  })

  it('scans with the camera only, and tells a closed scanner from another code', async () => {
    const seen = []
    const answers = [{ path: 'pages/login/login?scene=A' }, { result: 'hello' }, null]
    const platform = wrap({
      scanCode: (options) => {
        seen.push(options.onlyFromCamera)
        const next = answers.shift()
        if (next) options.success(next)
        else options.fail({ errMsg: 'scanCode:fail cancel' })
      },
    })
    assert.deepEqual(
      [await platform.scanCode(), await platform.scanCode(), await platform.scanCode()],
      ['pages/login/login?scene=A', '', null],
    )
    assert.deepEqual(seen, [true, true, true])
  })
})
