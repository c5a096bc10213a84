// Shared helpers of the profile suites: the config (what each persona and
// client defines), HTTP to mock-idp, broken-token recipes. Only loopback is
// ever contacted (offline-guard.mjs).
import './offline-guard.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export { blockedHosts } from './offline-guard.mjs';

/** mock-idp's base URL (no trailing slash). */
export const BASE = (process.env.MOCK_IDP_URL || 'http://127.0.0.1:8081').replace(/\/+$/, '');

/** The config the server runs with: personas, clients, issuers. */
export const CONFIG = parse(
  readFileSync(process.env.PROFILES_CONFIG || fileURLToPath(new URL('../config.yaml', import.meta.url)), 'utf8'),
);

/** A persona from the config (throws on a typo). */
export function persona(name) {
  const p = CONFIG.users?.[name];
  assert.ok(p, `persona ${name} is not in the config`);
  return p;
}

/** A named issuer's config block. */
export function issuer(name) {
  const i = CONFIG.issuers?.[name];
  assert.ok(i, `issuer ${name} is not in the config`);
  return i;
}

/** A registered client of an issuer, by id or by the grant it is registered for. */
export function client(issuerName, pick) {
  const c = issuer(issuerName).clients?.find((x) => x.client_id === pick || x.grant_types?.includes(pick));
  assert.ok(c, `issuer ${issuerName} has no client ${pick}`);
  return c;
}

/** Where an issuer is mounted (keycloak issuers live under /realms). */
export function mount(name) {
  if (name === '') return BASE;
  return issuer(name).profile === 'keycloak' ? `${BASE}/realms/${name}` : `${BASE}/${name}`;
}

const TIMEOUT = 10_000;

async function jsonOf(res, what) {
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${what}: ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  return body;
}

/** GET a JSON document, asserting 200. */
export async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT) });
  const body = await jsonOf(res, `GET ${url}`);
  assert.equal(res.status, 200, `GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** JSON mint at `<mount>/token`; returns the access token. */
export async function mint(mountUrl, fields = {}, headers = {}) {
  const url = `${mountUrl}/token`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(fields),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const body = await jsonOf(res, `POST ${url}`);
  assert.equal(res.status, 200, `POST ${url} ${JSON.stringify(fields)}: ${res.status} ${JSON.stringify(body)}`);
  assert.equal(typeof body.access_token, 'string', `POST ${url}: no access_token`);
  return body.access_token;
}

/**
 * An OAuth token request (form body) to `url`; `basic` = [id, secret] for
 * client_secret_basic. Returns {status, body}.
 */
export async function oauthForm(url, params, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  return { status: res.status, body: await jsonOf(res, `POST ${url}`) };
}

/** Same as oauthForm, asserting 200 and returning the token response. */
export async function tokenGrant(url, params, basic) {
  const { status, body } = await oauthForm(url, params, basic);
  assert.equal(status, 200, `POST ${url} grant_type=${params.grant_type}: ${status} ${JSON.stringify(body)}`);
  assert.equal(typeof body.access_token, 'string');
  return body;
}

/**
 * Authorization code without a browser: GET the authorization endpoint with
 * `login_hint` naming a persona without a password (mock-idp's instant
 * sign-in) and return the `code` from the redirect.
 */
export async function authorizeCode(authorizationEndpoint, params) {
  const url = new URL(authorizationEndpoint);
  for (const [k, v] of Object.entries({ response_type: 'code', ...params })) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT) });
  assert.equal(res.status, 302, `GET ${url}: ${res.status} ${await res.text()}`);
  const location = new URL(res.headers.get('location'));
  const code = location.searchParams.get('code');
  assert.ok(code, `no code in the redirect ${location}`);
  if (params.state) assert.equal(location.searchParams.get('state'), params.state);
  return code;
}

/** The same token with one character of its signature changed. */
export function tamper(token) {
  const [h, p, s] = token.split('.');
  const i = Math.floor(s.length / 2);
  const c = s[i] === 'A' ? 'B' : 'A';
  return `${h}.${p}.${s.slice(0, i)}${c}${s.slice(i + 1)}`;
}

/** Header and payload of a JWT, unverified (only to pick a kid or explain a failure). */
export function peek(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
  };
}

/** SPKI PEM of the JWK with `kid` in a JWKS (what "PEM public key" settings want). */
export function pemOf(jwks, kid) {
  const jwk = jwks.keys.find((k) => k.kid === kid);
  assert.ok(jwk, `kid ${kid} is not in the JWKS (${jwks.keys.map((k) => k.kid)})`);
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

/** Asserts `promise` rejects and returns the error's message. */
export async function rejects(promise, what) {
  try {
    const value = await promise;
    assert.fail(`${what}: expected a rejection, got ${JSON.stringify(value)?.slice(0, 300)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return String(err?.message ?? err);
  }
}

/** Sorted copy, for order-insensitive comparisons of claim lists. */
export const sorted = (xs) => [...(xs ?? [])].sort();

/** The `org:<feature>:<permission>` keys a persona defines, normalised with the `org:` prefix. */
export const orgPermissions = (p) => sorted((p.org_permissions ?? []).map((x) => (x.startsWith('org:') ? x : `org:${x}`)));

