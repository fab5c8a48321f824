// minilogin JavaScript SDK: log in by scanning a WeChat mini program code.
// An ES module with no dependencies, served by the minilogin server itself.
//
//   import { MiniLogin } from '{public}/static/minilogin.js';
//   const ml = new MiniLogin({ issuer: '{public}/pools/acme', clientId: 'web' });
//   const result = await ml.startScanning('#qrcode', { onScanned, onSuccess });
//
// From a classic <script>: import('{public}/static/minilogin.js').then(({ MiniLogin }) => …).
// The same module defines the <minilogin-login> element wherever custom elements exist.
//
// The QR login contract is API.md §1; tokens are OpenID Connect (API.md §2). The logic
// (PKCE, JWT decoding, tokens, the scan state machine) needs no DOM, so node can test it;
// only ScanView and the element touch the document.

const TEXT = {
  'zh-CN': {
    loading: '正在生成二维码…',
    scan: '请使用微信扫一扫登录',
    scanned: '扫码成功，请在手机上确认',
    binding: '请在下方完成账号绑定',
    authorized: '登录成功',
    expired: '二维码已过期',
    cancelled: '已取消',
    error: '出错了',
    refresh: '点击刷新',
    match: '扫码后，在手机上选择这个数字',
    bindingTitle: '绑定账号',
    bindingPhone: '微信手机号 {phone} 还没有关联账号。登录已有账号以绑定，或创建新账号。',
    bindingPhoneLoginOnly: '微信手机号 {phone} 还没有关联账号。请登录已有账号以绑定。',
    username: '用户名或手机号',
    password: '密码',
    bindSubmit: '绑定并登录',
    createAccount: '创建新账号',
    required: '请填写账号和密码',
    reasons: {
      cancelled_by_user: '你已在手机上取消本次登录',
      cancelled_by_browser: '本次登录已取消',
      phone_denied: '你拒绝了使用手机号，登录已取消',
      phone_quota: '该小程序的手机号验证次数已用完，本次登录已取消',
      phone_unavailable: '微信无法为该小程序验证手机号（小程序未认证、隐私保护指引未声明手机号或微信版本过低），本次登录已取消',
      match_failed: '手机上选择的数字与电脑上的不一致，登录已取消',
      too_many_attempts: '密码错误次数过多，本次登录已取消',
      account_not_found: '没有与该手机号对应的账号，本站只允许已有账号登录',
      phone_in_use: '该手机号已属于另一个账号，请联系网站开启账号关联',
      account_blocked: '该账号已被停用',
    },
  },
  en: {
    loading: 'Preparing the code…',
    scan: 'Scan with WeChat to log in',
    scanned: 'Scanned. Confirm on your phone',
    binding: 'Finish binding your account below',
    authorized: 'Logged in',
    expired: 'The code has expired',
    cancelled: 'Cancelled',
    error: 'Something went wrong',
    refresh: 'Click to refresh',
    match: 'After scanning, pick this number on your phone',
    bindingTitle: 'Link your account',
    bindingPhone:
      'No account is linked to the WeChat phone number {phone} yet. Log in to an existing account to link it, or create a new one.',
    bindingPhoneLoginOnly:
      'No account is linked to the WeChat phone number {phone} yet. Log in to an existing account to link it.',
    username: 'Username or phone number',
    password: 'Password',
    bindSubmit: 'Link and log in',
    createAccount: 'Create a new account',
    required: 'Enter the account and the password',
    reasons: {
      cancelled_by_user: 'You cancelled this login on the phone',
      cancelled_by_browser: 'This login was cancelled',
      phone_denied: 'You declined to share your phone number; the login was cancelled',
      phone_quota: 'The mini program has used up its phone-number verifications; this login was cancelled',
      phone_unavailable:
        'WeChat cannot verify phone numbers for this mini program (not verified, no phone number in its privacy guideline, or an outdated WeChat); this login was cancelled',
      match_failed: 'The number picked on the phone was not the one shown here; the login was cancelled',
      too_many_attempts: 'Too many wrong passwords: this login was cancelled',
      account_not_found: 'No account matches this phone number, and this site only lets existing accounts log in',
      phone_in_use: 'This phone number belongs to another account. Ask the site to enable account association',
      account_blocked: 'This account has been blocked',
    },
  },
};

const TERMINAL = ['authorized', 'consumed', 'cancelled', 'expired'];
// How long a login window may be seen closed before its answer is given up on.
const POPUP_CLOSE_GRACE_MS = 1500;
/** How long an ordinary request may take before it fails with `timeout`. */
export const REQUEST_TIMEOUT_MS = 15000;
/** Seconds a long poll waits on the server (API.md §1 allows up to 30). */
export const LONG_POLL_SECONDS = 25;
/** An access token this close to its expiry is refreshed before it is handed out. */
export const REFRESH_LEEWAY_MS = 60000;
/** The first retry of a waiting login waits about this long; each next one twice as long… */
export const RETRY_BASE_MS = 500;
/** …up to this. */
export const RETRY_MAX_MS = 8000;
/** Tries in all of a step that starts something (a QR login, the list of identity sources)
 * before the failure is shown with a button to try again. */
export const START_ATTEMPTS = 3;

