// Profile `google` through Google's own Node library, google-auth-library:
// OAuth2Client with its documented `endpoints` option pointed at mock-idp
// (authorization, token, and the federated-signon certificates
// /oauth2/v1/certs, kid -> X.509 PEM, which verifyIdToken() downloads), then
// verifyIdToken({idToken, audience}) exactly as Google's "verify the Google
// ID token on your server side" guide does. The issuer stays
// https://accounts.google.com, which the library insists on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import {
  blockedHosts, client, getJson, mint, mount, persona, rejects, tamper, tokenGrant,
} from './lib.mjs';

const NAME = 'google';
const m = mount(NAME);
const ISS = 'https://accounts.google.com';
const web = client(NAME, 'authorization_code');
const sa = client(NAME, 'client_credentials');
const alice = persona('alice');
const bob = persona('bob');

let discovery;
async function googleClient() {
  discovery ??= await getJson(`${m}/.well-known/openid-configuration`);
  return new OAuth2Client({
    clientId: web.client_id,
    clientSecret: web.client_secret,
    redirectUri: web.redirect_uris[0],
    endpoints: {
      oauth2AuthBaseUrl: discovery.authorization_endpoint,
      oauth2TokenUrl: discovery.token_endpoint,
      oauth2FederatedSignonPemCertsUrl: `${m}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${m}/oauth2/v3/certs`,
    },
  });
}
const verifyId = async (idToken, audience = web.client_id) =>
  (await (await googleClient()).verifyIdToken({ idToken, audience })).getPayload();

test('google: discovery, JWKS at /oauth2/v3/certs, X.509 certificates at /oauth2/v1/certs', async () => {
  const d = await getJson(`${m}/.well-known/openid-configuration`);
  assert.equal(d.issuer, ISS);
  assert.equal(d.jwks_uri, `${m}/oauth2/v3/certs`);
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
  const jwks = await getJson(`${m}/oauth2/v3/certs`);
  const certs = await getJson(`${m}/oauth2/v1/certs`);
  assert.deepEqual(Object.keys(certs).sort(), jwks.keys.map((k) => k.kid).sort(), 'the same kids in both');
  for (const key of jwks.keys) {
    const pem = certs[key.kid];
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
    const cert = new X509Certificate(pem);
    assert.ok(cert.checkIssued(cert), 'self-signed, as Google\'s are');
    assert.equal(createPublicKey(pem).export({ format: 'jwk' }).n, key.n, 'certificate key = JWK');
  }
});

test('google: sign-in with the authorization code flow -> verifyIdToken() gives the persona', async () => {
  const oauth = await googleClient();
  const url = oauth.generateAuthUrl({ scope: ['openid', 'email', 'profile'], login_hint: 'alice', state: 'st-1' });
  assert.ok(url.startsWith(discovery.authorization_endpoint));
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const back = new URL(res.headers.get('location'));
  assert.equal(back.searchParams.get('state'), 'st-1');
  const { tokens } = await oauth.getToken(back.searchParams.get('code'));
  assert.ok(tokens.id_token, 'an ID token for the openid scope');
  const p = await verifyId(tokens.id_token);
  assert.equal(p.iss, ISS);
  assert.equal(p.aud, web.client_id);
  assert.equal(p.azp, web.client_id);
  assert.equal(p.sub, alice.sub);
  assert.equal(p.email, alice.email);
  assert.equal(p.email_verified, true);
  assert.equal(p.name, alice.name);
  assert.equal(p.given_name, alice.given_name);
  assert.equal(p.family_name, alice.family_name);
  assert.equal(p.hd, alice.email.split('@')[1], 'a member of an organization has the hosted domain of her email');
  assert.ok(p.exp - p.iat <= 3600, 'Google ID tokens live an hour at most');
});

test('google: JSON mint (aud = client id) -> verifyIdToken(); no hd without an org', async () => {
  const p = await verifyId(await mint(m, { user: 'bob', aud: web.client_id }));
  assert.equal(p.sub, bob.sub);
  assert.equal(p.email, bob.email);
  assert.equal(p.email_verified, true);
  assert.equal(p.hd, undefined);
});

test('google: client_credentials -> a service-account style ID token', async () => {
  const audience = 'https://reports.acme.example';
  const r = await tokenGrant(`${m}/token`, { grant_type: 'client_credentials', audience }, [sa.client_id, sa.client_secret]);
  const p = await verifyId(r.access_token, audience);
  assert.equal(p.iss, ISS);
  assert.equal(p.sub, sa.client_id);
  assert.equal(p.azp, sa.client_id);
  assert.equal(p.email, sa.email);
  assert.equal(p.email_verified, true);
});

test('google: broken tokens are refused by verifyIdToken()', async () => {
  const good = await mint(m, { user: 'alice', aud: web.client_id });
  await verifyId(good);
  const cases = [
    ['expired', await mint(m, { user: 'alice', aud: web.client_id, expires_in: -3600 }), /too late/],
    ['tampered signature', tamper(good), /signature/],
    ['wrong issuer', await mint(m, { user: 'alice', aud: web.client_id, iss: 'https://accounts.example' }), /issuer/],
    ['wrong audience', await mint(m, { user: 'alice', aud: 'someone-else.apps.googleusercontent.com' }), /recipient/],
    ['longer than a day', await mint(m, { user: 'alice', aud: web.client_id, expires_in: 2 * 86400 }), /too far in future/],
    ['another issuer (same iss and aud, other key)', await mint(mount('plain'), { user: 'alice', iss: ISS, aud: web.client_id }), /No pem found/],
  ];
  for (const [what, token, reason] of cases) {
    assert.match(await rejects(verifyId(token), what), reason, what);
  }
});

test('google: nothing left the machine', () => {
  assert.deepEqual(blockedHosts, []);
});

