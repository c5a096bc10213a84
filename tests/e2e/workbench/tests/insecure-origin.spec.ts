// The page on a plain-http host name that is not localhost (how a browser in
// a compose network reaches http://mock-idp:8081): not a secure context, so
// crypto.subtle and the clipboard API do not exist. The page falls back to
// its own SHA-256 (PKCE, at_hash) and RS256 verification.
import { IDP, apiToken, expect, shownToken, tamper, test, verifyIndependently, verifyOnPage } from './fixtures';

test('without WebCrypto: RS256 verification, PKCE and the debugger still work', async ({ page, request, baseURL }) => {
  await page.goto('/');
  expect(await page.evaluate(() => [window.isSecureContext, typeof window.crypto.subtle])).toEqual([false, 'undefined']);

  // The JavaScript SHA-256 against known vectors (FIPS 180-2) and node's.
  const vectors = await page.evaluate(() => {
    const w = (window as any).mockIdpWorkbench;
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return ['', 'abc', 'a'.repeat(1000)].map((s) => hex(w.sha256js(new TextEncoder().encode(s))));
  });
  const { createHash } = await import('node:crypto');
  expect(vectors).toEqual(['', 'abc', 'a'.repeat(1000)].map((s) => createHash('sha256').update(s).digest('hex')));
  expect(vectors[1]).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');

  await page.getByRole('button', { name: 'Mint for alice' }).click();
  const good = await shownToken(page);
  await expect(await verifyOnPage(page, good)).toHaveText('Valid: every check passed.');
  await expect(page.getByRole('list', { name: 'Checks' })).toContainText('Signature: valid (RS256');
  await expect(await verifyOnPage(page, tamper(good, { sub: 'user_admin' }))).toHaveText('Invalid: bad signature.');
  const expired = await apiToken(request, { user: 'bob', expires_in: -60 });
  await expect(await verifyOnPage(page, expired)).toHaveText('Invalid: expired.');
  // Copying falls back to execCommand; the page says it copied.
  await page.getByRole('button', { name: 'Copy token' }).click();
  await expect(page.getByRole('status')).toHaveText('Copied the token.');

  // The debugger's S256 challenge comes from the JavaScript SHA-256: the
  // server checks it against the verifier, so a wrong hash fails the exchange.
  await page.getByLabel(/Login hint/).fill('alice');
  await page.getByRole('button', { name: 'Start sign-in' }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByRole('status')).toHaveText('OIDC debugger: signed in and exchanged the code for tokens.');
  await expect(page.locator('#oidc-steps')).toContainText('at_hash matches the access token.');
  const access = await shownToken(page);
  // The issuer is fixed (ISSUER), whatever host the browser used.
  expect(await verifyIndependently(access, { issuer: 'https://issuer.local' })).toMatchObject({ sub: 'user_alice' });
  expect(IDP).not.toContain('workbench.test');
});
