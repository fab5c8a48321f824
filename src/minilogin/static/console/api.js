// The console's client of the admin API (API.md §6): the session cookie goes along by itself;
// every change carries the CSRF token the console page was served with.

import { lang } from './i18n.js';

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

export class ApiError extends Error {
  /** `errors`: every broken field of a form, as the admin API lists them (each `{error, message}`). */
  constructor(status, code, message, errors = []) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

/**
 * @param {string} method
 * @param {string} path below /admin/api
 * @param {any} [body] an object (sent as JSON) or a Blob (sent as it is: a logo)
 */
export async function api(method, path, body) {
  const headers = { 'Accept-Language': lang(), 'X-CSRF-Token': csrf };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`/admin/api${path}`, {
    method,
    headers,
    body: payload,
    credentials: 'same-origin',
  });
  if (response.status === 401) {
    window.location.assign('/console/login');
    throw new ApiError(401, 'unauthorized');
  }
  if (!response.ok) {
    let data = {};
    try {
      data = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(response.status, data.error || `http_${response.status}`, data.message, data.errors || []);
  }
  return response.status === 204 ? null : response.json();
}

export const enc = encodeURIComponent;
