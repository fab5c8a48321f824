// The phone simulator: plays the minilogin mini program (miniprogram/ in the repository)
// against minilogin's mini program API (/api/miniprogram/scan, confirm, cancel), with the
// sandbox's simulated WeChat (/_sandbox/wx/login, phone_code, users) standing in for wx.login
// and the phone-number button. It shows the mini program's screens with the mini program's
// texts, and reaches them by the same rules. Every URL is relative to this page.

// The mini program's texts and result screens (miniprogram/lib/i18n.js and errors.js), copied
// by `node miniprogram/tools/sync-phone-page.js`; miniprogram/test/phone-page.test.js fails
// while this copy differs from them.
const SHARED = /* shared:begin */ {
  "texts": {
    "zh-CN": {
      "barTitle": "minilogin",
      "loading": "正在读取登录请求…",
      "noSceneTitle": "请扫描电脑上的二维码",
      "noSceneText": "在电脑的登录页上选择微信扫码登录，然后用微信“扫一扫”扫描页面上的二维码。",
      "scanCode": "扫一扫",
      "asks": "请求使用你的微信登录电脑网站",
      "browser": "浏览器",
      "ip": "IP 地址",
      "location": "位置",
      "time": "时间",
      "unknown": "未知",
      "notYou": "如果不是你本人在电脑上操作，请点击“拒绝”。",
      "regionDiffers": "注意：你的手机网络在{phone}，而请求登录的电脑在{pc}，不在同一地区。如果不是你本人在这台电脑前扫码，请点击“拒绝”。",
      "loginOnly": "该网站只允许已有账号登录。",
      "fromImage": "这个二维码是从图片中识别的。只有当图片是你自己电脑屏幕上的二维码时才继续：别人发来的二维码可能会让对方登录你的账号。",
      "expiresIn": "二维码将在 {seconds} 秒后过期",
      "matchPrompt": "请选择电脑上二维码下方显示的数字",
      "nicknameLabel": "昵称（可选）",
      "nicknamePlaceholder": "使用微信昵称",
      "allow": "允许使用手机号",
      "deny": "拒绝",
      "retry": "重试",
      "close": "完成",
      "privacyTitle": "隐私保护提示",
      "privacyText": "使用手机号和昵称登录前，请阅读并同意本小程序的《用户隐私保护指引》。",
      "privacyRead": "查看《用户隐私保护指引》",
      "privacyAgree": "同意",
      "privacyDisagree": "不同意",
      "results": {
        "authorized": {
          "title": "登录成功",
          "text": "请回到电脑继续操作。"
        },
        "needs_binding": {
          "title": "请在电脑上完成绑定",
          "text": "在电脑上绑定已有账号或创建新账号后即可登录。"
        },
        "cancelled": {
          "title": "已取消登录",
          "text": "你拒绝了本次登录，电脑上不会登录。"
        },
        "phone_denied": {
          "title": "已取消登录",
          "text": "你没有允许使用手机号，本次登录已取消。"
        },
        "match_failed": {
          "title": "数字不一致",
          "text": "你选择的数字与电脑上显示的不一致，本次登录已取消。如果是你本人在电脑上登录，请刷新二维码后重新扫码。"
        },
        "phone_quota": {
          "title": "暂时无法验证手机号",
          "text": "该小程序的手机号验证次数已用完，本次登录已取消。请在电脑上换用其他登录方式，或联系网站管理员。"
        },
        "phone_not_permitted": {
          "title": "小程序无法获取手机号",
          "text": "该小程序尚未完成微信认证，或其隐私保护指引没有声明手机号，本次登录已取消。请联系网站管理员。"
        },
        "wechat_outdated": {
          "title": "请升级微信",
          "text": "当前微信版本过低，无法验证手机号，本次登录已取消。请升级微信后重新扫码。"
        },
        "privacy_denied": {
          "title": "需要同意隐私保护指引",
          "text": "同意《用户隐私保护指引》后才能使用手机号登录。点击“重试”后再次点击“允许使用手机号”。"
        },
        "phone_failed": {
          "title": "未能获取手机号",
          "text": "微信没有给出手机号，请重试。"
        },
        "expired": {
          "title": "二维码已过期",
          "text": "请在电脑上刷新二维码后重新扫码。"
        },
        "already_scanned": {
          "title": "二维码已被扫描",
          "text": "该二维码已被其他微信扫描。如果不是你本人操作，请在电脑上刷新二维码。"
        },
        "invalid_code": {
          "title": "二维码已失效",
          "text": "请在电脑上刷新二维码后重新扫码。"
        },
        "not_login_code": {
          "title": "这不是登录二维码",
          "text": "请扫描电脑登录页上显示的二维码。"
        },
        "session_ended": {
          "title": "登录已失效",
          "text": "请重新扫描电脑上的二维码。"
        },
        "login_cancelled": {
          "title": "登录已结束",
          "text": "本次登录已在电脑上取消或已经结束。"
        },
        "account_not_found": {
          "title": "没有找到账号",
          "text": "该网站只允许已有账号登录，没有与你的手机号对应的账号。请联系网站管理员。"
        },
        "phone_in_use": {
          "title": "手机号已被占用",
          "text": "你的手机号已属于该网站的另一个账号，无法用这个微信登录。请联系网站管理员。"
        },
        "account_blocked": {
          "title": "账号已停用",
          "text": "该账号已被网站停用，无法登录。"
        },
        "wechat_misconfigured": {
          "title": "小程序配置有误",
          "text": "网站为这个小程序配置的 AppID 或 AppSecret 有误，暂时无法登录。请联系网站管理员。"
        },
        "wechat_refused": {
          "title": "微信拒绝了本次登录",
          "text": "微信判定当前账号存在风险，暂时无法登录。"
        },
        "wechat_unavailable": {
          "title": "微信暂时无法完成请求",
          "text": "请稍后重试。"
        },
        "busy": {
          "title": "操作太频繁",
          "text": "请稍后重试。"
        },
        "network_error": {
          "title": "网络错误",
          "text": "无法连接服务器，请检查网络后重试。"
        },
        "error": {
          "title": "出错了",
          "text": "请求没有完成，请重试。"
        }
      }
    },
    "en": {
      "barTitle": "minilogin",
      "loading": "Reading the login request…",
      "noSceneTitle": "Scan the code on your computer",
      "noSceneText": "On the computer's login page, choose to log in with WeChat, then scan the code shown there with WeChat's Scan.",
      "scanCode": "Scan a code",
      "asks": "wants you to log in to a website on a computer",
      "browser": "Browser",
      "ip": "IP address",
      "location": "Location",
      "time": "Time",
      "unknown": "Unknown",
      "notYou": "If you are not the one at the computer, tap Deny.",
      "regionDiffers": "Careful: your phone is on a network in {phone}, but the computer asking to log in is in {pc}, another region. If you are not at that computer yourself, tap Deny.",
      "loginOnly": "This site only lets existing accounts log in.",
      "fromImage": "This code was read from a picture. Continue only if the picture shows your own computer's screen: a code someone sent you could log them in to your account.",
      "expiresIn": "The code expires in {seconds} s",
      "matchPrompt": "Pick the number shown under the code on the computer",
      "nicknameLabel": "Nickname (optional)",
      "nicknamePlaceholder": "Use your WeChat nickname",
      "allow": "Allow phone number",
      "deny": "Deny",
      "retry": "Retry",
      "close": "Done",
      "privacyTitle": "Privacy",
      "privacyText": "Before logging in with your phone number and nickname, read and agree to this mini program's privacy guideline.",
      "privacyRead": "Read the privacy guideline",
      "privacyAgree": "Agree",
      "privacyDisagree": "Disagree",
      "results": {
        "authorized": {
          "title": "Logged in",
          "text": "Return to your computer."
        },
        "needs_binding": {
          "title": "Finish on the computer",
          "text": "Bind an existing account or create one on the computer to log in."
        },
        "cancelled": {
          "title": "Login cancelled",
          "text": "You denied this login; the computer will not be logged in."
        },
        "phone_denied": {
          "title": "Login cancelled",
          "text": "You did not allow the phone number, so this login was cancelled."
        },
        "match_failed": {
          "title": "Wrong number",
          "text": "The number you picked is not the one on the computer, so this login was cancelled. If you are logging in on the computer, refresh the code and scan it again."
        },
        "phone_quota": {
          "title": "Phone number verification unavailable",
          "text": "This mini program has used up its phone number verifications, so this login was cancelled. Log in another way on the computer, or contact the site's administrator."
        },
        "phone_not_permitted": {
          "title": "The mini program cannot get phone numbers",
          "text": "This mini program is not verified by WeChat, or its privacy guideline does not declare the phone number, so this login was cancelled. Contact the site's administrator."
        },
        "wechat_outdated": {
          "title": "Update WeChat",
          "text": "This version of WeChat cannot verify phone numbers, so this login was cancelled. Update WeChat and scan again."
        },
        "privacy_denied": {
          "title": "The privacy guideline needs your consent",
          "text": "Logging in with your phone number needs your consent to the privacy guideline. Tap Retry, then Allow phone number again."
        },
        "phone_failed": {
          "title": "No phone number",
          "text": "WeChat gave no phone number. Retry."
        },
        "expired": {
          "title": "The code has expired",
          "text": "Refresh the code on the computer and scan it again."
        },
        "already_scanned": {
          "title": "Already scanned",
          "text": "Someone else has already scanned this code. If that was not you, refresh the code on the computer."
        },
        "invalid_code": {
          "title": "The code is no longer valid",
          "text": "Refresh the code on the computer and scan it again."
        },
        "not_login_code": {
          "title": "Not a login code",
          "text": "Scan the code shown on the computer's login page."
        },
        "session_ended": {
          "title": "This login has ended",
          "text": "Scan the code on the computer again."
        },
        "login_cancelled": {
          "title": "This login is over",
          "text": "It was cancelled on the computer or has already finished."
        },
        "account_not_found": {
          "title": "No account",
          "text": "This site only lets existing accounts log in, and none has your phone number. Contact the site's administrator."
        },
        "phone_in_use": {
          "title": "Phone number in use",
          "text": "Your phone number belongs to another account on this site, so this WeChat account cannot log in with it. Contact the site's administrator."
        },
        "account_blocked": {
          "title": "Account blocked",
          "text": "The site has blocked this account; it cannot log in."
        },
        "wechat_misconfigured": {
          "title": "The mini program is misconfigured",
          "text": "The site's AppID or AppSecret for this mini program is wrong, so logging in is not possible now. Contact the site's administrator."
        },
        "wechat_refused": {
          "title": "WeChat refused this login",
          "text": "WeChat rated this account as risky; it cannot log in for now."
        },
        "wechat_unavailable": {
          "title": "WeChat could not complete the request",
          "text": "Try again in a moment."
        },
        "busy": {
          "title": "Too many attempts",
          "text": "Try again in a moment."
        },
        "network_error": {
          "title": "Network error",
          "text": "Could not reach the server. Check the connection and retry."
        },
        "error": {
          "title": "Something went wrong",
          "text": "The request did not complete. Retry."
        }
      }
    }
  },
  "outcomes": {
    "authorized": {
      "icon": "success",
      "retry": false,
      "rescan": false
    },
    "needs_binding": {
      "icon": "info",
      "retry": false,
      "rescan": false
    },
    "cancelled": {
      "icon": "cancel",
      "retry": false,
      "rescan": false
    },
    "phone_denied": {
      "icon": "cancel",
      "retry": false,
      "rescan": false
    },
    "phone_quota": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "match_failed": {
      "icon": "cancel",
      "retry": false,
      "rescan": true
    },
    "phone_not_permitted": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "wechat_outdated": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "privacy_denied": {
      "icon": "info",
      "retry": true,
      "rescan": false
    },
    "phone_failed": {
      "icon": "warn",
      "retry": true,
      "rescan": false
    },
    "expired": {
      "icon": "warn",
      "retry": false,
      "rescan": true
    },
    "already_scanned": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "invalid_code": {
      "icon": "warn",
      "retry": false,
      "rescan": true
    },
    "not_login_code": {
      "icon": "warn",
      "retry": false,
      "rescan": true
    },
    "session_ended": {
      "icon": "warn",
      "retry": false,
      "rescan": true
    },
    "login_cancelled": {
      "icon": "cancel",
      "retry": false,
      "rescan": true
    },
    "account_not_found": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "phone_in_use": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "account_blocked": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "wechat_misconfigured": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "wechat_refused": {
      "icon": "warn",
      "retry": false,
      "rescan": false
    },
    "wechat_unavailable": {
      "icon": "warn",
      "retry": true,
      "rescan": false
    },
    "busy": {
      "icon": "warn",
      "retry": true,
      "rescan": false
    },
    "network_error": {
      "icon": "warn",
      "retry": true,
      "rescan": false
    },
    "error": {
      "icon": "warn",
      "retry": true,
      "rescan": false
    }
  },
  "codes": {
    "already_scanned": "already_scanned",
    "scene_not_found": "invalid_code",
    "qrlogin_expired": "expired",
    "qrlogin_cancelled": "login_cancelled",
    "qrlogin_authorized": "authorized",
    "qrlogin_consumed": "authorized",
    "qrlogin_needs_binding": "needs_binding",
    "session_not_found": "session_ended",
    "account_not_found": "account_not_found",
    "match_failed": "match_failed",
    "phone_in_use": "phone_in_use",
    "account_blocked": "account_blocked",
    "rate_limited": "busy",
    "wechat_invalid_credentials": "wechat_misconfigured",
    "wechat_ip_not_allowed": "wechat_misconfigured",
    "wechat_api_unauthorized": "wechat_misconfigured",
    "wechat_high_risk": "wechat_refused",
    "wechat_phone_quota": "phone_quota",
    "network_error": "network_error"
  }
} /* shared:end */;