/** Every error the SDK raises: `code` is stable, `message` is for people. */
export class MiniLoginError extends Error {
  /** @param {string} code @param {string} [message] @param {number} [status] */
  constructor(code, message, status) {
    super(message || code);
    this.name = 'MiniLoginError';
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** @param {unknown} error @returns {MiniLoginError} */
function asMiniLoginError(error) {
  if (error instanceof MiniLoginError) return error;
  if (error && error.name === 'AbortError') return new MiniLoginError('timeout', 'the request took too long');
  return new MiniLoginError('network_error', String(error && error.message ? error.message : error));
}

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random URL-safe string of `bytes` random bytes (for state, nonce and verifiers). */
export function randomString(bytes = 32) {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

// SHA-256 for pages that are not a secure context (a LAN address during development), where
// crypto.subtle does not exist. FIPS 180-4 §6.2.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** @param {Uint8Array} message @returns {Uint8Array} */
export function sha256Fallback(message) {
  const length = message.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(message);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, length * 8);
  view.setUint32(padded.length - 8, Math.floor((length * 8) / 2 ** 32));
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = (h[i] + next[i]) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)), with the fallback where crypto.subtle is missing. */
export async function s256(verifier) {
  const data = new TextEncoder().encode(verifier);
  const digest = globalThis.crypto?.subtle
    ? new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data))
    : sha256Fallback(data);
  return base64url(digest);
}

/** RFC 7636 §4.1–4.2: a random verifier and its S256 challenge. */
export async function createPkcePair() {
  const verifier = randomString(32);
  return { verifier, challenge: await s256(verifier) };
}

/** The payload of a JWT, without verifying it (the backend verifies; the page only shows). */
export function decodeJwtPayload(token) {
  const part = (typeof token === 'string' && token.split('.')[1]) || '';
  try {
    const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    if (payload && typeof payload === 'object') return payload;
  } catch {
    // fall through: not a JWT
  }
  throw new MiniLoginError('invalid_token', 'the token is not a JWT');
}

/** `en` for any English tag, else Simplified Chinese (the default). */
export function pickLang(lang) {
  const wanted = lang || globalThis.navigator?.language || 'zh-CN';
  return String(wanted).toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

/** The SDK's result from a token response (RFC 6749 §5.1). */
export function tokensFromResponse(body, now = Date.now()) {
  if (!body || typeof body.access_token !== 'string' || typeof body.id_token !== 'string') {
    throw new MiniLoginError('invalid_token_response', 'the token response lacks its tokens');
  }
  return {
    idToken: body.id_token,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt: now + Number(body.expires_in || 0) * 1000,
    user: decodeJwtPayload(body.id_token),
  };
}

/** Whether an access token must be refreshed before use. */
export function needsRefresh(tokens, now = Date.now(), leeway = REFRESH_LEEWAY_MS) {
  return !tokens || !tokens.accessToken || tokens.expiresAt - leeway <= now;
}

/** Runs tasks one after another: no two requests of one instance ever overlap. */
export class SerialQueue {
  constructor() {
    this._tail = Promise.resolve();
  }

  /** @template T @param {() => Promise<T>} task @returns {Promise<T>} */
  run(task) {
    const result = this._tail.then(task, task);
    this._tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Key/value storage for tokens: memory, or a Web Storage (sessionStorage/localStorage). */
export class TokenStore {
  constructor(storage, key) {
    this._storage = storage;
    this._key = key;
    this._memory = null;
  }

  get() {
    if (!this._storage) return this._memory;
    try {
      const text = this._storage.getItem(this._key);
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  set(tokens) {
    if (!this._storage) {
      this._memory = tokens;
      return;
    }
    this._storage.setItem(this._key, JSON.stringify(tokens));
  }

  clear() {
    this._memory = null;
    this._storage?.removeItem(this._key);
  }
}

function webStorage(name) {
  try {
    const storage = globalThis[name];
    if (storage) return storage;
  } catch {
    // storage denied (privacy settings, sandboxed frames): fall back to memory
  }
  return null;
}

/** @param {Response} response */
async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // a body that is not JSON still yields an error with the HTTP status as its code
  }
  return new MiniLoginError(
    body.error || `http_${response.status}`,
    body.message || body.error_description,
    response.status,
  );
}

/** Errors that another try can't fix: the page's configuration is wrong. */
function isFatal(error) {
  return [400, 401, 403, 404].includes(error.status);
}

/** Failures that pass by themselves: the network, or a server being restarted or deployed. */
export function isTransient(error) {
  return error.status === undefined || [502, 503, 504].includes(error.status);
}

/**
 * Milliseconds to wait before retry number `attempt` (1, 2, …): doubling up to RETRY_MAX_MS,
 * between half of that and all of it at random, so that the browsers one restart cut off
 * don't all come back in the same instant.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(attempt - 1, 0));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `send()`, and again after a transient failure, up to `attempts` tries with backoff. */
async function withRetries(send, attempts = START_ATTEMPTS) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const failed = asMiniLoginError(error);
      if (attempt >= attempts || !isTransient(failed)) throw failed;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt)));
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Read a `text/event-stream` body as the HTML standard parses one (§9.2.6: fields `event`,
 * `data`, `id`, `retry`; comments after a colon; an event at each blank line). Calls
 * `onEvent({event, data, id})` and `onRetry(ms)`; resolves when the stream ends.
 */
export async function readEventStream(body, onEvent, onRetry) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data = [];
  let id = null;
  const line = (text) => {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const text of lines) line(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}

