// Profile `entra` (Microsoft identity platform v2). Tokens are obtained with
// Microsoft's own client library, @azure/msal-node, exactly as an app does:
// authority https://login.microsoftonline.com/<tenant>. MSAL refuses any
// authority that is not https, so its documented `system.networkClient` hook
// (INetworkModule) carries its requests to mock-idp on loopback instead of
// login.microsoftonline.com. For that host MSAL uses its built-in endpoint
// metadata (<authority>/oauth2/v2.0/token, .../authorize, issuer
// https://login.microsoftonline.com/<tenant>/v2.0): the profile's paths.
// Microsoft ships no supported Node library that validates access tokens for
// an API (passport-azure-ad is archived), so tokens are verified the way its
// docs describe, with a generic JOSE library (jose) against the discovered
// jwks_uri, issuer and audience.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  BASE, blockedHosts, client, getJson, issuer, mint, mount, persona, rejects, sorted, tamper,
} from './lib.mjs';

const NAME = 'entra';
const MS = 'https://login.microsoftonline.com';
const TENANT = issuer(NAME).tenant_id;
const ISS = `${MS}/${TENANT}/v2.0`;
const API = issuer(NAME).audience;
const app = client(NAME, 'client_credentials');
const alice = persona('alice');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Every request MSAL makes, after the rewrite (must all be to mock-idp).
const msalRequests = [];
const forward = async (url, method, options = {}) => {
  const target = url.startsWith(`${MS}/`) ? `${BASE}/${url.slice(MS.length + 1)}` : url;
  msalRequests.push(`${method} ${target.split('?')[0]}`);
  const res = await fetch(target, {
    method,
    headers: options.headers,
    body: method === 'POST' ? options.body : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { headers: Object.fromEntries(res.headers), body, status: res.status };
};
const networkClient = {
  sendGetRequestAsync: (url, options) => forward(url, 'GET', options),
  sendPostRequestAsync: (url, options) => forward(url, 'POST', options),
};
const cca = new ConfidentialClientApplication({
  auth: { clientId: app.client_id, clientSecret: app.client_secret, authority: `${MS}/${NAME}` },
  system: { networkClient },
});

let discovery;
let jwks;
async function verify(token, audience = API, issuerOverride = ISS) {
  discovery ??= await getJson(`${mount(NAME)}/v2.0/.well-known/openid-configuration`);
  jwks ??= createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: issuerOverride, audience, algorithms: ['RS256'] });
  assert.equal(protectedHeader.typ, 'JWT');
  assert.ok(protectedHeader.kid);
  return payload;
}

test('entra: tenant discovery at /v2.0/.well-known/openid-configuration', async () => {
  const d = await getJson(`${mount(NAME)}/v2.0/.well-known/openid-configuration`);
  assert.equal(d.issuer, ISS);
  assert.equal(d.jwks_uri, `${mount(NAME)}/discovery/v2.0/keys`);
  assert.equal(d.token_endpoint, `${mount(NAME)}/oauth2/v2.0/token`);
  assert.equal(d.authorization_endpoint, `${mount(NAME)}/oauth2/v2.0/authorize`);
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
  const keys = await getJson(d.jwks_uri);
  assert.ok(keys.keys.length >= 1 && keys.keys.every((k) => k.kid && k.kty === 'RSA'));
});

test('entra: MSAL client credentials -> app token (idtyp app, roles, no scp)', async () => {
  const r = await cca.acquireTokenByClientCredential({ scopes: [`api://${API}/.default`] });
  assert.equal(r.tokenType, 'Bearer');
  const p = await verify(r.accessToken);
  assert.equal(p.ver, '2.0');
  assert.equal(p.tid, TENANT);
  assert.equal(p.idtyp, 'app');
  assert.equal(p.azp, app.client_id);
  assert.equal(p.azpacr, '1');
  assert.deepEqual(sorted(p.roles), sorted(app.roles));
  assert.match(p.oid, GUID);
  assert.equal(p.sub, p.oid, 'an app token is about the service principal');
  assert.equal(p.scp, undefined);
  assert.match(p.uti, /.+/);
});

