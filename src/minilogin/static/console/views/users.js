// Users: search, create, and a user's details with linked WeChat identities, recent logins,
// block/unblock, deletion and unlinking an identity.

import { api, enc } from '../api.js';
import { h, when } from '../dom.js';
import { field, input, onSubmit, showError, toast } from '../forms.js';
import { t } from '../i18n.js';

const base = (pool) => `/pools/${enc(pool)}/users`;

export async function list(ctx) {
  const query = new URLSearchParams(ctx.query).get('q') || '';
  const search = input({ type: 'search', value: query, placeholder: t('search_users'), testid: 'user-search' });
  const form = h('form', { class: 'search' }, search, h('button', { type: 'submit' }, t('search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go(`#/pools/${ctx.pool}/users${search.value ? `?q=${enc(search.value)}` : ''}`);
  });
  const { users, total } = await api('GET', `${base(ctx.pool)}?limit=100${query ? `&q=${enc(query)}` : ''}`);
  return h(
    'section',
    {},
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, t('users')), h('p', { class: 'muted' }, t('users_total', total))),
      h('a', { class: 'button primary', href: `#/pools/${ctx.pool}/users/new`, testid: 'create-user' }, t('create_user')),
    ),
    form,
    users.length === 0
      ? h('p', { class: 'empty' }, t('no_users'))
      : h(
          'table',
          { class: 'table', testid: 'users' },
          h('thead', {}, h('tr', {}, [t('user'), t('phone'), t('username'), t('login_count'), t('last_login_at'), t('status')].map((label) => h('th', {}, label)))),
          h(
            'tbody',
            {},
            users.map((user) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/pools/${ctx.pool}/users/${enc(user.id)}` }, user.nickname || user.username || user.phone || user.id)),
                h('td', {}, user.phone || '—', user.phone && user.phone_verified ? h('span', { class: 'badge ok' }, t('verified')) : null),
                h('td', {}, user.username || '—'),
                h('td', {}, String(user.login_count)),
                h('td', {}, when(user.last_login_at)),
                h('td', {}, user.blocked ? h('span', { class: 'badge bad' }, t('blocked')) : h('span', { class: 'badge ok' }, t('active'))),
              ),
            ),
          ),
        ),
  );
}

export async function create(ctx) {
  const controls = {
    username: input({ testid: 'username' }),
    phone: input({ type: 'tel', placeholder: '+8613800138000', testid: 'phone' }),
    phone_verified: h('input', { type: 'checkbox', testid: 'phone_verified' }),
    email: input({ type: 'email', testid: 'email' }),
    password: input({ type: 'password', autocomplete: 'new-password', testid: 'password' }),
  };
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    field({ name: 'username', label: t('username'), input: controls.username, hint: t('username_hint') }),
    field({ name: 'phone', label: t('phone'), input: controls.phone }),
    field({ name: 'phone_verified', label: t('phone_verified'), input: h('span', { class: 'switch' }, controls.phone_verified, h('span', { class: 'muted small' }, t('phone_verified_hint'))) }),
    field({ name: 'email', label: t('email'), input: controls.email }),
    field({ name: 'password', label: t('password'), input: controls.password, hint: t('password_hint') }),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit', testid: 'save-user' }, t('create'))),
  );
  onSubmit(form, async () => {
    const body = { phone_verified: controls.phone_verified.checked };
    for (const name of ['username', 'phone', 'email', 'password']) {
      if (controls[name].value) body[name] = controls[name].value;
    }
    const user = await api('POST', base(ctx.pool), body);
    toast(t('created'));
    ctx.go(`#/pools/${ctx.pool}/users/${enc(user.id)}`);
  });
  return h(
    'section',
    {},
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/pools/${ctx.pool}/users` }, t('users')), ' / ', t('create_user')),
    h('h1', {}, t('create_user')),
    h('div', { class: 'panel' }, form),
  );
}

export async function details(ctx, userId) {
  const user = await api('GET', `${base(ctx.pool)}/${enc(userId)}`);
  const path = `${base(ctx.pool)}/${enc(userId)}`;
  const actions = h('div', { class: 'actions' });
  actions.append(
    h(
      'button',
      {
        type: 'button',
        testid: 'toggle-block',
        onClick: async () => {
          try {
            await api('PATCH', path, { blocked: !user.blocked });
            toast(user.blocked ? t('unblocked') : t('blocked'));
            ctx.refresh();
          } catch (error) {
            showError(actions, error);
          }
        },
      },
      user.blocked ? t('unblock') : t('block'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onClick: async () => {
          if (!window.confirm(t('confirm_delete_user'))) return;
          await api('DELETE', path);
          toast(t('deleted'));
          ctx.go(`#/pools/${ctx.pool}/users`);
        },
      },
      t('delete_user'),
    ),
  );
  const facts = [
    ['ID (sub)', h('code', {}, user.id)],
    [t('phone'), [user.phone || '—', user.phone && user.phone_verified ? h('span', { class: 'badge ok' }, t('verified')) : null]],
    [t('username'), user.username || '—'],
    [t('email'), user.email || '—'],
    [t('nickname'), user.nickname || '—'],
    [t('login_count'), String(user.login_count)],
    [t('last_login_at'), when(user.last_login_at)],
    [t('created_at'), when(user.created_at)],
    [t('status'), user.blocked ? h('span', { class: 'badge bad', testid: 'user-status' }, t('blocked')) : h('span', { class: 'badge ok', testid: 'user-status' }, t('active'))],
  ];
  return h(
    'section',
    {},
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/pools/${ctx.pool}/users` }, t('users')), ' / ', user.nickname || user.username || user.phone || user.id),
    h(
      'div',
      { class: 'page-head' },
      h('div', { class: 'user-line' }, user.avatar_url ? h('img', { src: user.avatar_url, alt: '' }) : null, h('h1', {}, user.nickname || user.username || user.phone || user.id)),
      actions,
    ),
    h(
      'div',
      { class: 'columns wide-right' },
      h('div', { class: 'panel' }, h('h2', {}, t('profile')), h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]))),
      h(
        'div',
        {},
        h('div', { class: 'panel' }, h('h2', {}, t('identities')), identities(ctx, user)),
        h('div', { class: 'panel' }, h('h2', {}, t('recent_logins')), recentLogins(user)),
      ),
    ),
  );
}

function identities(ctx, user) {
  if (user.identities.length === 0) return h('p', { class: 'muted' }, t('no_identities'));
  return h(
    'table',
    { class: 'table', testid: 'identities' },
    h('thead', {}, h('tr', {}, ['AppID', 'OpenID', 'UnionID', t('linked_at'), ''].map((label) => h('th', {}, label)))),
    h(
      'tbody',
      {},
      user.identities.map((identity) =>
        h(
          'tr',
          {},
          h('td', { class: 'mono' }, identity.app_id),
          h('td', { class: 'mono small' }, identity.openid),
          h('td', { class: 'mono small' }, identity.unionid || '—'),
          h('td', {}, when(identity.created_at)),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'link',
                onClick: async () => {
                  if (!window.confirm(t('confirm_unlink'))) return;
                  await api('DELETE', `/pools/${enc(ctx.pool)}/users/${enc(user.id)}/identities/${enc(identity.id)}`);
                  toast(t('unlinked'));
                  ctx.refresh();
                },
              },
              t('unlink'),
            ),
          ),
        ),
      ),
    ),
  );
}

function recentLogins(user) {
  if (user.recent_logins.length === 0) return h('p', { class: 'muted' }, t('no_logins'));
  return h(
    'table',
    { class: 'table' },
    h('thead', {}, h('tr', {}, [t('time'), t('application'), t('connection'), 'IP'].map((label) => h('th', {}, label)))),
    h(
      'tbody',
      {},
      user.recent_logins.map((login) =>
        h('tr', {}, h('td', {}, when(login.at)), h('td', { class: 'mono' }, login.client_id || '—'), h('td', { class: 'mono' }, login.connection || '—'), h('td', {}, login.ip || '—')),
      ),
    ),
  );
}
