// The pool's dashboard: per identity source, the funnel of its codes over the last days
// (shown → scanned → authorized → consumed, with cancels and expiries), drawn as an SVG
// chart, and the latest audit events.

import { api, enc } from '../api.js';
import { h, svg } from '../dom.js';
import { t } from '../i18n.js';
import { eventTable } from './audit.js';

const COLOURS = {
  shown: '#94a3b8',
  scanned: '#38bdf8',
  authorized: '#07c160',
  consumed: '#047857',
  cancelled: '#f59e0b',
  expired: '#ef4444',
};

export async function show(ctx) {
  const offset = -new Date().getTimezoneOffset();
  const [stats, { events }] = await Promise.all([
    api('GET', `/pools/${enc(ctx.pool)}/stats?days=14&tz_offset=${offset}`),
    api('GET', `/pools/${enc(ctx.pool)}/audit?limit=10&action=admin.&action=login.&action=binding.`),
  ]);
  return h(
    'section',
    {},
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('dashboard')), h('p', { class: 'muted' }, t('dashboard_hint', stats.days.length)))),
    stats.connections.length === 0
      ? h('p', { class: 'empty' }, t('no_connections'))
      : stats.connections.map((connection) => sourceCard(stats, connection)),
    h('div', { class: 'panel' }, h('h2', {}, t('recent_events')), eventTable(events), h('p', {}, h('a', { href: `#/pools/${ctx.pool}/audit` }, t('all_events')))),
  );
}

function sourceCard(stats, connection) {
  const totals = connection.totals;
  const rate = (part, whole) => (whole ? `${Math.round((part / whole) * 100)}%` : '—');
  return h(
    'div',
    { class: 'panel', testid: `stats-${connection.unique_id}` },
    h('h2', {}, connection.display_name || connection.unique_id, ' ', h('span', { class: 'muted mono small' }, connection.unique_id)),
    h(
      'div',
      { class: 'funnel' },
      stats.stages.map((stage) =>
        h(
          'div',
          { class: 'figure', dataset: { stage } },
          h('span', { class: 'swatch', dataset: { stage } }),
          h('b', { testid: `total-${connection.unique_id}-${stage}` }, String(totals[stage])),
          h('span', { class: 'muted small' }, t(`stage_${stage}`)),
        ),
      ),
      h('div', { class: 'figure' }, h('b', {}, rate(totals.consumed || totals.authorized, totals.shown)), h('span', { class: 'muted small' }, t('conversion'))),
    ),
    chart(stats, connection),
  );
}

function chart(stats, connection) {
  const width = 720;
  const height = 200;
  const left = 32;
  const bottom = 24;
  const stages = stats.stages;
  const top = Math.max(1, ...connection.days.flatMap((day) => stages.map((stage) => day[stage])));
  const band = (width - left) / connection.days.length;
  const bar = Math.max(1, (band - 6) / stages.length);
  const y = (value) => (height - bottom) * (1 - value / top);
  const parts = [
    svg('line', { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: '#d0d5dd' }),
    svg('text', { x: 0, y: 12, class: 'axis' }, String(top)),
    svg('text', { x: 0, y: height - bottom, class: 'axis' }, '0'),
  ];
  connection.days.forEach((day, index) => {
    const x0 = left + index * band + 3;
    stages.forEach((stage, s) => {
      const value = day[stage];
      parts.push(
        svg(
          'rect',
          { x: x0 + s * bar, y: y(value), width: Math.max(1, bar - 1), height: height - bottom - y(value), fill: COLOURS[stage] },
          svg('title', {}, `${day.day} ${t(`stage_${stage}`)}: ${value}`),
        ),
      );
    });
    if (connection.days.length <= 16 || index % 2 === 0) {
      parts.push(svg('text', { x: x0, y: height - 6, class: 'axis' }, day.day.slice(5)));
    }
  });
  return h('div', { class: 'chart' }, svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': t('chart_label') }, ...parts));
}
