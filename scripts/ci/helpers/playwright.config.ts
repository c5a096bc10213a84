// The helpers stage's fresh project (scripts/ci/helpers.sh copies this file
// there): one worker, Debian's Chromium. No webServer and no MOCK_IDP_URL:
// the mockIdp fixture of @mock-idp/playwright starts the binary itself.
import { defineConfig, devices } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  retries: 0,
  reporter: 'list',
  timeout: 30_000,
  globalTimeout: 3 * 60_000,
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run'],
        },
      },
    },
  ],
});
