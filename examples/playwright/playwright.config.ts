// Playwright config for the mock-idp example. Starts two servers on loopback
// ports (mock-idp and the example app), then drives Chromium.
//
//   MOCK_IDP_BIN   mock-idp binary (default ../../target/release/mock-idp)
//   MOCK_IDP_PORT  port for mock-idp  (default 18081; scripts/ci/playwright.sh picks a free one)
//   APP_PORT       port for the app   (default 18082; likewise)
//   CHROMIUM_BIN   browser executable (default /usr/bin/chromium, Debian's)
import { defineConfig, devices } from '@playwright/test';
import { existsSync } from 'node:fs';
import path from 'node:path';

const HOST = '127.0.0.1';
const IDP_PORT = Number(process.env.MOCK_IDP_PORT || 18081);
const APP_PORT = Number(process.env.APP_PORT || 18082);
const IDP_URL = `http://${HOST}:${IDP_PORT}`;
const APP_URL = `http://${HOST}:${APP_PORT}`;
// The issuer is mock-idp's own URL, so that OIDC discovery (and any OIDC
// client library in a later spec) sees a consistent issuer.
const ISSUER = IDP_URL;

// @mock-idp/playwright's mockIdp fixture uses MOCK_IDP_URL when it is set
// (instead of starting a mock-idp per worker): point it at the one this config
// starts, which the app needs to know too. Workers inherit it.
process.env.MOCK_IDP_URL = IDP_URL;

const MOCK_IDP_BIN = process.env.MOCK_IDP_BIN
  ? path.resolve(process.env.MOCK_IDP_BIN)
  : path.resolve(__dirname, '../../target/release/mock-idp');
if (!existsSync(MOCK_IDP_BIN)) {
  throw new Error(
    `mock-idp binary not found at ${MOCK_IDP_BIN}: run \`cargo build --release\` at the repository root, ` +
      'or set MOCK_IDP_BIN to a mock-idp binary.',
  );
}
const USERS_FILE = path.resolve(__dirname, 'users.yaml');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`; // POSIX shell quoting

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 30_000,
  globalTimeout: 5 * 60_000,
  expect: { timeout: 5_000 },
  outputDir: 'test-results',

  use: {
    baseURL: APP_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },

  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // Debian's Chromium (apt-get install chromium), not a Playwright download:
        // install with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1.
        launchOptions: {
          executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],

  webServer: [
    {
      name: 'mock-idp',
      // Flags rather than env so that a stray PORT/ISSUER/... in the shell does not win.
      command: [MOCK_IDP_BIN, 'serve', '--host', HOST, '--port', String(IDP_PORT),
        '--issuer', ISSUER, '--users', USERS_FILE].map(q).join(' '),
      url: `${IDP_URL}/health`,
      reuseExistingServer: false,
      timeout: 30_000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      name: 'app',
      command: 'node app/server.mjs',
      url: `${APP_URL}/health`,
      env: { APP_HOST: HOST, APP_PORT: String(APP_PORT), MOCK_IDP_URL: IDP_URL, ISSUER },
      reuseExistingServer: false,
      timeout: 30_000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
  ],
});
