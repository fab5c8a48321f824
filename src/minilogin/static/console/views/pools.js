// User pools: the list, and creating one (its slug becomes the issuer's path).

import { api, enc } from '../api.js';
import { h, when } from '../dom.js';
import { field, input, onSubmit, toast } from '../forms.js';
import { t } from '../i18n.js';

export async function list(ctx) {
  const { pools } = await api('GET', '/pools');
  const slug = input({ testid: 'pool-slug', placeholder: 'acme' });
  const name = input({ testid: 'pool-name' });
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    field({ name: 'slug', label: t('pool_slug'), input: slug, hint: t('pool_slug_hint'), required: true }),
    field({ name: 'name', label: t('name'), input: name, required: true }),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, t('create'))),
  );
  onSubmit(form, async () => {
    const pool = await api('POST', '/pools', { slug: slug.value.trim(), name: name.value });
    toast(t('created'));
    await ctx.reloadPools();
    ctx.go(`#/pools/${enc(pool.slug)}/dashboard`);
  });
  return h(
    'section',
    {},
    h('h1', {}, t('pools')),
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        { class: 'panel' },
        h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, [t('name'), t('pool_slug'), t('issuer'), t('created_at')].map((label) => h('th', {}, label)))),
          h(
            'tbody',
            {},
            pools.map((pool) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/pools/${enc(pool.slug)}/dashboard` }, pool.name)),
                h('td', { class: 'mono' }, pool.slug),
                h('td', { class: 'mono small' }, pool.issuer),
                h('td', {}, when(pool.created_at)),
              ),
            ),
          ),
        ),
      ),
      h('div', { class: 'panel' }, h('h2', {}, t('create_pool')), form),
    ),
  );
}
