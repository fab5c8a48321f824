// Applications: list, create (a single page app or a web app whose secret is shown once),
// details with every setting, secret rotation, deletion and "Experience login".

import { api, enc } from '../api.js';
import { h, when } from '../dom.js';
import { field, input, lines, linesOf, onSubmit, select, toast } from '../forms.js';
import { t } from '../i18n.js';

const base = (pool) => `/pools/${enc(pool)}/applications`;

export async function list(ctx) {
  const { applications } = await api('GET', base(ctx.pool));
  return h(
    'section',
    {},
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, t('applications')), h('p', { class: 'muted' }, t('applications_hint'))),
      h('a', { class: 'button primary', href: `#/pools/${ctx.pool}/applications/new`, testid: 'create-application' }, t('create_application')),
    ),
    applications.length === 0
      ? h('p', { class: 'empty' }, t('no_applications'))
      : h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', {}, t('name')), h('th', {}, 'Client ID'), h('th', {}, t('type')), h('th', {}, t('connections')), h('th', {}, t('created_at')))),
          h(
            'tbody',
            {},
            applications.map((application) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/pools/${ctx.pool}/applications/${enc(application.client_id)}` }, application.name)),
                h('td', { class: 'mono' }, application.client_id),
                h('td', {}, t(`type_${application.type}`)),
                h('td', {}, application.connections.join(', ') || '—'),
                h('td', {}, when(application.created_at)),
              ),
            ),
          ),
        ),
  );
}

function settingsFields(application) {
  const controls = {
    name: input({ value: application?.name || '', testid: 'app-name' }),
    redirect_uris: lines(application?.redirect_uris, { testid: 'redirect_uris', placeholder: 'https://example.com/callback' }),
    web_origins: lines(application ? application.web_origins : [window.location.origin], { testid: 'web_origins', placeholder: 'https://example.com' }),
    post_logout_redirect_uris: lines(application?.post_logout_redirect_uris, { testid: 'post_logout_redirect_uris' }),
    id_token_lifetime: input({ type: 'number', value: String(application?.id_token_lifetime ?? 3600), testid: 'id_token_lifetime' }),
    access_token_lifetime: input({ type: 'number', value: String(application?.access_token_lifetime ?? 3600), testid: 'access_token_lifetime' }),
    refresh_token_lifetime: input({ type: 'number', value: String(application?.refresh_token_lifetime ?? 2592000), testid: 'refresh_token_lifetime' }),
    id_token_signed_response_alg: select(
      [
        ['RS256', 'RS256'],
        ['ES256', 'ES256'],
      ],
      application?.id_token_signed_response_alg ?? 'RS256',
      { testid: 'id_token_signed_response_alg' },
    ),
    pkce_required: h('input', { type: 'checkbox', checked: application?.pkce_required ?? true, testid: 'pkce_required' }),
    resource_server: h('input', { type: 'checkbox', checked: application?.resource_server ?? false, testid: 'resource_server' }),
  };
  const fields = [
    field({ name: 'name', label: t('name'), input: controls.name, required: true }),
    field({ name: 'redirect_uris', label: t('redirect_uris'), input: controls.redirect_uris, hint: t('redirect_uris_hint') }),
    field({ name: 'web_origins', label: t('web_origins'), input: controls.web_origins, hint: t('web_origins_hint') }),
    field({ name: 'post_logout_redirect_uris', label: t('post_logout_redirect_uris'), input: controls.post_logout_redirect_uris, hint: t('one_per_line') }),
    h(
      'div',
      { class: 'row3' },
      field({ name: 'id_token_lifetime', label: t('id_token_lifetime'), input: controls.id_token_lifetime }),
      field({ name: 'access_token_lifetime', label: t('access_token_lifetime'), input: controls.access_token_lifetime }),
      field({ name: 'refresh_token_lifetime', label: t('refresh_token_lifetime'), input: controls.refresh_token_lifetime }),
    ),
    field({
      name: 'id_token_signed_response_alg',
      label: t('id_token_signed_response_alg'),
      input: controls.id_token_signed_response_alg,
      hint: t('id_token_signed_response_alg_hint'),
    }),
    field({ name: 'pkce_required', label: t('pkce_required'), input: controls.pkce_required, hint: t('pkce_required_hint') }),
    field({ name: 'resource_server', label: t('resource_server'), input: controls.resource_server, hint: t('resource_server_hint') }),
  ];
  const values = () => ({
    name: controls.name.value,
    redirect_uris: linesOf(controls.redirect_uris),
    web_origins: linesOf(controls.web_origins),
    post_logout_redirect_uris: linesOf(controls.post_logout_redirect_uris),
    id_token_lifetime: Number(controls.id_token_lifetime.value),
    access_token_lifetime: Number(controls.access_token_lifetime.value),
    refresh_token_lifetime: Number(controls.refresh_token_lifetime.value),
    id_token_signed_response_alg: controls.id_token_signed_response_alg.value,
    pkce_required: controls.pkce_required.checked,
    resource_server: controls.resource_server.checked,
  });
  return { fields, values };
}

function secretNotice(secret) {
  return h(
    'div',
    { class: 'notice', testid: 'client-secret' },
    h('b', {}, t('client_secret_once')),
    h('pre', { class: 'secret' }, secret),
  );
}

export async function create(ctx) {
  const spa = h('input', { type: 'radio', name: 'type', value: 'spa', checked: true, testid: 'type-spa' });
  const web = h('input', { type: 'radio', name: 'type', value: 'web', testid: 'type-web' });
  const { fields, values } = settingsFields(null);
  const result = h('div');
  const form = h(
    'form',
    { class: 'stack', novalidate: true, testid: 'application-form' },
    fields[0],
    field({
      name: 'type',
      label: t('type'),
      input: h(
        'div',
        { class: 'choices' },
        h('label', { class: 'choice' }, spa, h('b', {}, t('type_spa')), h('span', { class: 'muted small' }, t('type_spa_hint'))),
        h('label', { class: 'choice' }, web, h('b', {}, t('type_web')), h('span', { class: 'muted small' }, t('type_web_hint'))),
      ),
    }),
    fields.slice(1),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit', testid: 'save-application' }, t('create'))),
  );
  onSubmit(form, async () => {
    const created = await api('POST', base(ctx.pool), { ...values(), type: web.checked ? 'web' : 'spa' });
    toast(t('created'));
    const link = h('a', { class: 'button primary', href: `#/pools/${ctx.pool}/applications/${enc(created.client_id)}`, testid: 'open-application' }, t('open_application'));
    if (created.client_secret) {
      form.hidden = true;
      result.replaceChildren(secretNotice(created.client_secret), h('p', {}, 'Client ID: ', h('code', {}, created.client_id)), link);
    } else {
      ctx.go(`#/pools/${ctx.pool}/applications/${enc(created.client_id)}`);
    }
  });
  return h(
    'section',
    {},
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/pools/${ctx.pool}/applications` }, t('applications')), ' / ', t('create_application')),
    h('h1', {}, t('create_application')),
    result,
    h('div', { class: 'panel' }, form),
  );
}

export function openExperience(pool, clientId) {
  const url = `/console/experience?pool=${enc(pool)}&client_id=${enc(clientId)}`;
  return window.open(url, 'minilogin-experience', 'popup,width=520,height=820');
}

export async function details(ctx, clientId) {
  const [application, { connections }] = await Promise.all([
    api('GET', `${base(ctx.pool)}/${enc(clientId)}`),
    api('GET', `/pools/${enc(ctx.pool)}/connections`),
  ]);
  const { fields, values } = settingsFields(application);
  const secretHolder = h('div');
  const form = h(
    'form',
    { class: 'stack', novalidate: true, testid: 'application-form' },
    fields,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit', testid: 'save-application' }, t('save'))),
  );
  onSubmit(form, async () => {
    await api('PATCH', `${base(ctx.pool)}/${enc(clientId)}`, values());
    toast(t('saved'));
  });
  const lastResult = h('div', { class: 'panel', hidden: true, testid: 'experience-summary' });
  ctx.onMessage((data) => {
    if (data?.type !== 'minilogin:experience' || data.clientId !== clientId) return;
    lastResult.hidden = false;
    lastResult.replaceChildren(
      h('h3', {}, t('experience_last')),
      h('p', {}, data.claims.name || data.claims.sub, ' · ', data.claims.phone_number || ''),
      h('pre', {}, JSON.stringify(data.claims, null, 2)),
    );
  });
  const enabled = new Set(application.connections);
  const rotate =
    application.type === 'web'
      ? h(
          'button',
          {
            type: 'button',
            testid: 'rotate-secret',
            onClick: async () => {
              if (!window.confirm(t('confirm_rotate'))) return;
              const rotated = await api('POST', `${base(ctx.pool)}/${enc(clientId)}/secret`);
              secretHolder.replaceChildren(secretNotice(rotated.client_secret));
            },
          },
          t('rotate_secret'),
        )
      : null;
  return h(
    'section',
    {},
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/pools/${ctx.pool}/applications` }, t('applications')), ' / ', application.name),
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, application.name), h('p', { class: 'muted' }, t(`type_${application.type}`), ' · Client ID ', h('code', { testid: 'client-id' }, application.client_id))),
      h('button', { type: 'button', class: 'primary', testid: 'experience-login', onClick: () => openExperience(ctx.pool, clientId) }, t('experience_login')),
    ),
    secretHolder,
    h(
      'div',
      { class: 'columns' },
      h('div', { class: 'panel' }, h('h2', {}, t('settings')), form),
      h(
        'div',
        {},
        h(
          'div',
          { class: 'panel' },
          h('h2', {}, t('connections')),
          connections.length === 0
            ? h('p', { class: 'muted' }, t('no_connections'))
            : h(
                'ul',
                { class: 'plain' },
                connections.map((source) =>
                  h(
                    'li',
                    {},
                    h('span', { class: enabled.has(source.unique_id) ? 'badge ok' : 'badge' }, enabled.has(source.unique_id) ? t('on') : t('off')),
                    ' ',
                    h('a', { href: `#/pools/${ctx.pool}/connections/${enc(source.unique_id)}` }, source.display_name),
                  ),
                ),
              ),
          h('p', { class: 'muted small' }, t('switch_on_source_page')),
        ),
        lastResult,
        h(
          'div',
          { class: 'panel danger' },
          h('h2', {}, t('danger_zone')),
          h(
            'div',
            { class: 'actions' },
            rotate,
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onClick: async () => {
                  if (!window.confirm(t('confirm_delete_application', application.name))) return;
                  await api('DELETE', `${base(ctx.pool)}/${enc(clientId)}`);
                  toast(t('deleted'));
                  ctx.go(`#/pools/${ctx.pool}/applications`);
                },
              },
              t('delete_application'),
            ),
          ),
        ),
      ),
    ),
  );
}
