// Number matching, driven as a person would against a real server that recycles its codes
// (MINILOGIN_CODE_POOL_RECYCLE=true): the computer shows two digits under the code, the login
// page offers a few numbers, Allow waits for a pick, and a wrong pick ends the login.

const { describe, it, before, after, afterEach } = require('node:test')
const assert = require('node:assert/strict')

const { startServer } = require('./support/server')
const { computerLogin, phoneOf, setPhoneNumber } = require('./support/actors')

describe('number matching when codes are recycled', () => {
  let server
  const phones = []
  let serial = 0

  function phone() {
    serial += 1
    const made = phoneOf(server, `match-user-${serial}`)
    phones.push(made)
    return made
  }

  before(async () => {
    server = await startServer({ env: { MINILOGIN_CODE_POOL_RECYCLE: 'true' } })
  })

  afterEach(async () => {
    for (const each of phones.splice(0)) each.leave()
  })

  after(async () => {
    if (server) await server.stop()
  })

  it('offers the digits the computer shows, waits for a pick, and then logs in', async () => {
    const pc = await computerLogin(server)
    assert.match(pc.match, /^\d\d$/)
    const amy = phone()
    await setPhoneNumber(server, amy.user, '+8613700137101')
    await amy.open(pc.query)

    assert.equal(amy.data.screen, 'request')
    assert.equal(amy.data.match.required, true)
    assert.ok(amy.data.match.choices.includes(pc.match))
    assert.ok(amy.data.match.choices.length >= 3)
    assert.equal(amy.data.text.matchPrompt, '请选择电脑上二维码下方显示的数字')

    await amy.allow() // nothing picked: nothing happens
    assert.equal(amy.data.screen, 'request')
    assert.equal((await pc.status()).status, 'scanned')

    amy.pick('not-a-choice')
    assert.equal(amy.data.picked, '')
    amy.pick(pc.match)
    assert.equal(amy.data.picked, pc.match)
    await amy.allow()

    assert.equal(amy.result.kind, 'authorized')
    assert.equal((await pc.status()).status, 'authorized')
  })

  it('a wrong pick ends the login on both sides', async () => {
    const pc = await computerLogin(server)
    const ben = phone()
    await ben.open(pc.query)
    const wrong = ben.data.match.choices.find((choice) => choice !== pc.match)

    ben.pick(wrong)
    await ben.allow()

    assert.equal(ben.result.kind, 'match_failed')
    assert.equal(ben.result.title, '数字不一致')
    assert.equal(ben.result.retry, false)
    const status = await pc.status()
    assert.deepEqual([status.status, status.error], ['cancelled', 'match_failed'])
  })
})
