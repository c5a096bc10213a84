// Playwright fixtures for mock-idp. Self-contained: copy this file into your
// own suite and import `test`/`expect` from it instead of '@playwright/test'.
//
//   import { test, expect } from './fixtures';
//
//   test('admin sees the admin view', async ({ page, tokenFor }) => {
//     const token = await tokenFor('alice');                   // a persona from the users file
//     const expired = await tokenFor('bob', { expires_in: -60 }); // persona + overrides
//     const custom = await tokenFor({ sub: 'user_x', org_id: 'org_9', org_role: 'org:admin',
//                                     claims: { email: 'x@example.com' } }); // no persona
//     ...
//   });
//
// mock-idp's base URL comes from the env var MOCK_IDP_URL (default
// http://127.0.0.1:8081), or per file/project with test.use({ mockIdpUrl }).
import { test as base, expect } from '@playwright/test';

/** Fields of mock-idp's `POST /token` JSON body; all optional. */
export interface TokenRequest {
  /** Subject; default `user_default` (or the persona's). */
  sub?: string;
  /** Persona name from mock-idp's users file (`--users` / `USERS_FILE`). */
  user?: string;
  /** Claim layout: `clerk` (Clerk v2 session token, default) or `plain`. */
  preset?: 'clerk' | 'plain';
  org_id?: string;
  /** `admin` or `org:admin` both give `o.rol: "admin"` in the clerk preset. */
  org_role?: string;
  org_slug?: string;
  aud?: string | string[];
  iss?: string;
  azp?: string;
  scope?: string;
  /** Seconds until `exp`; negative mints an already-expired token. */
  expires_in?: number;
  /** Extra claims, merged last (they win over everything). */
  claims?: Record<string, unknown>;
}

/**
 * Mint an access token: `tokenFor('alice')` sends `{"user": "alice"}`,
 * `tokenFor({...})` sends the object as is; `extra` is merged on top of either.
 */
export type TokenFor = (who: string | TokenRequest, extra?: TokenRequest) => Promise<string>;

export interface MockIdpFixtures {
  /** mock-idp base URL. An option: override with `test.use({ mockIdpUrl: '...' })`. */
  mockIdpUrl: string;
  tokenFor: TokenFor;
}

export const test = base.extend<MockIdpFixtures>({
  mockIdpUrl: [process.env.MOCK_IDP_URL || 'http://127.0.0.1:8081', { option: true }],

  tokenFor: async ({ request, mockIdpUrl }, use) => {
    const endpoint = `${mockIdpUrl.replace(/\/+$/, '')}/token`;
    await use(async (who, extra = {}) => {
      const body: TokenRequest = typeof who === 'string' ? { user: who, ...extra } : { ...who, ...extra };
      // An absolute URL, so the config's baseURL (your app) is not used here.
      const res = await request.post(endpoint, { data: body });
      if (!res.ok()) {
        throw new Error(`mock-idp POST ${endpoint} ${JSON.stringify(body)} -> ${res.status()}: ${await res.text()}`);
      }
      const { access_token } = (await res.json()) as { access_token?: string };
      if (!access_token) throw new Error(`mock-idp POST ${endpoint}: no access_token in the response`);
      return access_token;
    });
  },
});

export { expect };
