// Unit tests of the SDK's logic, without a DOM: PKCE and the SHA-256 fallback against known
// vectors, JWT decoding, token storage and refresh, and the state machine of a scan run
// driven by a fake fetch whose event streams the test writes.  Run with `node --test`.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  MiniLogin,
  MiniLoginError,
  ScanController,
  SerialQueue,
  TokenStore,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  START_ATTEMPTS,
  backoffDelay,
  base64url,
  createPkcePair,
  decodeJwtPayload,
  needsRefresh,
  pickLang,
  readEventStream,
  s256,
  sha256Fallback,
} from '../../src/minilogin/static/minilogin.js';

const ISSUER = 'https://login.example.com/pools/acme';
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const utf8 = (text) => new TextEncoder().encode(text);

function jwt(claims) {
  const part = (value) => base64url(utf8(JSON.stringify(value)));
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

function tokenBody(claims = {}, extra = {}) {
  return {
    access_token: `at-${Math.random()}`,
    id_token: jwt({ sub: 'usr_1', ...claims }),
    refresh_token: `rt-${Math.random()}`,
    expires_in: 3600,
    token_type: 'Bearer',
    ...extra,
  };
}

/** A fetch that answers from `routes` ("METHOD /path" → handler) and records every call. */
function fakeFetch(routes) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const method = init.method || 'GET';
    const path = url.replace(ISSUER, '').split('?')[0];
    const call = { method, path, url, init, body: init.body };
    calls.push(call);
    const handler = routes[`${method} ${path}`] || (path.endsWith('/events') && routes['GET */events']);
    if (!handler) throw new Error(`unexpected ${method} ${path}`);
    const { status = 200, body = null, stream = null } = await handler(call);
    return { ok: status >= 200 && status < 300, status, json: async () => body, body: stream?.body ?? null };
  };
  fetch.calls = calls;
  return fetch;
}

/** The body of one `GET …/events` the test writes: `open()`, `status(body)`, `end(retry)`,
 * `fail()`. `closed` once the SDK let go of it. */
class FakeEventStream {
  static last = null;
  constructor(call) {
    this.url = call.url;
    this.init = call.init;
    this.closed = false;
    this.body = new ReadableStream({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.closed = true;
      },
    });
    call.init.signal?.addEventListener('abort', () => {
      this.closed = true;
      this.controller.error(new DOMException('aborted', 'AbortError'));
    });
    FakeEventStream.last = this;
  }
  send(text) {
    this.controller.enqueue(new TextEncoder().encode(text));
  }
  open() {
    this.send('retry: 1000\n\n');
  }
  status(body) {
    this.send(`id: ${body.status}.1\nevent: status\ndata: ${JSON.stringify(body)}\n\n`);
  }
  end(retry) {
    this.send(`retry: ${retry}\n\n`);
    this.controller.close();
  }
  fail() {
    this.controller.error(new TypeError('network error'));
  }
}

const created = (id) => ({
  id,
  secret: `secret-${id}`,
  status: 'pending',
  image_url: `${ISSUER}/api/qrcodes/${id}/image.png`,
  expires_in: 120,
});

/** Poll `predicate` until it holds, for at most `ms` (two seconds). */
const until = async (predicate, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.fail('the condition never held');
};

