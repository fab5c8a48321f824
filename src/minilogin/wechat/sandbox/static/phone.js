// The phone simulator: plays the "mini login" mini program against minilogin's mini program
// API (/api/miniprogram/scan, confirm, cancel), with the sandbox's simulated WeChat
// (/_sandbox/wx/login, phone_code, users) standing in for wx.login and the phone button.
// Every URL is relative to this page, so it works wherever the service is mounted.

const TEXT = {
  zh: {
    title: "迷你登录 · 沙盒手机",
    barTitle: "迷你登录",
    sandbox: "沙盒",
    whoAreYou: "模拟微信用户",
    userLabel: "微信用户名",
    phoneLabel: "手机号（可选）",
    nicknameLabel: "昵称（可选）",
    noSceneTitle: "请扫描电脑上的二维码",
    noSceneText:
      "这个页面模拟“迷你登录”小程序。请用手机相机扫描电脑登录页上的二维码，或点击二维码下方的沙盒链接。",
    scan: "模拟扫码",
    asks: "请求使用你的微信登录电脑网站",
    browser: "浏览器",
    ip: "IP 地址",
    location: "位置",
    time: "时间",
    notYou: "如果不是你本人在电脑上操作，请点击“拒绝”。",
    loginOnly: "该网站只允许已有账号登录。",
    allow: "允许使用手机号",
    deny: "拒绝",
    retry: "重试",
    restart: "返回",
    noscript: "请启用 JavaScript。",
    unknown: "未知",
    expiresIn: (s) => `二维码将在 ${s} 秒后过期`,
    expiredNow: "二维码已过期",
    userRequired: "请输入微信用户名。",
    authorized: ["登录成功", "请回到电脑继续操作。"],
    needs_binding: ["请在电脑上完成绑定", "在电脑上绑定已有账号或创建新账号后即可登录。"],
    cancelled: ["已取消登录", "你拒绝了本次登录，电脑上不会登录。"],
    qrlogin_expired: ["二维码已过期", null],
    already_scanned: ["二维码已被扫描", null],
    account_not_found: ["没有找到账号", null],
    phone_in_use: ["手机号已被占用", null],
    account_blocked: ["账号已停用", null],
    network_error: ["网络错误", "无法连接服务器，请检查网络后重试。"],
    error: ["出错了", "请求没有完成，请重试。"],
  },
  en: {
    title: "minilogin · Sandbox phone",
    barTitle: "minilogin",
    sandbox: "Sandbox",
    whoAreYou: "Simulated WeChat user",
    userLabel: "WeChat user name",
    phoneLabel: "Phone number (optional)",
    nicknameLabel: "Nickname (optional)",
    noSceneTitle: "Scan the code on your computer",
    noSceneText:
      "This page plays the mini login mini program. Scan the code on the computer's login page with your phone's camera, or follow the sandbox link below the code.",
    scan: "Scan",
    asks: "wants you to log in to a website on a computer",
    browser: "Browser",
    ip: "IP address",
    location: "Location",
    time: "Time",
    notYou: "If you are not the one at the computer, tap Deny.",
    loginOnly: "This site only lets existing accounts log in.",
    allow: "Allow phone number",
    deny: "Deny",
    retry: "Retry",
    restart: "Back",
    noscript: "Please enable JavaScript.",
    unknown: "Unknown",
    expiresIn: (s) => `The code expires in ${s} s`,
    expiredNow: "The code has expired",
    userRequired: "Enter a WeChat user name.",
    authorized: ["Logged in", "Return to your computer."],
    needs_binding: ["Finish on the computer", "Bind an existing account or create one on the computer."],
    cancelled: ["Login cancelled", "You denied this login; the computer will not be logged in."],
    qrlogin_expired: ["The code has expired", null],
    already_scanned: ["Already scanned", null],
    account_not_found: ["No account", null],
    phone_in_use: ["Phone number in use", null],
    account_blocked: ["Account blocked", null],
    network_error: ["Network error", "Could not reach the server. Check the connection and retry."],
    error: ["Something went wrong", "The request did not complete. Retry."],
  },
};

// Outcomes that end this login for good: retrying cannot help.
const FINAL = new Set([
  "authorized",
  "needs_binding",
  "cancelled",
  "qrlogin_expired",
  "already_scanned",
  "account_not_found",
  "phone_in_use",
  "account_blocked",
]);
const ICONS = { authorized: "✓", needs_binding: "⇄", cancelled: "✕" };
const USER_KEY = "minilogin.sandbox.user";

const config = JSON.parse(document.getElementById("sandbox-config").textContent);
const params = new URLSearchParams(location.search);
const lang =
  params.get("lang") === "en" ||
  (!params.get("lang") && (navigator.language || "").toLowerCase().startsWith("en"))
    ? "en"
    : "zh";
const t = TEXT[lang];
const $ = (id) => document.getElementById(id);

class CallError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const state = { session: null, retry: null, countdown: null, savedPhone: "", savedNickname: "" };

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(new URL(path, location.href), {
      method,
      headers: {
        "Content-Type": "application/json",
        "Accept-Language": lang === "en" ? "en" : "zh-CN",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CallError("network_error", t.network_error[1]);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new CallError(data?.error || "error", data?.message || t.error[1]);
  }
  return data;
}

function translate() {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    const text = t[element.dataset.i18n];
    if (typeof text === "string") element.textContent = text;
  }
}

