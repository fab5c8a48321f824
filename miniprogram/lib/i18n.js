// Every text the minilogin mini program shows, in Simplified Chinese (the default) and in
// English (when the phone's WeChat is set to English).
//
// The sandbox's phone simulator shows the very same texts: `node tools/sync-phone-page.js`
// copies TEXTS into src/minilogin/sandbox/static/phone.js, and test/phone-page.test.js
// fails when the two differ. TEXTS is plain JSON data for that reason: no functions; a value
// may hold `{name}` placeholders, filled by format().

const TEXTS = {
  'zh-CN': {
    barTitle: 'minilogin',
    loading: '正在读取登录请求…',
    noSceneTitle: '请扫描电脑上的二维码',
    noSceneText: '在电脑的登录页上选择微信扫码登录，然后用微信“扫一扫”扫描页面上的二维码。',
    scanCode: '扫一扫',
    asks: '请求使用你的微信登录电脑网站',
    browser: '浏览器',
    ip: 'IP 地址',
    location: '位置',
    time: '时间',
    unknown: '未知',
    notYou: '如果不是你本人在电脑上操作，请点击“拒绝”。',
    regionDiffers:
      '注意：你的手机网络在{phone}，而请求登录的电脑在{pc}，不在同一地区。如果不是你本人在这台电脑前扫码，请点击“拒绝”。',
    loginOnly: '该网站只允许已有账号登录。',
    fromImage:
      '这个二维码是从图片中识别的。只有当图片是你自己电脑屏幕上的二维码时才继续：别人发来的二维码可能会让对方登录你的账号。',
    expiresIn: '二维码将在 {seconds} 秒后过期',
    matchPrompt: '请选择电脑上二维码下方显示的数字',
    nicknameLabel: '昵称（可选）',
    nicknamePlaceholder: '使用微信昵称',
    allow: '允许使用手机号',
    deny: '拒绝',
    retry: '重试',
    close: '完成',
    privacyTitle: '隐私保护提示',
    privacyText: '使用手机号和昵称登录前，请阅读并同意本小程序的《用户隐私保护指引》。',
    privacyRead: '查看《用户隐私保护指引》',
    privacyAgree: '同意',
    privacyDisagree: '不同意',
    results: {
      authorized: { title: '登录成功', text: '请回到电脑继续操作。' },
      needs_binding: {
        title: '请在电脑上完成绑定',
        text: '在电脑上绑定已有账号或创建新账号后即可登录。',
      },
      cancelled: { title: '已取消登录', text: '你拒绝了本次登录，电脑上不会登录。' },
      phone_denied: { title: '已取消登录', text: '你没有允许使用手机号，本次登录已取消。' },
      match_failed: {
        title: '数字不一致',
        text: '你选择的数字与电脑上显示的不一致，本次登录已取消。如果是你本人在电脑上登录，请刷新二维码后重新扫码。',
      },
      phone_quota: {
        title: '暂时无法验证手机号',
        text: '该小程序的手机号验证次数已用完，本次登录已取消。请在电脑上换用其他登录方式，或联系网站管理员。',
      },
      phone_not_permitted: {
        title: '小程序无法获取手机号',
        text: '该小程序尚未完成微信认证，或其隐私保护指引没有声明手机号，本次登录已取消。请联系网站管理员。',
      },
      wechat_outdated: {
        title: '请升级微信',
        text: '当前微信版本过低，无法验证手机号，本次登录已取消。请升级微信后重新扫码。',
      },
      privacy_denied: {
        title: '需要同意隐私保护指引',
        text: '同意《用户隐私保护指引》后才能使用手机号登录。点击“重试”后再次点击“允许使用手机号”。',
      },
      phone_failed: { title: '未能获取手机号', text: '微信没有给出手机号，请重试。' },
      expired: { title: '二维码已过期', text: '请在电脑上刷新二维码后重新扫码。' },
      already_scanned: {
        title: '二维码已被扫描',
        text: '该二维码已被其他微信扫描。如果不是你本人操作，请在电脑上刷新二维码。',
      },
      invalid_code: { title: '二维码已失效', text: '请在电脑上刷新二维码后重新扫码。' },
      not_login_code: { title: '这不是登录二维码', text: '请扫描电脑登录页上显示的二维码。' },
      session_ended: { title: '登录已失效', text: '请重新扫描电脑上的二维码。' },
      login_cancelled: { title: '登录已结束', text: '本次登录已在电脑上取消或已经结束。' },
      account_not_found: {
        title: '没有找到账号',
        text: '该网站只允许已有账号登录，没有与你的手机号对应的账号。请联系网站管理员。',
      },
      phone_in_use: {
        title: '手机号已被占用',
        text: '你的手机号已属于该网站的另一个账号，无法用这个微信登录。请联系网站管理员。',
      },
      account_blocked: { title: '账号已停用', text: '该账号已被网站停用，无法登录。' },
      wechat_misconfigured: {
        title: '小程序配置有误',
        text: '网站为这个小程序配置的 AppID 或 AppSecret 有误，暂时无法登录。请联系网站管理员。',
      },
      wechat_refused: { title: '微信拒绝了本次登录', text: '微信判定当前账号存在风险，暂时无法登录。' },
      wechat_unavailable: { title: '微信暂时无法完成请求', text: '请稍后重试。' },
      busy: { title: '操作太频繁', text: '请稍后重试。' },
      network_error: { title: '网络错误', text: '无法连接服务器，请检查网络后重试。' },
      error: { title: '出错了', text: '请求没有完成，请重试。' },
    },
  },
  en: {
    barTitle: 'minilogin',
    loading: 'Reading the login request…',
    noSceneTitle: 'Scan the code on your computer',
    noSceneText:
      "On the computer's login page, choose to log in with WeChat, then scan the code shown there with WeChat's Scan.",
    scanCode: 'Scan a code',
    asks: 'wants you to log in to a website on a computer',
    browser: 'Browser',
    ip: 'IP address',
    location: 'Location',
    time: 'Time',
    unknown: 'Unknown',
    notYou: 'If you are not the one at the computer, tap Deny.',
    regionDiffers:
      'Careful: your phone is on a network in {phone}, but the computer asking to log in is in {pc}, another region. If you are not at that computer yourself, tap Deny.',
    loginOnly: 'This site only lets existing accounts log in.',
    fromImage:
      "This code was read from a picture. Continue only if the picture shows your own computer's screen: a code someone sent you could log them in to your account.",
    expiresIn: 'The code expires in {seconds} s',
    matchPrompt: 'Pick the number shown under the code on the computer',
    nicknameLabel: 'Nickname (optional)',
    nicknamePlaceholder: 'Use your WeChat nickname',
    allow: 'Allow phone number',
    deny: 'Deny',
    retry: 'Retry',
    close: 'Done',
    privacyTitle: 'Privacy',
    privacyText:
      "Before logging in with your phone number and nickname, read and agree to this mini program's privacy guideline.",
    privacyRead: 'Read the privacy guideline',
    privacyAgree: 'Agree',
    privacyDisagree: 'Disagree',
    results: {
      authorized: { title: 'Logged in', text: 'Return to your computer.' },
      needs_binding: {
        title: 'Finish on the computer',
        text: 'Bind an existing account or create one on the computer to log in.',
      },
      cancelled: {
        title: 'Login cancelled',
        text: 'You denied this login; the computer will not be logged in.',
      },
      phone_denied: {
        title: 'Login cancelled',
        text: 'You did not allow the phone number, so this login was cancelled.',
      },
      match_failed: {
        title: 'Wrong number',
        text: 'The number you picked is not the one on the computer, so this login was cancelled. If you are logging in on the computer, refresh the code and scan it again.',
      },
      phone_quota: {
        title: 'Phone number verification unavailable',
        text: "This mini program has used up its phone number verifications, so this login was cancelled. Log in another way on the computer, or contact the site's administrator.",
      },
      phone_not_permitted: {
        title: 'The mini program cannot get phone numbers',
        text: "This mini program is not verified by WeChat, or its privacy guideline does not declare the phone number, so this login was cancelled. Contact the site's administrator.",
      },
      wechat_outdated: {
        title: 'Update WeChat',
        text: 'This version of WeChat cannot verify phone numbers, so this login was cancelled. Update WeChat and scan again.',
      },
      privacy_denied: {
        title: 'The privacy guideline needs your consent',
        text: 'Logging in with your phone number needs your consent to the privacy guideline. Tap Retry, then Allow phone number again.',
      },
      phone_failed: {
        title: 'No phone number',
        text: 'WeChat gave no phone number. Retry.',
      },
      expired: {
        title: 'The code has expired',
        text: 'Refresh the code on the computer and scan it again.',
      },
      already_scanned: {
        title: 'Already scanned',
        text: 'Someone else has already scanned this code. If that was not you, refresh the code on the computer.',
      },
      invalid_code: {
        title: 'The code is no longer valid',
        text: 'Refresh the code on the computer and scan it again.',
      },
      not_login_code: {
        title: 'Not a login code',
        text: "Scan the code shown on the computer's login page.",
      },
      session_ended: { title: 'This login has ended', text: 'Scan the code on the computer again.' },
      login_cancelled: {
        title: 'This login is over',
        text: 'It was cancelled on the computer or has already finished.',
      },
      account_not_found: {
        title: 'No account',
        text: "This site only lets existing accounts log in, and none has your phone number. Contact the site's administrator.",
      },
      phone_in_use: {
        title: 'Phone number in use',
        text: "Your phone number belongs to another account on this site, so this WeChat account cannot log in with it. Contact the site's administrator.",
      },
      account_blocked: {
        title: 'Account blocked',
        text: 'The site has blocked this account; it cannot log in.',
      },
      wechat_misconfigured: {
        title: 'The mini program is misconfigured',
        text: "The site's AppID or AppSecret for this mini program is wrong, so logging in is not possible now. Contact the site's administrator.",
      },
      wechat_refused: {
        title: 'WeChat refused this login',
        text: 'WeChat rated this account as risky; it cannot log in for now.',
      },
      wechat_unavailable: {
        title: 'WeChat could not complete the request',
        text: 'Try again in a moment.',
      },
      busy: { title: 'Too many attempts', text: 'Try again in a moment.' },
      network_error: {
        title: 'Network error',
        text: 'Could not reach the server. Check the connection and retry.',
      },
      error: { title: 'Something went wrong', text: 'The request did not complete. Retry.' },
    },
  },
}

const DEFAULT_LOCALE = 'zh-CN'

// WeChat names its language "zh_CN", "zh_TW", "en", "en_US"…: English when it says English,
// Simplified Chinese for everything else.
function localeOf(language) {
  return /^en([_-]|$)/i.test(String(language || '')) ? 'en' : DEFAULT_LOCALE
}

function textsFor(locale) {
  return TEXTS[locale] || TEXTS[DEFAULT_LOCALE]
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole,
  )
}

module.exports = { TEXTS, DEFAULT_LOCALE, localeOf, textsFor, format }
