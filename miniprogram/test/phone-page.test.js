// The sandbox's phone simulator shows the mini program's screens with the mini program's
// texts: its copy of them (in phone.js) is identical to lib/i18n.js and lib/errors.js, and the
// page's markup starts out with those same words.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { PHONE_PAGE, sharedData, copiedData, synced } = require('../tools/sync-phone-page')
const { TEXTS } = require('../lib/i18n')

const SCRIPT = fs.readFileSync(PHONE_PAGE, 'utf8')
const MARKUP = fs.readFileSync(path.join(path.dirname(PHONE_PAGE), '..', 'templates', 'phone.html'), 'utf8')

describe('the phone simulator', () => {
  it('has the mini program texts and result screens, unchanged', () => {
    assert.deepEqual(
      copiedData(SCRIPT),
      sharedData(),
      'run `node miniprogram/tools/sync-phone-page.js` after changing miniprogram/lib',
    )
    assert.equal(synced(SCRIPT), SCRIPT, 'the copy is exactly what the sync tool writes')
  })

  it('starts out in Simplified Chinese with the mini program words', () => {
    const shared = []
    for (const [, key, words] of MARKUP.matchAll(/data-i18n="(\w+)"[^>]*>([^<]*)</g)) {
      if (key in TEXTS['zh-CN']) {
        shared.push(key)
        assert.equal(words, TEXTS['zh-CN'][key], `data-i18n="${key}"`)
      } else {
        const defined = SCRIPT.match(new RegExp(`^\\s+${key}: "`, 'gm')) || []
        const why = `${key} is neither a mini program text nor the simulator's own in both languages`
        assert.equal(defined.length, 2, why)
      }
    }
    const screens = ['barTitle', 'noSceneTitle', 'noSceneText', 'asks', 'browser', 'ip', 'location', 'time']
    const choices = ['notYou', 'loginOnly', 'matchPrompt', 'nicknameLabel', 'allow', 'deny', 'retry']
    assert.deepEqual(shared.sort(), [...screens, ...choices].sort())
  })

  it('keeps the hooks its browser tests use', () => {
    const testids = ['user', 'phone', 'scan', 'app-name', 'browser', 'ip', 'allow', 'deny']
    for (const testid of [...testids, 'result', 'result-message', 'retry', 'no-scene']) {
      assert.match(MARKUP, new RegExp(`data-testid="${testid}"`), testid)
    }
  })

  it('refuses a page without the shared block', () => {
    assert.throws(() => copiedData('const SHARED = {};'), /shared:begin/)
    assert.throws(() => synced('const SHARED = {};'), /shared:begin/)
  })
})
