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

function detailText(detail) {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
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
          h('td', { class: 'mono' }, event.action),
          h('td', {}, event.actor || '—'),
          h('td', { class: 'mono small' }, event.subject || '—'),
          h('td', {}, event.ip || '—'),
          h('td', { class: 'mono small detail' }, detailText(event.detail)),
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
