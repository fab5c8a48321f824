// minilogin JavaScript SDK: log in by scanning a WeChat mini program code.
// An ES module with no dependencies, served by the minilogin server itself.
//
//   import { MiniLogin } from '{public}/static/minilogin.js';
//   const ml = new MiniLogin({ issuer: '{public}/pools/acme', clientId: 'web' });
//   const result = await ml.startScanning('#qrcode', { onScanned, onSuccess });
//
// The QR login contract is API.md §1; the code exchange is OpenID Connect (API.md §2).

const TEXT = {
  'zh-CN': {
    loading: '正在生成二维码…',
    scan: '请使用微信扫一扫登录',
    scanned: '扫码成功，请在手机上确认',
    binding: '请在下方完成账号绑定',
    authorized: '登录成功',
    expired: '二维码已过期，点击刷新',
    cancelled: '已取消，点击刷新',
    error: '出错了，点击重试',
    refresh: '刷新',
  },
  en: {
    loading: 'Preparing the code…',
    scan: 'Scan with WeChat to log in',
    scanned: 'Scanned. Confirm on your phone',
    binding: 'Finish binding your account below',
    authorized: 'Logged in',
    expired: 'The code has expired. Click to refresh',
    cancelled: 'Cancelled. Click to refresh',
    error: 'Something went wrong. Click to retry',
    refresh: 'Refresh',
  },
};

/** Every error the SDK raises: `code` is stable, `message` is for people. */
export class MiniLoginError extends Error {
  /** @param {string} code @param {string} [message] */
  constructor(code, message) {
    super(message || code);
    this.name = 'MiniLoginError';
    this.code = code;
  }
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
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

/** RFC 7636 §4.1–4.2: a random verifier and its S256 challenge. */
export async function createPkcePair() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const data = new TextEncoder().encode(verifier);
  const digest = globalThis.crypto?.subtle
    ? new Uint8Array(await crypto.subtle.digest('SHA-256', data))
    : sha256Fallback(data);
  return { verifier, challenge: base64url(digest) };
}

/** The payload of a JWT, without verifying it (the backend verifies; the page only shows). */
export function decodeJwtPayload(token) {
  const part = token.split('.')[1] || '';
  const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function pickLang(lang) {
  const wanted = lang || globalThis.navigator?.language || 'zh-CN';
  return wanted.toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

/** @param {Response} response */
async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // a body that is not JSON still yields an error with the HTTP status as its code
  }
  return new MiniLoginError(body.error || `http_${response.status}`, body.message || body.error_description);
}

export class MiniLogin {
  /**
   * @param {{issuer: string, clientId: string, scope?: string, lang?: string}} options
   */
  constructor({ issuer, clientId, scope = 'openid profile phone', lang } = {}) {
    if (!issuer || !clientId) throw new MiniLoginError('invalid_options', 'issuer and clientId are required');
    this.issuer = issuer.replace(/\/$/, '');
    this.clientId = clientId;
    this.scope = scope;
    this.lang = pickLang(lang);
    this._run = null;
  }

  /**
   * Show a mini program code in `target` and resolve with the tokens once the person has
   * scanned and allowed on their phone.
   * @returns {Promise<{idToken: string, accessToken: string, refreshToken?: string, expiresAt: number, user: object}>}
   */
  startScanning(target, options = {}) {
    this.stop();
    const element = typeof target === 'string' ? document.querySelector(target) : target;
    if (!element) return Promise.reject(new MiniLoginError('invalid_target', `no element ${target}`));
    const run = new ScanRun(this, element, options);
    this._run = run;
    return run.promise;
  }

  /** Stop listening, cancel the QR login on the server, and reject the pending promise. */
  stop() {
    if (this._run) {
      this._run.stop();
      this._run = null;
    }
  }

