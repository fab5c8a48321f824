// "Experience login": the application's login run in a popup from the console, showing the
// user and the ID token's claims it ends with, and telling the console that opened it.
//
// A single page app logs in exactly as its integration does (the SDK exchanges the code at
// the token endpoint). A web app's code needs its client secret, which only its backend has:
// the console's admin API shows what that exchange would give instead.

import { MiniLogin } from '/static/minilogin.js';
import { h } from './dom.js';
import { lang, t, translatePage } from './i18n.js';

const config = JSON.parse(document.getElementById('experience-config').textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const { application, issuer, pool } = config;

class ConsoleExperience extends MiniLogin {
  async exchangeCode(code, verifier) {
    const response = await fetch(
      `/admin/api/pools/${encodeURIComponent(pool)}/applications/${encodeURIComponent(application.client_id)}/experience`,
      {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept-Language': lang() },
        body: JSON.stringify({ code, code_verifier: verifier }),
      },
    );
    const body = await response.json();
    if (!response.ok) throw Object.assign(new Error(body.message || body.error), { code: body.error });
    return { user: body.claims };
  }
}

const Client = application.type === 'web' ? ConsoleExperience : MiniLogin;
const client = new Client({ issuer, clientId: application.client_id, lang: lang() });
const phoneLink = document.getElementById('phone-link');

// In sandbox mode the QR login names the phone simulator page its code holds (API.md §1).
function showPhoneLink(login) {
  if (!login.sandbox_phone_url) return;
  phoneLink.href = login.sandbox_phone_url;
  document.getElementById('phone-hint').hidden = false;
}

function showResult(claims) {
  document.getElementById('result-name').textContent = claims.name || claims.preferred_username || claims.sub;
  document.getElementById('result-phone').textContent = claims.phone_number || '';
  const avatar = document.getElementById('result-avatar');
  if (claims.picture) avatar.src = claims.picture;
  else avatar.hidden = true;
  document.getElementById('result-claims').textContent = JSON.stringify(claims, null, 2);
  document.getElementById('experience-result').hidden = false;
  document.getElementById('qrcode').hidden = true;
  window.opener?.postMessage({ type: 'minilogin:experience', clientId: application.client_id, claims }, window.location.origin);
}

function showError(error) {
  const element = document.getElementById('experience-error');
  element.textContent = error.message || String(error);
  element.hidden = false;
}

async function start(connection) {
  document.getElementById('experience-error').hidden = true;
  try {
    const result = await client.startScanning('#qrcode', {
      size: 260,
      connection,
      onQRCode: showPhoneLink,
    });
    showResult(result.user);
  } catch (error) {
    // The code's overlay says what went wrong once it shows the error; say it here otherwise.
    if (error.code !== 'stopped' && document.getElementById('qrcode').dataset.status !== 'error') showError(error);
  }
}

translatePage();
const tabs = document.getElementById('sources');
if (config.sources.length === 0) {
  showError(new Error(t('experience_no_source')));
} else {
  const chosen = config.connection || config.sources[0].unique_id;
  if (config.sources.length > 1) {
    for (const source of config.sources) {
      tabs.append(
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            class: source.unique_id === chosen ? 'tab active' : 'tab',
            onClick: (event) => {
              for (const tab of tabs.children) tab.classList.remove('active');
              event.currentTarget.classList.add('active');
              start(source.unique_id);
            },
          },
          source.display_name,
        ),
      );
    }
  }
  start(chosen);
}
