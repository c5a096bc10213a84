// Profile `cognito` through AWS's own verifier, aws-jwt-verify:
// CognitoJwtVerifier.create({userPoolId, tokenUse, clientId}) derives the
// issuer https://cognito-idp.<region>.amazonaws.com/<poolId> and its JWKS URL
// from the pool id, as against real Cognito. Its documented JWKS cache takes a
// custom fetcher, which reads that JWKS URL from mock-idp on loopback
// (the verifier itself only speaks https). Tokens come from the pool's OAuth
// endpoints (/oauth2/authorize, /oauth2/token) and the JSON mint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  authorizeCode, blockedHosts, client, getJson, mint, mount, persona, rejects, sorted, tamper, tokenGrant,
} from './lib.mjs';

const POOL = 'us-east-1_Abc123';
const m = mount(POOL);
const ISS = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const web = client(POOL, 'authorization_code');
const m2m = client(POOL, 'client_credentials');
const alice = persona('alice');

// The verifier asks for ${ISS}/.well-known/jwks.json; this reads it from the pool's mount.
const fetched = [];
const jwksCache = new SimpleJwksCache({
  fetcher: {
    async fetch(uri) {
      fetched.push(uri);
      assert.ok(uri.startsWith(`${ISS}/`), `the verifier derived ${uri}`);
      const res = await fetch(`${m}/${uri.slice(ISS.length + 1)}`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200);
      return res.arrayBuffer();
    },
  },
});
const verifier = (props) => CognitoJwtVerifier.create({ userPoolId: POOL, ...props }, { jwksCache });
const accessVerifier = verifier({ tokenUse: 'access', clientId: web.client_id });
const idVerifier = verifier({ tokenUse: 'id', clientId: web.client_id });

test('cognito: user pool discovery and paths', async () => {
  const d = await getJson(`${m}/.well-known/openid-configuration`);
  assert.equal(d.issuer, ISS);
  assert.equal(d.jwks_uri, `${m}/.well-known/jwks.json`);
  assert.equal(d.token_endpoint, `${m}/oauth2/token`);
  assert.equal(d.authorization_endpoint, `${m}/oauth2/authorize`);
  assert.equal(d.userinfo_endpoint, `${m}/oauth2/userInfo`);
});

test('cognito: authorization code at /oauth2/authorize + /oauth2/token -> access and ID tokens', async () => {
  const redirect = web.redirect_uris[0];
  const code = await authorizeCode(`${m}/oauth2/authorize`, {
    client_id: web.client_id, redirect_uri: redirect, scope: 'openid email profile', login_hint: 'alice', state: 's1',
  });
  const res = await tokenGrant(`${m}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: redirect },
    [web.client_id, web.client_secret]);

  const at = await accessVerifier.verify(res.access_token);
  assert.equal(at.token_use, 'access');
  assert.equal(at.iss, ISS);
  assert.equal(at.client_id, web.client_id);
  assert.equal(at.username, alice.username);
  assert.equal(at.sub, alice.sub);
  assert.equal(at.aud, undefined, 'Cognito access tokens carry client_id, not aud');
  assert.deepEqual(sorted(at['cognito:groups']), sorted([...new Set([...alice.groups, ...alice.roles])]));
  assert.ok(at.scope.split(' ').includes('openid'));
  assert.equal(at.version, 2);
  // The verifier's group check, as an API would configure it.
  await verifier({ tokenUse: 'access', clientId: web.client_id, groups: alice.groups[0] }).verify(res.access_token);
  await rejects(verifier({ tokenUse: 'access', clientId: web.client_id, groups: 'auditors' }).verify(res.access_token), 'group');

  const id = await idVerifier.verify(res.id_token);
  assert.equal(id.token_use, 'id');
  assert.equal(id.aud, web.client_id);
  assert.equal(id['cognito:username'], alice.username);
  assert.equal(id.email, alice.email);
  assert.equal(id.email_verified, true);
  assert.equal(id.name, alice.name);
  assert.equal(id.given_name, alice.given_name);
  assert.equal(id.family_name, alice.family_name);

  const ui = await fetch(`${m}/oauth2/userInfo`, { headers: { authorization: `Bearer ${res.access_token}` } });
  assert.equal(ui.status, 200);
  const info = await ui.json();
  assert.equal(info.sub, alice.sub);
  assert.equal(info.email, alice.email);
  assert.equal(info.username, alice.username);
});

test('cognito: client_credentials -> machine access token (sub = client_id, custom scope)', async () => {
  const res = await tokenGrant(`${m}/oauth2/token`, { grant_type: 'client_credentials', scope: m2m.scope },
    [m2m.client_id, m2m.client_secret]);
  const p = await verifier({ tokenUse: 'access', clientId: m2m.client_id, scope: m2m.scope }).verify(res.access_token);
  assert.equal(p.sub, m2m.client_id);
  assert.equal(p.client_id, m2m.client_id);
  assert.equal(p.token_use, 'access');
  assert.equal(p.username, undefined);
  assert.equal(p['cognito:groups'], undefined);
});

test('cognito: JSON mint gives an access token for the azp client', async () => {
  const p = await accessVerifier.verify(await mint(m, { user: 'alice', azp: web.client_id }));
  assert.equal(p.token_use, 'access');
  assert.equal(p.username, alice.username);
  assert.equal(p.client_id, web.client_id);
});

test('cognito: broken tokens are refused by the verifier', async () => {
  const good = await mint(m, { user: 'alice', azp: web.client_id });
  await accessVerifier.verify(good);
  const cases = [
    ['expired', await mint(m, { user: 'alice', azp: web.client_id, expires_in: -3600 }), /expired/i],
    ['tampered signature', tamper(good), /signature/i],
    ['another pool\'s issuer', await mint(m, { user: 'alice', azp: web.client_id, iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1' }), /issuer/i],
    ['another app client', await mint(m, { user: 'alice', azp: m2m.client_id }), /client/i],
    ['an ID token where an access token is expected', await mint(m, { user: 'alice', azp: web.client_id, claims: { token_use: 'id' } }), /token use/i],
    ['another issuer (same iss and client, other key)', await mint(mount('plain'), { user: 'alice', iss: ISS, claims: { token_use: 'access', client_id: web.client_id } }), /kid|JWK/i],
  ];
  for (const [what, token, reason] of cases) {
    assert.match(await rejects(accessVerifier.verify(token), what), reason, what);
  }
});

test('cognito: the verifier only fetched the pool JWKS; nothing left the machine', () => {
  assert.ok(fetched.length >= 1);
  for (const uri of fetched) assert.equal(uri, `${ISS}/.well-known/jwks.json`);
  assert.deepEqual(blockedHosts, []);
});
