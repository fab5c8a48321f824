// The console: a hash router over the views, the pool switcher and the language switch.

import { api, enc } from './api.js';
import { clear, h } from './dom.js';
import { lang, setLang, t, translatePage } from './i18n.js';
import * as applications from './views/applications.js';
import * as audit from './views/audit.js';
import * as connections from './views/connections.js';
import * as dashboard from './views/dashboard.js';
import * as pools from './views/pools.js';
import * as users from './views/users.js';

const ROUTES = [
  [/^pools$/, pools.list],
  [/^pools\/([^/]+)\/dashboard$/, dashboard.show],
  [/^pools\/([^/]+)\/applications$/, applications.list],
  [/^pools\/([^/]+)\/applications\/new$/, applications.create],
  [/^pools\/([^/]+)\/applications\/([^/]+)$/, applications.details],
  [/^pools\/([^/]+)\/connections$/, connections.list],
  [/^pools\/([^/]+)\/connections\/new$/, connections.providers],
  [/^pools\/([^/]+)\/connections\/new\/wechat$/, connections.modes],
  [/^pools\/([^/]+)\/connections\/new\/wechat\/mp-qrcode$/, connections.create],
  [/^pools\/([^/]+)\/connections\/([^/]+)$/, connections.details],
  [/^pools\/([^/]+)\/users$/, users.list],
  [/^pools\/([^/]+)\/users\/new$/, users.create],
  [/^pools\/([^/]+)\/users\/([^/]+)$/, users.details],
  [/^pools\/([^/]+)\/audit$/, audit.list],
];

const NAV = [
  ['dashboard', 'dashboard'],
  ['applications', 'applications'],
  ['connections', 'connections'],
  ['users', 'users'],
  ['audit', 'audit'],
];

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const poolSelect = document.getElementById('pool-select');
let knownPools = [];
let messageHandlers = [];
let rendering = 0;

window.addEventListener('message', (event) => {
  if (event.origin !== window.location.origin) return;
  for (const handler of messageHandlers) handler(event.data);
});

async function reloadPools() {
  knownPools = (await api('GET', '/pools')).pools;
  poolSelect.replaceChildren(...knownPools.map((pool) => h('option', { value: pool.slug }, `${pool.name} (${pool.slug})`)));
}

function currentPool(path) {
  const match = /^pools\/([^/]+)/.exec(path);
  if (match) return decodeURIComponent(match[1]);
  return localStorage.getItem('minilogin.pool') || knownPools[0]?.slug;
}

function renderNav(pool, path) {
  const section = path.split('/')[2] || '';
  nav.replaceChildren(
    ...NAV.map(([key, label]) =>
      h('a', { href: `#/pools/${enc(pool)}/${key}`, class: section === key ? 'active' : '', testid: `nav-${key}` }, t(label)),
    ),
    h('hr'),
    h('a', { href: '#/pools', class: path === 'pools' ? 'active' : '', testid: 'nav-pools' }, t('pools')),
    h('a', { href: '/docs', target: '_blank', rel: 'noopener' }, t('api_docs')),
  );
}

async function render() {
  const ticket = ++rendering;
  const [path, query = ''] = window.location.hash.replace(/^#\/?/, '').split('?');
  const pool = currentPool(path);
  if (!path && pool) {
    window.location.replace(`#/pools/${enc(pool)}/dashboard`);
    return;
  }
  if (pool) {
    localStorage.setItem('minilogin.pool', pool);
    poolSelect.value = pool;
  }
  renderNav(pool, path);
  messageHandlers = [];
  const ctx = {
    pool,
    query,
    go: (hash) => {
      if (window.location.hash === hash) render();
      else window.location.hash = hash;
    },
    refresh: () => render(),
    reloadPools,
    onMessage: (handler) => messageHandlers.push(handler),
  };
  for (const [pattern, show] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    try {
      const content = await show(ctx, ...match.slice(2).map(decodeURIComponent));
      if (ticket !== rendering) return;
      clear(view).append(content);
      document.title = `${view.querySelector('h1')?.textContent || 'minilogin'} · minilogin`;
    } catch (error) {
      if (ticket !== rendering) return;
      clear(view).append(h('p', { class: 'form-error', role: 'alert' }, error.message || String(error)));
    }
    return;
  }
  clear(view).append(h('p', { class: 'empty' }, t('not_found')));
}

poolSelect.addEventListener('change', () => {
  window.location.hash = `#/pools/${enc(poolSelect.value)}/dashboard`;
});
const langSwitch = document.getElementById('lang-switch');
langSwitch.textContent = lang() === 'en' ? '中文' : 'English';
langSwitch.addEventListener('click', () => setLang(lang() === 'en' ? 'zh-CN' : 'en'));
window.addEventListener('hashchange', render);
translatePage();
await reloadPools();
await render();
document.body.dataset.ready = '1';
