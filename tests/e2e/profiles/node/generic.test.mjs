// Profiles without a provider SDK, with a generic JOSE library (jose):
// `plain` (OIDC-standard claim names) and `jwt-auth-service`
// (klazomenai/jwt-auth-service's claims: user_id, network, rate_limit,
// token_type, parent_jti). Also: one issuer's token never verifies with
// another issuer's JWKS, and `preset` picks any profile's claim shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { BASE, blockedHosts, issuer, mint, mount, persona, rejects, sorted, tamper } from './lib.mjs';

const alice = persona('alice');
const jwksOf = (name) => createRemoteJWKSet(new URL(`${mount(name)}/.well-known/jwks.json`));

test('plain: OIDC-standard names for the persona fields', async () => {
  const iss = `${BASE}/plain`;
  const { payload } = await jwtVerify(await mint(mount('plain'), { user: 'alice' }), jwksOf('plain'), {
    issuer: iss, audience: issuer('plain').audience, algorithms: ['RS256'],
  });
  assert.equal(payload.sub, alice.sub);
  assert.equal(payload.email, alice.email);
  assert.equal(payload.name, alice.name);
  assert.equal(payload.given_name, alice.given_name);
  assert.equal(payload.family_name, alice.family_name);
  assert.equal(payload.preferred_username, alice.username);
  assert.deepEqual(sorted(payload.roles), sorted(alice.roles));
  assert.deepEqual(sorted(payload.groups), sorted(alice.groups));
  assert.deepEqual(sorted(payload.permissions), sorted(alice.permissions));
  assert.deepEqual(sorted(payload.org_permissions), sorted(alice.org_permissions));
  assert.deepEqual(payload.client_roles, alice.client_roles);
  assert.equal(payload.org_id, alice.org_id);
  assert.equal(payload.org_role, alice.org_role);
  assert.equal(payload.org_slug, alice.org_slug);
  assert.equal(payload.v, undefined, 'no Clerk claims');
});

test('jwt-auth-service: the service\'s claims on a JSON-minted token', async () => {
  const at = mount('jwtauth');
  const { payload, protectedHeader } = await jwtVerify(await mint(at, { user: 'alice' }), jwksOf('jwtauth'), {
    issuer: `${BASE}/jwtauth`, audience: issuer('jwtauth').audience, algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.typ, 'JWT');
  assert.deepEqual(payload.aud, [issuer('jwtauth').audience], 'aud is an array, as the service signs it');
  assert.equal(payload.user_id, alice.username);
  assert.equal(payload.sub, alice.sub);
  assert.equal(payload.network, 'default');
  assert.equal(payload.rate_limit, 100);
  assert.match(payload.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

// The service's API (POST /tokens, ...): the lifecycle stage
// (tests/e2e/lifecycle) covers the rest of it.
test('jwt-auth-service: POST /tokens answers {token, token_id, expires_at}', async () => {
  const at = mount('jwtauth');
  const res = await fetch(`${at}/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 'u123', network: 'mainnet', rate_limit: 50 }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  const { payload } = await jwtVerify(body.token, jwksOf('jwtauth'), { issuer: `${BASE}/jwtauth`, audience: issuer('jwtauth').audience });
  assert.equal(payload.sub, 'user_u123');
  assert.equal(payload.user_id, 'u123');
  assert.equal(payload.network, 'mainnet');
  assert.equal(payload.rate_limit, 50);
  assert.equal(payload.jti, body.token_id);
  assert.ok(!Number.isNaN(Date.parse(body.expires_at)));
});

test('every issuer signs with its own key: a token never verifies with another issuer\'s JWKS', async () => {
  const names = ['', 'clerk', 'plain', 'auth0', 'keycloak', 'entra', 'google', 'us-east-1_Abc123', 'jwtauth'];
  const jwksUrl = (n) => (n === '' ? `${BASE}/.well-known/jwks.json`
    : issuer(n).profile === 'keycloak' ? `${mount(n)}/protocol/openid-connect/certs`
      : issuer(n).profile === 'entra' ? `${mount(n)}/discovery/v2.0/keys`
        : issuer(n).profile === 'google' ? `${mount(n)}/oauth2/v3/certs`
          : `${mount(n)}/.well-known/jwks.json`);
  const tokens = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await mint(mount(n), { sub: 'user_x' })])));
  for (const n of names) {
    const own = createRemoteJWKSet(new URL(jwksUrl(n)));
    await jwtVerify(tokens[n], own); // its own JWKS: fine
    await rejects(jwtVerify(tamper(tokens[n]), own), `${n || 'root'} tampered`);
    for (const other of names.filter((x) => x !== n)) {
      await rejects(jwtVerify(tokens[other], own), `${other || 'root'}'s token with ${n || 'root'}'s JWKS`);
    }
  }
});

test('preset picks any profile\'s claim shape on any issuer', async () => {
  const iss = `${BASE}/plain`;
  const opts = { issuer: iss, algorithms: ['RS256'] };
  const kc = (await jwtVerify(await mint(mount('plain'), { user: 'alice', preset: 'keycloak' }), jwksOf('plain'), opts)).payload;
  assert.equal(kc.typ, 'Bearer');
  assert.deepEqual(sorted(kc.realm_access.roles), sorted(alice.roles));
  const cognito = (await jwtVerify(await mint(mount('plain'), { user: 'alice', preset: 'cognito' }), jwksOf('plain'), opts)).payload;
  assert.equal(cognito.token_use, 'access');
  assert.equal(cognito.username, alice.username);
  const clerk = (await jwtVerify(await mint(mount('plain'), { user: 'alice', preset: 'clerk' }), jwksOf('plain'), opts)).payload;
  assert.equal(clerk.v, 2);
  assert.equal(clerk.o.id, alice.org_id);
});

test('generic: nothing left the machine', () => {
  assert.deepEqual(blockedHosts, []);
});