test('entra: MSAL username/password -> user token (scp, roles, groups, oid, preferred_username) and ID token', async () => {
  const r = await cca.acquireTokenByUsernamePassword({
    username: alice.username, password: 'any-password', scopes: [`api://${API}/access_as_user`],
  });
  const p = await verify(r.accessToken);
  assert.equal(p.ver, '2.0');
  assert.equal(p.tid, TENANT);
  assert.equal(p.sub, alice.sub);
  assert.match(p.oid, GUID);
  assert.equal(p.azp, app.client_id);
  assert.equal(p.name, alice.name);
  assert.equal(p.preferred_username, alice.username);
  const scp = p.scp.split(' ');
  assert.ok(scp.includes('access_as_user'), `scp ${p.scp}: the scope without its resource prefix`);
  for (const perm of alice.permissions) assert.ok(scp.includes(perm), `scp has ${perm}`);
  assert.deepEqual(sorted(p.roles), sorted(alice.roles));
  assert.deepEqual(sorted(p.groups), sorted(alice.groups));
  assert.notEqual(p.idtyp, 'app');

  // MSAL's view of the sign-in (from the ID token) and the ID token itself.
  assert.equal(r.account.tenantId, TENANT);
  assert.equal(r.account.username, alice.username);
  const id = await verify(r.idToken, app.client_id);
  assert.equal(id.oid, p.oid, 'one object id per user');
  assert.equal(id.tid, TENANT);
  assert.equal(id.ver, '2.0');
  assert.equal(id.preferred_username, alice.username);
  assert.equal(id.name, alice.name);
});

test('entra: MSAL authorization code (getAuthCodeUrl + acquireTokenByCode)', async () => {
  const redirectUri = app.redirect_uris[0];
  const url = await cca.getAuthCodeUrl({ scopes: [`api://${API}/access_as_user`], redirectUri, loginHint: 'bob', state: 'st-1' });
  // MSAL knows Entra's layout (its built-in metadata for login.microsoftonline.com).
  assert.ok(url.startsWith(`${MS}/${NAME}/oauth2/v2.0/authorize?`), url);
  const res = await fetch(url.replace(`${MS}/`, `${BASE}/`), { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const back = new URL(res.headers.get('location'));
  assert.equal(back.searchParams.get('state'), 'st-1');
  const r = await cca.acquireTokenByCode({ code: back.searchParams.get('code'), redirectUri, scopes: [`api://${API}/access_as_user`] });
  const p = await verify(r.accessToken);
  assert.equal(p.sub, persona('bob').sub);
  assert.deepEqual(p.roles, persona('bob').roles);
});

test('entra: JSON mint gives the v2 access token shape', async () => {
  const p = await verify(await mint(mount(NAME), { user: 'alice' }));
  assert.equal(p.ver, '2.0');
  assert.equal(p.tid, TENANT);
  assert.equal(p.preferred_username, alice.username);
  assert.deepEqual(sorted(p.roles), sorted(alice.roles));
  assert.match(p.oid, GUID);
});

test('entra: broken tokens are refused', async () => {
  const m = mount(NAME);
  const good = await mint(m, { user: 'alice' });
  await verify(good);
  const cases = [
    ['expired', await mint(m, { user: 'alice', expires_in: -3600 }), /exp/],
    ['tampered signature', tamper(good), /signature/],
    ['another tenant\'s issuer', await mint(m, { user: 'alice', iss: `${MS}/00000000-0000-0000-0000-000000000001/v2.0` }), /iss/],
    ['wrong audience', await mint(m, { user: 'alice', aud: 'api://someone-else' }), /aud/],
    ['another issuer (same iss and aud, other key)', await mint(mount('plain'), { user: 'alice', iss: ISS, aud: API }), /no applicable key|signature/],
  ];
  for (const [what, token, reason] of cases) {
    assert.match(await rejects(verify(token), what), reason, what);
  }
});

test('entra: MSAL only talked to mock-idp; nothing left the machine', () => {
  assert.ok(msalRequests.length > 0);
  for (const r of msalRequests) assert.ok(r.split(' ')[1].startsWith(`${BASE}/`), r);
  assert.ok(msalRequests.includes(`POST ${mount(NAME)}/oauth2/v2.0/token`), 'MSAL used the tenant token endpoint');
  assert.deepEqual(blockedHosts, []);
});
