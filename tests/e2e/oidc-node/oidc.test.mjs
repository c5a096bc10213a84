// mock-idp end to end with openid-client v6 (node:test). Every token is
// verified here against the served JWKS with jose, independently of mock-idp.
//
//   MOCK_IDP_URL=http://127.0.0.1:PORT node --test
//
// mock-idp must run with ISSUER = MOCK_IDP_URL (openid-client requires the
// discovered issuer to equal the URL it discovered from) and with
// ../oidc-config.yaml (clients e2e-service, e2e-app, e2e-public; personas
// alice, bob).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const ISSUER = (process.env.MOCK_IDP_URL || 'http://127.0.0.1:8081').replace(/\/+$/, '');
const APP_CALLBACK = 'http://127.0.0.1/e2e/callback';
const PUBLIC_CALLBACK = 'http://127.0.0.1/e2e/public-callback';
// Plain http on loopback: openid-client refuses it unless told otherwise.
const insecure = { execute: [client.allowInsecureRequests], timeout: 10 };

const discover = (id, secret, auth) => client.discovery(new URL(ISSUER), id, secret, auth, insecure);

let jwks;
async function verify(token, audience) {
  jwks ??= createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`), { timeoutDuration: 5000 });
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: ISSUER,
    audience,
    algorithms: ['RS256'],
  });
  assert.ok(protectedHeader.kid, 'token has a kid');
  return payload;
}

/** The OAuth error code of a rejected openid-client call. */
async function oauthError(promise) {
  try {
    await promise;
  } catch (err) {
    // A 401 with WWW-Authenticate (invalid_client) surfaces as a challenge
    // error; the RFC 6749 error code is in its response body.
    if (err.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && err.response) {
      assert.equal(err.response.status, 401);
      return (await err.response.json()).error;
    }
    return err.error ?? err.cause?.error ?? err.code;
  }
  assert.fail('expected the call to be rejected');
}

/** Follows /authorize with login_hint (instant redirect) and returns the callback URL. */
async function authorizeWithHint(url) {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 302, `authorize: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get('location'));
}

test('discovery: metadata lists the implemented endpoints', async () => {
  const config = await discover('e2e-app', 'app-secret');
  const md = config.serverMetadata();
  assert.equal(md.issuer, ISSUER);
  for (const [field, path] of [
    ['authorization_endpoint', '/authorize'],
    ['token_endpoint', '/token'],
    ['userinfo_endpoint', '/userinfo'],
    ['introspection_endpoint', '/introspect'],
    ['revocation_endpoint', '/revoke'],
    ['end_session_endpoint', '/logout'],
    ['jwks_uri', '/.well-known/jwks.json'],
  ]) {
    assert.equal(md[field], `${ISSUER}${path}`, field);
  }
  assert.deepEqual(md.code_challenge_methods_supported, ['S256', 'plain']);
  assert.ok(md.grant_types_supported.includes('refresh_token'));
  assert.ok(md.authorization_response_iss_parameter_supported);
});

test('client_credentials: client defaults, claims param, client_secret_basic', async () => {
  const config = await discover('e2e-service', 'service-secret', client.ClientSecretBasic('service-secret'));
  const tokens = await client.clientCredentialsGrant(config, { claims: JSON.stringify({ tier: 'gold' }) });
  assert.equal(tokens.token_type, 'bearer');
  assert.equal(tokens.scope, 'read');
  assert.equal(tokens.refresh_token, undefined);
  const claims = await verify(tokens.access_token, 'e2e-api');
  assert.equal(claims.sub, 'e2e-service');
  assert.deepEqual(claims.roles, ['reader']);
  assert.equal(claims.tier, 'gold');

  const bad = await discover('e2e-service', 'wrong-secret', client.ClientSecretBasic('wrong-secret'));
  assert.equal(await oauthError(client.clientCredentialsGrant(bad)), 'invalid_client');
});

test('password grant, ID token, refresh rotation, reuse and made-up refresh tokens', async () => {
  const config = await discover('e2e-app', 'app-secret');
  const tokens = await client.genericGrantRequest(config, 'password', {
    username: 'bob',
    password: 'hunter2',
    scope: 'openid offline_access',
  });
  const idClaims = tokens.claims(); // validated by openid-client (iss, aud, exp, iat)
  assert.equal(idClaims.sub, 'user_bob');
  const id = await verify(tokens.id_token, 'e2e-app');
  assert.equal(id.email, 'bob@example.com');
  assert.ok(id.at_hash && id.auth_time);
  const access = await verify(tokens.access_token, 'e2e-api');
  assert.equal(access.sub, 'user_bob');
  assert.equal(decodeProtectedHeader(tokens.refresh_token).typ, 'mock-idp-refresh+jwt');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
  assert.equal((await verify(refreshed.access_token, 'e2e-api')).sub, 'user_bob');
  assert.equal(refreshed.claims().sub, 'user_bob');

  assert.equal(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token)), 'invalid_grant', 'reuse');
  assert.equal(await oauthError(client.refreshTokenGrant(config, 'made-up-refresh-token')), 'invalid_grant', 'made up');
  assert.equal(
    await oauthError(client.genericGrantRequest(config, 'password', { username: 'bob', password: 'nope' })),
    'invalid_grant',
    'wrong password',
  );
});

test('userinfo, introspection and revocation', async () => {
  const config = await discover('e2e-app', 'app-secret');
  const tokens = await client.genericGrantRequest(config, 'password', { username: 'alice', scope: 'openid' });
  const info = await client.fetchUserInfo(config, tokens.access_token, 'user_alice');
  assert.equal(info.email, 'alice@example.com');
  assert.equal(info.name, 'Alice');

  const live = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.sub, 'user_alice');
  assert.equal(live.client_id, 'e2e-app');

  await client.tokenRevocation(config, tokens.access_token);
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  await client.tokenRevocation(config, 'not-a-token'); // RFC 7009: still fine
  assert.equal((await client.tokenIntrospection(config, 'garbage')).active, false);
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'user_alice'));
});

test('authorization code + PKCE S256 (confidential client, login_hint)', async () => {
  const config = await discover('e2e-app', 'app-secret');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: APP_CALLBACK,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    login_hint: 'alice',
  });
  const callback = await authorizeWithHint(url);
  assert.equal(callback.searchParams.get('iss'), ISSUER);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  assert.equal(tokens.claims().sub, 'user_alice');
  const id = await verify(tokens.id_token, 'e2e-app');
  assert.equal(id.nonce, nonce);
  assert.equal((await verify(tokens.access_token, 'e2e-api')).o.rol, 'admin');

  // The code is single-use.
  assert.equal(
    await oauthError(client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    })),
    'invalid_grant',
  );
});

test('authorization code + PKCE for a public client (token_endpoint_auth_method none)', async () => {
  const config = await discover('e2e-public', undefined, client.None());
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: PUBLIC_CALLBACK,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    login_hint: 'alice',
  });
  const callback = await authorizeWithHint(url);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    idTokenExpected: true,
  });
  assert.equal(tokens.claims().aud, 'e2e-public');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal((await verify(refreshed.access_token)).sub, 'user_alice');
});
