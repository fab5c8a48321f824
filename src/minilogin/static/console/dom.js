// The console's DOM helpers: elements are built from data, never from HTML strings, so
// nothing an administrator or a user typed can ever run as markup.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple']);

/**
 * `h('a', {href, class: 'x', onClick}, 'text', child)` builds an element.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...any} children
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'testid') element.dataset.testid = value;
    else if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key)) element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Append children (nested arrays, strings, numbers, nodes; null and false are skipped). */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

/** An SVG element (the dashboard's charts). */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

/** A local date and time, as the administrator's browser writes them. */
export function when(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(document.documentElement.lang || 'zh-CN', { hour12: false });
}
