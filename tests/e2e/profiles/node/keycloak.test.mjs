// Profile `keycloak` through Keycloak's own Node.js adapter, keycloak-connect
// (deprecated upstream in favour of generic OIDC libraries, still the one
// Keycloak ships): a Keycloak instance configured like keycloak.json
// ({realm, auth-server-url, resource, credentials}) talks to the realm layout
// /realms/{name}/protocol/openid-connect/... over plain http, validates every
// token itself (typ Bearer/ID, iss = realm URL, key from .../certs by kid)
// and answers hasRole('realm:x') / hasRole('client:x') as keycloak.protect() does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Keycloak from 'keycloak-connect';
import Token from 'keycloak-connect/middleware/auth-utils/token.js';
import {
  BASE, blockedHosts, client, getJson, mint, mount, persona, rejects, sorted, tamper,
} from './lib.mjs';

const REALM = 'keycloak';
const REALM_URL = `${BASE}/realms/${REALM}`;
const OIDC = `${REALM_URL}/protocol/openid-connect`;
const alice = persona('alice');
const web = client(REALM, 'web-app');
const svc = client(REALM, 'billing-api');

/** A Keycloak adapter for `c`, as keycloak.json would configure it. */
function adapter(c, extra = {}) {
  return new Keycloak({}, {
    realm: REALM,
    'auth-server-url': BASE,
    resource: c.client_id,
    credentials: { secret: c.client_secret },
    'ssl-required': 'none',
    // 0 would read as unset (10 s): refetch the certs for an unknown kid at once.
    'min-time-between-jwks-requests': 0.001,
    ...extra,
  });
}
const webApp = adapter(web);
const api = adapter(web, { 'bearer-only': true });

/**
 * What keycloak.middleware() + keycloak.protect(spec) do for a request with
 * `token`: getGrant() validates the bearer token (rejects if invalid), then
 * the guard answers next() or 403. Returns {status, grant}.
 */
async function protect(kc, token, spec) {
  const req = { headers: { authorization: `Bearer ${token}`, host: '127.0.0.1:3000' }, url: '/api', originalUrl: '/api', protocol: 'http' };
  const grant = await kc.getGrant(req, {});
  req.kauth = { grant };
  let status;
  const res = { status(s) { status = s; return this; }, end() { return this; } };
  kc.protect(spec)(req, res, () => { status = 200; });
  assert.ok(status, 'protect() neither called next() nor answered');
  return { status, grant };
}

test('keycloak: realm layout, discovery and realm info', async () => {
  const d = await getJson(`${REALM_URL}/.well-known/openid-configuration`);
  assert.equal(d.issuer, REALM_URL);
  const expected = {
    authorization_endpoint: `${OIDC}/auth`,
    token_endpoint: `${OIDC}/token`,
    userinfo_endpoint: `${OIDC}/userinfo`,
    end_session_endpoint: `${OIDC}/logout`,
    jwks_uri: `${OIDC}/certs`,
    introspection_endpoint: `${OIDC}/token/introspect`,
    revocation_endpoint: `${OIDC}/revoke`,
  };
  for (const [k, v] of Object.entries(expected)) assert.equal(d[k], v, k);
  const jwks = await getJson(d.jwks_uri);
  assert.ok(jwks.keys.length >= 1 && jwks.keys.every((k) => k.kid && k.kty === 'RSA'));
  // GET /realms/{realm}: what older adapters read the public key from.
  const info = await getJson(REALM_URL);
  assert.equal(info.realm, REALM);
  assert.equal(info['token-service'], OIDC);
  assert.equal(typeof info.public_key, 'string');
  // The adapter configured with that key (realm-public-key) validates tokens without certs.
  const pinned = adapter(web, { 'bearer-only': true, 'realm-public-key': info.public_key });
  const { status } = await protect(pinned, await mint(mount(REALM), { user: 'alice' }), 'realm:admin');
  assert.equal(status, 200);
});

