// Types of the minilogin JavaScript SDK ({public}/static/minilogin.js).

export type Lang = 'zh-CN' | 'en';

/** Every error the SDK raises or reports: `code` is stable, `message` is for people. */
export declare class MiniLoginError extends Error {
  constructor(code: string, message?: string, status?: number);
  readonly code: string;
  /** The HTTP status, when the error came from the server. */
  readonly status?: number;
}

/** The claims of the ID token (OpenID Connect Core §2, API.md §2). */
export interface User {
  sub: string;
  iss: string;
  aud: string;
  exp: number;
  iat: number;
  auth_time: number;
  amr: string[];
  nonce?: string;
  name?: string;
  picture?: string;
  preferred_username?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  email?: string;
  [claim: string]: unknown;
}

export interface LoginResult {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Milliseconds since the epoch when the access token expires. */
  expiresAt: number;
  user: User;
}

/** What the hosted page's component hands over instead of tokens (`authorized` event). */
export interface AuthorizedQRLogin {
  id: string;
  secret: string;
  code: string;
  state?: string;
}

/** A QR login as created (API.md §1 "Create"). */
export interface QRLogin {
  id: string;
  secret: string;
  status: string;
  image_url: string;
  expires_in: number;
  expires_at: string;
  /** Number matching (recycled codes): the two digits to show under the code. */
  match?: string;
  /** Sandbox mode only: the phone simulator page the code holds. */
  sandbox_phone_url?: string;
}

/** A QR login's status body (API.md §1 "Status"). */
export interface QRLoginStatus {
  id: string;
  status: 'pending' | 'scanned' | 'needs_binding' | 'authorized' | 'consumed' | 'cancelled' | 'expired';
  expires_in: number;
  scanned?: { nickname?: string | null; avatar_url?: string | null };
  binding?: { login_only: boolean; phone: string | null };
  /** Number matching: the digits to show, while pending or scanned. */
  match?: string;
  code?: string;
  state?: string;
  error?: string;
  message?: string;
}

export interface MiniLoginOptions {
  /** `{public}/pools/{pool}`, or the pool's own domain. */
  issuer: string;
  clientId: string;
  /** Default `openid profile phone`. */
  scope?: string;
  /** A registered redirect URI, for `loginWithRedirect()` and `loginWithPopup()`. */
  redirectUri?: string;
  lang?: Lang | string;
  /** Where tokens are kept; default `memory`. */
  cacheLocation?: 'memory' | 'sessionStorage' | 'localStorage';
  /** For environments without a global `fetch` (tests, workers). The QR login's events are
   * read from a streamed `fetch` response, with the secret in the Authorization header. */
  fetch?: typeof fetch;
}

export interface ScanOptions {
  onScanned?: (status: QRLoginStatus) => void;
  onNeedsBinding?: (status: QRLoginStatus) => void;
  onSuccess?: (result: LoginResult) => void;
  onCancel?: (status: QRLoginStatus) => void;
  onExpired?: (status: QRLoginStatus) => void;
  onError?: (error: MiniLoginError) => void;
  onStatus?: (status: QRLoginStatus) => void;
  onQRCode?: (login: QRLogin) => void;
  /** Pixel size of the code; default 240. */
  size?: number;
  lang?: Lang | string;
  /** The identity source's unique ID; may be left out when the application has one. */
  connection?: string;
  /** Show a new code by itself after expiry or cancel, instead of waiting for a click. */
  autoRefresh?: boolean;
  /** `poll` skips server-sent events and long-polls. Either way, network errors and
   * 502/503/504 are retried with backoff on the same QR login. */
  transport?: 'sse' | 'poll';
}

export interface AuthorizeOptions {
  redirectUri?: string;
  prompt?: 'login' | 'consent' | 'select_account';
  uiLocales?: string;
  /** Show only this identity source's tab on the hosted page. */
  connection?: string;
  /** `loginWithPopup()` gives up after this long; default 600. */
  timeoutInSeconds?: number;
}

export declare class MiniLogin {
  constructor(options: MiniLoginOptions);
  readonly issuer: string;
  readonly clientId: string;
  startScanning(target: string | Element, options?: ScanOptions): Promise<LoginResult>;
  stop(): void;
  loginWithPopup(options?: AuthorizeOptions): Promise<LoginResult>;
  loginWithRedirect(options?: AuthorizeOptions): Promise<void>;
  handleRedirectCallback(url?: string): Promise<LoginResult>;
  getUser(): User | null;
  getTokens(): LoginResult | null;
  getAccessToken(): Promise<string>;
  logout(options?: { returnTo?: string }): Promise<void>;
  exchangeCode(
    code: string,
    verifier: string,
    options?: { redirectUri?: string; nonce?: string },
  ): Promise<LoginResult>;
}

export declare function createPkcePair(): Promise<{ verifier: string; challenge: string }>;
export declare function s256(verifier: string): Promise<string>;
export declare function sha256Fallback(message: Uint8Array): Uint8Array;
export declare function base64url(bytes: Uint8Array): string;
export declare function decodeJwtPayload(token: string): Record<string, unknown>;
export declare function pickLang(lang?: string): Lang;
export declare function needsRefresh(tokens: LoginResult | null, now?: number, leeway?: number): boolean;

export declare const REQUEST_TIMEOUT_MS: number;
export declare const LONG_POLL_SECONDS: number;
export declare const REFRESH_LEEWAY_MS: number;
export declare function randomString(bytes?: number): string;
export declare function tokensFromResponse(body: Record<string, unknown>, now?: number): LoginResult;

/** Runs tasks one after another (no two requests of one instance overlap). */
export declare class SerialQueue {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export declare class TokenStore {
  constructor(storage: Storage | null, key: string);
  get(): LoginResult | null;
  set(tokens: LoginResult): void;
  clear(): void;
}

/** What a scan run shows; views render it. */
export interface ScanState {
  status: 'loading' | QRLoginStatus['status'] | 'error';
  login?: QRLogin;
  body?: QRLoginStatus;
  error?: MiniLoginError;
  bindingError?: MiniLoginError | null;
  busy?: boolean;
  result?: LoginResult | AuthorizedQRLogin;
}

/** One `startScanning` run without any DOM (what `startScanning` and the element drive). */
export declare class ScanController {
  constructor(
    client: MiniLogin,
    options?: ScanOptions & { exchange?: boolean; authorizationRequest?: string },
  );
  readonly promise: Promise<LoginResult | AuthorizedQRLogin>;
  onChange(listener: (state: ScanState) => void): void;
  start(): Promise<void>;
  bind(username: string, password: string): Promise<void>;
  createAccount(): Promise<void>;
  fail(error: unknown): void;
  stop(): void;
}

/** The DOM of one scan run inside `element`. */
export declare class ScanView {
  constructor(element: Element, controller: ScanController, options?: ScanOptions);
}

/** `<minilogin-login issuer client-id lang connection scope size auto-refresh>` */
export interface MiniLoginElement extends HTMLElement {
  readonly client: MiniLogin | null;
  restart(): Promise<void>;
  addEventListener(type: 'login', listener: (event: CustomEvent<LoginResult>) => void): void;
  addEventListener(type: 'authorized', listener: (event: CustomEvent<AuthorizedQRLogin>) => void): void;
  addEventListener(type: 'status', listener: (event: CustomEvent<QRLoginStatus>) => void): void;
  addEventListener(type: 'error', listener: (event: CustomEvent<MiniLoginError>) => void): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'minilogin-login': MiniLoginElement;
  }
}