// What only the simulator says: it also plays the person's WeChat around the mini program.
const SANDBOX_TEXT = {
  "zh-CN": {
    title: "minilogin · 沙箱手机",
    sandbox: "沙箱",
    whoAreYou: "模拟微信用户",
    userLabel: "微信用户名",
    phoneLabel: "手机号（可选）",
    phoneAnswerLabel: "点击手机号按钮后",
    answerAllow: "允许",
    answerDecline: "拒绝",
    answerQuota: "额度已用完（errno 1400001）",
    answerNotPermitted: "小程序无权限（未认证或隐私指引未声明手机号）",
    answerPrivacy: "不同意隐私保护指引（errno 104）",
    answerOutdated: "微信版本过低（没有 code）",
    sandboxHint: "在沙箱中，也可以点击电脑上二维码下方的链接打开本页。",
    scan: "模拟扫码",
    restart: "返回",
    userRequired: "请输入微信用户名。",
    noscript: "请启用 JavaScript。",
  },
  en: {
    title: "minilogin · Sandbox phone",
    sandbox: "Sandbox",
    whoAreYou: "Simulated WeChat user",
    userLabel: "WeChat user name",
    phoneLabel: "Phone number (optional)",
    phoneAnswerLabel: "When the phone number button is tapped",
    answerAllow: "Allow",
    answerDecline: "Decline",
    answerQuota: "Quota used up (errno 1400001)",
    answerNotPermitted: "Mini program not permitted (not verified, or no phone number in its privacy guideline)",
    answerPrivacy: "Privacy guideline not agreed (errno 104)",
    answerOutdated: "WeChat too old (no code)",
    sandboxHint: "In the sandbox, the link below the computer's code opens this page too.",
    scan: "Scan",
    restart: "Back",
    userRequired: "Enter a WeChat user name.",
    noscript: "Please enable JavaScript.",
  },
};

