// Form fields with their messages, and API errors shown next to the field they are about.

import { h } from './dom.js';
import { t } from './i18n.js';

// Errors whose code does not say `invalid_<field>` but still belong to one field.
const ERROR_FIELDS = {
  connection_exists: 'unique_id',
  unique_id_immutable: 'unique_id',
  pool_exists: 'slug',
  slug_immutable: 'slug',
  username_taken: 'username',
  phone_taken: 'phone',
  user_identifier_required: 'username',
  application_type_immutable: 'type',
  invalid_logo: 'logo',
  app_id_rejected: 'app_id',
  app_secret_rejected: 'app_secret',
};

let counter = 0;

/**
 * A labelled field: `input` is the control; the message for its errors appears under it.
 * @param {{name: string, label: string, input: HTMLElement, hint?: string|Node, required?: boolean}} spec
 */
export function field({ name, label, input, hint, required }) {
  const id = input.id || `f-${name}-${++counter}`;
  input.id = id;
  if (!input.name && 'name' in input) input.name = name;
  return h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, required ? h('span', { class: 'required' }, ' *') : null),
    input,
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'field-error', role: 'alert', hidden: true, testid: `error-${name}` }),
  );
}

export function input(props = {}) {
  return h('input', { type: 'text', autocomplete: 'off', ...props });
}

export function select(options, value, props = {}) {
  return h(
    'select',
    props,
    options.map(([optionValue, label]) => h('option', { value: optionValue, selected: optionValue === value }, label)),
  );
}

/** One value per line, for lists of URLs. */
export function lines(values, props = {}) {
  return h('textarea', { rows: 3, spellcheck: 'false', ...props, value: (values || []).join('\n') });
}

export function linesOf(textarea) {
  return textarea.value
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

export function clearErrors(form) {
  for (const element of form.querySelectorAll('.field-error, .form-error')) {
    element.hidden = true;
    element.textContent = '';
  }
  for (const element of form.querySelectorAll('.field.invalid')) element.classList.remove('invalid');
}

function fieldOf(form, code) {
  const name = ERROR_FIELDS[code] || (code.startsWith('invalid_') ? code.slice('invalid_'.length) : null);
  return name && form.querySelector(`.field[data-field="${name}"]`);
}

/** Put each of the API's messages next to the field it names (all at once, the first field
 * focused), and any that names no field above the form. */
export function showError(form, error) {
  clearErrors(form);
  const problems = error.errors?.length ? error.errors : [{ error: error.code || '', message: error.message }];
  const loose = [];
  let first = null;
  for (const problem of problems) {
    const text = problem.message || t('error_generic');
    const holder = fieldOf(form, problem.error || '');
    if (!holder) {
      loose.push(text);
      continue;
    }
    holder.classList.add('invalid');
    const message = holder.querySelector('.field-error');
    message.textContent = message.hidden ? text : `${message.textContent} ${text}`;
    message.hidden = false;
    first = first || holder;
  }
  first?.querySelector('input, select, textarea')?.focus();
  if (loose.length === 0) return;
  let banner = form.querySelector(':scope > .form-error');
  if (!banner) {
    banner = h('p', { class: 'form-error', role: 'alert', testid: 'form-error' });
    form.prepend(banner);
  }
  banner.textContent = loose.join(' ');
  banner.hidden = false;
}

/** Run `action` for a submitted form: errors go next to their field, the button waits. */
export function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    clearErrors(form);
    try {
      await action();
    } catch (error) {
      showError(form, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

export function toast(text) {
  const element = document.getElementById('toast');
  if (!element) return;
  element.textContent = text;
  element.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    element.hidden = true;
  }, 3000);
}
