// What the phone-number button's event says, told apart (open-type="getPhoneNumber",
// 手机号快速验证组件, developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html).
//
// - a `code`: the person allowed; the server exchanges it (getuserphonenumber). WeChat gives
//   the code from base library 2.21.2 on; older ones give only encryptedData and iv;
// - errMsg "getPhoneNumber:fail user deny": the person declined;
// - errno 1400001: the mini program has used up its paid quota of verifications ("该功能使用
//   次数已达当前小程序上限");
// - errno 104, "privacy permission is not authorized": the person has not agreed to (or
//   refused) the mini program's privacy guideline (用户隐私保护指引, enforced since 2023-09-15);
// - errno 112, "api scope is not declared in the privacy agreement": the guideline declares
//   no 手机号; errMsg "no permission": the mini program may not use the button at all (it
//   is not verified, 未认证 or a personal mini program). Both are the operator's to fix.
//
// Each becomes its own outcome (lib/errors.js OUTCOMES); `cancel` is the reason sent to the
// server when the login cannot go on from this phone, or null when the person can try again.

const PHONE_QUOTA_ERRNO = 1400001
const PRIVACY_NOT_AUTHORIZED_ERRNO = 104
const PRIVACY_NOT_DECLARED_ERRNO = 112
// The base library that first gives the button a `code` (README: the minimum to set).
const PHONE_CODE_BASE_LIBRARY = '2.21.2'

const FAILURES = {
  phone_denied: { cancel: 'phone_denied' },
  phone_quota: { cancel: 'phone_quota' },
  phone_not_permitted: { cancel: 'phone_unavailable' },
  wechat_outdated: { cancel: 'phone_unavailable' },
  privacy_denied: { cancel: null },
  phone_failed: { cancel: null },
}

function message(detail) {
  return String((detail && detail.errMsg) || '')
}

// The outcome of the button's event detail: { code } when allowed, else { failure, cancel }.
function phoneAnswer(detail) {
  const answer = detail || {}
  if (typeof answer.code === 'string' && answer.code) return { code: answer.code }
  const text = message(answer)
  let failure = 'phone_failed'
  if (answer.errno === PHONE_QUOTA_ERRNO) failure = 'phone_quota'
  else if (answer.errno === PRIVACY_NOT_AUTHORIZED_ERRNO || /privacy permission is not authori[sz]ed/.test(text))
    failure = 'privacy_denied'
  else if (answer.errno === PRIVACY_NOT_DECLARED_ERRNO || /scope is not declared/.test(text))
    failure = 'phone_not_permitted'
  else if (/user deny|user cancel/.test(text)) failure = 'phone_denied'
  else if (/no permission/.test(text)) failure = 'phone_not_permitted'
  // Allowed, but a base library older than 2.21.2 has no code to give.
  else if (/:ok$/.test(text) || answer.encryptedData) failure = 'wechat_outdated'
  return { failure, cancel: FAILURES[failure].cancel }
}

module.exports = {
  phoneAnswer,
  FAILURES,
  PHONE_QUOTA_ERRNO,
  PRIVACY_NOT_AUTHORIZED_ERRNO,
  PRIVACY_NOT_DECLARED_ERRNO,
  PHONE_CODE_BASE_LIBRARY,
}