export class MiniLogin {
  /**
   * @param {{issuer: string, clientId: string, scope?: string, redirectUri?: string, lang?: string,
   *   cacheLocation?: 'memory'|'sessionStorage'|'localStorage', fetch?: typeof fetch}} options
   */
  constructor(options = {}) {
    const { issuer, clientId, scope = 'openid profile phone', redirectUri, lang, cacheLocation = 'memory' } = options;
    if (!issuer || !clientId) throw new MiniLoginError('invalid_options', 'issuer and clientId are required');
    this.issuer = issuer.replace(/\/$/, '');
    this.clientId = clientId;
    this.scope = scope;
    this.redirectUri = redirectUri;
    this.lang = pickLang(lang);
    this._fetch = options.fetch || globalThis.fetch?.bind(globalThis);
    this._queue = new SerialQueue();
    this._refreshing = null;
    this._run = null;
    const storage = cacheLocation === 'memory' ? null : webStorage(cacheLocation);
    this._tokens = new TokenStore(storage, `minilogin:${this.clientId}:${this.issuer}`);
  }

  /**
   * Show a mini program code in `target` and resolve with the tokens once the person has
   * scanned and allowed on their phone.
   */
  startScanning(target, options = {}) {
    this.stop();
    const element = typeof target === 'string' ? globalThis.document?.querySelector(target) : target;
    if (!element) return Promise.reject(new MiniLoginError('invalid_target', `no element ${target}`));
    const controller = new ScanController(this, options);
    new ScanView(element, controller, options);
    this._run = controller;
    controller.start();
    return controller.promise;
  }

  /** Stop listening, cancel the QR login on the server, and reject the pending promise. */
  stop() {
    if (this._run) {
      this._run.stop();
      this._run = null;
    }
  }

  /** Tokens of the last login, or null. */
  getTokens() {
    return this._tokens.get();
  }

  /** The claims of the last login's ID token, or null. */
  getUser() {
    return this._tokens.get()?.user || null;
  }

  /** A valid access token, refreshed (with the rotating refresh token) when near expiry. */
  async getAccessToken() {
    const tokens = this._tokens.get();
    if (!tokens) throw new MiniLoginError('login_required', 'nobody is logged in');
    if (!needsRefresh(tokens)) return tokens.accessToken;
    if (!tokens.refreshToken) throw new MiniLoginError('login_required', 'the session has expired');
    // Concurrent callers share one refresh: a rotated token must never be presented twice.
    if (!this._refreshing) {
      this._refreshing = this._refresh(tokens.refreshToken).finally(() => {
        this._refreshing = null;
      });
    }
    return (await this._refreshing).accessToken;
  }