describe('SHA-256 and PKCE', () => {
  it('the fallback matches FIPS 180-4 test vectors', () => {
    assert.equal(hex(sha256Fallback(utf8(''))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(sha256Fallback(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      hex(sha256Fallback(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    assert.equal(
      hex(sha256Fallback(new Uint8Array(1_000_000).fill(0x61))),
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('the fallback agrees with node for every length around the block boundaries', () => {
    for (let length = 0; length < 200; length++) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      assert.equal(hex(sha256Fallback(data)), createHash('sha256').update(data).digest('hex'), `length ${length}`);
    }
  });

  it('S256 gives RFC 7636 Appendix B, with and without crypto.subtle', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    assert.equal(await s256(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', {
      value: { getRandomValues: (a) => descriptor.get?.call(globalThis).getRandomValues(a) ?? a },
      configurable: true,
    });
    try {
      assert.equal(globalThis.crypto.subtle, undefined);
      assert.equal(await s256(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    } finally {
      Object.defineProperty(globalThis, 'crypto', descriptor);
    }
  });

  it('a PKCE pair is a fresh 43-character verifier and its challenge', async () => {
    const one = await createPkcePair();
    const two = await createPkcePair();
    assert.match(one.verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(one.verifier, two.verifier);
    assert.equal(one.challenge, createHash('sha256').update(one.verifier).digest('base64url'));
  });
});

describe('JWT, language and token helpers', () => {
  it('decodes a payload with UTF-8 and base64url characters', () => {
    const claims = { sub: 'usr_?>>', name: '小明', n: 'é~~' };
    assert.deepEqual(decodeJwtPayload(jwt(claims)), claims);
  });

  it('refuses what is not a JWT with a coded error', () => {
    for (const token of ['', 'abc', 'a.%%%.c', `a.${base64url(utf8('"text"'))}.c`, undefined]) {
      assert.throws(() => decodeJwtPayload(token), (error) => error instanceof MiniLoginError && error.code === 'invalid_token');
    }
  });

  it('speaks Simplified Chinese unless asked for English', () => {
    assert.equal(pickLang('en-GB'), 'en');
    assert.equal(pickLang('zh-TW'), 'zh-CN');
    assert.equal(pickLang('fr'), 'zh-CN');
  });

  it('refreshes an access token a minute before it expires', () => {
    assert.equal(needsRefresh(null), true);
    assert.equal(needsRefresh({ accessToken: 'a', expiresAt: 1_000_000 }, 1_000_000 - 61_000), false);
    assert.equal(needsRefresh({ accessToken: 'a', expiresAt: 1_000_000 }, 1_000_000 - 59_000), true);
  });

  it('keeps tokens in memory or in a Web Storage', () => {
    const memory = new TokenStore(null, 'k');
    memory.set({ accessToken: 'a' });
    assert.deepEqual(memory.get(), { accessToken: 'a' });
    memory.clear();
    assert.equal(memory.get(), null);
    const items = new Map();
    const storage = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v), removeItem: (k) => items.delete(k) };
    const stored = new TokenStore(storage, 'k');
    stored.set({ accessToken: 'b' });
    assert.equal(items.get('k'), '{"accessToken":"b"}');
    assert.deepEqual(stored.get(), { accessToken: 'b' });
    items.set('k', '{broken');
    assert.equal(stored.get(), null);
  });

  it('runs queued tasks one at a time, even after a failure', async () => {
    const queue = new SerialQueue();
    let running = 0;
    let most = 0;
    const task = (fail) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      if (fail) throw new Error('boom');
      return 'ok';
    };
    const results = await Promise.allSettled([queue.run(task()), queue.run(task(true)), queue.run(task())]);
    assert.equal(most, 1);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('MiniLogin tokens', () => {
  it('requires an issuer and a client id', () => {
    assert.throws(() => new MiniLogin({ issuer: ISSUER }), (error) => error.code === 'invalid_options');
  });

  it('shares one refresh between concurrent callers and stores the rotated tokens', async () => {
    const fetch = fakeFetch({
      'POST /oidc/token': async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { body: tokenBody({}, { access_token: 'fresh', refresh_token: 'rt-2' }) };
      },
    });
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch });
    ml._tokens.set({ accessToken: 'old', refreshToken: 'rt-1', expiresAt: Date.now() + 1000, idToken: '', user: {} });
    const tokens = await Promise.all([ml.getAccessToken(), ml.getAccessToken(), ml.getAccessToken()]);
    assert.deepEqual(tokens, ['fresh', 'fresh', 'fresh']);
    assert.equal(fetch.calls.length, 1);
    const form = new URLSearchParams(fetch.calls[0].body);
    assert.deepEqual(Object.fromEntries(form), { grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'web' });
    assert.equal(ml.getTokens().refreshToken, 'rt-2');
    assert.equal(await ml.getAccessToken(), 'fresh');
    assert.equal(fetch.calls.length, 1, 'a valid token is handed out without a request');
  });

  it('forgets the tokens when the refresh token is refused', async () => {
    const fetch = fakeFetch({ 'POST /oidc/token': () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'reused' } }) });
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch });
    ml._tokens.set({ accessToken: 'old', refreshToken: 'rt-1', expiresAt: 0, idToken: '', user: {} });
    await assert.rejects(ml.getAccessToken(), (error) => error instanceof MiniLoginError && error.code === 'invalid_grant' && error.status === 400);
    assert.equal(ml.getTokens(), null);
    await assert.rejects(ml.getAccessToken(), (error) => error.code === 'login_required');
  });

  it('a request that never answers fails with timeout instead of hanging', async () => {
    const fetch = (url, init) =>
      new Promise((resolve, reject) => init.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch });
    await assert.rejects(ml._send('/oidc/token', {}, 10), (error) => error.code === 'timeout');
  });

  it('a network failure is an Error with a code', async () => {
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch: async () => { throw new TypeError('Failed to fetch'); } });
    await assert.rejects(ml._send('/x', {}, 1000), (error) => error instanceof MiniLoginError && error.code === 'network_error');
  });

  it('checks the nonce of the ID token it receives', async () => {
    const fetch = fakeFetch({ 'POST /oidc/token': () => ({ body: tokenBody({ nonce: 'other' }) }) });
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch });
    await assert.rejects(ml.exchangeCode('c', 'v', { nonce: 'mine' }), (error) => error.code === 'invalid_nonce');
    assert.equal(ml.getTokens(), null);
  });

  it('builds the authorization request of the hosted page', () => {
    const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', lang: 'en' });
    const url = new URL(ml.authorizeUrl({ redirectUri: 'https://app/cb', state: 's', nonce: 'n', challenge: 'c', responseMode: 'web_message' }));
    assert.equal(url.origin + url.pathname, `${ISSUER}/oidc/auth`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      response_type: 'code', client_id: 'web', redirect_uri: 'https://app/cb', scope: 'openid profile phone',
      state: 's', nonce: 'n', code_challenge: 'c', code_challenge_method: 'S256', ui_locales: 'en', response_mode: 'web_message',
    });
  });
});

