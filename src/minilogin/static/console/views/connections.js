// Social identity sources: the list, "Create social identity source" (provider card, then the
// login mode, then the configuration form), and a source's details page with its logo and
// the applications it is switched on for.

import { api, enc } from '../api.js';
import { h } from '../dom.js';
import { field, input, onSubmit, select, showError, toast } from '../forms.js';
import { t } from '../i18n.js';

const base = (pool) => `/pools/${enc(pool)}/connections`;

export async function list(ctx) {
  const { connections } = await api('GET', base(ctx.pool));
  return h(
    'section',
    {},
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, t('connections')), h('p', { class: 'muted' }, t('connections_hint'))),
      h('a', { class: 'button primary', href: `#/pools/${ctx.pool}/connections/new`, testid: 'create-connection' }, t('create_connection')),
    ),
    connections.length === 0
      ? h('p', { class: 'empty' }, t('no_connections'))
      : h(
          'div',
          { class: 'cards' },
          connections.map((source) =>
            h(
              'a',
              { class: 'card connection-card', href: `#/pools/${ctx.pool}/connections/${enc(source.unique_id)}`, testid: `connection-${source.unique_id}` },
              source.logo_url ? h('img', { class: 'logo', src: source.logo_url, alt: '' }) : h('span', { class: 'logo placeholder' }, '微'),
              h('div', {}, h('b', {}, source.display_name), h('div', { class: 'muted mono' }, source.unique_id)),
              h('div', { class: 'muted small' }, t('mode_mp_qrcode'), ' · ', t('used_by', source.applications.length)),
            ),
          ),
        ),
  );
}

export async function providers(ctx) {
  const wechat = h(
    'a',
    { class: 'card provider', href: `#/pools/${ctx.pool}/connections/new/wechat`, testid: 'provider-wechat' },
    h('span', { class: 'logo wechat' }, '微'),
    h('b', {}, t('wechat')),
    h('p', { class: 'muted small' }, t('wechat_hint')),
  );
  return h(
    'section',
    {},
    breadcrumb(ctx, t('create_connection')),
    h('h1', {}, t('create_connection')),
    h('p', { class: 'muted' }, t('choose_provider')),
    h('div', { class: 'cards' }, wechat),
  );
}

export async function modes(ctx) {
  const mode = h(
    'a',
    { class: 'card mode', href: `#/pools/${ctx.pool}/connections/new/wechat/mp-qrcode`, testid: 'mode-mp-qrcode' },
    h('b', {}, t('mode_mp_qrcode')),
    h('p', { class: 'muted small' }, t('mode_mp_qrcode_hint')),
  );
  return h(
    'section',
    {},
    breadcrumb(ctx, t('wechat')),
    h('h1', {}, t('wechat'), ' · ', t('choose_mode')),
    h('div', { class: 'cards' }, mode),
  );
}

export async function create(ctx) {
  const form = sourceForm(ctx, null);
  return h(
    'section',
    {},
    breadcrumb(ctx, t('mode_mp_qrcode')),
    h('h1', {}, t('wechat'), ' · ', t('mode_mp_qrcode')),
    h('div', { class: 'panel' }, form),
  );
}

export async function details(ctx, uniqueId) {
  const [source, { applications }] = await Promise.all([
    api('GET', `${base(ctx.pool)}/${enc(uniqueId)}`),
    api('GET', `/pools/${enc(ctx.pool)}/applications`),
  ]);
  return h(
    'section',
    {},
    breadcrumb(ctx, source.display_name),
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', {}, source.display_name), h('p', { class: 'muted mono' }, source.unique_id, ' · ', t('mode_mp_qrcode'))),
    ),
    source.code_error
      ? h('div', { class: 'notice', testid: 'code-error' }, t('code_error_page', source.code_error.page || '', source.code_error.env_version))
      : null,
    h(
      'div',
      { class: 'columns' },
      h('div', { class: 'panel' }, h('h2', {}, t('configuration')), sourceForm(ctx, source)),
      h(
        'div',
        {},
        h('div', { class: 'panel' }, h('h2', {}, t('logo')), logoPanel(ctx, source)),
        h('div', { class: 'panel' }, h('h2', {}, t('applications_using')), applicationSwitches(ctx, source, applications)),
        h('div', { class: 'panel danger' }, h('h2', {}, t('danger_zone')), deleteButton(ctx, source)),
      ),
    ),
  );
}