const ICONS = { success: "✓", info: "i", cancel: "✕", warn: "!" };
const STATUS_OUTCOMES = { authorized: "authorized", needs_binding: "needs_binding" };
const USER_KEY = "minilogin.sandbox.user";

const config = JSON.parse(document.getElementById("sandbox-config").textContent);
const params = new URLSearchParams(location.search);
const wanted = params.get("lang") || navigator.language || "";
const locale = /^en([_-]|$)/i.test(wanted) ? "en" : "zh-CN";
const t = { ...SHARED.texts[locale], ...SANDBOX_TEXT[locale] };
const $ = (id) => document.getElementById(id);

class CallError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const state = {
  session: null,
  deadline: 0,
  countdown: null,
  retry: null,
  busy: false,
  savedPhone: "",
  savedNickname: "",
  // Number matching: the choices the scan answer offered, and the one the person tapped.
  choices: [],
  picked: "",
  privacyAsked: false,
};

// As miniprogram/lib/errors.js outcomeOf: the server's error code -> the result screen.
function outcomeOf(code) {
  if (Object.hasOwn(SHARED.codes, code)) return SHARED.codes[code];
  if (/^wechat_/.test(code)) return "wechat_unavailable";
  return "error";
}

// minilogin's mini program API: at the server the sandbox names (`minilogin sandbox
// --server-url`), as a real mini program calls its configured server; else on this origin.
function miniProgramApi(name) {
  return new URL(`api/miniprogram/${name}`, config.server || new URL("../", location.href));
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(new URL(path, location.href), {
      method,
      headers: { "Content-Type": "application/json", "Accept-Language": locale },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CallError("network_error", "");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new CallError(
      typeof data?.error === "string" ? data.error : "error",
      typeof data?.message === "string" ? data.message : "",
    );
  }
  return data;
}

function translate() {
  document.documentElement.lang = locale;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    const text = t[element.dataset.i18n];
    if (typeof text === "string") element.textContent = text;
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t[element.dataset.i18nPlaceholder] || "";
  }
}

