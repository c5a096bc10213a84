// @mock-idp/playwright: Playwright fixtures for mock-idp.
//
//   import { test, expect } from '@mock-idp/playwright';
//
//   test('admin view', async ({ page, mockIdp, tokenFor, loginAs }) => {
//     const token = await tokenFor('alice');                      // a persona
//     const expired = await tokenFor('bob', { expires_in: -60 }); // persona + fields
//     const custom = await tokenFor({ sub: 'user_x', claims: { email: 'x@example.com' } });
//     await page.goto('/login');           // your app redirects to mock-idp's login page
//     await loginAs(page, 'alice');        // clicks "Sign in as alice", waits until back
//   });
import { test as base, expect, type Page } from '@playwright/test';
import { mintToken, startMockIdp, type TokenRequest } from './server';

export { expect };
export { defaultBinary, mintToken, startMockIdp } from './server';
export type { RunningMockIdp, StartOptions, TokenRequest } from './server';

/**
 * Mint an access token: `tokenFor('alice')` sends `{"user": "alice"}` to
 * `POST {mockIdp}/token`, `tokenFor({...})` sends the object as is; `extra` is
 * merged on top of either. Resolves to the `access_token` string; rejects with
 * the server's `error_description` on a non-200 answer.
 */
export type TokenFor = (who: string | TokenRequest, extra?: TokenRequest) => Promise<string>;

/** Options of {@link LoginAs}. */
export interface LoginOptions {
  /** Typed into the login page's password field first (personas with a `password`). */
  password?: string;
  /** How long to wait for the login page and for leaving it, in ms; default 15000. */
  timeout?: number;
}

/**
 * On mock-idp's login page (where your app's sign-in redirected `page`), click
 * the persona's "Sign in as <persona>" button and resolve once the page has
 * left the login page (back at your app's redirect URI, or wherever it sent
 * the browser next). Rejects when the page is not on a login page, the
 * persona is not offered there, or mock-idp refused the sign-in.
 */
export type LoginAs = (page: Page, persona: string, options?: LoginOptions) => Promise<void>;

/** Test-scoped fixtures. */
export interface MockIdpTestFixtures {
  tokenFor: TokenFor;
  loginAs: LoginAs;
}

/** Worker-scoped fixtures and options. */
export interface MockIdpWorkerFixtures {
  /**
   * mock-idp's base URL (no trailing slash). `MOCK_IDP_URL` when set;
   * otherwise a mock-idp started for this worker (`MOCK_IDP_BIN`, else
   * `mock-idp` on PATH) on a free 127.0.0.1 port, with this process's
   * environment (`USERS_FILE`, `CONFIG_FILE`, `ISSUER`, ... apply), stopped
   * after the worker.
   */
  mockIdp: string;
  /**
   * Extra command-line arguments for the mock-idp this package starts
   * (ignored with `MOCK_IDP_URL`). An option: `test.use({ mockIdpArgs: ['--users', 'users.yaml'] })`
   * at the top level of a file or in the config's `use`.
   */
  mockIdpArgs: string[];
}

/** The form of mock-idp's login page (`POST /authorize/login`, or under a named issuer). */
const LOGIN_FORM = 'form[action$="/authorize/login"]';

/** A CSS double-quoted string's content. */
const cssString = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\a ');

/** Is `href` mock-idp's login page (`/authorize`, or `/authorize/login` after a refused post) on `origin`? */
function onLoginPage(href: string, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return false;
  }
  return url.origin === origin && /\/authorize(\/login)?\/?$/.test(url.pathname);
}

async function loginAs(page: Page, persona: string, options: LoginOptions = {}): Promise<void> {
  const timeout = options.timeout ?? 15_000;
  const deadline = Date.now() + timeout;
  const left = () => Math.max(1, deadline - Date.now());
  const button = page.locator(`${LOGIN_FORM} button[name="user"][value="${cssString(persona)}"]`);

  try {
    await button.waitFor({ state: 'visible', timeout: left() });
  } catch {
    const offered = await page
      .locator(`${LOGIN_FORM} button[name="user"]`)
      .evaluateAll((els) => els.map((el) => (el as HTMLButtonElement).value))
      .catch(() => [] as string[]);
    if ((await page.locator(LOGIN_FORM).count().catch(() => 0)) > 0) {
      throw new Error(
        `loginAs("${persona}"): mock-idp's login page offers no such persona ` +
          `(offered: ${offered.length ? offered.join(', ') : 'none; is a users file configured?'})`,
      );
    }
    throw new Error(
      `loginAs("${persona}"): no mock-idp login page within ${timeout} ms (the page is at ${page.url()}); ` +
        'call it after your app redirected the page to mock-idp /authorize',
    );
  }

  const origin = new URL(page.url()).origin;
  if (options.password !== undefined) {
    await page.locator(`${LOGIN_FORM} input[name="password"]`).fill(options.password, { timeout: left() });
  }
  // The click posts the form; the next document in the main frame is either
  // the app (signed in) or the login page again with an error.
  await Promise.all([
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: left() }),
    button.click({ timeout: left() }),
  ]);
  if (onLoginPage(page.url(), origin)) {
    // mock-idp answers a refused sign-in (wrong password, ...) with its login page and an alert.
    const alert = page.locator('[role="alert"]');
    const reason = (await alert.count()) > 0 ? (await alert.first().innerText()).trim() : '';
    throw new Error(`loginAs("${persona}"): still on mock-idp's login page after the click${reason ? `: ${reason}` : ''}`);
  }
  await page.waitForLoadState('domcontentloaded', { timeout: left() });
}

export const test = base.extend<MockIdpTestFixtures, MockIdpWorkerFixtures>({
  mockIdpArgs: [[], { scope: 'worker', option: true }],

  mockIdp: [
    async ({ mockIdpArgs }, use) => {
      const external = process.env.MOCK_IDP_URL;
      if (external) {
        await use(external.replace(/\/+$/, ''));
        return;
      }
      const server = await startMockIdp({ args: mockIdpArgs });
      try {
        await use(server.url);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],

  tokenFor: async ({ mockIdp }, use) => {
    await use((who, extra = {}) =>
      mintToken(mockIdp, typeof who === 'string' ? { user: who, ...extra } : { ...who, ...extra }),
    );
  },

  // Needs no server of its own: the page is already on mock-idp's login page.
  loginAs: async ({}, use) => {
    await use(loginAs);
  },
});
