// Playwright config of the workbench suite: one mock-idp on a loopback port,
// Debian's Chromium, two projects: `chromium` (the page on http://127.0.0.1,
// a secure context) and `insecure-origin` (the same server under a host name
// that is not localhost, where WebCrypto is off and the page's JavaScript
// fallbacks run).
//
//   MOCK_IDP_BIN   mock-idp binary (default ../../../target/release/mock-idp)
//   MOCK_IDP_PORT  its port (default 18091; scripts/ci/workbench.sh picks a free one)
//   CHROMIUM_BIN   browser executable (default /usr/bin/chromium)
import { defineConfig, devices } from '@playwright/test';
import { existsSync } from 'node:fs';
import path from 'node:path';

const HOST = '127.0.0.1';
const PORT = Number(process.env.MOCK_IDP_PORT || 18091);
export const IDP_URL = `http://${HOST}:${PORT}`;
// Resolved to 127.0.0.1 by Chromium only (--host-resolver-rules).
export const INSECURE_HOST = 'workbench.test';
process.env.MOCK_IDP_URL = IDP_URL;

const MOCK_IDP_BIN = process.env.MOCK_IDP_BIN
  ? path.resolve(process.env.MOCK_IDP_BIN)
  : path.resolve(__dirname, '../../../target/release/mock-idp');
if (!existsSync(MOCK_IDP_BIN)) {
  throw new Error(`mock-idp binary not found at ${MOCK_IDP_BIN}: build it (cargo build --release) or set MOCK_IDP_BIN.`);
}
const CONFIG = path.resolve(__dirname, 'mock-idp.yaml');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const browser = {
  ...devices['Desktop Chrome'],
  launchOptions: { executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: chromiumArgs },
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 30_000,
  globalTimeout: 4 * 60_000,
  expect: { timeout: 5_000 },
  outputDir: path.resolve(__dirname, '../../../target/workbench-test-results'),
  use: {
    baseURL: IDP_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    permissions: ['clipboard-read', 'clipboard-write'],
  },
  projects: [
    { name: 'chromium', use: browser, testIgnore: /insecure-origin/ },
    {
      name: 'insecure-origin',
      testMatch: /insecure-origin/,
      use: {
        ...browser,
        baseURL: `http://${INSECURE_HOST}:${PORT}`,
        permissions: [],
        launchOptions: {
          ...browser.launchOptions,
          args: [...chromiumArgs, `--host-resolver-rules=MAP ${INSECURE_HOST} ${HOST}`],
        },
      },
    },
  ],
  webServer: {
    name: 'mock-idp',
    command: [MOCK_IDP_BIN, 'serve', '--host', HOST, '--port', String(PORT), '--config', CONFIG].map(q).join(' '),
    url: `${IDP_URL}/health`,
    reuseExistingServer: false,
    timeout: 30_000,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
