// One relying party's whole life with minilogin through openid-client (a third-party OpenID
// Connect client for Node): discovery, code + PKCE with response_mode=form_post, the ID token
// checked against the JWKS in the algorithm the client registered, UserInfo, a refresh, a
// revocation and RP-initiated logout.
//
// Driven by tests/oidc/test_third_party_clients.py over stdin/stdout, one JSON object a line:
// this prints the authorization URL, the test logs the person in (the hosted page and the
// sandbox's phone) and answers with the fields of the form the page posts to the redirect
// URI; this prints what the library made of it all. Any error ends the process with the
// library's error on stderr.
//
//   node openid_client.mjs ISSUER CLIENT_ID ALG REDIRECT_URI POST_LOGOUT_REDIRECT_URI

import { createInterface } from 'node:readline';
import * as client from 'openid-client';

const [issuer, clientId, alg, redirectUri, postLogoutRedirectUri] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function say(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function hear() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed before the answer');
  return JSON.parse(value);
}

function header(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString());
}

// Public client (PKCE, no secret); the issuer is http on this computer, hence insecure
// requests; non-repudiation checks verify the ID token's signature against the JWKS, and the
// registered id_token_signed_response_alg makes the library refuse any other algorithm.
const config = await client.discovery(
  new URL(issuer),
  clientId,
  { id_token_signed_response_alg: alg },
  client.None(),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile phone',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  response_mode: 'form_post',
  state,
  nonce,
});
say({ step: 'authorize', url: authorizationUrl.href });

const { form } = await hear();
const callback = new Request(redirectUri, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(form),
});
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
let afterRevocation = null;
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
} catch (error) {
  afterRevocation = error.error ?? error.code ?? String(error);
}
const logoutUrl = client.buildEndSessionUrl(config, {
  id_token_hint: refreshed.id_token,
  post_logout_redirect_uri: postLogoutRedirectUri,
  state: 'bye',
});
say({
  step: 'done',
  id_token_header: header(tokens.id_token),
  claims,
  userinfo,
  refreshed_header: header(refreshed.id_token),
  refreshed_claims: refreshed.claims(),
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  after_revocation: afterRevocation,
  logout_url: logoutUrl.href,
});
lines.return?.();
process.stdin.destroy();
