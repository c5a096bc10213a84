// Profile `auth0` through Auth0's own API SDK for Node, express-oauth2-jwt-bearer
// (the middleware of Auth0's Express API quickstart): auth({issuerBaseURL,
// audience}) discovers the issuer and JWKS from mock-idp over plain http (the
// SDK picks http or https from the URL; no escape hatch needed), then
// requiredScopes()/claimIncludes()/claimEquals() as an API would use them.
// ID tokens are checked with jose (Auth0's ID-token SDKs are the browser/web
// login SDKs, which need a browser session).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, claimEquals, claimIncludes, requiredScopes } from 'express-oauth2-jwt-bearer';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  BASE, blockedHosts, client, getJson, issuer, mint, mount, oauthForm, persona, rejects, sorted, tamper, tokenGrant,
} from './lib.mjs';

const NAME = 'auth0';
const at = mount(NAME);
const ISS = `${BASE}/${NAME}/`; // Auth0's issuer ends with a slash
const API = issuer(NAME).audience;
const NS = issuer(NAME).claims_namespace;
const alice = persona('alice');
const web = client(NAME, 'auth0-web');
const m2m = client(NAME, 'auth0-m2m');

/**
 * Runs Express middlewares on a minimal request carrying `token`, the way
 * Express would (req.get/req.is, next(err)); resolves with req.auth or
 * rejects with the middleware's error.
 */
async function express(token, ...middlewares) {
  const req = {
    method: 'GET', url: '/api/reports', originalUrl: '/api/reports', protocol: 'http', query: {}, body: undefined, socket: {},
    headers: { host: '127.0.0.1:3000', authorization: `Bearer ${token}` },
    get(h) { return this.headers[h.toLowerCase()]; },
    is() { return false; },
  };
  for (const mw of middlewares) {
    await new Promise((resolve, reject) => {
      const res = {};
      mw(req, res, (err) => (err ? reject(err) : resolve()));
    });
  }
  return req.auth;
}

// What an Auth0-protected API configures: the tenant URL and its API identifier.
const checkJwt = auth({ issuerBaseURL: ISS, audience: API, tokenSigningAlg: 'RS256' });

test('auth0: discovery at Auth0 paths, issuer with trailing slash', async () => {
  const d = await getJson(`${ISS}.well-known/openid-configuration`);
  assert.equal(d.issuer, ISS);
  assert.equal(d.token_endpoint, `${ISS}oauth/token`);
  assert.equal(d.authorization_endpoint, `${ISS}authorize`);
  assert.equal(d.userinfo_endpoint, `${ISS}userinfo`);
  assert.equal(d.jwks_uri, `${ISS}.well-known/jwks.json`);
  assert.equal(d.revocation_endpoint, `${ISS}oauth/revoke`);
  assert.equal(d.end_session_endpoint, `${ISS}oidc/logout`);
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'),
    'express-oauth2-jwt-bearer only accepts the algorithms listed here');
});

test('auth0: JSON mint -> the SDK accepts it; permissions, roles and org as the persona says', async () => {
  const token = await mint(at, { user: 'alice', scope: 'read:reports' });
  const { payload, header } = await express(token, checkJwt,
    requiredScopes('read:reports'),
    claimIncludes('permissions', ...alice.permissions),
    claimEquals('org_id', alice.org_id),
    claimEquals('org_name', alice.org_slug));
  assert.equal(header.alg, 'RS256');
  assert.equal(payload.iss, ISS);
  assert.equal(payload.sub, alice.sub);
  assert.equal(payload.aud, API, 'without openid the audience is the API alone');
  // Auth0 reserves `roles`/`groups`: they are namespaced custom claims (as an Action adds them).
  assert.deepEqual(sorted(payload[`${NS}roles`]), sorted(alice.roles));
  assert.deepEqual(sorted(payload[`${NS}groups`]), sorted(alice.groups));
  assert.equal(payload.roles, undefined);
  // A permission alice does not have is refused by the SDK's claim check.
  await rejects(express(token, checkJwt, claimIncludes('permissions', 'delete:reports')), 'missing permission');
});