/** A scan run over fake HTTP and SSE; `routes` may override the defaults. */
function scanRun(options = {}, routes = {}) {
  FakeEventStream.last = null;
  let next = 0;
  const fetch = fakeFetch({
    'POST /api/qrcodes': () => ({ status: 201, body: created(`qrl_${++next}`) }),
    'POST /oidc/token': (call) => {
      const nonce = fetch.calls.filter((c) => c.path === '/api/qrcodes').map((c) => JSON.parse(c.body).nonce).at(-1);
      return { body: tokenBody({ nonce, phone_number: '+8613800138000' }) };
    },
    'DELETE /api/qrcodes/qrl_1': () => ({ status: 204 }),
    'GET */events': (call) => ({ stream: new FakeEventStream(call) }),
    ...routes,
  });
  const ml = new MiniLogin({ issuer: ISSUER, clientId: 'web', fetch });
  const states = [];
  const controller = new ScanController(ml, options);
  controller.onChange((state) => states.push(state.status));
  return { ml, fetch, controller, states };
}

describe('retries and event streams', () => {
  it('backs off by doubling up to a ceiling, with jitter in the upper half', () => {
    assert.equal(backoffDelay(1, () => 0), RETRY_BASE_MS / 2);
    assert.equal(backoffDelay(1, () => 1), RETRY_BASE_MS);
    assert.equal(backoffDelay(3, () => 1), RETRY_BASE_MS * 4);
    assert.equal(backoffDelay(30, () => 1), RETRY_MAX_MS);
    assert.equal(backoffDelay(30, () => 0), RETRY_MAX_MS / 2);
    const seen = new Set(Array.from({ length: 20 }, () => backoffDelay(2)));
    assert.ok(seen.size > 1, 'two browsers cut off together come back at different moments');
  });

  it('reads an event stream split anywhere, as the HTML standard does', async () => {
    const text = 'retry: 1000\r\n\n: keep-alive\n\nid: a.1\nevent: status\ndata: {"x":\ndata: 1}\n\nbogus\nretry: x\n\nretry: 750\n\n';
    const bytes = new TextEncoder().encode(text);
    const chunks = [bytes.slice(0, 5), bytes.slice(5, 31), bytes.slice(31, 32), bytes.slice(32)];
    const body = new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const events = [];
    const retries = [];
    await readEventStream(body, (event) => events.push(event), (ms) => retries.push(ms));
    assert.deepEqual(events, [{ event: 'status', data: '{"x":\n1}', id: 'a.1' }]);
    assert.deepEqual(retries, [1000, 750]);
  });
});