  async _post(path, body, headers = {}) {
    const response = await fetch(`${this.issuer}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': this.lang, ...headers },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  /** RFC 6749 §4.1.3 with the PKCE verifier; public clients send no secret. */
  async exchangeCode(code, verifier) {
    const response = await fetch(`${this.issuer}/oidc/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        client_id: this.clientId,
      }),
    });
    if (!response.ok) throw await failure(response);
    const tokens = await response.json();
    return {
      idToken: tokens.id_token,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: Date.now() + tokens.expires_in * 1000,
      user: decodeJwtPayload(tokens.id_token),
    };
  }
}

/** One `startScanning` call: a QR login, its view and its listener, refreshed as needed. */
class ScanRun {
  constructor(client, element, options) {
    this.client = client;
    this.element = element;
    this.options = options;
    this.lang = options.lang ? pickLang(options.lang) : client.lang;
    this.text = TEXT[this.lang];
    this.stopped = false;
    this.controller = null;
    this.source = null;
    this.login = null;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.render();
    this.start();
  }

  render() {
    const size = this.options.size || 240;
    this.element.innerHTML = '';
    const box = document.createElement('div');
    box.className = 'minilogin-qrcode';
    box.style.cssText = `position:relative;width:${size}px;height:${size}px;display:inline-block`;
    this.img = document.createElement('img');
    this.img.alt = this.text.scan;
    this.img.width = size;
    this.img.height = size;
    this.img.style.cssText = 'display:block;width:100%;height:100%';
    this.img.addEventListener('error', () => {
      if (this.img.getAttribute('src')) this.fail(new MiniLoginError('image_failed', this.text.error));
    });
    this.overlay = document.createElement('button');
    this.overlay.type = 'button';
    this.overlay.className = 'minilogin-overlay';
    this.overlay.style.cssText =
      'position:absolute;inset:0;display:none;flex-direction:column;align-items:center;justify-content:center;' +
      'gap:8px;border:0;background:rgba(255,255,255,.94);font:14px/1.4 system-ui,sans-serif;color:#222;cursor:default';
    this.overlay.addEventListener('click', () => {
      if (this.overlay.dataset.refresh === '1') this.start();
    });
    this.caption = document.createElement('div');
    this.caption.className = 'minilogin-caption';
    this.caption.style.cssText = 'text-align:center;font:14px/1.6 system-ui,sans-serif;margin-top:8px';
    box.append(this.img, this.overlay);
    this.element.append(box, this.caption);
    this.element.dataset.status = 'loading';
    this.caption.textContent = this.text.loading;
  }

  show(status, login) {
    this.element.dataset.status = status;
    const overlay = this.overlay;
    overlay.innerHTML = '';
    overlay.dataset.refresh = '';
    overlay.style.cursor = 'default';
    if (status === 'pending') {
      overlay.style.display = 'none';
      this.caption.textContent = this.text.scan;
      return;
    }
    overlay.style.display = 'flex';
    const label = document.createElement('div');
    if (status === 'scanned' || status === 'needs_binding') {
      const avatarUrl = login?.scanned?.avatar_url;
      if (avatarUrl) {
        const avatar = document.createElement('img');
        avatar.src = avatarUrl;
        avatar.alt = login.scanned.nickname || '';
        avatar.style.cssText = 'width:56px;height:56px;border-radius:50%;object-fit:cover';
        overlay.append(avatar);
      }
      label.textContent = status === 'scanned' ? this.text.scanned : this.text.binding;
    } else if (status === 'authorized') {
      label.textContent = this.text.authorized;
    } else {
      label.textContent = this.text[status] || this.text.error;
      overlay.dataset.refresh = '1';
      overlay.style.cursor = 'pointer';
    }
    overlay.append(label);
    this.caption.textContent = label.textContent;
  }

