// The workbench page driven as a person would, by role and label. The
// server (mock-idp.yaml) has personas, a registered client (so the root is
// strict about clients) and a named issuer `tenant-a` with its own persona.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  IDP,
  SCREENSHOTS,
  apiToken,
  headerOf,
  expect,
  expectAccessible,
  shownToken,
  tamper,
  tamperHeader,
  test,
  verifyIndependently,
  verifyOnPage,
} from './fixtures';

const ROOT_ISS = 'https://issuer.local';

test('the page lists the issuers, the endpoints with copy buttons, and the personas', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Root issuer' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Issuers' });
  await expect(nav.getByRole('link', { name: 'Root issuer' })).toHaveAttribute('aria-current', 'page');
  await expect(nav.getByRole('link', { name: 'tenant-a' })).toHaveAttribute('href', '/tenant-a/');

  const endpoints = page.getByRole('region', { name: 'Endpoints' });
  for (const url of [`${IDP}/token`, `${IDP}/.well-known/jwks.json`, `${IDP}/.well-known/openid-configuration`, `${IDP}/authorize`]) {
    await expect(endpoints.getByText(url, { exact: true })).toBeVisible();
  }
  // The copy button of the token endpoint puts exactly its URL on the clipboard.
  const tokenRow = endpoints.locator('.ep', { hasText: 'Token endpoint' });
  await tokenRow.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${IDP}/token`);
  await expect(page.getByRole('status')).toHaveText('Copied the Token endpoint.');

  const personas = page.getByRole('region', { name: 'Personas' });
  await expect(personas.getByRole('button', { name: 'Mint for alice' })).toBeVisible();
  await expect(personas.getByRole('button', { name: 'Mint for bob' })).toBeVisible();
  await expect(personas).toContainText('user_alice · Alice · alice@example.com · admin acme');
  // The JWKS and the replica state are loaded and shown.
  const kid = (await (await page.request.get(`${IDP}/.well-known/jwks.json`)).json()).keys[0].kid;
  await expect(page.getByRole('region', { name: 'Keys (JWKS)' }).getByRole('cell', { name: kid })).toBeVisible();
  await expect(page.locator('#cluster-summary')).toHaveText(/^Health: ok\. Federation: off \(no peers\)\. This issuer serves 1 key\(s\)\.$/);
});

test('one click mints a persona token; the page decodes it and counts down to exp', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Mint for alice' }).click();
  const token = await shownToken(page);
  const claims = await verifyIndependently(token, { issuer: ROOT_ISS });
  expect(claims).toMatchObject({ sub: 'user_alice', email: 'alice@example.com', o: { id: 'org_1', rol: 'admin', slg: 'acme' } });

  const section = page.getByRole('region', { name: 'Token', exact: true });
  await expect(section.getByLabel('Payload')).toContainText('"sub": "user_alice"');
  await expect(section.getByLabel('Payload')).toContainText('"email": "alice@example.com"');
  await expect(section.getByLabel('Header')).toContainText('"alg": "RS256"');
  await expect(section.locator('#token-summary')).toHaveText(`For alice: sub user_alice, RS256, kid ${headerOf(token).kid}.`);
  // A live countdown: 15 minutes (TOKEN_TTL 900) that goes down.
  const timer = section.getByRole('timer');
  await expect(timer).toHaveText(/^1[45]:\d\d left$/);
  const first = await timer.textContent();
  await expect(timer).not.toHaveText(first as string, { timeout: 3_000 });
  await expect(section.getByRole('list', { name: 'Times' })).toContainText(`exp ${claims.exp} = `);
  // Copy the token.
  await section.getByRole('button', { name: 'Copy token' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
});

test('the mint form sends every POST /token field, and "Copy as curl" reproduces the request', async ({ page }) => {
  await page.goto('/');
  const form = page.getByRole('region', { name: 'Mint a token' });
  await form.getByLabel('sub', { exact: true }).fill('svc_42');
  await form.getByLabel('preset').fill('plain');
  await form.getByLabel(/^aud/).fill('api-1, api-2');
  await form.getByLabel('iss', { exact: true }).fill('https://other.example');
  await form.getByLabel('azp').fill('web');
  await form.getByLabel('scope').fill('read write');
  await form.getByLabel(/^expires_in/).fill('120');
  await form.getByLabel('org_id').fill('org_9');
  await form.getByLabel('org_role').fill('org:member');
  await form.getByLabel('org_slug').fill('globex');
  await form.getByLabel(/^claims/).fill('{"roles": ["admin"], "email": "svc@example.com"}');
  await form.getByRole('button', { name: 'Mint token' }).click();

  const token = await shownToken(page);
  const claims = await verifyIndependently(token, { issuer: 'https://other.example', audience: 'api-2' });
  expect(claims).toMatchObject({
    sub: 'svc_42', aud: ['api-1', 'api-2'], azp: 'web', scope: 'read write',
    org_id: 'org_9', org_role: 'org:member', org_slug: 'globex', roles: ['admin'], email: 'svc@example.com',
  });
  expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  expect(claims.v).toBeUndefined(); // plain preset: no Clerk claims

  // The generated curl command, from the clipboard, run for real.
  await page.getByRole('button', { name: 'Copy as curl' }).click();
  const curl = await page.evaluate(() => navigator.clipboard.readText());
  await expect(page.getByLabel('As curl')).toHaveText(curl);
  expect(curl).toContain(`curl -sS -X POST '${IDP}/token'`);
  const again = JSON.parse(execFileSync('bash', ['-c', curl], { timeout: 10_000 }).toString()).access_token;
  const replayed = await verifyIndependently(again, { issuer: 'https://other.example', audience: 'api-1' });
  const { jti: _a, iat: _b, nbf: _c, exp: _d, ...same } = claims;
  expect(replayed).toMatchObject(same);

  // A bad field is named, and the field is marked invalid.
  await form.getByLabel(/^claims/).fill('{"roles": [');
  await form.getByRole('button', { name: 'Mint token' }).click();
  await expect(page.getByRole('status')).toHaveText(/^claims: is not valid JSON/);
  await expect(form.getByLabel(/^claims/)).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByLabel(/^claims/)).toBeFocused();
});

test('keyboard only: Tab to the Mint token button and press Enter', async ({ page }) => {
  await page.goto('/');
  const mint = page.getByRole('button', { name: 'Mint token' });
  let presses = 0;
  for (; presses < 80; presses++) {
    if (await mint.evaluate((b) => b === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(mint).toBeFocused();
  await page.keyboard.press('Enter');
  const token = await shownToken(page);
  expect((await verifyIndependently(token, { issuer: ROOT_ISS })).sub).toBe('user_default');
  // The result's heading takes the focus, so a screen reader announces it.
  await expect(page.getByRole('heading', { name: 'Token', exact: true })).toBeFocused();
  test.info().annotations.push({ type: 'tab presses to Mint token', description: String(presses) });
});

test('the verify box says exactly what is wrong', async ({ page, request }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Mint for bob' }).click();
  const good = await shownToken(page);
  await page.getByRole('button', { name: 'Verify this token' }).click();
  await expect(page.getByLabel('Token to verify')).toHaveValue(good);
  await expect(page.getByLabel('Expected issuer')).toHaveValue(ROOT_ISS);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  const verdict = page.locator('#verify-verdict');
  await expect(verdict).toHaveText('Valid: every check passed.');
  const checks = page.getByRole('list', { name: 'Checks' });
  await expect(checks).toContainText('Signature: valid (RS256, key');

  const hour = 3600;
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, string, string, RegExp]> = [
    ['tampered payload', tamper(good, { sub: 'user_admin' }), '', /^Invalid: bad signature\.$/],
    ['expired', await apiToken(request, { user: 'alice', expires_in: -hour }), '', /^Invalid: expired\.$/],
    ['not yet valid', await apiToken(request, { user: 'alice', claims: { nbf: now + hour } }), '', /^Invalid: not yet valid\.$/],
    ['wrong audience', await apiToken(request, { user: 'alice', aud: 'other-api' }), 'my-api', /^Invalid: wrong audience\.$/],
    ['wrong issuer', await apiToken(request, { user: 'alice', iss: 'https://evil.example' }), '', /^Invalid: wrong issuer\.$/],
    ['unknown kid', tamperHeader(good, { kid: 'nope' }), '', /^Invalid: unknown kid\.$/],
    ['another issuer\'s key', await apiToken(request, { user: 'carol' }, '/tenant-a'), '', /^Invalid: unknown kid, wrong issuer\.$/],
    ['right audience', await apiToken(request, { user: 'alice', aud: ['my-api', 'x'] }), 'my-api', /^Valid/],
  ];
  for (const [what, token, audience, want] of cases) {
    await expect(await verifyOnPage(page, token, audience), what).toHaveText(want);
  }
  // The details name the values.
  await verifyOnPage(page, cases[0][1]);
  await expect(checks).toContainText('Signature: invalid signature: it does not match key');
  await verifyOnPage(page, cases[3][1], 'my-api');
  await expect(checks).toContainText('Audience: wrong audience "other-api"; expected "my-api".');
  await verifyOnPage(page, cases[1][1]);
  await expect(checks).toContainText(/Expiry: expired 1 h 00 min 0\d s ago/);
  await verifyOnPage(page, 'not-a-token');
  await expect(verdict).toHaveText('Invalid: malformed.');
});

test('every token variant, minted on the page, gets its verdict in the verify box', async ({ page }) => {
  await page.goto('/');
  const form = page.getByRole('region', { name: 'Mint a token' });
  const variant = form.getByLabel(/^variant/);
  const expected: Record<string, string> = {
    expired: 'expired',
    not_yet_valid: 'not yet valid',
    wrong_issuer: 'wrong issuer',
    wrong_audience: 'wrong audience',
    bad_signature: 'bad signature',
    unknown_kid: 'unknown kid',
    no_kid: 'no kid',
    alg_none: 'unsigned',
    hs256_key_confusion: 'unverifiable',
    missing_exp: 'no exp',
    missing_sub: 'missing sub',
    wrong_typ: 'wrong typ',
  };
  // The choices come from GET /token/variants.
  await expect(variant.locator('option')).toHaveCount(Object.keys(expected).length + 1);
  const offered = await variant.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  expect(offered.sort()).toEqual(Object.keys(expected).sort());
  await form.getByLabel(/^aud/).fill('my-api');
  let previous = '';
  for (const [name, problem] of Object.entries(expected)) {
    await variant.selectOption(name);
    await expect(form.locator('#variant-help')).not.toBeEmpty();
    await form.getByRole('button', { name: 'Mint token' }).click();
    await expect(page.getByLabel('Access token', { exact: true })).not.toHaveValue(previous);
    previous = await page.getByLabel('Access token', { exact: true }).inputValue();
    await page.getByRole('button', { name: 'Verify this token' }).click();
    await page.getByLabel(/Expected audience/).fill('my-api');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    // Each variant has exactly its one defect, and the page names it.
    await expect(page.locator('#verify-verdict'), name).toHaveText(`Invalid: ${problem}.`);
  }
  await variant.selectOption('');
  await form.getByRole('button', { name: 'Mint token' }).click();
  await expect(page.getByLabel('Access token', { exact: true })).not.toHaveValue(previous);
  await page.getByRole('button', { name: 'Verify this token' }).click();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page.locator('#verify-verdict')).toHaveText('Valid: every check passed.');
});

test('the verify box checks RS, PS, ES and EdDSA signatures; alg and typ on the form', async ({ page, request }) => {
  // Its own issuer: every algorithm adds a key to that issuer's JWKS only.
  const mount = '/algs';
  await page.goto(`${mount}/`);
  const checks = page.getByRole('list', { name: 'Checks' });
  for (const alg of ['RS384', 'RS512', 'PS256', 'PS512', 'ES256', 'ES384', 'EdDSA']) {
    const token = await apiToken(request, { user: 'alice', alg }, mount);
    expect(headerOf(token).alg).toBe(alg);
    await verifyIndependently(token, { issuer: `${IDP}${mount}`, mount });
    await expect(await verifyOnPage(page, token), alg).toHaveText('Valid: every check passed.');
    await expect(checks).toContainText(`Signature: valid (${alg}, key`);
    await expect(await verifyOnPage(page, tamper(token, { sub: 'user_admin' })), alg).toHaveText('Invalid: bad signature.');
  }
  // The form's alg choices are the issuer's (discovery), and alg and typ reach the token.
  const form = page.getByRole('region', { name: 'Mint a token' });
  await expect(form.locator('#alg-names option[value="EdDSA"]')).toHaveCount(1);
  await form.getByLabel(/^alg/).fill('ES256');
  await form.getByLabel(/^typ/).fill('at+jwt');
  await form.getByLabel('azp').fill('web');
  await form.getByRole('button', { name: 'Mint token' }).click();
  const token = await shownToken(page);
  expect(headerOf(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
  expect(await verifyIndependently(token, { issuer: `${IDP}${mount}`, mount })).toMatchObject({ client_id: 'web' });
  await page.getByRole('button', { name: 'Verify this token' }).click();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page.locator('#verify-verdict')).toHaveText('Valid: every check passed.');
});

test('OIDC debugger: code + PKCE through the login page and back, with registered clients', async ({ page }) => {
  await page.goto('/');
  const debuggerSection = page.getByRole('region', { name: 'OIDC debugger' });
  await expect(debuggerSection.getByLabel('Redirect URI')).toHaveValue(`${IDP}/`);
  await debuggerSection.getByRole('button', { name: 'Start sign-in' }).click();

  // mock-idp's login page, for the built-in client.
  await expect(page).toHaveURL((url) => url.href.startsWith(`${IDP}/authorize?`) && url.searchParams.get('client_id') === 'workbench');
  const authorize = new URL(page.url());
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(page.getByRole('heading', { name: 'Sign in to the mock-idp workbench' })).toBeVisible();
  await page.getByRole('button', { name: /Sign in as alice/ }).click();

  // Back on the page, the code already exchanged and gone from the URL.
  await expect(page).toHaveURL(`${IDP}/`);
  const steps = page.locator('#oidc-steps');
  await expect(steps.getByRole('heading', { name: 'Token response' })).toBeVisible();
  await expect(steps).toContainText('state matches the one this page sent.');
  await expect(steps).toContainText('iss is this issuer (RFC 9207).');
  await expect(steps).toContainText('HTTP 200');
  await expect(steps.getByLabel('Token request')).toContainText('grant_type=authorization_code');
  await expect(steps.getByLabel('Token request')).toContainText('client_id=workbench');
  await expect(steps.getByLabel('Token request')).toContainText('code_verifier=');
  await expect(steps).toContainText('nonce matches the one this page sent.');
  await expect(steps).toContainText('at_hash matches the access token.');
  await expect(steps.getByLabel('ID token (decoded)')).toContainText('"sub": "user_alice"');
  await expect(steps.getByLabel('ID token (decoded)')).toContainText('"aud": "workbench"');
  const access = await shownToken(page);
  expect(await verifyIndependently(access, { issuer: ROOT_ISS })).toMatchObject({ sub: 'user_alice', azp: 'workbench', client_id: 'workbench' });

  await page.getByRole('button', { name: 'Call userinfo' }).click();
  await expect(steps.getByLabel('UserInfo response')).toContainText('"email": "alice@example.com"');
  await page.getByRole('button', { name: 'Refresh the tokens' }).click();
  await expect(steps.getByLabel('Refresh response')).toContainText('"refresh_token"');
  await expect(page.getByRole('status')).toHaveText('OIDC debugger: tokens refreshed.');
});

test('a named issuer has its own page, personas, audience and debugger', async ({ page }) => {
  await page.goto('/tenant-a/');
  await expect(page.getByRole('heading', { level: 1, name: 'Issuer tenant-a' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Issuers' }).getByRole('link', { name: 'tenant-a' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('region', { name: 'Endpoints' }).getByText(`${IDP}/tenant-a/token`, { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Mint for alice' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Mint for carol' }).click();
  const token = await shownToken(page);
  expect(await verifyIndependently(token, { issuer: `${IDP}/tenant-a`, audience: 'api-a', mount: '/tenant-a' })).toMatchObject({ sub: 'user_carol' });
  await page.getByRole('button', { name: 'Verify this token' }).click();
  await expect(page.getByLabel(/Expected audience/)).toHaveValue('api-a');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page.locator('#verify-verdict')).toHaveText('Valid: every check passed.');

  // The debugger returns to this issuer's page, with a login_hint skipping the login page.
  await page.getByLabel(/Login hint/).fill('carol');
  await page.getByRole('button', { name: 'Start sign-in' }).click();
  await expect(page).toHaveURL(`${IDP}/tenant-a/`);
  await expect(page.locator('#oidc-steps').getByLabel('ID token (decoded)')).toContainText(`"iss": "${IDP}/tenant-a"`);
  await expect(page.getByRole('status')).toHaveText('OIDC debugger: signed in and exchanged the code for tokens.');
});

test('without JavaScript the page still lists the issuers, the endpoints and working persona buttons', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByText('JavaScript is off')).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Issuers' });
  await expect(nav.getByRole('link', { name: 'Root issuer' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'tenant-a' })).toBeVisible();
  await expect(page.getByText(`${IDP}/token`, { exact: true })).toBeVisible();
  await expect(page.getByText(`${IDP}/.well-known/jwks.json`, { exact: true }).first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Copy' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Mint token' })).toBeHidden();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'no-javascript.png'), fullPage: true });
  // A persona button is a plain form post to the token endpoint.
  await page.getByRole('button', { name: 'Mint for alice' }).click();
  const body = JSON.parse((await page.locator('body').textContent()) as string);
  expect(await verifyIndependently(body.access_token, { issuer: ROOT_ISS })).toMatchObject({ sub: 'user_alice' });
  await context.close();
});

test('the guard itself sees console errors and requests to other origins', async ({ page, guard }) => {
  // Without this, "zero console errors, zero foreign requests" could pass by not listening.
  await page.goto('/');
  await page.evaluate(() => fetch('/no-such-endpoint').then((r) => r.status));
  await expect.poll(() => guard.consoleErrors.join('\n')).toContain('404');
  await page.goto('about:blank');
  await page.evaluate(() => {
    new Image().src = 'http://127.0.0.2:9/pixel.png';
  });
  await expect.poll(() => guard.foreign).toEqual(['http://127.0.0.2:9/pixel.png']);
  guard.consoleErrors.length = 0;
  guard.foreign.length = 0;
});

for (const scheme of ['light', 'dark'] as const) {
  test(`no serious or critical axe violations, ${scheme} scheme (screenshots kept)`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/');
    const fresh = await expectAccessible(page, `/ (${scheme}, fresh)`);
    test.info().annotations.push({
      type: `axe ${scheme}`,
      description: `${fresh.passes.length} rules passed; other violations: ${fresh.violations.map((v) => `${v.impact} ${v.id}`).join(', ') || 'none'}`,
    });
    await page.getByRole('button', { name: 'Mint for alice' }).click();
    await shownToken(page);
    await page.getByRole('button', { name: 'Verify this token' }).click();
    await page.getByLabel(/Expected audience/).fill('nobody');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect(page.locator('#verify-verdict')).toHaveText('Invalid: wrong audience.');
    await expectAccessible(page, `/ (${scheme}, token and verdict shown)`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `root-${scheme}.png`), fullPage: true });
    await page.goto('/tenant-a/');
    await expectAccessible(page, `/tenant-a/ (${scheme})`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `tenant-a-${scheme}.png`), fullPage: true });
  });
}