function show(screen) {
  for (const id of ["screen-start", "screen-request", "screen-result"]) {
    $(id).hidden = id !== screen;
  }
}

function busy(on) {
  state.busy = on;
  $("busy").hidden = !on;
  for (const id of ["scan", "allow", "deny", "retry"]) $(id).disabled = on;
  allowReady();
}

// As the mini program: with number matching, Allow waits until a number is picked.
function allowReady() {
  $("allow").disabled = state.busy || (state.choices.length > 0 && !state.picked);
}

function showMatch(match) {
  const choices = match && match.required && Array.isArray(match.choices) ? match.choices.map(String) : [];
  state.choices = choices;
  state.picked = "";
  $("match").hidden = choices.length === 0;
  $("match-choices").replaceChildren(
    ...choices.map((digits) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = digits;
      button.dataset.testid = `match-${digits}`;
      button.addEventListener("click", () => {
        state.picked = digits;
        for (const other of $("match-choices").children) other.classList.toggle("picked", other === button);
        allowReady();
      });
      return button;
    }),
  );
  allowReady();
}

function userName() {
  return $("user").value.trim();
}

// Fills the phone field with what the sandbox knows of the user named now.
async function loadUser() {
  const name = userName();
  $("phone").value = "";
  state.savedPhone = "";
  state.savedNickname = "";
  if (!name) return;
  let user;
  try {
    user = await call("GET", `wx/users/${encodeURIComponent(name)}`);
  } catch {
    return; // The field stays empty; scanning saves whatever is typed.
  }
  if (userName() !== name) return;
  state.savedPhone = user.phone || "";
  state.savedNickname = user.nickname || "";
  // A number the person is already typing wins over the saved one.
  if (!$("phone").value && document.activeElement !== $("phone")) $("phone").value = state.savedPhone;
}

