// Authing's browser scan-code API, on minilogin: for pages written against authing-js-sdk's
// `authenticationClient.wxqrcode.startScanning(domId, {onSuccess, onError, onScanned,
// onExpired, onCancel, ...})` to move over by changing the import and the constructor's
// options. Everything runs on minilogin's SDK (./minilogin.js): the code is a minilogin QR
// login, pushed instead of polled, and a success hands over standard OIDC tokens.
// docs/migrating-from-authing.md maps every option; authing-compat.d.ts types them.
//
//   import { AuthenticationClient } from 'https://login.example.com/static/authing-compat.js';
//   const client = new AuthenticationClient({ appId: CLIENT_ID, appHost: 'https://login.example.com/pools/acme' });
//   client.wxqrcode.startScanning('qrcode', { onSuccess(user, tokens) { … } });

import { MiniLogin, decodeJwtPayload } from './minilogin.js';

// Authing's QRCodeStatus numbers (checkStatus / onResult): 0 unused, 1 scanned, 2 authorized,
// 3 cancelled, -1 expired.
const STATUS_NUMBERS = { pending: 0, scanned: 1, needs_binding: 1, authorized: 2, consumed: 2, cancelled: 3, expired: -1 };

/** The user as Authing's callbacks give it, from the ID token's standard claims. */
export function authingUser(result) {
  const claims = result.user || decodeJwtPayload(result.idToken);
  const phone = typeof claims.phone_number === 'string' ? claims.phone_number : null;
  return {
    id: claims.sub,
    username: claims.preferred_username ?? null,
    nickname: claims.name ?? null,
    photo: claims.picture ?? null,
    // Authing keeps mainland numbers without +86; E.164 stays whole in `phoneNumber`.
    phone: phone && phone.startsWith('+86') ? phone.slice(3) : phone,
    phoneNumber: phone,
    phoneVerified: claims.phone_number_verified ?? false,
    email: claims.email ?? null,
    token: result.idToken,
    tokenExpiredAt: new Date(result.expiresAt).toISOString(),
  };
}

/** What onScanned gives: only the nickname and picture, as Authing does by default. */
function scannedUser(status) {
  return { nickname: status.scanned?.nickname ?? null, photo: status.scanned?.avatar_url ?? null };
}

class QrCodeAuthenticationClient {
  constructor(options) {
    this._options = options;
    this._sdk = null;
  }

  /**
   * Show the code in the element whose id is `domId`; the callbacks follow Authing's.
   * Answers nothing, as Authing's does; `stop()` ends the scan.
   */
  startScanning(domId, options = {}) {
    this.stop();
    const sdk = new MiniLogin({
      issuer: this._options.appHost,
      clientId: this._options.appId,
      lang: options.lang || this._options.lang,
    });
    this._sdk = sdk;
    const element = globalThis.document?.getElementById(domId);
    const size = options.size?.width || options.size?.height || 240;
    let shown = false;
    const scan = sdk.startScanning(element || `#${domId}`, {
      size,
      connection: options.connection,
      onQRCode: (login) => {
        const code = { random: login.id, url: login.image_url };
        options.onCodeLoaded?.(code);
        if (!shown) options.onCodeShow?.(code);
        shown = true;
      },
      onStatus: (status) => options.onResult?.({ ...status, status: STATUS_NUMBERS[status.status] }),
      onScanned: (status) => options.onScanned?.(scannedUser(status)),
      onCancel: () => options.onCancel?.(),
      onExpired: () => options.onExpired?.(),
      onError: (error) => {
        if (!shown) options.onCodeLoadFailed?.({ code: error.code, message: error.message });
        options.onError?.(error.message, error);
      },
    });
    options.onStart?.(null);
    // The callbacks report every outcome; the promise only ends the scan.
    scan.then((result) => options.onSuccess?.(authingUser(result), result), () => {});
    return null;
  }

  /** End the scan: what clearing Authing's polling timer did. */
  stop() {
    this._sdk?.stop();
    this._sdk = null;
  }
}

/** Authing's `AuthenticationClient`, for its scan-code parts: `appId` is the minilogin
 * application's client ID, `appHost` the pool's issuer (`{public}/pools/{pool}`). */
export class AuthenticationClient {
  constructor(options = {}) {
    if (!options.appId || !options.appHost) throw new TypeError('appId and appHost are required');
    this.options = { ...options, appHost: options.appHost.replace(/\/$/, '') };
    this.wxqrcode = new QrCodeAuthenticationClient(this.options);
  }
}
