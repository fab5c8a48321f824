// The login page's behaviour, free of any page: open the scanned code, show who asks, allow
// with the phone number or deny, and show how it ended. The page hands it the wx wrapper and a
// render function (its setData); everything it shows goes through render.

const { localeOf } = require('./i18n')
const { createApi } = require('./api')
const { ApiError, outcomeOf } = require('./errors')
const { phoneAnswer, PHONE_QUOTA_ERRNO } = require('./phone')
const state = require('./state')

// The id of the page's button with open-type="agreePrivacyAuthorization".
const AGREE_PRIVACY_BUTTON = 'agree-privacy'
const NICKNAME_MAX_LENGTH = 64
const STATUS_OUTCOMES = { authorized: 'authorized', needs_binding: 'needs_binding' }

const SYSTEM_TIMERS = {
  now: () => Date.now(),
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (id) => clearInterval(id),
}

function createLogin({ platform, baseUrl, render, timers = SYSTEM_TIMERS }) {
  const locale = localeOf(platform.language())
  const api = createApi({ request: platform.request, baseUrl, locale })
  let view = state.initialView(locale)
  let scene = ''
  let session = ''
  let deadline = 0
  let ticker = null
  let retryStep = null
  let privacyAnswer = null

  function show(patch) {
    view = Object.assign({}, view, patch)
    render(patch)
  }

  function stopCountdown() {
    if (ticker !== null) timers.clearInterval(ticker)
    ticker = null
  }

  function tick() {
    const left = Math.ceil((deadline - timers.now()) / 1000)
    if (left > 0) show({ expires: state.expiresText(left, locale) })
    // While a call is under way its answer decides; the server is the one that knows.
    else if (!view.busy) finish('expired')
  }

  function startCountdown() {
    stopCountdown()
    ticker = timers.setInterval(tick, 1000)
    tick()
  }

  function finish(kind, serverMessage, retry) {
    stopCountdown()
    retryStep = retry || null
    show(state.resultView(kind, locale, serverMessage, Boolean(retry)))
  }

  // Runs one step at a time (a tap while a call is under way does nothing). A failure shows
  // its result screen, where Retry runs `retry`: the step again, unless told otherwise.
  async function run(step, retry) {
    if (view.busy) return
    show({ busy: true })
    try {
      await step()
    } catch (error) {
      const known = error instanceof ApiError
      const again = retry || (() => run(step, retry))
      finish(outcomeOf(known ? error.code : 'error'), known ? error.message : '', again)
    } finally {
      show({ busy: false })
    }
  }

  async function scan() {
    show({ screen: 'loading' })
    const jsCode = await platform.login()
    const answer = await api.scan(scene, jsCode)
    session = answer.session
    deadline = timers.now() + Math.max(0, Number(answer.expires_in) || 0) * 1000
    show(state.requestView(answer, locale))
    startCountdown()
  }

  function begin(newScene, picture) {
    stopCountdown()
    scene = newScene
    session = ''
    show({ fromPicture: picture })
    if (!scene) {
      show({ screen: 'no_scene' })
      return Promise.resolve()
    }
    return run(scan)
  }

  // WeChat asks before the phone-number button or the nickname input go on (privacy check,
  // 2023-09-15): the page shows its prompt until the person agrees or not.
  function needPrivacy(resolve) {
    if (privacyAnswer) privacyAnswer({ event: 'disagree' })
    privacyAnswer = resolve
    show({ privacy: true })
  }

  function answerPrivacy(answer) {
    const resolve = privacyAnswer
    privacyAnswer = null
    show({ privacy: false })
    if (resolve) resolve(answer)
  }

  // onLoad: `query.scene` is the code's scene; none when opened from the chat list or search.
  function open(query) {
    platform.onNeedPrivacyAuthorization(needPrivacy)
    platform.setTitle(view.text.barTitle)
    render(view)
    return begin(state.sceneOf(query), state.fromPicture(platform.enterScene()))
  }

  // The reason travels to the computer, which can then say why the login ended.
  async function cancelWith(kind, reason) {
    await api.cancel(session, reason || 'cancelled_by_user')
    finish(kind)
  }

  async function confirm(phoneCode) {
    const nickname = view.nickname.trim().slice(0, NICKNAME_MAX_LENGTH)
    const extra = nickname ? { nickname } : {}
    if (view.match.required) extra.match = view.picked
    let answer
    try {
      answer = await api.confirm(session, phoneCode, extra)
    } catch (error) {
      // WeChat refused the phone number for quota: the login cannot finish, so end it now
      // rather than leave the computer waiting until the code expires.
      if (!(error instanceof ApiError) || outcomeOf(error.code) !== 'phone_quota') throw error
      return cancelWith('phone_quota', 'phone_quota')
    }
    return finish(STATUS_OUTCOMES[answer.status] || 'error')
  }

  // A phone code is single-use and only a tap on the button gives a new one: after a failed
  // confirm, Retry goes back to the request for another tap.
  function backToRequest() {
    show({ screen: 'request' })
    startCountdown()
  }

  // The phone-number button's event detail (lib/phone.js tells its failures apart). A failure
  // that this phone cannot get past ends the login and tells the computer why; one the person
  // can (privacy not agreed, a passing failure) shows its screen with Retry, back to the
  // request.
  function allow(detail) {
    if (view.screen !== 'request') return Promise.resolve()
    if (view.match.required && !view.picked) return Promise.resolve()
    const answer = phoneAnswer(detail)
    if (answer.code) return run(() => confirm(answer.code), backToRequest)
    if (answer.cancel) return run(() => cancelWith(answer.failure, answer.cancel))
    finish(answer.failure, '', backToRequest)
    return Promise.resolve()
  }

  // Number matching: the digits the person tapped (one of the choices the server offered).
  function pick(digits) {
    if (view.screen !== 'request' || view.match.choices.indexOf(String(digits)) === -1) return
    show({ picked: String(digits) })
  }

  function deny() {
    if (view.screen !== 'request') return Promise.resolve()
    return run(() => cancelWith('cancelled', 'cancelled_by_user'))
  }

  function retry() {
    const step = retryStep
    if (view.screen !== 'result' || !view.result.retry || !step) return Promise.resolve()
    retryStep = null
    return Promise.resolve(step())
  }

  // Scans the computer's code from inside the mini program (no scene, or an expired one).
  async function rescan() {
    if (view.busy) return
    const path = await platform.scanCode()
    if (path === null) return
    const found = state.sceneInPath(path)
    if (!found) {
      finish('not_login_code')
      return
    }
    await begin(found, false)
  }

  function setNickname(value) {
    show({ nickname: String(value || '') })
  }

  // WeChat reviews a nickname typed into type="nickname" and empties the field when it fails.
  function nicknameReviewed(pass) {
    if (!pass) show({ nickname: '' })
  }

  return {
    open,
    allow,
    pick,
    agreePrivacy: () => answerPrivacy({ buttonId: AGREE_PRIVACY_BUTTON, event: 'agree' }),
    disagreePrivacy: () => answerPrivacy({ event: 'disagree' }),
    readPrivacy: () => platform.openPrivacyContract(),
    deny,
    retry,
    rescan,
    setNickname,
    nicknameReviewed,
    close: () => platform.exit(),
    stop: stopCountdown,
    get view() {
      return view
    },
  }
}

module.exports = { createLogin, PHONE_QUOTA_ERRNO, AGREE_PRIVACY_BUTTON }