function breadcrumb(ctx, here) {
  return h('p', { class: 'breadcrumb' }, h('a', { href: `#/pools/${ctx.pool}/connections` }, t('connections')), ' / ', here);
}

/** The configuration form: every field of the source, for creating (source null) or editing. */
function sourceForm(ctx, source) {
  const editing = source !== null;
  const value = (name, fallback) => (editing ? source[name] : fallback);
  const controls = {
    unique_id: input({ value: value('unique_id', ''), disabled: editing, testid: 'unique_id', placeholder: 'wechat-mp-qrcode' }),
    display_name: input({ value: value('display_name', ''), testid: 'display_name', placeholder: t('display_name_placeholder') }),
    callback_url: input({ value: value('callback_url', '') || '', testid: 'callback_url', placeholder: 'https://example.com/callback', type: 'url' }),
    private_deployment: h('input', { type: 'checkbox', checked: value('private_deployment', false), testid: 'private_deployment' }),
    app_id: input({ value: value('app_id', '') || '', testid: 'app_id', placeholder: 'wx…' }),
    app_secret: input({ type: 'password', testid: 'app_secret', autocomplete: 'new-password', placeholder: editing && source.app_secret_set ? t('app_secret_kept') : '' }),
    login_mode: select(
      [
        ['login_and_register', t('login_and_register')],
        ['login_only', t('login_only')],
      ],
      value('login_mode', 'login_and_register'),
      { testid: 'login_mode' },
    ),
    association: select(
      [
        ['off', t('association_off')],
        ['field_match', t('association_field_match')],
        ['ask_binding', t('association_ask_binding')],
      ],
      value('association', 'field_match'),
      { testid: 'association' },
    ),
    page: input({ value: value('page', 'pages/login/login'), testid: 'page' }),
    env_version: select(
      [
        ['release', t('env_release')],
        ['trial', t('env_trial')],
        ['develop', t('env_develop')],
      ],
      value('env_version', 'release'),
      { testid: 'env_version' },
    ),
    qr_expires_in: input({ type: 'number', min: 30, max: 600, value: String(value('qr_expires_in', 120)), testid: 'qr_expires_in' }),
  };
  const secretState = editing && source.app_secret_set ? h('span', { class: 'badge ok', testid: 'app-secret-set' }, t('app_secret_set')) : null;
  const loginOnlyWarning = h('p', { class: 'warning', hidden: controls.login_mode.value !== 'login_only' }, t('login_only_warning'));
  controls.login_mode.addEventListener('change', () => {
    loginOnlyWarning.hidden = controls.login_mode.value !== 'login_only';
  });
  const privateFields = h(
    'div',
    { class: 'subfields', hidden: !controls.private_deployment.checked },
    field({ name: 'app_id', label: t('app_id'), input: controls.app_id, required: true }),
    field({ name: 'app_secret', label: t('app_secret'), input: controls.app_secret, hint: [secretState, ' ', t('app_secret_hint')], required: true }),
    field({ name: 'page', label: t('page'), input: controls.page, hint: t('page_hint') }),
    field({ name: 'env_version', label: t('env_version'), input: controls.env_version }),
  );
  controls.private_deployment.addEventListener('change', () => {
    privateFields.hidden = !controls.private_deployment.checked;
  });
  const form = h(
    'form',
    { class: 'stack', novalidate: true, testid: 'connection-form' },
    field({ name: 'unique_id', label: t('unique_id'), input: controls.unique_id, hint: t('unique_id_hint'), required: true }),
    field({ name: 'display_name', label: t('display_name'), input: controls.display_name, hint: t('display_name_hint'), required: true }),
    field({ name: 'callback_url', label: t('callback_url'), input: controls.callback_url, hint: t('callback_url_hint') }),
    field({
      name: 'private_deployment',
      label: t('private_deployment'),
      input: h('span', { class: 'switch' }, controls.private_deployment, h('span', { class: 'muted small' }, t('private_deployment_hint'))),
    }),
    privateFields,
    field({ name: 'login_mode', label: t('login_mode'), input: controls.login_mode, hint: loginOnlyWarning }),
    field({ name: 'association', label: t('association'), input: controls.association, hint: t('association_hint') }),
    field({ name: 'qr_expires_in', label: t('qr_expires_in'), input: controls.qr_expires_in, hint: t('qr_expires_in_hint') }),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit', testid: 'save-connection' }, editing ? t('save') : t('create'))),
  );
  return onSubmit(form, async () => {
    const body = {
      display_name: controls.display_name.value,
      callback_url: controls.callback_url.value.trim() || null,
      private_deployment: controls.private_deployment.checked,
      app_id: controls.app_id.value.trim() || null,
      login_mode: controls.login_mode.value,
      association: controls.association.value,
      page: controls.page.value,
      env_version: controls.env_version.value,
      qr_expires_in: Number(controls.qr_expires_in.value),
    };
    if (controls.app_secret.value) body.app_secret = controls.app_secret.value;
    if (editing) {
      await api('PATCH', `${base(ctx.pool)}/${enc(source.unique_id)}`, body);
      toast(t('saved'));
      ctx.refresh();
    } else {
      body.unique_id = controls.unique_id.value.trim();
      const created = await api('POST', base(ctx.pool), body);
      toast(t('created'));
      ctx.go(`#/pools/${ctx.pool}/connections/${enc(created.unique_id)}`);
    }
  });
}

