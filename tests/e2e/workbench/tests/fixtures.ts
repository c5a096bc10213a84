// Shared fixtures of the workbench suite.
//
// Every test gets an automatic guard: it records console errors, uncaught
// page errors and every request the page makes, and fails the test if there
// was an error or a request to any origin other than the page's own (the
// mock-idp under test). Tokens are checked with jose against the JWKS the
// server serves: an independent verifier, not the page's own code.
import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const IDP = process.env.MOCK_IDP_URL as string;
export const SCREENSHOTS = path.resolve(__dirname, '../../../../target/workbench-screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

type Fixtures = {
  guard: { consoleErrors: string[]; foreign: string[]; requests: string[] };
};

export const test = base.extend<Fixtures>({
  guard: [
    async ({ page, baseURL }, use) => {
      const origin = new URL(baseURL as string).origin;
      const seen = { consoleErrors: [] as string[], foreign: [] as string[], requests: [] as string[] };
      page.on('console', (m) => {
        if (m.type() === 'error') seen.consoleErrors.push(`${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => seen.consoleErrors.push(`uncaught: ${e.message}`));
      page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.protocol === 'data:') return;
        seen.requests.push(r.url());
        if (url.origin !== origin) seen.foreign.push(r.url());
      });
      await use(seen);
      expect(seen.consoleErrors, 'console errors').toEqual([]);
      expect(seen.foreign, `requests to origins other than ${origin}`).toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Mints through the API (not the page), for the verify box's inputs. */
export async function apiToken(request: APIRequestContext, body: object, mount = ''): Promise<string> {
  const res = await request.post(`${IDP}${mount}/token`, { data: body });
  expect(res.status(), `minting ${JSON.stringify(body)}`).toBe(200);
  return (await res.json()).access_token;
}

/** Verifies with jose against the served JWKS of `mount`; returns the claims. */
export async function verifyIndependently(
  token: string,
  opts: { issuer: string; audience?: string; mount?: string },
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${IDP}${opts.mount ?? ''}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, audience: opts.audience });
  return payload;
}

export const claimsOf = (token: string) => decodeJwt(token);
export const headerOf = (token: string) => decodeProtectedHeader(token);

/** A token with one claim changed and the old signature kept. */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [h, p, s] = token.split('.');
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...claims };
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

/** A token with header fields changed and the old signature kept. */
export function tamperHeader(token: string, fields: Record<string, unknown>): string {
  const [h, p, s] = token.split('.');
  const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), ...fields };
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}.${s}`;
}

/** The access token the page shows, after a mint. */
export async function shownToken(page: Page): Promise<string> {
  const box = page.getByLabel('Access token', { exact: true });
  await expect(box).toHaveValue(/^ey/);
  return box.inputValue();
}

/** Pastes `token` into the verify box and returns the verdict line. */
export async function verifyOnPage(page: Page, token: string, audience = '') {
  await page.getByLabel('Token to verify').fill(token);
  await page.getByLabel(/Expected audience/).fill(audience);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  return page.locator('#verify-verdict');
}

/** axe-core scan: fails on serious or critical violations, listing them. */
export async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    `axe violations on ${what}`,
  ).toEqual([]);
  return results;
}
