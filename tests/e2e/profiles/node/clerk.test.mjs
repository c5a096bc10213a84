// Profile `clerk` (session token v2) through Clerk's own backend SDK,
// @clerk/backend: authenticateRequest() networkless with `jwtKey` (the PEM
// public key Clerk's dashboard shows, here derived from the issuer's JWKS),
// then toAuth().has(...), as clerkMiddleware() does. Runs for the root issuer
// (profile clerk by default) and the named issuer `clerk`.
//
//   MOCK_IDP_URL=http://127.0.0.1:PORT node --test clerk.test.mjs
//   CLERK_ISSUERS=root  (only the root; `root,clerk` by default)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient, verifyToken } from '@clerk/backend';
import {
  BASE, CONFIG, blockedHosts, client, getJson, mint, mount, orgPermissions, pemOf, peek, persona,
  rejects, sorted, tamper, tokenGrant,
} from './lib.mjs';

// A session token v2 as @clerk/backend decodes it: M2M JWTs carry this
// header category (JWT_CATEGORY_M2M_TOKEN in @clerk/backend).
const M2M_CATEGORY = 'cl_B7d4PD333AAA';
const ISSUERS = (process.env.CLERK_ISSUERS ?? 'root,clerk').split(',').filter(Boolean);
const alice = persona('alice');
const bob = persona('bob');