function logoPanel(ctx, source) {
  const picker = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp', testid: 'logo-file' });
  const form = h(
    'form',
    { class: 'stack' },
    h(
      'div',
      { class: 'logo-preview' },
      source.logo_url ? h('img', { src: source.logo_url, alt: t('logo'), testid: 'logo-image' }) : h('span', { class: 'muted' }, t('no_logo')),
    ),
    field({ name: 'logo', label: t('upload_logo'), input: picker, hint: t('logo_hint') }),
    source.logo_url
      ? h('button', { type: 'button', class: 'link', onClick: async () => {
          await api('DELETE', `${base(ctx.pool)}/${enc(source.unique_id)}/logo`);
          ctx.refresh();
        } }, t('remove_logo'))
      : null,
  );
  picker.addEventListener('change', async () => {
    const file = picker.files?.[0];
    if (!file) return;
    try {
      await api('PUT', `${base(ctx.pool)}/${enc(source.unique_id)}/logo`, file);
      toast(t('logo_uploaded'));
      ctx.refresh();
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

function applicationSwitches(ctx, source, applications) {
  if (applications.length === 0) {
    return h('p', { class: 'muted' }, t('no_applications'), ' ', h('a', { href: `#/pools/${ctx.pool}/applications/new` }, t('create_application')));
  }
  const enabled = new Set(source.applications);
  const holder = h('div', { class: 'stack' });
  const rows = applications.map((application) => {
    const toggle = h('input', { type: 'checkbox', checked: enabled.has(application.client_id), testid: `use-${application.client_id}` });
    toggle.addEventListener('change', async () => {
      toggle.disabled = true;
      const path = `/pools/${enc(ctx.pool)}/applications/${enc(application.client_id)}/connections/${enc(source.unique_id)}`;
      try {
        await api(toggle.checked ? 'PUT' : 'DELETE', path);
        toast(toggle.checked ? t('switched_on') : t('switched_off'));
      } catch (error) {
        toggle.checked = !toggle.checked;
        showError(holder, error);
      } finally {
        toggle.disabled = false;
      }
    });
    return h(
      'label',
      { class: 'switch-row' },
      h('span', {}, h('a', { href: `#/pools/${ctx.pool}/applications/${enc(application.client_id)}` }, application.name), h('span', { class: 'muted mono small' }, ' ', application.client_id)),
      h('span', { class: 'switch' }, toggle),
    );
  });
  holder.append(h('p', { class: 'muted small' }, t('applications_using_hint')), ...rows);
  return holder;
}

function deleteButton(ctx, source) {
  return h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onClick: async () => {
        if (!window.confirm(t('confirm_delete_connection', source.unique_id))) return;
        await api('DELETE', `${base(ctx.pool)}/${enc(source.unique_id)}`);
        toast(t('deleted'));
        ctx.go(`#/pools/${ctx.pool}/connections`);
      },
    },
    t('delete_connection'),
  );
}

