// Browser specs: mint a token per persona with the tokenFor fixture, hand it to
// the example app, and check what the page shows.
import type { Page } from '@playwright/test';
import { test, expect } from '@mock-idp/playwright';

/** The example app takes its token from ?token= (and keeps it in localStorage). */
async function openAppWith(page: Page, token: string) {
  await page.goto(`/?token=${encodeURIComponent(token)}`);
}

test('alice (admin) sees the admin view', async ({ page, tokenFor }) => {
  await openAppWith(page, await tokenFor('alice'));

  await expect(page.getByTestId('status')).toHaveText('Signed in');
  await expect(page.getByTestId('user-name')).toHaveText('Alice');
  await expect(page.getByTestId('admin-view')).toBeVisible();
  await expect(page.getByTestId('org-slug')).toHaveText('acme');
  await expect(page.getByTestId('member-view')).toBeHidden();
  // The token left the address bar and lives in localStorage now.
  await expect(page).toHaveURL(/\/$/);
  await page.reload();
  await expect(page.getByTestId('admin-view')).toBeVisible();
});

test('bob (member) does not see the admin view', async ({ page, tokenFor }) => {
  await openAppWith(page, await tokenFor('bob'));

  await expect(page.getByTestId('status')).toHaveText('Signed in');
  await expect(page.getByTestId('user-name')).toHaveText('Bob');
  await expect(page.getByTestId('member-view')).toBeVisible();
  await expect(page.getByTestId('org-role')).toHaveText('member');
  await expect(page.getByTestId('admin-view')).toBeHidden();
});

test('an expired token is rejected and the error is shown', async ({ page, tokenFor }) => {
  await openAppWith(page, await tokenFor('alice', { expires_in: -60 }));

  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByTestId('error-message')).toHaveText('401 Unauthorized: token expired');
  await expect(page.getByTestId('admin-view')).toBeHidden();
  await expect(page.getByTestId('member-view')).toBeHidden();
});

test('a custom-claims token (no persona) works', async ({ page, tokenFor }) => {
  await openAppWith(page, await tokenFor({
    sub: 'user_carol',
    org_id: 'org_42',
    org_role: 'org:admin',
    org_slug: 'globex',
    claims: { name: 'Carol', email: 'carol@example.com' },
  }));

  await expect(page.getByTestId('user-name')).toHaveText('Carol');
  await expect(page.getByTestId('admin-view')).toBeVisible();
  await expect(page.getByTestId('org-slug')).toHaveText('globex');
  await expect(page.getByTestId('claims')).toContainText('"email": "carol@example.com"');
  await expect(page.getByTestId('claims')).toContainText('"sub": "user_carol"');
});

test('a token from another issuer is rejected', async ({ page, tokenFor }) => {
  await openAppWith(page, await tokenFor('alice', { iss: 'https://someone-else.example' }));

  await expect(page.getByTestId('error-message')).toContainText('401 Unauthorized: claim "iss"');
  await expect(page.getByTestId('admin-view')).toBeHidden();
});

test('without a token the page says signed out', async ({ page }) => {
  await page.goto('/');

  await expect(page.getByTestId('status')).toHaveText('Signed out');
  await expect(page.getByTestId('signed-out')).toBeVisible();
});
