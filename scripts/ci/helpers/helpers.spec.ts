// The helpers stage's spec for @mock-idp/playwright, run in a fresh project
// that installed the packed tarball (scripts/ci/helpers.sh). MOCK_IDP_URL is
// unset, so `mockIdp` is a mock-idp this worker started from MOCK_IDP_BIN;
// USERS_FILE in the environment must reach it. Tokens are verified with
// node:crypto against the JWKS the server serves.
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, startMockIdp, type TokenFor } from '@mock-idp/playwright';

interface Claims {
  sub: string;
  iss: string;
  exp: number;
  aud?: string | string[];
  email?: string;
  o?: { id: string; rol: string; slg: string };
  [claim: string]: unknown;
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

/** Verify an RS256 JWT against `${base}/.well-known/jwks.json`; returns its claims. */
async function verifyWithServedJwks(base: string, jwt: string): Promise<Claims> {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(b64url(h).toString()) as { alg: string; kid: string };
  expect(header.alg).toBe('RS256');
  const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  expect(jwk, `kid ${header.kid} in the served JWKS`).toBeTruthy();
  const key = createPublicKey({ key: jwk!, format: 'jwk' });
  expect(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, b64url(s)), 'signature verifies').toBe(true);
  const claims = JSON.parse(b64url(p).toString()) as Claims;
  expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  return claims;
}

test('mockIdp is a mock-idp this worker started on a free loopback port', async ({ mockIdp }) => {
  expect(process.env.MOCK_IDP_URL).toBeUndefined();
  expect(mockIdp).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${mockIdp}/health`);
  expect(await health.json()).toEqual({ status: 'ok' });
  // For helpers.sh: after the run, nothing may answer here any more.
  writeFileSync(process.env.MOCK_IDP_URL_FILE!, mockIdp);
});

test('tokenFor(persona, extra) mints a token the served JWKS verifies', async ({ mockIdp, tokenFor }) => {
  const claims = await verifyWithServedJwks(mockIdp, await tokenFor('alice', { aud: 'my-api' }));
  expect(claims).toMatchObject({
    sub: 'user_alice', // from USERS_FILE: the environment reached the process
    email: 'alice@example.com',
    aud: 'my-api',
    o: { id: 'org_1', rol: 'admin', slg: 'acme' },
  });
});

test('tokenFor(fields, extra) sends the fields, extra on top', async ({ mockIdp, tokenFor }) => {
  const claims = await verifyWithServedJwks(
    mockIdp,
    await tokenFor({ sub: 'user_x', expires_in: 5, claims: { email: 'x@example.com' } }, { expires_in: 120 }),
  );
  expect(claims.sub).toBe('user_x');
  expect(claims.email).toBe('x@example.com');
  expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 60);
});

test("tokenFor rejects with the server's error_description", async ({ tokenFor }) => {
  const typed: TokenFor = tokenFor;
  await expect(typed('nobody')).rejects.toThrow(/answered 400: invalid_request: user: unknown user "nobody"; known users: alice, bob, carol/);
});

test.describe('loginAs', () => {
  let callback: Server;
  let callbackUrl = '';
  const hits: string[] = [];

  test.beforeAll(async () => {
    // Stands in for the app's redirect URI.
    callback = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>back in the app</h1>');
    });
    await new Promise<void>((done) => callback.listen(0, '127.0.0.1', done));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/cb`;
  });
  test.afterAll(async () => {
    await new Promise((done) => callback.close(done));
  });

  test('signs in as the persona and returns once the page left the login page', async ({ page, mockIdp, loginAs }) => {
    const authorize = new URL(`${mockIdp}/authorize`);
    authorize.search = new URLSearchParams({
      client_id: 'helpers-test', redirect_uri: callbackUrl, response_type: 'code', state: 'st-1',
    }).toString();
    await page.goto(authorize.href);
    await expect(page.getByRole('button', { name: /Sign in as bob/ })).toBeVisible();

    await loginAs(page, 'alice');

    // No waiting here: loginAs has returned after the page reached the callback.
    const at = new URL(page.url());
    expect(`${at.origin}${at.pathname}`).toBe(callbackUrl);
    expect(at.searchParams.get('state')).toBe('st-1');
    await expect(page.getByRole('heading')).toHaveText('back in the app');
    expect(hits.filter((u) => u.startsWith('/cb?'))).toHaveLength(1);

    // The code is alice's: redeem it and verify the tokens.
    const res = await fetch(`${mockIdp}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: at.searchParams.get('code')!,
        redirect_uri: callbackUrl, client_id: 'helpers-test',
      }),
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const claims = await verifyWithServedJwks(mockIdp, access_token);
    expect(claims.sub).toBe('user_alice');
  });

  test('types the password first, and reports a refused sign-in', async ({ page, mockIdp, loginAs }) => {
    await page.goto(`${mockIdp}/authorize?client_id=helpers-test&response_type=code&redirect_uri=${encodeURIComponent(callbackUrl)}`);
    await expect(loginAs(page, 'carol', { password: 'wrong' })).rejects.toThrow(
      /^loginAs\("carol"\): still on mock-idp's login page after the click: .*password/,
    );
    // The login page again, with the error: the right password works from there.
    await loginAs(page, 'carol', { password: 'hunter2' });
    expect(page.url().startsWith(`${callbackUrl}?code=`)).toBe(true);
  });

  test('names the offered personas when the one asked for is missing', async ({ page, mockIdp, loginAs }) => {
    await page.goto(`${mockIdp}/authorize?client_id=helpers-test&response_type=code&redirect_uri=${encodeURIComponent(callbackUrl)}`);
    await expect(loginAs(page, 'mallory', { timeout: 2_000 })).rejects.toThrow(
      `loginAs("mallory"): mock-idp's login page offers no such persona (offered: alice, bob, carol)`,
    );
  });
});

test('a binary that cannot start is a clear error', async () => {
  await expect(startMockIdp({ bin: '/nonexistent/mock-idp' })).rejects.toThrow(
    'mock-idp binary not found: "/nonexistent/mock-idp". Set MOCK_IDP_BIN',
  );
  // The real binary, refusing a users file that does not exist: its stderr is in the error.
  await expect(
    startMockIdp({ env: { ...process.env, USERS_FILE: '/nonexistent/users.yaml' } }),
  ).rejects.toThrow(/exited before serving \(exit code [1-9]\d*\); its output:\n(.|\n)*\/nonexistent\/users\.yaml/);
});
