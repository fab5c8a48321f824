// The audit log: who changed what, logins and failures.

import { api, enc } from '../api.js';
import { h, when } from '../dom.js';
import { select } from '../forms.js';
import { t } from '../i18n.js';

const FILTERS = {
  all: [],
  changes: ['admin.'],
  logins: ['login.', 'binding.', 'token.'],
  codes: ['qrlogin.'],
};
// The service's own events (administrators, console logins, API tokens) belong to no pool.
const SERVICE = 'service';

// Detail values that are choices of a field: shown as the field's option reads in the forms.
const CHOICES = { association: 'association_', type: 'type_', login_mode: '', by: 'by_', via: 'via_' };
// Detail values that are times: the store keeps seconds since the epoch.
const TIMES = new Set(['expires_at']);

/** An event's action as a person reads it; the code stays in the tooltip. */
export function actionLabel(action) {
  const key = `action_${action.replace(/\./g, '_')}`;
  const label = t(key);
  return label === key ? action : label;
}

function valueText(key, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (TIMES.has(key) && typeof value === 'number') return when(new Date(value * 1000).toISOString());
  if (typeof value === 'boolean') return t(value ? 'yes' : 'no');
  if (key === 'changed' && Array.isArray(value)) return value.map((name) => t(name)).join(t('list_separator'));
  if (key in CHOICES && typeof value === 'string') return t(`${CHOICES[key]}${value}`);
  if (key === 'reason' && typeof value === 'string') {
    const label = t(`reason_${value}`);
    return label === `reason_${value}` ? value : label;
  }
  if (Array.isArray(value)) return value.join(t('list_separator'));
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The detail as labelled lines: "改动的字段：显示名称、回调地址". */
function detailList(detail) {
  const entries = Object.entries(detail || {});
  if (entries.length === 0) return '—';
  return h(
    'dl',
    { class: 'detail-list' },
    entries.map(([key, value]) => {
      const label = t(`detail_${key}`);
      return h(
        'div',
        {},
        h('dt', {}, label === `detail_${key}` ? key : label),
        h('dd', { class: key === 'qrlogin' || key === 'family' ? 'mono' : null }, valueText(key, value)),
      );
    }),
  );
}

export function eventTable(events) {
  if (events.length === 0) return h('p', { class: 'muted' }, t('no_events'));
  const columns = ['time', 'action', 'actor', 'subject', 'ip', 'detail'];
  return h(
    'table',
    { class: 'table events', testid: 'audit' },
    h('colgroup', {}, columns.map((name) => h('col', { class: `col-${name}` }))),
    h('thead', {}, h('tr', {}, [t('time'), t('action'), t('actor'), t('subject'), 'IP', t('detail')].map((label) => h('th', {}, label)))),
    h(
      'tbody',
      {},
      events.map((event) =>
        h(
          'tr',
          {},
          h('td', { class: 'nowrap' }, when(event.created_at)),
          h('td', { title: event.action }, actionLabel(event.action)),
          h('td', {}, event.actor || '—'),
          h('td', { class: 'mono small' }, event.subject || '—'),
          h('td', {}, event.ip || '—'),
          h('td', { class: 'small detail' }, detailList(event.detail)),
        ),
      ),
    ),
  );
}

export async function list(ctx) {
  const chosen = new URLSearchParams(ctx.query).get('filter') || 'all';
  const query = (FILTERS[chosen] || []).map((prefix) => `&action=${enc(prefix)}`).join('');
  const path = chosen === SERVICE ? '/audit?limit=200' : `/pools/${enc(ctx.pool)}/audit?limit=200${query}`;
  const { events } = await api('GET', path);
  const filter = select(
    [...Object.keys(FILTERS), SERVICE].map((name) => [name, t(`filter_${name}`)]),
    chosen,
    { testid: 'audit-filter' },
  );
  filter.addEventListener('change', () => ctx.go(`#/pools/${ctx.pool}/audit?filter=${filter.value}`));
  return h(
    'section',
    {},
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('audit')), h('p', { class: 'muted' }, t('audit_hint'))), filter),
    h('div', { class: 'panel' }, eventTable(events)),
  );
}