  async _refresh(refreshToken) {
    try {
      const body = await this._form('/oidc/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: this.clientId,
      });
      const tokens = tokensFromResponse(body);
      this._tokens.set(tokens);
      return tokens;
    } catch (error) {
      const failed = asMiniLoginError(error);
      if (failed.code === 'invalid_grant') this._tokens.clear();
      throw failed;
    }
  }

  /** The URL of the hosted login page (`{issuer}/oidc/auth`) for an authorization request. */
  authorizeUrl({ redirectUri, state, nonce, challenge, responseMode, prompt, uiLocales, connection }) {
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: redirectUri,
      scope: this.scope,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ui_locales: uiLocales || this.lang,
    });
    if (responseMode) params.set('response_mode', responseMode);
    if (prompt) params.set('prompt', prompt);
    if (connection) params.set('connection', connection);
    return `${this.issuer}/oidc/auth?${params}`;
  }

  async _transaction(options) {
    const redirectUri = options.redirectUri || this.redirectUri;
    if (!redirectUri) throw new MiniLoginError('invalid_options', 'redirectUri is required');
    const pkce = await createPkcePair();
    return { redirectUri, state: randomString(16), nonce: randomString(16), ...pkce };
  }

  /** Go to the hosted login page; `handleRedirectCallback()` on `redirectUri` finishes. */
  async loginWithRedirect(options = {}) {
    const tx = await this._transaction(options);
    const store = webStorage('sessionStorage');
    if (!store) throw new MiniLoginError('storage_unavailable', 'sessionStorage is needed across the redirect');
    store.setItem(`minilogin:tx:${tx.state}`, JSON.stringify({ ...tx, issuer: this.issuer, clientId: this.clientId }));
    globalThis.location.assign(this.authorizeUrl({ ...options, ...tx }));
  }

  /** On the redirect URI: exchange the code in the URL and clean the URL. */
  async handleRedirectCallback(url = globalThis.location.href) {
    const params = new URL(url).searchParams;
    const state = params.get('state');
    const store = webStorage('sessionStorage');
    const key = `minilogin:tx:${state}`;
    const saved = state && store ? store.getItem(key) : null;
    if (!saved) throw new MiniLoginError('invalid_state', 'no login was started with this state');
    store.removeItem(key);
    const tx = JSON.parse(saved);
    if (globalThis.history?.replaceState) {
      const clean = new URL(url);
      for (const name of ['code', 'state', 'iss', 'error', 'error_description']) clean.searchParams.delete(name);
      globalThis.history.replaceState(null, '', clean.toString());
    }
    return this._finishAuthorization(Object.fromEntries(params), tx);
  }

  async _finishAuthorization(response, tx) {
    if (response.error) throw new MiniLoginError(response.error, response.error_description);
    if (response.iss && response.iss !== this.issuer) {
      throw new MiniLoginError('invalid_issuer', 'the response comes from another issuer');
    }
    if (!response.code) throw new MiniLoginError('invalid_response', 'the response has no code');
    return this.exchangeCode(response.code, tx.verifier, { redirectUri: tx.redirectUri, nonce: tx.nonce });
  }

  /**
   * The hosted login page in a popup (`response_mode=web_message`). Call it from a click:
   * browsers only let a user gesture open windows.
   */
  loginWithPopup(options = {}) {
    // A window name of its own: two instances' popups must never share a window.
    const popup = globalThis.open('about:blank', `minilogin-${randomString(6)}`, 'width=480,height=640');
    if (!popup) return Promise.reject(new MiniLoginError('popup_blocked', 'the browser blocked the popup'));
    const origin = new URL(this.issuer).origin;
    const timeoutMs = (options.timeoutInSeconds || 600) * 1000;
    return this._transaction(options).then(
      (tx) =>
        new Promise((resolve, reject) => {
          const cleanup = () => {
            globalThis.removeEventListener('message', onMessage);
            clearInterval(watcher);
            clearTimeout(timer);
          };
          const onMessage = (event) => {
            const data = event.data;
            if (event.origin !== origin || event.source !== popup) return;
            if (!data || data.type !== 'authorization_response' || data.response?.state !== tx.state) return;
            cleanup();
            this._finishAuthorization(data.response, tx).then(resolve, reject);
          };
          let closedSince = 0;
          const watcher = setInterval(() => {
            if (!popup.closed) return;
            // The popup posts its answer and then closes itself: under load the opener can see
            // it closed before the already-sent message is delivered, so give that a moment.
            closedSince = closedSince || Date.now();
            if (Date.now() - closedSince < POPUP_CLOSE_GRACE_MS) return;
            cleanup();
            reject(new MiniLoginError('popup_closed', 'the login window was closed'));
          }, 250);
          const timer = setTimeout(() => {
            cleanup();
            popup.close();
            reject(new MiniLoginError('timeout', 'the login window took too long'));
          }, timeoutMs);
          globalThis.addEventListener('message', onMessage);
          popup.location.href = this.authorizeUrl({ ...options, ...tx, responseMode: 'web_message' });
        }),
      (error) => {
        popup.close();
        throw asMiniLoginError(error);
      },
    );
  }

  /**
   * Forget the tokens and revoke the refresh token; with `returnTo` (a registered
   * post-logout redirect URI) the browser also goes through the provider's logout.
   */
  async logout({ returnTo } = {}) {
    const tokens = this._tokens.get();
    this.stop();
    this._tokens.clear();
    if (tokens?.refreshToken) {
      await this._form('/oidc/revoke', {
        token: tokens.refreshToken,
        token_type_hint: 'refresh_token',
        client_id: this.clientId,
      }).catch(() => undefined);
    }
    if (returnTo) {
      const params = new URLSearchParams({ client_id: this.clientId, post_logout_redirect_uri: returnTo });
      if (tokens?.idToken) params.set('id_token_hint', tokens.idToken);
      globalThis.location.assign(`${this.issuer}/oidc/session/end?${params}`);
    }
  }

  /** RFC 6749 §4.1.3 with the PKCE verifier; public clients send no secret. */
  async exchangeCode(code, verifier, { redirectUri, nonce } = {}) {
    const form = { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: this.clientId };
    if (redirectUri) form.redirect_uri = redirectUri;
    const tokens = tokensFromResponse(await this._form('/oidc/token', form));
    if (nonce !== undefined && tokens.user.nonce !== nonce) {
      throw new MiniLoginError('invalid_nonce', 'the ID token was not issued for this login');
    }
    this._tokens.set(tokens);
    return tokens;
  }

  /** One request at a time, failing with `timeout` instead of hanging. */
  _request(path, init, timeoutMs = REQUEST_TIMEOUT_MS) {
    return this._queue.run(() => this._send(path, init, timeoutMs));
  }

  async _send(path, init, timeoutMs, signal) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort);
    const timer = setTimeout(abort, timeoutMs);
    try {
      const response = await this._fetch(`${this.issuer}${path}`, {
        ...init,
        headers: { 'Accept-Language': this.lang, ...(init.headers || {}) },
        signal: controller.signal,
      });
      if (!response.ok) throw await failure(response);
      return response.status === 204 ? null : await response.json().catch(() => null);
    } catch (error) {
      throw asMiniLoginError(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }

  _json(path, body, headers = {}) {
    return this._request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  _form(path, fields) {
    return this._request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/**
 * One `startScanning` call, without any DOM: a QR login, its listener (an event stream read
 * with fetch, else long polling; both retried on transient failures), its refreshes, the binding step and the code exchange. What it shows goes to the
 * `view` through `onChange(state)`; a view calls `start()`, `bind()` and `createAccount()`.
 */
export class ScanController {
  constructor(client, options = {}) {
    this.client = client;
    this.options = options;
    this.lang = options.lang ? pickLang(options.lang) : client.lang;
    this.text = TEXT[this.lang];
    this.stopped = false;
    this.settled = false;
    this.login = null;
    this.lastStatus = undefined;
    this.listening = null;
    this.expiryTimer = null;
    this.views = [];
    this.state = { status: 'loading' };
    this.promise = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    // A rejected promise nobody awaits (after stop()) must not be reported as unhandled.
    this.promise.catch(() => undefined);
  }

  onChange(listener) {
    this.views.push(listener);
    listener(this.state);
  }

  emit(state) {
    this.state = state;
    for (const listener of this.views) listener(state);
  }

  /** Create a new QR login (also: refresh after expiry, cancel or an error). */
  async start() {
    this.close();
    if (this.stopped || this.settled) return;
    this.emit({ status: 'loading' });
    const generation = (this.generation = (this.generation || 0) + 1);
    try {
      this.pkce = await createPkcePair();
      this.nonce = randomString(16);
      const body = {
        client_id: this.client.clientId,
        code_challenge: this.pkce.challenge,
        code_challenge_method: 'S256',
        scope: this.client.scope,
        nonce: this.nonce,
      };
      if (this.options.connection) body.connection = this.options.connection;
      if (this.options.authorizationRequest) body.authorization_request = this.options.authorizationRequest;
      const login = await withRetries(() => this.client._json('/api/qrcodes', body));
      if (this.stopped || generation !== this.generation) return;
      this.login = login;
      this.emit({ status: 'pending', login });
      this.options.onQRCode?.({ ...login });
      this.watchExpiry(login);
      this.listen(login);
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  /** Ask once more when the code should have expired: nothing waits on a silent stream. */
  watchExpiry(login) {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      if (this.login !== login || this.stopped) return;
      this.client
        ._send(`/api/qrcodes/${login.id}`, { headers: { Authorization: `Bearer ${login.secret}` } }, REQUEST_TIMEOUT_MS)
        .then((status) => this.onStatus(status))
        .catch((error) => this.login === login && this.fail(error));
    }, (Number(login.expires_in) || 0) * 1000 + 500);
  }

  /**
   * Follow the login until it ends. The secret goes in the Authorization header only, so the
   * event stream is read with fetch rather than EventSource (which can't send headers). A
   * network error, a 502/503/504 or a server that ends the stream while stopping (its
   * `retry:` hint says when to come back) is retried with backoff on the same login: the
   * load balancer sends the retry to an instance that is up. A stream that never delivered
   * an event (a proxy that buffers it) gives way to long polls.
   */
  async listen(login) {
    const listening = new AbortController();
    this.listening = listening;
    const active = () => !this.stopped && this.login === login && !listening.signal.aborted;
    const watch = { last: 'pending', eventId: null, retryMs: null, streamed: false };
    let streaming = this.options.transport !== 'poll';
    let failures = 0;
    while (active() && !TERMINAL.includes(watch.last)) {
      let delay = 0;
      try {
        if (streaming) {
          await this.stream(login, watch, listening.signal);
          delay = watch.retryMs ?? backoffDelay(1);
        } else {
          await this.poll(login, watch, listening.signal);
        }
        failures = 0;
      } catch (error) {
        if (!active()) return;
        const failed = asMiniLoginError(error);
        if (!isTransient(failed)) {
          this.fail(failed);
          return;
        }
        if (streaming && !watch.streamed && failed.status === undefined) streaming = false;
        failures += 1;
        delay = backoffDelay(failures);
      }
      if (delay && active()) await pause(delay, listening.signal);
    }
  }

  /** One event stream, until the server ends it. */
  async stream(login, watch, signal) {
    const headers = {
      Accept: 'text/event-stream',
      'Accept-Language': this.client.lang,
      Authorization: `Bearer ${login.secret}`,
    };
    if (watch.eventId) headers['Last-Event-ID'] = watch.eventId;
    const response = await this.client._fetch(`${this.client.issuer}/api/qrcodes/${login.id}/events`, {
      headers,
      signal,
      cache: 'no-store',
    });
    if (!response.ok) throw await failure(response);
    if (!response.body) throw new MiniLoginError('network_error', 'the event stream cannot be read');
    await readEventStream(
      response.body,
      (event) => {
        if (event.id) watch.eventId = event.id;
        if (event.event !== 'status' || signal.aborted) return;
        const status = JSON.parse(event.data);
        watch.streamed = true;
        watch.last = status.status;
        this.onStatus(status);
      },
      (ms) => {
        watch.retryMs = ms;
      },
    );
  }

  /** One long poll: the status once it differs from the last one seen, or unchanged after a while. */
  async poll(login, watch, signal) {
    const status = await this.client._send(
      `/api/qrcodes/${login.id}?wait=${LONG_POLL_SECONDS}&last=${encodeURIComponent(watch.last)}`,
      { headers: { Authorization: `Bearer ${login.secret}` } },
      (LONG_POLL_SECONDS + 15) * 1000,
      signal,
    );
    if (signal.aborted) return;
    watch.last = status.status;
    this.onStatus(status);
  }

  onStatus(status) {
    if (this.stopped || !this.login || !status || status.id !== this.login.id) return;
    if (status.status === this.lastStatus) return;
    this.lastStatus = status.status;
    const handler = {
      scanned: this.options.onScanned,
      needs_binding: this.options.onNeedsBinding,
      cancelled: this.options.onCancel,
      expired: this.options.onExpired,
    }[status.status];
    this.emit({ status: status.status, login: this.login, body: status });
    this.options.onStatus?.(status);
    handler?.(status);
    if (status.status === 'authorized' && status.code) {
      this.finish(status);
    } else if (status.status === 'cancelled' || status.status === 'expired') {
      this.close();
      if (this.options.autoRefresh) this.start();
    }
  }

  async finish(status) {
    const login = this.login;
    this.close();
    this.settled = true;
    try {
      const result =
        this.options.exchange === false
          ? { id: login.id, secret: login.secret, code: status.code, state: status.state }
          : await this.client.exchangeCode(status.code, this.pkce.verifier, { nonce: this.nonce });
      this.emit({ status: 'authorized', login, body: status, result });
      this.options.onSuccess?.(result);
      this._resolve(result);
    } catch (error) {
      this.settled = false;
      this.fail(error);
    }
  }

  /** The binding step: link an existing account with its password. */
  async bind(username, password) {
    if (!username || !password) {
      this.emit({ ...this.state, bindingError: new MiniLoginError('invalid_request', this.text.required) });
      return;
    }
    await this._binding({ action: 'bind', username, password });
  }

  /** The binding step: create a new account (not offered in login-only mode). */
  async createAccount() {
    await this._binding({ action: 'create' });
  }

  async _binding(body) {
    const login = this.login;
    if (!login || this.lastStatus !== 'needs_binding') return;
    this.emit({ ...this.state, busy: true, bindingError: null });
    try {
      const status = await this.client._json(`/api/qrcodes/${login.id}/binding`, body, {
        Authorization: `Bearer ${login.secret}`,
      });
      if (this.login !== login) return;
      this.emit({ ...this.state, busy: false });
      this.onStatus(status);
    } catch (error) {
      if (this.login !== login) return;
      const failed = asMiniLoginError(error);
      this.emit({ ...this.state, busy: false, bindingError: failed });
      this.options.onError?.(failed);
    }
  }

  fail(error) {
    const failed = asMiniLoginError(error);
    this.close();
    this.emit({ status: 'error', login: this.login, error: failed });
    this.options.onError?.(failed);
    if (isFatal(failed) && !this.login) {
      this.settled = true;
      this._reject(failed);
    }
  }

  close() {
    this.listening?.abort();
    this.listening = null;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.lastStatus = undefined;
  }

  stop() {
    if (this.stopped) return;
    const login = this.login;
    this.stopped = true;
    this.close();
    if (login && !this.settled) {
      this.client
        ._request(`/api/qrcodes/${login.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${login.secret}` } })
        .catch(() => undefined);
    }
    if (!this.settled) this._reject(new MiniLoginError('stopped', 'the scan was stopped'));
    this.settled = true;
  }
}

const STYLE = `
.minilogin { font: 14px/1.6 var(--minilogin-font, system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif);
  color: var(--minilogin-text, #1f2329); text-align: center; }
.minilogin-box { position: relative; display: inline-block; border-radius: var(--minilogin-radius, 12px); overflow: hidden;
  background: var(--minilogin-background, #fff); }
.minilogin-box > img { display: block; width: 100%; height: 100%; }
.minilogin-overlay { position: absolute; inset: 0; display: none; flex-direction: column; align-items: center;
  justify-content: center; gap: 8px; border: 0; padding: 12px; font: inherit; color: inherit;
  background: color-mix(in srgb, var(--minilogin-background, #fff) 94%, transparent); cursor: default; }
.minilogin-overlay[data-refresh="1"] { cursor: pointer; }
.minilogin-overlay .minilogin-avatar { width: 56px; height: 56px; border-radius: 50%; object-fit: cover; }
.minilogin-overlay .minilogin-refresh { color: var(--minilogin-accent, #07c160); font-weight: 600; }
.minilogin-caption { margin-top: 8px; color: var(--minilogin-muted, #646a73); }
.minilogin-match[hidden] { display: none; }
.minilogin-match { margin-top: 6px; color: var(--minilogin-muted, #646a73); font-size: 13px; }
.minilogin-match strong { display: block; font-size: 28px; letter-spacing: 6px; color: var(--minilogin-text, #1f2329); }
.minilogin-sandbox { display: block; margin-top: 4px; font-size: 13px; color: var(--minilogin-accent, #07c160); }
.minilogin-sandbox[hidden] { display: none; }
.minilogin-binding[hidden] { display: none; }
.minilogin-binding { margin: 12px auto 0; max-width: 300px; text-align: left; display: grid; gap: 8px; }
.minilogin-binding h3 { margin: 0; font-size: 15px; }
.minilogin-binding p { margin: 0; color: var(--minilogin-muted, #646a73); font-size: 13px; }
.minilogin-binding input { font: inherit; padding: 7px 10px; border: 1px solid var(--minilogin-line, #d0d3d9);
  border-radius: 6px; }
.minilogin-binding button { font: inherit; padding: 7px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--minilogin-accent, #07c160); }
.minilogin-binding button[type="submit"] { background: var(--minilogin-accent, #07c160); color: #fff; }
.minilogin-binding button[type="button"] { background: transparent; color: var(--minilogin-accent, #07c160); }
.minilogin-binding [data-testid="binding-error"] { color: var(--minilogin-danger, #d54941); font-size: 13px; min-height: 1em; }
`;

// In sandbox mode a QR login names the phone simulator page its code holds (API.md §1): a
// laptop alone finishes the login by opening it, as it can't scan its own screen.
const SANDBOX_TEXT = { 'zh-CN': '沙箱模式：打开手机模拟器', en: 'Sandbox mode: open the phone simulator' };

/** The DOM of one scan: the code as a real <img>, its overlay, its caption, the binding form. */
export class ScanView {
  constructor(element, controller, options = {}) {
    const doc = element.ownerDocument;
    const make = (tag, props = {}) => Object.assign(doc.createElement(tag), props);
    this.controller = controller;
    this.text = controller.text;
    const size = Number(options.size) || 240;
    element.replaceChildren();
    this.root = make('div', { className: 'minilogin' });
    this.box = make('div', { className: 'minilogin-box' });
    this.box.style.width = `${size}px`;
    this.box.style.height = `${size}px`;
    this.img = make('img', { alt: this.text.scan, width: size, height: size });
    this.img.dataset.testid = 'qrcode-image';
    this.img.addEventListener('error', () => {
      if (this.img.getAttribute('src')) controller.fail(new MiniLoginError('image_failed', this.text.error));
    });
    this.overlay = make('button', { type: 'button', className: 'minilogin-overlay' });
    this.overlay.dataset.testid = 'qrcode-overlay';
    this.overlay.addEventListener('click', () => {
      if (this.overlay.dataset.refresh === '1') controller.start();
    });
    this.caption = make('div', { className: 'minilogin-caption' });
    this.caption.dataset.testid = 'qrcode-caption';
    // Number matching (a recycled code): the digits the phone must pick, under the code.
    this.match = make('div', { className: 'minilogin-match', hidden: true });
    this.match.dataset.testid = 'qrcode-match';
    this.matchDigits = make('strong');
    this.match.append(this.matchDigits, make('span', { textContent: this.text.match }));
    this.binding = this.bindingForm(make);
    this.sandbox = make('a', { className: 'minilogin-sandbox', target: '_blank', rel: 'noopener', hidden: true });
    this.sandbox.textContent = SANDBOX_TEXT[controller.lang];
    this.sandbox.dataset.testid = 'phone-simulator';
    this.box.append(this.img, this.overlay);
    this.root.append(make('style', { textContent: STYLE }), this.box, this.caption, this.match, this.sandbox, this.binding);
    element.append(this.root);
    this.element = element;
    controller.onChange((state) => this.update(state));
  }

  bindingForm(make) {
    const form = make('form', { className: 'minilogin-binding', hidden: true, noValidate: true });
    form.dataset.testid = 'binding';
    this.bindingText = make('p');
    this.username = make('input', { name: 'username', autocomplete: 'username', placeholder: this.text.username });
    this.username.dataset.testid = 'binding-username';
    this.username.setAttribute('aria-label', this.text.username);
    this.password = make('input', { name: 'password', type: 'password', autocomplete: 'current-password', placeholder: this.text.password });
    this.password.dataset.testid = 'binding-password';
    this.password.setAttribute('aria-label', this.text.password);
    const submit = make('button', { type: 'submit', textContent: this.text.bindSubmit });
    submit.dataset.testid = 'binding-submit';
    this.create = make('button', { type: 'button', textContent: this.text.createAccount });
    this.create.dataset.testid = 'binding-create';
    this.bindingError = make('div', { role: 'alert' });
    this.bindingError.dataset.testid = 'binding-error';
    this.bindingButtons = [submit, this.create];
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.controller.bind(this.username.value.trim(), this.password.value);
    });
    this.create.addEventListener('click', () => this.controller.createAccount());
    form.append(make('h3', { textContent: this.text.bindingTitle }), this.bindingText, this.username, this.password, submit, this.create, this.bindingError);
    return form;
  }

  update(state) {
    const { status, login, body } = state;
    this.element.dataset.status = status;
    if (login) {
      this.element.dataset.qrloginId = login.id;
      if (this.img.getAttribute('src') !== login.image_url) this.img.src = login.image_url;
    }
    this.showBinding(state);
    const digits = body?.match || login?.match;
    this.match.hidden = !digits || !(status === 'pending' || status === 'scanned');
    this.matchDigits.textContent = digits || '';
    const phoneUrl = status === 'pending' && login?.sandbox_phone_url;
    this.sandbox.hidden = !phoneUrl;
    if (phoneUrl) this.sandbox.href = phoneUrl;
    const overlay = this.overlay;
    overlay.replaceChildren();
    overlay.dataset.refresh = '';
    if (status === 'loading' || status === 'pending') {
      overlay.style.display = status === 'loading' ? 'flex' : 'none';
      this.caption.textContent = status === 'loading' ? this.text.loading : this.text.scan;
      return;
    }
    // Every other status is said once, on the code itself: the caption under it falls silent.
    this.caption.textContent = '';
    overlay.style.display = 'flex';
    const doc = this.element.ownerDocument;
    const label = doc.createElement('div');
    if (status === 'scanned' || status === 'needs_binding') {
      const avatarUrl = body?.scanned?.avatar_url;
      if (avatarUrl) {
        overlay.append(Object.assign(doc.createElement('img'), { src: avatarUrl, alt: body.scanned.nickname || '', className: 'minilogin-avatar' }));
      }
      label.textContent = status === 'scanned' ? this.text.scanned : this.text.binding;
    } else if (status === 'authorized' || status === 'consumed') {
      label.textContent = this.text.authorized;
    } else {
      // The SDK's own words for the outcomes it knows, in its language; the server's otherwise.
      const reason = body?.error && this.text.reasons[body.error];
      label.textContent = (status === 'error' && state.error?.message) || reason || body?.message || this.text[status] || this.text.error;
      const again = Object.assign(doc.createElement('div'), { className: 'minilogin-refresh', textContent: this.text.refresh });
      overlay.dataset.refresh = '1';
      overlay.append(label, again);
      return;
    }
    overlay.append(label);
  }

  showBinding(state) {
    const active = state.status === 'needs_binding';
    this.binding.hidden = !active;
    if (!active) return;
    const info = state.body?.binding || {};
    const template = info.login_only ? this.text.bindingPhoneLoginOnly : this.text.bindingPhone;
    this.bindingText.textContent = template.replace('{phone}', info.phone || '');
    this.create.hidden = Boolean(info.login_only);
    for (const button of this.bindingButtons) button.disabled = Boolean(state.busy);
    this.bindingError.textContent = state.bindingError ? state.bindingError.message : '';
  }
}

