// Copies the mini program's texts and result screens (lib/i18n.js TEXTS, lib/errors.js
// OUTCOMES and CODES) into the sandbox's phone simulator, so that what developers try locally
// shows what their users will see. Run it after changing either file:
//
//     node miniprogram/tools/sync-phone-page.js
//
// test/phone-page.test.js fails while the copy differs.

const fs = require('node:fs')
const path = require('node:path')

const { TEXTS } = require('../lib/i18n')
const { OUTCOMES, CODES } = require('../lib/errors')

const REPO = path.resolve(__dirname, '..', '..')
const PHONE_PAGE = path.join(REPO, 'src', 'minilogin', 'sandbox', 'static', 'phone.js')
const MISSING = `${PHONE_PAGE} has no /* shared:begin */ … /* shared:end */ block`
const BLOCK = /(\/\* shared:begin \*\/)[\s\S]*?(\/\* shared:end \*\/)/

function sharedData() {
  return { texts: TEXTS, outcomes: OUTCOMES, codes: CODES }
}

// The copy in the phone page's source, parsed; throws when the markers are missing.
function copiedData(source) {
  const found = BLOCK.exec(source)
  if (!found) throw new Error(MISSING)
  return JSON.parse(found[0].slice(found[1].length, -found[2].length))
}

function synced(source) {
  if (!BLOCK.test(source)) throw new Error(MISSING)
  const data = JSON.stringify(sharedData(), null, 2)
  return source.replace(BLOCK, (whole, begin, end) => `${begin} ${data} ${end}`)
}

if (require.main === module) {
  const source = fs.readFileSync(PHONE_PAGE, 'utf8')
  const updated = synced(source)
  if (updated === source) {
    console.log('the phone page already has the mini program texts')
  } else {
    fs.writeFileSync(PHONE_PAGE, updated)
    console.log(`updated ${path.relative(process.cwd(), PHONE_PAGE)}`)
  }
}

module.exports = { PHONE_PAGE, sharedData, copiedData, synced }