function show(screen) {
  for (const id of ["screen-start", "screen-request", "screen-result"]) {
    $(id).hidden = id !== screen;
  }
}

function busy(on) {
  $("busy").hidden = !on;
  for (const id of ["scan", "allow", "deny", "retry"]) $(id).disabled = on;
}

function userName() {
  return $("user").value.trim();
}

// Fills the phone and nickname fields with what the sandbox knows of the user named now.
async function loadUser() {
  const name = userName();
  $("phone").value = "";
  $("nickname").value = "";
  state.savedPhone = "";
  state.savedNickname = "";
  if (!name) return;
  let user;
  try {
    user = await call("GET", `wx/users/${encodeURIComponent(name)}`);
  } catch {
    return; // The fields stay empty; scanning saves whatever is typed.
  }
  if (userName() !== name) return;
  state.savedPhone = user.phone || "";
  state.savedNickname = user.nickname || "";
  if (!$("phone").value) $("phone").value = state.savedPhone;
  if (!$("nickname").value) $("nickname").value = state.savedNickname;
}

async function saveUser(name) {
  const phone = $("phone").value.trim();
  const nickname = $("nickname").value.trim();
  const changes = {};
  if (phone && phone !== state.savedPhone) changes.phone = phone;
  if (nickname !== state.savedNickname) changes.nickname = nickname;
  if (Object.keys(changes).length === 0) return;
  const user = await call("PUT", `wx/users/${encodeURIComponent(name)}`, changes);
  state.savedPhone = user.phone || "";
  state.savedNickname = user.nickname || "";
}

function formError(message) {
  $("form-error").textContent = message || "";
  $("form-error").hidden = !message;
}

async function scan() {
  const name = userName();
  if (!name) {
    formError(t.userRequired);
    return;
  }
  formError("");
  localStorage.setItem(USER_KEY, name);
  try {
    await saveUser(name);
  } catch (error) {
    formError(error.message);
    return;
  }
  const { code } = await call("POST", "wx/login", { appid: config.appid, user: name });
  const answer = await call("POST", "../api/miniprogram/scan", {
    scene: config.scene,
    js_code: code,
  });
  state.session = answer.session;
  showRequest(answer);
}

function showRequest(answer) {
  const app = answer.application || {};
  const request = answer.request || {};
  $("app-name").textContent = app.name || "";
  $("app-initial").textContent = (app.name || "?").slice(0, 1).toUpperCase();
  $("app-initial").hidden = Boolean(app.logo_url);
  $("app-logo").hidden = !app.logo_url;
  if (app.logo_url) $("app-logo").src = app.logo_url;
  $("browser").textContent = request.browser || t.unknown;
  $("ip").textContent = request.ip || t.unknown;
  $("location").textContent = request.location || t.unknown;
  const created = request.created_at ? new Date(request.created_at) : null;
  $("time").textContent =
    created && !Number.isNaN(created.valueOf())
      ? created.toLocaleString(lang === "en" ? "en" : "zh-CN")
      : t.unknown;
  $("login-only").hidden = !answer.login_only;
  startCountdown(Number(answer.expires_in) || 0);
  show("screen-request");
}

function startCountdown(seconds) {
  clearInterval(state.countdown);
  const deadline = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $("expires").textContent = left > 0 ? t.expiresIn(left) : t.expiredNow;
    if (left === 0) clearInterval(state.countdown);
  };
  tick();
  state.countdown = setInterval(tick, 1000);
}

async function allow() {
  const { code } = await call("POST", "wx/phone_code", {
    appid: config.appid,
    user: userName(),
  });
  const body = { session: state.session, phone_code: code };
  const nickname = $("nickname").value.trim();
  if (nickname) body.nickname = nickname;
  const answer = await call("POST", "../api/miniprogram/confirm", body);
  showResult(answer.status);
}

async function deny() {
  const answer = await call("POST", "../api/miniprogram/cancel", { session: state.session });
  showResult(answer.status);
}

function showResult(status, message) {
  clearInterval(state.countdown);
  const [title, text] = t[status] || t.error;
  $("screen-result").dataset.status = status;
  $("result-icon").textContent = ICONS[status] || "!";
  $("result-icon").className = `result-icon ${status in ICONS ? status : "failed"}`;
  $("result-title").textContent = title;
  $("result-message").textContent = message || text || "";
  $("retry").hidden = FINAL.has(status) || !state.retry;
  show("screen-result");
}

// Runs a step of the flow; a failure shows the result screen, and Retry runs the step again.
async function step(action) {
  state.retry = action;
  busy(true);
  try {
    await action();
  } catch (error) {
    const code = error instanceof CallError ? error.code : "error";
    showResult(code, error instanceof CallError ? error.message : t.error[1]);
  } finally {
    busy(false);
  }
}

function restart() {
  state.session = null;
  state.retry = null;
  show("screen-start");
}

function start() {
  translate();
  $("user").value = localStorage.getItem(USER_KEY) || "alice";
  const hasScene = Boolean(config.scene);
  $("no-scene").hidden = hasScene;
  $("scan").hidden = !hasScene;
  $("user").addEventListener("change", loadUser);
  $("scan").addEventListener("click", () => step(scan));
  $("allow").addEventListener("click", () => step(allow));
  $("deny").addEventListener("click", () => step(deny));
  $("retry").addEventListener("click", () => step(state.retry));
  $("restart").addEventListener("click", restart);
  show("screen-start");
  loadUser();
}

start();