const ELEMENT_STYLE = `
:host { display: inline-block; color: var(--minilogin-text, #1f2329); }
.tabs { display: flex; justify-content: center; gap: 4px; margin-bottom: 12px; border-bottom: 1px solid var(--minilogin-line, #e5e6eb); }
.tabs[hidden] { display: none; }
.tabs button { font: inherit; border: 0; background: none; padding: 6px 12px; cursor: pointer; color: var(--minilogin-muted, #646a73);
  border-bottom: 2px solid transparent; margin-bottom: -1px; }
.tabs button[aria-selected="true"] { color: var(--minilogin-accent, #07c160); border-bottom-color: var(--minilogin-accent, #07c160); font-weight: 600; }
.failure { color: var(--minilogin-danger, #d54941); font-size: 13px; }
`;

/** `<minilogin-login issuer client-id lang connection>`, defined where custom elements exist. */
function defineElement() {
  if (!globalThis.customElements || !globalThis.HTMLElement || customElements.get('minilogin-login')) return;

  class MiniLoginElement extends HTMLElement {
    static get observedAttributes() {
      return ['issuer', 'client-id', 'lang', 'connection', 'scope', 'size', 'authorization-request'];
    }

    constructor() {
      super();
      this.attachShadow({ mode: 'open' });
      this.client = null;
      this._version = 0;
    }

    connectedCallback() {
      // Attributes set right after creation arrive before this microtask runs.
      queueMicrotask(() => this.isConnected && this.restart());
    }

    disconnectedCallback() {
      this.client?.stop();
    }

    attributeChangedCallback(name, before, after) {
      if (this.client && before !== after && this.isConnected) this.restart();
    }

    /** Start over: list the application's identity sources and show the first one's code. */
    async restart() {
      const version = ++this._version;
      this.client?.stop();
      const issuer = this.getAttribute('issuer');
      const clientId = this.getAttribute('client-id');
      const lang = pickLang(this.getAttribute('lang') || undefined);
      this.shadowRoot.replaceChildren();
      const style = Object.assign(document.createElement('style'), { textContent: ELEMENT_STYLE });
      this.tabs = Object.assign(document.createElement('div'), { className: 'tabs', hidden: true });
      this.tabs.setAttribute('role', 'tablist');
      this.body = document.createElement('div');
      this.body.dataset.testid = 'qrcode';
      this.shadowRoot.append(style, this.tabs, this.body);
      if (!issuer || !clientId) {
        this.showFailure(new MiniLoginError('invalid_options', 'issuer and client-id are required'));
        return;
      }
      this.client = new MiniLogin({ issuer, clientId, lang, scope: this.getAttribute('scope') || undefined });
      let connections;
      try {
        connections = await withRetries(() =>
          this.client._request(`/api/applications/${encodeURIComponent(clientId)}/connections`, {}),
        );
      } catch (error) {
        if (version === this._version) this.showFailure(error);
        return;
      }
      if (version !== this._version) return;
      const wanted = this.getAttribute('connection');
      const shown = wanted ? connections.filter((c) => c.unique_id === wanted) : connections;
      if (!shown.length) {
        this.showFailure(new MiniLoginError('no_connection', 'no identity source is enabled'));
        return;
      }
      for (const connection of shown) {
        const tab = Object.assign(document.createElement('button'), { type: 'button', textContent: connection.display_name });
        tab.setAttribute('role', 'tab');
        tab.dataset.testid = `tab-${connection.unique_id}`;
        tab.dataset.connection = connection.unique_id;
        tab.addEventListener('click', () => this.select(connection.unique_id));
        this.tabs.append(tab);
      }
      this.tabs.hidden = false;
      this.select(shown[0].unique_id);
    }

    select(connection) {
      for (const tab of this.tabs.children) tab.setAttribute('aria-selected', String(tab.dataset.connection === connection));
      const authorizationRequest = this.getAttribute('authorization-request') || undefined;
      const client = this.client;
      const run = client.startScanning(this.body, {
        connection,
        size: this.getAttribute('size') || 220,
        autoRefresh: this.hasAttribute('auto-refresh'),
        authorizationRequest,
        exchange: !authorizationRequest,
        onStatus: (status) => this.dispatchEvent(new CustomEvent('status', { detail: status })),
        onError: (error) => this.dispatchEvent(new CustomEvent('error', { detail: error })),
      });
      run.then(
        (result) => {
          const type = authorizationRequest ? 'authorized' : 'login';
          this.dispatchEvent(new CustomEvent(type, { detail: result, bubbles: true, composed: true }));
        },
        () => undefined,
      );
    }

    showFailure(error) {
      const failed = asMiniLoginError(error);
      this.body.replaceChildren(Object.assign(document.createElement('p'), { className: 'failure', textContent: failed.message }));
      this.dispatchEvent(new CustomEvent('error', { detail: failed }));
    }
  }

  customElements.define('minilogin-login', MiniLoginElement);
}

defineElement();