for (const name of ISSUERS) {
  const issuerName = name === 'root' ? '' : name;
  const at = mount(issuerName);
  const settings = issuerName ? { ...CONFIG, ...CONFIG.issuers[issuerName] } : CONFIG;
  const authorizedParty = settings.authorized_party;
  const expectedIss = issuerName ? `${BASE}/${issuerName}` : BASE;
  // A token of another issuer of the same server: the other half of the pair.
  const otherMount = issuerName ? mount('') : mount('clerk');
  const label = `clerk[${issuerName || 'root'}]`;

  let jwksCache;
  const jwtKeyFor = async (token) => {
    jwksCache ??= await getJson(`${at}/.well-known/jwks.json`);
    return pemOf(jwksCache, peek(token).header.kid);
  };
  // What a Clerk app runs: a client with its keys, authenticateRequest on
  // the incoming request. The secret key is only needed by the SDK when it
  // would call Clerk's Backend API; with jwtKey nothing leaves the machine.
  const authenticate = async (token, opts = {}) => {
    const jwtKey = await jwtKeyFor(token);
    const clerk = createClerkClient({
      secretKey: 'sk_test_mock_idp_placeholder',
      publishableKey: `pk_test_${Buffer.from('clerk.mock-idp.local$').toString('base64')}`,
      jwtKey,
      telemetry: { disabled: true },
    });
    const request = new Request('http://127.0.0.1:3000/api/me', { headers: { authorization: `Bearer ${token}` } });
    return clerk.authenticateRequest(request, { jwtKey, authorizedParties: [authorizedParty], ...opts });
  };
  const verify = async (token, opts = {}) =>
    verifyToken(token, { jwtKey: await jwtKeyFor(token), authorizedParties: [authorizedParty], ...opts });

  test(`${label}: discovery and JWKS at Clerk's paths`, async () => {
    const d = await getJson(`${at}/.well-known/openid-configuration`);
    assert.equal(d.issuer, expectedIss);
    assert.equal(d.jwks_uri, `${at}/.well-known/jwks.json`);
    const jwks = await getJson(d.jwks_uri);
    assert.ok(jwks.keys.every((k) => k.kty === 'RSA' && k.kid && k.e === 'AQAB' && k.n.length === 342),
      'RSA-2048 keys with e=AQAB: the only shape loadClerkJwkFromPem() can read from a PEM');
  });

  test(`${label}: alice's session token -> signed in with her user, org, role and permissions`, async () => {
    const token = await mint(at, { user: 'alice' });
    const state = await authenticate(token);
    assert.equal(state.status, 'signed-in', `${state.reason}: ${state.message}`);
    const auth = state.toAuth();
    assert.equal(auth.userId, alice.sub);
    assert.match(auth.sessionId, /^sess_[A-Za-z0-9]{27}$/);
    assert.equal(auth.orgId, alice.org_id);
    assert.equal(auth.orgRole, `org:${alice.org_role}`);
    assert.equal(auth.orgSlug, alice.org_slug);
    assert.deepEqual(sorted(auth.orgPermissions), orgPermissions(alice));
    const claims = auth.sessionClaims;
    assert.equal(claims.v, 2);
    assert.deepEqual(claims.fva, [0, -1]);
    assert.equal(claims.iss, expectedIss);
    assert.equal(claims.azp, authorizedParty, 'azp defaults to the issuer authorized_party');
    assert.equal(claims.o.rol, alice.org_role, 'o.rol has no org: prefix');
    // Custom session claims (what a session-token template adds) from the persona fields.
    assert.equal(claims.email, alice.email);
    assert.equal(claims.name, alice.name);
  });

  test(`${label}: has() reads the role and o.per/o.fpm/fea`, async () => {
    const auth = (await authenticate(await mint(at, { user: 'alice' }))).toAuth();
    for (const permission of alice.org_permissions) {
      assert.equal(auth.has({ permission }), true, permission);
    }
    assert.equal(auth.has({ permission: 'org:teams:manage' }), false, 'a permission alice lacks');
    assert.equal(auth.has({ permission: 'org:billing:read' }), false, 'a feature alice lacks');
    assert.equal(auth.has({ role: `org:${alice.org_role}` }), true);
    assert.equal(auth.has({ role: 'org:member' }), false);
  });

  test(`${label}: request org_role/org_permissions override the persona's`, async () => {
    // Without the org: prefix works too, as Clerk's own has() accepts both.
    const auth = (await authenticate(await mint(at, {
      user: 'alice', org_role: 'member', org_permissions: ['teams:read'],
    }))).toAuth();
    assert.equal(auth.orgRole, 'org:member');
    assert.deepEqual(auth.orgPermissions, ['org:teams:read']);
    assert.equal(auth.has({ permission: 'org:teams:read' }), true);
    assert.equal(auth.has({ permission: 'org:dashboard:read' }), false);
  });

  test(`${label}: bob (no org) is signed in without org, and his persona azp wins`, async () => {
    const token = await mint(at, { user: 'bob' });
    const state = await authenticate(token, { authorizedParties: [bob.azp] });
    assert.equal(state.status, 'signed-in', `${state.reason}: ${state.message}`);
    const auth = state.toAuth();
    assert.equal(auth.userId, bob.sub);
    assert.equal(auth.orgId ?? null, null);
    assert.equal(auth.has({ role: 'org:admin' }), false);
    assert.equal(auth.has({ permission: 'org:dashboard:read' }), false);
    assert.equal(auth.sessionClaims.o, undefined, 'no o claim without an org');
    assert.equal(auth.sessionClaims.azp, bob.azp);
  });

  test(`${label}: azp from the request, else the persona, else Origin, else authorized_party`, async () => {
    const cases = [
      ['request azp over Origin', { user: 'alice', azp: 'https://app.acme.example' }, { origin: 'http://localhost:5173' }, 'https://app.acme.example'],
      ['persona azp over Origin', { user: 'bob' }, { origin: 'http://localhost:5173' }, bob.azp],
      ['Origin over authorized_party', { user: 'alice' }, { origin: 'http://localhost:5173' }, 'http://localhost:5173'],
      ['authorized_party', { user: 'alice' }, {}, authorizedParty],
    ];
    for (const [what, fields, headers, expected] of cases) {
      const token = await mint(at, fields, headers);
      const ok = await verify(token, { authorizedParties: [expected] });
      assert.equal(ok.azp, expected, what);
      const msg = await rejects(verify(token, { authorizedParties: ['https://someone-else.example'] }), what);
      assert.match(msg, /Authorized party/i, what);
    }
  });

  test(`${label}: client_credentials -> a Clerk M2M JWT (authenticateRequest acceptsToken m2m_token)`, async () => {
    const c = client('clerk', 'client_credentials');
    // The scope is asked explicitly: the root issuer has no registered clients (any client, no defaults).
    const res = await tokenGrant(`${at}/token`, { grant_type: 'client_credentials', scope: c.scope }, [c.client_id, c.client_secret]);
    const { header } = peek(res.access_token);
    assert.equal(header.cat, M2M_CATEGORY);
    const state = await authenticate(res.access_token, { acceptsToken: 'm2m_token' });
    assert.equal(state.status, 'signed-in', `${state.reason}: ${state.message}`);
    const auth = state.toAuth();
    assert.equal(auth.tokenType, 'm2m_token');
    assert.equal(auth.subject, c.client_id.startsWith('mch_') ? c.client_id : `mch_${c.client_id}`);
    assert.deepEqual(auth.scopes, c.scope.split(' '));
    // A session verifier refuses it (different category).
    assert.match(await rejects(verifyToken(res.access_token, { jwtKey: await jwtKeyFor(res.access_token) })
      .then((r) => { if (r.errors) throw r.errors[0]; return r; }), 'session verifier on M2M'), /category/i);
  });

  test(`${label}: broken tokens are refused`, async () => {
    const good = await mint(at, { user: 'alice' });
    const cases = [
      ['expired', await mint(at, { user: 'alice', expires_in: -3600 }), {}, /expired/i],
      ['tampered signature', tamper(good), {}, /signature/i],
      ['wrong azp', await mint(at, { user: 'alice', azp: 'https://evil.example' }), {}, /Authorized party/i],
      ['wrong audience', await mint(at, { user: 'alice', aud: 'someone-else' }), { audience: 'my-api' }, /audience/i],
      ['wrong issuer', await mint(at, { user: 'alice', iss: 'https://evil.example' }), { issuer: expectedIss }, /issuer/i],
    ];
    for (const [what, token, opts, expected] of cases) {
      assert.match(await rejects(verify(token, opts), what), expected, what);
      const state = await authenticate(token, opts);
      assert.notEqual(state.status, 'signed-in', `authenticateRequest accepted the ${what} token`);
    }
    // Sanity: the same options accept a good token.
    assert.equal((await verify(await mint(at, { user: 'alice', aud: 'my-api' }), { audience: 'my-api', issuer: expectedIss })).sub, alice.sub);
  });

  test(`${label}: a token of another issuer is refused (same iss and azp, other key)`, async () => {
    const jwtKey = await jwtKeyFor(await mint(at, { user: 'alice' }));
    const foreign = await mint(otherMount, { user: 'alice', iss: expectedIss, azp: authorizedParty });
    assert.match(await rejects(verifyToken(foreign, { jwtKey, authorizedParties: [authorizedParty] }), 'foreign'), /signature/i);
  });

  test(`${label}: nothing left the machine`, () => {
    assert.deepEqual(blockedHosts, []);
  });
}