describe('a scan run', { timeout: 5000 }, () => {
  it('goes pending → scanned → authorized and resolves with the exchanged tokens', async () => {
    const scanned = [];
    const { fetch, controller, states } = scanRun({ onScanned: (s) => scanned.push(s.status) });
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    const source = FakeEventStream.last;
    assert.equal(source.url, `${ISSUER}/api/qrcodes/qrl_1/events`);
    assert.equal(source.init.headers.Authorization, 'Bearer secret-qrl_1');
    const create = JSON.parse(fetch.calls[0].body);
    assert.equal(create.client_id, 'web');
    assert.equal(create.code_challenge_method, 'S256');
    source.open();
    source.status({ id: 'qrl_1', status: 'pending' });
    source.status({ id: 'qrl_1', status: 'scanned', scanned: { nickname: 'A' } });
    source.status({ id: 'qrl_1', status: 'scanned' });
    source.status({ id: 'qrl_other', status: 'cancelled' });
    source.status({ id: 'qrl_1', status: 'authorized', code: 'the-code' });
    const result = await controller.promise;
    assert.equal(result.user.phone_number, '+8613800138000');
    assert.deepEqual(scanned, ['scanned']);
    assert.deepEqual(states, ['loading', 'loading', 'pending', 'pending', 'scanned', 'authorized', 'authorized']);
    assert.equal(source.closed, true);
    const exchange = Object.fromEntries(new URLSearchParams(fetch.calls.at(-1).body));
    assert.equal(exchange.code, 'the-code');
    assert.equal(await s256(exchange.code_verifier), create.code_challenge);
  });

  it('falls back to long polling when the stream fails before opening', async () => {
    let polls = 0;
    const { fetch, controller } = scanRun({}, {
      'GET /api/qrcodes/qrl_1': () => {
        polls++;
        return { body: polls === 1 ? { id: 'qrl_1', status: 'scanned' } : { id: 'qrl_1', status: 'authorized', code: 'c' } };
      },
    });
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    FakeEventStream.last.fail();
    await controller.promise;
    const pollCalls = fetch.calls.filter((c) => c.method === 'GET' && !c.path.endsWith('/events'));
    assert.deepEqual(pollCalls.map((c) => c.url.split('?')[1]), ['wait=25&last=pending', 'wait=25&last=scanned']);
    assert.equal(pollCalls[0].init.headers.Authorization, 'Bearer secret-qrl_1');
  });

  it('refreshes by itself after a cancel with autoRefresh', async () => {
    const cancelled = [];
    const { controller, fetch } = scanRun({ autoRefresh: true, onCancel: (s) => cancelled.push(s.error) });
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    FakeEventStream.last.status({ id: 'qrl_1', status: 'cancelled', error: 'cancelled_by_user' });
    await until(() => FakeEventStream.last?.url.includes('qrl_2'));
    assert.deepEqual(cancelled, ['cancelled_by_user']);
    assert.equal(fetch.calls.filter((c) => c.path === '/api/qrcodes').length, 2);
    FakeEventStream.last.status({ id: 'qrl_2', status: 'authorized', code: 'c2' });
    await controller.promise;
  });

  it('waits for a click after expiry without autoRefresh, then starts over', async () => {
    const { controller, states, fetch } = scanRun();
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    FakeEventStream.last.status({ id: 'qrl_1', status: 'expired' });
    await until(() => states.at(-1) === 'expired');
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(fetch.calls.filter((c) => c.path === '/api/qrcodes').length, 1);
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_2'));
    controller.stop();
  });

  it('binds an existing account in needs_binding and goes on to the tokens', async () => {
    const { controller, fetch } = scanRun({}, {
      'POST /api/qrcodes/qrl_1/binding': (call) => {
        const body = JSON.parse(call.body);
        if (body.password !== 'right') return { status: 400, body: { error: 'invalid_credentials', message: 'wrong' } };
        return { body: { id: 'qrl_1', status: 'authorized', code: 'bound-code' } };
      },
    });
    const seen = [];
    controller.onChange((state) => seen.push(state));
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    FakeEventStream.last.status({ id: 'qrl_1', status: 'needs_binding', binding: { login_only: false, phone: '138****8000' } });
    await until(() => controller.lastStatus === 'needs_binding');
    await controller.bind('', '');
    assert.equal(seen.at(-1).bindingError.code, 'invalid_request');
    await controller.bind('alice', 'wrong');
    assert.equal(seen.at(-1).bindingError.code, 'invalid_credentials');
    assert.equal(seen.at(-1).status, 'needs_binding');
    await controller.bind('alice', 'right');
    const result = await controller.promise;
    assert.ok(result.accessToken);
    const binding = fetch.calls.filter((c) => c.path.endsWith('/binding'));
    assert.equal(binding.length, 2);
    assert.equal(binding[0].init.headers.Authorization, 'Bearer secret-qrl_1');
  });

  it('hands over the code instead of exchanging it for the hosted page', async () => {
    const { controller, fetch } = scanRun({ exchange: false, authorizationRequest: 'ar_1' });
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    assert.equal(JSON.parse(fetch.calls[0].body).authorization_request, 'ar_1');
    FakeEventStream.last.status({ id: 'qrl_1', status: 'authorized', code: 'c', state: 's' });
    assert.deepEqual(await controller.promise, { id: 'qrl_1', secret: 'secret-qrl_1', code: 'c', state: 's' });
    assert.equal(fetch.calls.some((c) => c.path === '/oidc/token'), false);
  });

  it('stop() cancels the login on the server and rejects with stopped', async () => {
    const { controller, fetch } = scanRun();
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    controller.stop();
    await assert.rejects(controller.promise, (error) => error.code === 'stopped');
    await until(() => fetch.calls.some((c) => c.method === 'DELETE'));
    assert.equal(FakeEventStream.last.closed, true);
  });

  it('rejects when the page is misconfigured, and reports it through onError', async () => {
    const errors = [];
    const { controller } = scanRun({ onError: (e) => errors.push(e.code) }, {
      'POST /api/qrcodes': () => ({ status: 404, body: { error: 'unknown_client', message: 'no such app' } }),
    });
    controller.start();
    await assert.rejects(controller.promise, (error) => error instanceof MiniLoginError && error.code === 'unknown_client');
    assert.deepEqual(errors, ['unknown_client']);
  });

  it('shows an error after retrying, and waits for a click, when the network keeps failing', async () => {
    let attempts = 0;
    const { controller, states } = scanRun({}, {
      'POST /api/qrcodes': () => {
        attempts++;
        if (attempts <= START_ATTEMPTS) throw new TypeError('offline');
        return { status: 201, body: created('qrl_9') };
      },
    });
    controller.start();
    await until(() => states.at(-1) === 'error', 4000);
    assert.equal(attempts, START_ATTEMPTS);
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_9'));
    FakeEventStream.last.status({ id: 'qrl_9', status: 'authorized', code: 'c' });
    await controller.promise;
  });
  it('resumes the same login when the stream ends with a retry hint or drops', async () => {
    const { fetch, controller, states } = scanRun();
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    const first = FakeEventStream.last;
    first.status({ id: 'qrl_1', status: 'scanned' });
    first.end(20);
    await until(() => FakeEventStream.last !== first);
    const second = FakeEventStream.last;
    assert.equal(second.init.headers['Last-Event-ID'], 'scanned.1');
    second.status({ id: 'qrl_1', status: 'scanned' });
    second.fail();
    await until(() => FakeEventStream.last !== second);
    FakeEventStream.last.status({ id: 'qrl_1', status: 'authorized', code: 'c' });
    await controller.promise;
    assert.equal(fetch.calls.filter((c) => c.path === '/api/qrcodes').length, 1);
    assert.equal(states.includes('error'), false);
    assert.deepEqual(fetch.calls.filter((c) => c.path.endsWith('/events')).map((c) => c.path), [
      '/api/qrcodes/qrl_1/events',
      '/api/qrcodes/qrl_1/events',
      '/api/qrcodes/qrl_1/events',
    ]);
  });

  it('retries long polls after 503, 502 and network errors, then shows an error only for a real one', async () => {
    const answers = [
      () => ({ status: 503, body: { error: 'temporarily_unavailable', message: 'busy' } }),
      () => ({ body: { id: 'qrl_1', status: 'scanned' } }),
      () => {
        throw new TypeError('connection refused');
      },
      () => ({ status: 502, body: null }),
      () => ({ status: 401, body: { error: 'unauthorized', message: 'no' } }),
    ];
    const { controller, states } = scanRun({ transport: 'poll' }, {
      'GET /api/qrcodes/qrl_1': () => answers.shift()(),
    });
    controller.start();
    await until(() => states.at(-1) === 'error', 4000);
    assert.equal(answers.length, 0);
    assert.deepEqual(states.filter((state) => state !== 'loading'), ['pending', 'scanned', 'error']);
    assert.equal(controller.state.error.code, 'unauthorized');
  });
  it('creates its login through a 503 without showing an error', async () => {
    let attempts = 0;
    const { controller, states } = scanRun({}, {
      'POST /api/qrcodes': () => {
        attempts++;
        if (attempts === 1) return { status: 503, body: { error: 'temporarily_unavailable', message: 'busy' } };
        return { status: 201, body: created('qrl_1') };
      },
    });
    controller.start();
    await until(() => FakeEventStream.last?.url.includes('qrl_1'));
    FakeEventStream.last.status({ id: 'qrl_1', status: 'authorized', code: 'c' });
    await controller.promise;
    assert.equal(states.includes('error'), false);
  });
});
