// Browser specs for the OIDC authorization code flow with PKCE: the app's
// "Sign in with mock-idp" link goes to mock-idp's login page, a persona is
// picked (by hand in the first spec, with the loginAs fixture after it), and
// the app's /callback exchanges the code (app/server.mjs).
import { test, expect } from '@mock-idp/playwright';

test('alice signs in on the mock-idp login page and lands in the app with her claims', async ({ page, mockIdp }) => {
  await page.goto('/');
  await expect(page.getByTestId('signed-out')).toBeVisible();
  await page.getByRole('link', { name: 'Sign in with mock-idp' }).click();

  // mock-idp's login page: personas as buttons, labelled fields.
  await expect(page).toHaveURL((url) => url.href.startsWith(`${mockIdp}/authorize?`));
  await expect(page.getByRole('heading', { name: 'Sign in to example-app' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Sign in as bob/ })).toBeVisible();
  await expect(page.getByLabel('Username')).toBeVisible();
  await expect(page.getByLabel(/Extra claims/)).toBeVisible();
  await page.getByRole('button', { name: /Sign in as alice/ }).click();

  // Back in the app, signed in as alice (the access token left the URL).
  await expect(page.getByTestId('status')).toHaveText('Signed in');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('user-name')).toHaveText('Alice');
  await expect(page.getByTestId('admin-view')).toBeVisible();
  await expect(page.getByTestId('org-slug')).toHaveText('acme');
  await expect(page.getByTestId('claims')).toContainText('"email": "alice@example.com"');
  await expect(page.getByTestId('claims')).toContainText('"azp": "example-app"');
});

test('bob signs in and gets the member view', async ({ page, mockIdp, loginAs }) => {
  await page.goto('/login');
  await loginAs(page, 'bob');
  // loginAs returns once the page has left mock-idp (no waiting here).
  expect(page.url().startsWith(mockIdp)).toBe(false);

  await expect(page.getByTestId('status')).toHaveText('Signed in');
  await expect(page.getByTestId('user-name')).toHaveText('Bob');
  await expect(page.getByTestId('member-view')).toBeVisible();
  await expect(page.getByTestId('admin-view')).toBeHidden();
});

test('any user name with extra claims typed on the login page', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel(/Extra claims/).fill('{"name": "Carol", "o": {"id": "org_42", "rol": "admin", "slg": "globex"}}');
  // Enter in the username field signs in that user (not the first persona button).
  await page.getByLabel('Username').press('Enter');

  await expect(page.getByTestId('user-name')).toHaveText('Carol');
  await expect(page.getByTestId('admin-view')).toBeVisible();
  await expect(page.getByTestId('org-slug')).toHaveText('globex');
  await expect(page.getByTestId('claims')).toContainText('"sub": "carol"');
});

test('invalid claims JSON is reported on the login page', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Username').fill('dave');
  await page.getByLabel(/Extra claims/).fill('{not json');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await expect(page.getByRole('alert')).toContainText('claims: is not valid JSON');
  await expect(page.getByLabel('Username')).toHaveValue('dave');
  await expect(page.getByLabel(/Extra claims/)).toHaveValue('{not json');
});

test('cancel sends access_denied back to the app', async ({ page }) => {
  await page.goto('/login');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await expect(page.locator('body')).toContainText('sign-in failed: access_denied');
});

test('login_hint skips the login page (automation)', async ({ page }) => {
  await page.goto('/login?login_hint=alice');

  await expect(page.getByTestId('status')).toHaveText('Signed in');
  await expect(page.getByTestId('user-name')).toHaveText('Alice');
});

test('loginAs says which personas the login page offers when asked for another', async ({ page, loginAs }) => {
  await page.goto('/login');
  await expect(loginAs(page, 'mallory', { timeout: 2_000 })).rejects.toThrow(
    'loginAs("mallory"): mock-idp\'s login page offers no such persona (offered: alice, bob)',
  );
});
