// Types of the Authing compatibility module ({public}/static/authing-compat.js): Authing's
// `wxqrcode.startScanning` on minilogin's SDK. docs/migrating-from-authing.md maps each option.

import type { LoginResult, MiniLoginError, QRLoginStatus } from './minilogin';

/** The user as Authing's callbacks give it, made from the ID token's claims. */
export interface AuthingUser {
  /** The ID token's `sub`. */
  id: string;
  username: string | null;
  nickname: string | null;
  photo: string | null;
  /** Mainland numbers without +86, as Authing keeps them; others in E.164. */
  phone: string | null;
  /** Always E.164. */
  phoneNumber: string | null;
  phoneVerified: boolean;
  email: string | null;
  /** The ID token (Authing's `user.token`). */
  token: string;
  tokenExpiredAt: string;
}

/** What `onScanned` gives before the person allows: the nickname and the picture only. */
export interface ScannedUser {
  nickname: string | null;
  photo: string | null;
}

/** `onCodeShow` / `onCodeLoaded`: `random` is the QR login's id, `url` its image. */
export interface QRCodeShown {
  random: string;
  url: string;
}

export interface StartScanningOptions {
  /** Once, with the user and the tokens (Authing's second argument was a ticket). */
  onSuccess?: (user: AuthingUser, tokens: LoginResult) => void;
  /** A message for people, and the SDK's error with its stable `code`. */
  onError?: (message: string, error: MiniLoginError) => void;
  onScanned?: (user: ScannedUser) => void;
  onExpired?: () => void;
  onCancel?: () => void;
  /** Called with null: there is no polling timer; call `wxqrcode.stop()` instead. */
  onStart?: (timer: null) => void;
  /** Every status, with Authing's numbers: 0 unused, 1 scanned, 2 authorized, 3 cancelled, -1 expired. */
  onResult?: (status: Omit<QRLoginStatus, 'status'> & { status: number }) => void;
  onCodeShow?: (code: QRCodeShown) => void;
  onCodeLoaded?: (code: QRCodeShown) => void;
  onCodeLoadFailed?: (error: { code: string; message: string }) => void;
  /** The code's pixel size (square: the larger side wins). Default 240. */
  size?: { width?: number; height?: number };
  lang?: string;
  /** The identity source's unique ID, when the application has several. */
  connection?: string;
}

export declare class QrCodeAuthenticationClient {
  startScanning(domId: string, options?: StartScanningOptions): null;
  stop(): void;
}

export interface AuthenticationClientOptions {
  /** The minilogin application's client ID. */
  appId: string;
  /** The pool's issuer, `{public}/pools/{pool}` (or the pool's own domain). */
  appHost: string;
  lang?: string;
}

export declare class AuthenticationClient {
  constructor(options: AuthenticationClientOptions);
  readonly options: AuthenticationClientOptions;
  readonly wxqrcode: QrCodeAuthenticationClient;
}

export declare function authingUser(result: LoginResult): AuthingUser;