async function saveUser(name, changes) {
  if (Object.keys(changes).length === 0) return;
  const user = await call("PUT", `wx/users/${encodeURIComponent(name)}`, changes);
  state.savedPhone = user.phone || "";
  state.savedNickname = user.nickname || "";
}

function formError(message) {
  $("form-error").textContent = message || "";
  $("form-error").hidden = !message;
}

function pad(number) {
  return String(number).padStart(2, "0");
}

// As miniprogram/lib/state.js formatTime: "2026-11-21 16:00:05" in local time.
function formatTime(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function orUnknown(value) {
  return typeof value === "string" && value.trim() ? value.trim() : t.unknown;
}

async function scan() {
  state.privacyAsked = false;
  const { code } = await call("POST", "wx/login", { appid: config.appid, user: userName() });
  const answer = await call("POST", miniProgramApi("scan"), {
    scene: config.scene,
    js_code: code,
  });
  state.session = answer.session;
  state.deadline = Date.now() + Math.max(0, Number(answer.expires_in) || 0) * 1000;
  showRequest(answer);
}

async function start() {
  const name = userName();
  if (!name) {
    formError(t.userRequired);
    return;
  }
  formError("");
  localStorage.setItem(USER_KEY, name);
  const phone = $("phone").value.trim();
  try {
    await saveUser(name, phone && phone !== state.savedPhone ? { phone } : {});
  } catch (error) {
    formError(error.message);
    return;
  }
  await step(scan);
}

function showRequest(answer) {
  const app = answer.application || {};
  const request = answer.request || {};
  const name = typeof app.name === "string" ? app.name : "";
  $("app-name").textContent = name;
  $("app-initial").textContent = (Array.from(name)[0] || "?").toUpperCase();
  $("app-initial").hidden = Boolean(app.logo_url);
  $("app-logo").hidden = !app.logo_url;
  if (app.logo_url) $("app-logo").src = app.logo_url;
  $("browser").textContent = orUnknown(request.browser);
  $("ip").textContent = orUnknown(request.ip);
  $("location").textContent = orUnknown(request.location);
  $("time").textContent = formatTime(request.created_at) || t.unknown;
  $("login-only").hidden = answer.login_only !== true;
  // As the mini program: the phone's network in another region than the PC's is said first.
  const differs = request.region_differs === true;
  $("region-warning").hidden = !differs;
  $("region-warning").textContent = differs
    ? t.regionDiffers
        .replace("{phone}", orUnknown(request.phone_location))
        .replace("{pc}", orUnknown(request.location))
    : "";
  $("nickname").value = state.savedNickname;
  showMatch(answer.match);
  show("screen-request");
  startCountdown();
}

function stopCountdown() {
  clearInterval(state.countdown);
  state.countdown = null;
}

// As the mini program: the code's lifetime counts down, and its end is the expired screen.
function startCountdown() {
  stopCountdown();
  const tick = () => {
    const left = Math.ceil((state.deadline - Date.now()) / 1000);
    if (left > 0) $("expires").textContent = t.expiresIn.replace("{seconds}", String(left));
    else if (!state.busy) showResult("expired");
  };
  state.countdown = setInterval(tick, 1000);
  tick();
}

// The reason travels to the computer, which can then say why the login ended.
const CANCEL_REASONS = {
  phone_denied: "phone_denied",
  phone_quota: "phone_quota",
  phone_not_permitted: "phone_unavailable",
  wechat_outdated: "phone_unavailable",
};

async function cancelWith(kind) {
  const reason = CANCEL_REASONS[kind] || "cancelled_by_user";
  await call("POST", miniProgramApi("cancel"), { session: state.session, reason });
  showResult(kind);
}

async function confirm() {
  const name = userName();
  const nickname = $("nickname").value.trim().slice(0, 64);
  if (nickname !== state.savedNickname) await saveUser(name, { nickname });
  const { code } = await call("POST", "wx/phone_code", { appid: config.appid, user: name });
  const body = { session: state.session, phone_code: code };
  if (nickname) body.nickname = nickname;
  if (state.choices.length > 0) body.match = state.picked;
  let answer;
  try {
    answer = await call("POST", miniProgramApi("confirm"), body);
  } catch (error) {
    if (error instanceof CallError && outcomeOf(error.code) === "phone_quota") {
      return cancelWith("phone_quota");
    }
    throw error;
  }
  return showResult(STATUS_OUTCOMES[answer.status] || "error");
}

// The phone-number button: WeChat asks the person, who allows or declines; or the button
// fails as the mini program's does (miniprogram/lib/phone.js). The sandbox option says which.
const BUTTON_FAILURES = {
  decline: "phone_denied",
  quota: "phone_quota",
  not_permitted: "phone_not_permitted",
  outdated: "wechat_outdated",
};

function allow() {
  const answer = $("phone-answer").value;
  if (answer === "privacy" && !state.privacyAsked) {
    // The person did not agree this time; the login waits, Retry goes back to the request,
    // and the next tap plays the person agreeing.
    state.privacyAsked = true;
    state.retry = backToRequest;
    return showResult("privacy_denied");
  }
  if (BUTTON_FAILURES[answer]) return step(() => cancelWith(BUTTON_FAILURES[answer]));
  return step(confirm, backToRequest);
}

function backToRequest() {
  show("screen-request");
  startCountdown();
}

function showResult(kind, serverMessage) {
  stopCountdown();
  const outcome = SHARED.outcomes[kind] || SHARED.outcomes.error;
  const words = SHARED.texts[locale].results[kind] || SHARED.texts[locale].results.error;
  $("screen-result").dataset.status = kind;
  $("result-icon").textContent = ICONS[outcome.icon];
  $("result-icon").className = `result-icon ${outcome.icon}`;
  $("result-title").textContent = words.title;
  $("result-message").textContent = kind === "error" && serverMessage ? serverMessage : words.text;
  $("retry").hidden = !(outcome.retry && state.retry);
  show("screen-result");
}

// Runs one step at a time; a failure shows its result screen, where Retry runs `retry`.
async function step(action, retry) {
  if (state.busy) return;
  state.retry = null;
  busy(true);
  try {
    await action();
  } catch (error) {
    const known = error instanceof CallError;
    state.retry = retry || (() => step(action, retry));
    showResult(outcomeOf(known ? error.code : "error"), known ? error.message : "");
  } finally {
    busy(false);
  }
}

function restart() {
  stopCountdown();
  state.session = null;
  state.retry = null;
  show("screen-start");
}

function main() {
  translate();
  $("user").value = localStorage.getItem(USER_KEY) || "alice";
  const hasScene = Boolean(config.scene);
  $("no-scene").hidden = hasScene;
  $("scan").hidden = !hasScene;
  $("user").addEventListener("change", loadUser);
  $("scan").addEventListener("click", start);
  $("allow").addEventListener("click", allow);
  $("deny").addEventListener("click", () => step(() => cancelWith("cancelled")));
  $("retry").addEventListener("click", () => {
    const retry = state.retry;
    state.retry = null;
    if (retry) retry();
  });
  $("restart").addEventListener("click", restart);
  show("screen-start");
  loadUser();
}

main();