  async start() {
    this.close();
    if (this.stopped) return;
    this.controller = new AbortController();
    this.show('pending');
    this.element.dataset.status = 'loading';
    this.caption.textContent = this.text.loading;
    try {
      this.pkce = await createPkcePair();
      const body = {
        client_id: this.client.clientId,
        code_challenge: this.pkce.challenge,
        code_challenge_method: 'S256',
        scope: this.client.scope,
      };
      if (this.options.connection) body.connection = this.options.connection;
      this.login = await this.client._post('/api/qrcodes', body);
      if (this.stopped) return;
      this.img.src = this.login.image_url;
      this.element.dataset.qrloginId = this.login.id;
      this.show('pending');
      this.options.onQRCode?.({ ...this.login });
      this.listen(this.login);
    } catch (error) {
      this.fail(error);
    }
  }

  listen(login) {
    const url = `${this.client.issuer}/api/qrcodes/${login.id}/events?secret=${encodeURIComponent(login.secret)}`;
    if (typeof EventSource === 'undefined' || this.options.transport === 'poll') {
      this.poll(login, 'pending');
      return;
    }
    let last = 'pending';
    let opened = false;
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('open', () => {
      opened = true;
    });
    source.addEventListener('status', (event) => {
      const status = JSON.parse(event.data);
      last = status.status;
      this.onStatus(status);
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      // Without SSE (a proxy that buffers, a browser without it) fall back to long polling;
      // a stream that worked and then dropped resumes the same way.
      if (!this.stopped && !['authorized', 'consumed', 'cancelled', 'expired'].includes(last)) {
        this.poll(login, opened ? last : 'pending');
      }
    });
  }

  async poll(login, last) {
    const signal = this.controller?.signal;
    while (!this.stopped && this.login === login) {
      try {
        const response = await fetch(
          `${this.client.issuer}/api/qrcodes/${login.id}?wait=25&last=${encodeURIComponent(last)}`,
          { headers: { Authorization: `Bearer ${login.secret}` }, signal },
        );
        if (!response.ok) throw await failure(response);
        const status = await response.json();
        last = status.status;
        this.onStatus(status);
        if (['authorized', 'consumed', 'cancelled', 'expired'].includes(last)) return;
      } catch (error) {
        if (error.name === 'AbortError' || this.stopped) return;
        this.fail(error instanceof MiniLoginError ? error : new MiniLoginError('network_error', String(error)));
        return;
      }
    }
  }

  onStatus(status) {
    if (this.stopped || !this.login || status.id !== this.login.id) return;
    const handler = {
      scanned: this.options.onScanned,
      needs_binding: this.options.onNeedsBinding,
      cancelled: this.options.onCancel,
      expired: this.options.onExpired,
    }[status.status];
    if (status.status === this.lastStatus) return;
    this.lastStatus = status.status;
    this.show(status.status, status);
    this.options.onStatus?.(status);
    handler?.(status);
    if (status.status === 'authorized' && status.code) {
      this.finish(status.code);
    } else if (['cancelled', 'expired'].includes(status.status)) {
      this.close();
      if (this.options.autoRefresh) this.start();
    }
  }

  async finish(code) {
    this.close();
    try {
      const result = await this.client.exchangeCode(code, this.pkce.verifier);
      this.element.dataset.status = 'authorized';
      this.options.onSuccess?.(result);
      this.resolve(result);
    } catch (error) {
      this.fail(error);
    }
  }

  fail(error) {
    const failure = error instanceof MiniLoginError ? error : new MiniLoginError('network_error', String(error));
    this.close();
    this.show('error');
    this.options.onError?.(failure);
  }

  close() {
    this.source?.close();
    this.source = null;
    this.controller?.abort();
    this.controller = null;
    this.lastStatus = undefined;
  }

  stop() {
    if (this.stopped) return;
    const login = this.login;
    this.stopped = true;
    this.close();
    if (login && !['authorized', 'consumed'].includes(this.element.dataset.status)) {
      fetch(`${this.client.issuer}/api/qrcodes/${login.id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${login.secret}` },
      }).catch(() => {});
    }
    this.reject(new MiniLoginError('stopped', 'the scan was stopped'));
  }
}
