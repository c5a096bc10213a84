// API specs (no browser page): the same fixture works for testing a resource
// server directly with Playwright's `request`.
import { test, expect } from '@mock-idp/playwright';

test('GET /api/me returns the Clerk v2 claims of a persona token', async ({ request, tokenFor }) => {
  const res = await request.get('/api/me', {
    headers: { Authorization: `Bearer ${await tokenFor('alice')}` },
  });
  expect(res.status()).toBe(200);
  const { claims } = await res.json();
  expect(claims).toMatchObject({
    sub: 'user_alice',
    v: 2,
    o: { id: 'org_1', rol: 'admin', slg: 'acme' },
    email: 'alice@example.com',
  });
  expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
});

test('GET /api/me without a token is 401 with a reason', async ({ request }) => {
  const res = await request.get('/api/me');
  expect(res.status()).toBe(401);
  expect(await res.json()).toEqual({ error: 'missing_token', reason: 'no Bearer token' });
});

test('GET /api/me rejects a token whose signature was tampered with', async ({ request, tokenFor }) => {
  const [h, p, s] = (await tokenFor('bob')).split('.');
  const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const res = await request.get('/api/me', { headers: { Authorization: `Bearer ${h}.${p}.${flipped}` } });
  expect(res.status()).toBe(401);
  expect((await res.json()).reason).toBe('bad signature');
});