test('keycloak: JSON mint -> the adapter accepts it; realm and client roles, profile claims', async () => {
  const token = await mint(mount(REALM), { user: 'alice' });
  const { status, grant } = await protect(api, token, `realm:${alice.roles[0]}`);
  assert.equal(status, 200);
  const at = grant.access_token;
  assert.equal(at.content.typ, 'Bearer');
  assert.equal(at.content.iss, REALM_URL);
  assert.equal(at.content.sub, alice.sub);
  for (const role of alice.roles) assert.ok(at.hasRole(`realm:${role}`), `realm:${role}`);
  for (const [app, roles] of Object.entries(alice.client_roles)) {
    for (const role of roles) assert.ok(at.hasRole(`${app}:${role}`), `${app}:${role}`);
  }
  assert.ok(at.hasRole('owner'), 'a bare role name is a role of the adapter\'s own client (web-app)');
  assert.equal(at.hasRole('realm:superuser'), false);
  assert.deepEqual(sorted(at.content.realm_access.roles), sorted(alice.roles));
  assert.equal(at.content.preferred_username, alice.username);
  assert.equal(at.content.email, alice.email);
  assert.equal(at.content.email_verified, true);
  assert.equal(at.content.name, alice.name);
  assert.equal(at.content.given_name, alice.given_name);
  assert.equal(at.content.family_name, alice.family_name);
  assert.deepEqual(sorted(at.content.groups), sorted(alice.groups));
  assert.match(at.content.sid, /.+/);
  // keycloak.protect() denies a role alice lacks.
  assert.equal((await protect(api, token, 'realm:superuser')).status, 403);
});

test('keycloak: password grant through the adapter (obtainDirectly) -> validated access and ID tokens', async () => {
  const grant = await webApp.grantManager.obtainDirectly('alice', 'any-password', undefined, 'openid profile email');
  const at = grant.access_token.content;
  assert.equal(at.typ, 'Bearer');
  assert.equal(at.azp, web.client_id);
  assert.ok(at.scope.split(' ').includes('openid'));
  assert.ok(grant.access_token.hasRole(`realm:${alice.roles[0]}`));
  // validateGrant checked the ID token too: typ ID, aud and azp = this client.
  const id = grant.id_token.content;
  assert.equal(id.typ, 'ID');
  assert.equal(id.azp, web.client_id);
  assert.ok([id.aud].flat().includes(web.client_id));
  assert.equal(id.preferred_username, alice.username);
  assert.equal(id.sid, at.sid, 'the ID token and access token share the session');

  const info = await webApp.grantManager.userInfo(grant.access_token);
  assert.equal(info.sub, alice.sub);
  assert.equal(info.preferred_username, alice.username);
  assert.equal(info.email, alice.email);
  // Introspection at .../token/introspect (client authenticated).
  assert.ok(await webApp.grantManager.validateAccessToken(grant.access_token), 'active');
  assert.equal(await webApp.grantManager.validateAccessToken(tamper(grant.access_token.token)), false);
});

test('keycloak: client_credentials (service account) -> realm and client roles of the client', async () => {
  const grant = await adapter(svc).grantManager.obtainFromClientCredentials(undefined, 'profile email');
  const at = grant.access_token;
  assert.equal(at.content.typ, 'Bearer');
  assert.equal(at.content.azp, svc.client_id);
  assert.equal(at.content.client_id, svc.client_id);
  assert.equal(at.content.preferred_username, `service-account-${svc.client_id}`);
  for (const role of svc.roles) assert.ok(at.hasRole(`realm:${role}`), `realm:${role}`);
  for (const [app, roles] of Object.entries(svc.client_roles)) {
    for (const role of roles) assert.ok(at.hasRole(`${app}:${role}`), `${app}:${role}`);
  }
});

test('keycloak: broken tokens are refused by the adapter', async () => {
  const m = mount(REALM);
  const good = await mint(m, { user: 'alice' });
  assert.equal((await protect(api, good, `realm:${alice.roles[0]}`)).status, 200);
  const cases = [
    ['expired', await mint(m, { user: 'alice', expires_in: -3600 }), /expired/],
    ['tampered signature', tamper(good), /signature/],
    ['wrong issuer', await mint(m, { user: 'alice', iss: `${BASE}/realms/other` }), /ISS/],
    ['an ID token used as a bearer token', await mint(m, { user: 'alice', claims: { typ: 'ID' } }), /wrong type/],
    ['another issuer (same iss, other key)', await mint(mount('plain'), { user: 'alice', iss: REALM_URL, claims: { typ: 'Bearer' } }), /public key/],
  ];
  for (const [what, token, reason] of cases) {
    const msg = await rejects(api.grantManager.validateToken(new Token(token, web.client_id), 'Bearer'), what);
    assert.match(msg, reason, what);
    await rejects(protect(api, token, `realm:${alice.roles[0]}`), `protect: ${what}`);
  }
});

test('keycloak: nothing left the machine', () => {
  assert.deepEqual(blockedHosts, []);
});