test('auth0: password grant at /oauth/token (audience + openid) -> aud [API, <iss>userinfo], azp, ID token', async () => {
  const res = await tokenGrant(`${ISS}oauth/token`, {
    grant_type: 'password', username: 'alice', password: 'any', audience: API,
    scope: 'openid profile email read:reports', client_id: web.client_id, client_secret: web.client_secret,
  });
  const { payload } = await express(res.access_token, checkJwt, requiredScopes('read:reports'),
    claimIncludes('permissions', ...alice.permissions));
  assert.deepEqual(payload.aud, [API, `${ISS}userinfo`]);
  assert.equal(payload.azp, web.client_id);
  assert.equal(payload.sub, alice.sub);
  assert.ok(payload.scope.split(' ').includes('openid'));

  const jwks = createRemoteJWKSet(new URL(`${ISS}.well-known/jwks.json`));
  const id = (await jwtVerify(res.id_token, jwks, { issuer: ISS, audience: web.client_id })).payload;
  assert.equal(id.sub, alice.sub);
  assert.equal(id.email, alice.email);
  assert.equal(id.email_verified, true);
  assert.equal(id.name, alice.name);
  assert.equal(id.nickname, alice.username);
  assert.equal(id.given_name, alice.given_name);
  assert.equal(id.family_name, alice.family_name);
  assert.equal(id.org_id, alice.org_id);

  // The userinfo audience is usable at /userinfo.
  const ui = await fetch(`${ISS}userinfo`, { headers: { authorization: `Bearer ${res.access_token}` } });
  assert.equal(ui.status, 200);
  const info = await ui.json();
  assert.equal(info.sub, alice.sub);
  assert.equal(info.email, alice.email);
});

test('auth0: client_credentials (form, client_secret_basic) -> gty, <client>@clients, permissions = scopes', async () => {
  const res = await tokenGrant(`${ISS}oauth/token`, { grant_type: 'client_credentials', audience: API },
    [m2m.client_id, m2m.client_secret]);
  const { payload } = await express(res.access_token, checkJwt, requiredScopes(...m2m.scope.split(' ')),
    claimEquals('gty', 'client-credentials'), claimIncludes('permissions', ...m2m.scope.split(' ')));
  assert.equal(payload.sub, `${m2m.client_id}@clients`);
  assert.equal(payload.azp, m2m.client_id);
  assert.equal(payload.aud, API);
});

test('auth0: client_credentials with a JSON body (as Auth0 accepts) and client_secret_post', async () => {
  const r = await fetch(`${ISS}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: m2m.client_id, client_secret: m2m.client_secret, audience: API }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  const { payload } = await express(body.access_token, checkJwt, claimEquals('gty', 'client-credentials'));
  assert.equal(payload.sub, `${m2m.client_id}@clients`);
  // A wrong secret is refused at the token endpoint.
  const bad = await oauthForm(`${ISS}oauth/token`, { grant_type: 'client_credentials', audience: API, client_id: m2m.client_id, client_secret: 'wrong' });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
});

test('auth0: /v2/logout and /oidc/logout redirect back', async () => {
  const v2 = await fetch(`${ISS}v2/logout?client_id=${web.client_id}&returnTo=${encodeURIComponent(web.redirect_uris[0])}`, { redirect: 'manual' });
  assert.equal(v2.status, 302);
  assert.equal(v2.headers.get('location'), web.redirect_uris[0]);
  const oidc = await fetch(`${ISS}oidc/logout?client_id=${web.client_id}&post_logout_redirect_uri=${encodeURIComponent(web.redirect_uris[0])}&state=s1`, { redirect: 'manual' });
  assert.equal(oidc.status, 302);
  const loc = new URL(oidc.headers.get('location'));
  assert.equal(`${loc.origin}${loc.pathname}`, web.redirect_uris[0]);
  assert.equal(loc.searchParams.get('state'), 's1');
});

test('auth0: broken tokens are refused by the SDK', async () => {
  const good = await mint(at, { user: 'alice' });
  assert.equal((await express(good, checkJwt)).payload.sub, alice.sub);
  const cases = [
    ['expired', await mint(at, { user: 'alice', expires_in: -3600 }), /exp/],
    ['tampered signature', tamper(good), /signature/],
    ['wrong issuer', await mint(at, { user: 'alice', iss: `${BASE}/evil/` }), /'iss'/],
    ['issuer without the trailing slash', await mint(at, { user: 'alice', iss: ISS.slice(0, -1) }), /'iss'/],
    ['wrong audience', await mint(at, { user: 'alice', aud: 'https://other-api.example' }), /'aud'/],
    ['another issuer (same iss and aud, other key)', await mint(mount('plain'), { user: 'alice', iss: ISS, aud: API }), /no applicable key/],
  ];
  for (const [what, token, reason] of cases) {
    assert.match(await rejects(express(token, checkJwt), what), reason, what);
  }
});

test('auth0: nothing left the machine', () => {
  assert.deepEqual(blockedHosts, []);
});
