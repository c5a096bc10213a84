// Shared helpers of the Node side of the toolkit e2e suite: HTTP calls to
// the mock-idp under test, the PASS/FAIL reporter and JWT peeking. No
// verifier here: the scripts import the libraries they test.

export const BASE = (process.env.MOCK_IDP_URL ?? '').replace(/\/$/, '');
if (!BASE) {
  console.error('MOCK_IDP_URL is not set (the base URL of the mock-idp under test)');
  process.exit(2);
}
export const ROOT_ISS = process.env.TOOLKIT_ROOT_ISS ?? BASE;
export const AUDIENCE = 'api';
export const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export const mount = (issuer) => (issuer ? `/${issuer}` : '');
export const issOf = (issuer) => (issuer ? `${BASE}/${issuer}` : ROOT_ISS);
export const jwksPath = (issuer) => (issuer ? `/${issuer}/jwks` : '/.well-known/jwks.json');
export const jwksUrl = (issuer) => BASE + jwksPath(issuer);

/** ADMIN_TOKEN of the server, if it has one: sent on every `_admin` call. */
export const ADMIN_TOKEN = process.env.TOOLKIT_ADMIN_TOKEN ?? '';

/**
 * [status, parsed JSON or text] of one call (10 s timeout); `_admin` calls
 * carry the admin token unless `adminAuth` is false.
 */
export async function http(method, path, body, { adminAuth = true, headers = {} } = {}) {
  const init = { method, signal: AbortSignal.timeout(10_000), headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  if (adminAuth && ADMIN_TOKEN && path.includes('/_admin')) {
    init.headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  try {
    return [res.status, text ? JSON.parse(text) : null];
  } catch {
    return [res.status, text];
  }
}

export async function get(path) {
  const [status, body] = await http('GET', path);
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** A token from POST <mount>/token; throws otherwise. */
export async function mint(issuer, body) {
  const [status, res] = await http('POST', `${mount(issuer)}/token`, body);
  if (status !== 200 || !res?.access_token) {
    throw new Error(`POST ${mount(issuer)}/token ${JSON.stringify(body)}: ${status} ${JSON.stringify(res)}`);
  }
  return res.access_token;
}

/** [header, claims] without verifying anything. */
export function peek(token) {
  const [h, p] = token.split('.');
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());
  return [dec(h), dec(p)];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One PASS/FAIL line per check, a summary line at the end. */
export class Report {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.failed = 0;
    this.started = performance.now();
  }

  check(label, ok, detail = '') {
    if (ok) {
      this.passed += 1;
      console.log(`PASS ${label}${detail ? ` (${detail})` : ''}`);
    } else {
      this.failed += 1;
      console.log(`FAIL ${label}: ${detail}`);
    }
    return ok;
  }

  /** Runs fn() -> [ok, detail]; a throw is a failure naming it. */
  async run(label, fn) {
    let ok;
    let detail;
    try {
      [ok, detail] = await fn();
    } catch (e) {
      [ok, detail] = [false, `${e?.name}: ${e?.message}`];
    }
    return this.check(label, ok, detail);
  }

  finish() {
    console.log(`${this.name} took ${((performance.now() - this.started) / 1000).toFixed(1)} s`);
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 && this.passed > 0 ? 0 : 1;
  }
}
