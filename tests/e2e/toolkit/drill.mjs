// The key rotation drill against caching resource-server JWKS clients in
// Node: jose's createRemoteJWKSet and auth0's jwks-rsa, both with their
// default caching. A service verifies a stream of fresh tokens (one every
// 200 ms, bounded) while the issuer rotates its key:
//   - grace 30 s (= jose's 30 s cooldown): every token is accepted;
//   - grace 0: jose refuses the new key's tokens until its cooldown since the
//     last fetch is over, jwks-rsa (no cooldown) refetches on the unknown kid;
// and the retired key leaves the JWKS once its last token has expired.
// Then the unpublish API (DELETE <mount>/_admin/keys/{kid}).
//
//   MOCK_IDP_URL=http://127.0.0.1:PORT node drill.mjs
//
// Each drill uses its own dynamic issuer, so this runs beside verify*.

import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { AUDIENCE, Report, get, http, issOf, jwksPath, jwksUrl, mint, peek, sleep } from './lib.mjs';

const R = new Report('drill_node');
const TICK_MS = 200;
const TOKEN_TTL = 8; // short-lived stream tokens: the retired key leaves soon after the switch
const JOSE_COOLDOWN_S = 30; // createRemoteJWKSet's default cooldownDuration (30 000 ms)
const ROTATE_AFTER_MS = 2000;
const AFTER_SWITCH_OK = 5; // accepted new-key tokens (after the last refusal) that end a stream

/** jose createRemoteJWKSet with its defaults; customFetch only counts. */
function joseClient(issuer) {
  const c = { name: 'jose createRemoteJWKSet', fetches: [], cooldown: JOSE_COOLDOWN_S };
  const set = jose.createRemoteJWKSet(new URL(jwksUrl(issuer)), {
    [jose.customFetch]: async (...args) => {
      const res = await fetch(...args);
      c.fetches.push(Date.now() / 1000);
      return res;
    },
  });
  c.verify = async (token) =>
    (await jose.jwtVerify(token, set, { issuer: issOf(issuer), audience: AUDIENCE, algorithms: ['RS256'] })).payload;
  c.refusal = (err) => err.startsWith('ERR_JWKS_NO_MATCHING_KEY');
  return c;
}

/** jwks-rsa with its defaults (cache on, no rate limit); fetcher only counts. */
function jwksRsaClient(issuer) {
  const c = { name: 'jsonwebtoken + jwks-rsa', fetches: [], cooldown: 0 };
  const client = jwksRsa({
    jwksUri: jwksUrl(issuer),
    fetcher: async (uri) => {
      const body = await (await fetch(uri)).json();
      c.fetches.push(Date.now() / 1000);
      return body;
    },
  });
  const getKey = (header, cb) => client.getSigningKey(header.kid).then((k) => cb(null, k.getPublicKey()), cb);
  c.verify = (token) =>
    new Promise((resolve, reject) =>
      jsonwebtoken.verify(token, getKey, { algorithms: ['RS256'], issuer: issOf(issuer), audience: AUDIENCE },
        (e, claims) => (e ? reject(e) : resolve(claims))),
    );
  c.refusal = (err) => err.includes('Unable to find a signing key');
  return c;
}

async function outcome(fn) {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e?.code ? `${e.code}: ${e.message}` : `${e?.name}: ${e?.message}`;
  }
}

/**
 * One drill: a stream of fresh tokens verified by every client while the
 * issuer rotates with `grace`. `expect[client.name]` is 'accept-all' or
 * 'cooldown' (refusals of the new key's tokens only until the client's
 * cooldown since its last fetch has passed).
 */
async function drill(label, issuer, grace, clients, expect) {
  const events = []; // {t, kid, exp, results: {name: outcome}}
  const presence = []; // [t, old kid published?]
  const t0 = Date.now();
  const deadline = t0 + ROTATE_AFTER_MS + (grace + JOSE_COOLDOWN_S + 15) * 1000;
  let rotation = null;
  let oldKid = null;
  let switchSeen = null;
  let lastOld = null;
  let okAfter = 0;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    const tickStart = Date.now();
    const token = await mint(issuer, { sub: 'drill', expires_in: TOKEN_TTL });
    const [header, claims] = peek(token);
    oldKid ??= header.kid;
    const results = {};
    for (const c of clients) results[c.name] = await outcome(() => c.verify(token));
    const now = Date.now() / 1000;
    events.push({ t: now, kid: header.kid, exp: claims.exp, results });
    const jwks = await get(jwksPath(issuer));
    presence.push([Date.now() / 1000, jwks.keys.some((k) => k.kid === oldKid)]);
    if (header.kid === oldKid) lastOld = token;
    if (!rotation && Date.now() - t0 >= ROTATE_AFTER_MS) {
      const before = Date.now() / 1000;
      const [status, body] = await http('POST', `/${issuer}/_admin/keys/rotate`, { grace_sec: grace });
      const after = Date.now() / 1000;
      const served = await get(jwksPath(issuer));
      // switch_at is the server's now (whole seconds, after it made the key) + grace.
      R.check(`${label}: rotate answers {active_kid: the signing kid, next_kid, switch_at = now + ${grace}}`,
        status === 200 && body.active_kid === oldKid && typeof body.next_kid === 'string' && body.next_kid !== oldKid
          && Math.floor(before) + grace <= body.switch_at && body.switch_at <= after + grace,
        `${status} ${JSON.stringify(body)}, asked at ${before.toFixed(1)}, answered at ${after.toFixed(1)}`);
      R.check(`${label}: the next key is published at once, beside the signing key`,
        served.keys.some((k) => k.kid === body.next_kid) && served.keys.some((k) => k.kid === oldKid),
        served.keys.map((k) => k.kid).join(','));
      rotation = body;
    }
    if (rotation && header.kid === rotation.next_kid) {
      if (!switchSeen) {
        switchSeen = now;
        const served = await get(jwksPath(issuer));
        R.check(`${label}: after the switch both keys are published`,
          served.keys.some((k) => k.kid === oldKid) && served.keys.some((k) => k.kid === rotation.next_kid), '');
        for (const c of clients) {
          const res = await outcome(() => c.verify(lastOld));
          R.check(`${label}: ${c.name} still accepts the old key's last (unexpired) token after the switch`, res === 'ok', res);
        }
      }
      okAfter = Object.values(results).every((r) => r === 'ok') ? okAfter + 1 : 0;
      if (okAfter >= AFTER_SWITCH_OK) break;
    }
    await sleep(Math.max(0, TICK_MS - (Date.now() - tickStart)));
  }
  const oldEvents = events.filter((e) => e.kid === oldKid);
  const newEvents = rotation ? events.filter((e) => e.kid === rotation.next_kid) : [];
  R.check(`${label}: ${events.length} tokens streamed, ${oldEvents.length} by the old key then ${newEvents.length} by the new one`,
    rotation && oldEvents.length + newEvents.length === events.length && newEvents.length >= AFTER_SWITCH_OK
      && events.findIndex((e) => e.kid !== oldKid) === oldEvents.length,
    `old ${oldEvents.length}, new ${newEvents.length}, other ${events.length - oldEvents.length - newEvents.length}`);
  if (!rotation || !switchSeen) return;
  R.check(`${label}: the new key signs from switch_at (first new token ${(switchSeen - rotation.switch_at).toFixed(1)} s after it)`,
    switchSeen >= rotation.switch_at - 1 && switchSeen <= rotation.switch_at + 3, `switch_at ${rotation.switch_at}`);
  for (const c of clients) {
    const refusedOld = oldEvents.filter((e) => e.results[c.name] !== 'ok');
    R.check(`${label}: ${c.name} accepts every old-key token (${oldEvents.length})`, refusedOld.length === 0,
      refusedOld.map((e) => e.results[c.name]).join('; '));
    const refused = newEvents.filter((e) => e.results[c.name] !== 'ok');
    const fetchesBefore = c.fetches.filter((t) => t <= switchSeen);
    const lastFetch = fetchesBefore.at(-1);
    if (expect[c.name] === 'accept-all') {
      R.check(`${label}: ${c.name} accepts every new-key token (${newEvents.length}), no refusal through the rotation`,
        refused.length === 0, refused.map((e) => e.results[c.name]).slice(0, 3).join('; '));
    } else {
      // Refused exactly while cooling down: until lastFetch + cooldown.
      const until = lastFetch + c.cooldown;
      const firstOk = newEvents.find((e) => e.results[c.name] === 'ok');
      R.check(`${label}: ${c.name} refuses the new key's tokens (${refused.length}) while cooling down, with its unknown-kid error`,
        refused.length > 0 && refused.every((e) => c.refusal(e.results[c.name]) && e.t < until + 1),
        refused.map((e) => e.results[c.name]).slice(0, 1).join('; '));
      R.check(`${label}: ${c.name} refetches and accepts from ${c.cooldown} s after its last fetch on (${firstOk ? (firstOk.t - lastFetch).toFixed(1) : '-'} s)`,
        firstOk && firstOk.t >= until - 0.5 && firstOk.t <= until + 3
          && newEvents.filter((e) => e.t >= firstOk.t).every((e) => e.results[c.name] === 'ok'),
        firstOk ? `first accepted ${(firstOk.t - lastFetch).toFixed(1)} s after the last fetch` : 'never accepted');
    }
    R.check(`${label}: ${c.name} fetched the JWKS twice (at start, on the new kid)`, c.fetches.length === 2,
      `${c.fetches.length} fetches at ${c.fetches.map((t) => (t - t0 / 1000).toFixed(1)).join(', ')} s`);
  }

  // The retired key stays published until its last token's exp has passed.
  const lastExp = Math.max(...oldEvents.map((e) => e.exp));
  const status = await get(`/${issuer}/_admin/keys`);
  const old = status.keys.find((k) => k.kid === oldKid);
  if (Date.now() / 1000 < lastExp) {
    R.check(`${label}: GET _admin/keys shows the old key retired with last_exp = the last exp it signed`,
      old?.state === 'retired' && old?.last_exp === lastExp, JSON.stringify(old));
  }
  let goneAt = presence.find(([, present], i) => !present && i > 0)?.[0];
  for (let i = 0; !goneAt && i < 50 && Date.now() / 1000 < lastExp + 5; i++) {
    await sleep(200);
    const present = (await get(jwksPath(issuer))).keys.some((k) => k.kid === oldKid);
    presence.push([Date.now() / 1000, present]);
    if (!present) goneAt = Date.now() / 1000;
  }
  const lastPresent = Math.max(...presence.filter(([, p]) => p).map(([t]) => t));
  R.check(`${label}: the retired key left the JWKS after its last token's exp (present ${(lastPresent - lastExp).toFixed(1)} s, gone ${goneAt ? (goneAt - lastExp).toFixed(1) : '-'} s after it)`,
    goneAt && goneAt >= lastExp && goneAt <= lastExp + 4 && lastPresent >= lastExp - 2 && lastPresent < goneAt,
    `exp ${lastExp}, last present ${lastPresent}, gone ${goneAt}`);
}

async function unpublish() {
  const issuer = 'drill-node-unpublish';
  const token = await mint(issuer, { sub: 'u', expires_in: 600 });
  const [{ kid: first }] = peek(token);
  const [, rot] = await http('POST', `/${issuer}/_admin/keys/rotate`, { grace_sec: 0 });
  const del = async (kid) => (await http('DELETE', `/${issuer}/_admin/keys/${kid}`))[0];
  R.check('unpublish: DELETE of the signing key -> 409', (await del(rot.next_kid)) === 409, '');
  R.check('unpublish: DELETE of an unknown kid -> 404', (await del('no-such-kid')) === 404, '');
  const set = jose.createRemoteJWKSet(new URL(jwksUrl(issuer)));
  const before = await outcome(() => jose.jwtVerify(token, set, { issuer: issOf(issuer), audience: AUDIENCE }));
  R.check('unpublish: the retired key (its token lives 600 s) is still published and verifies', before === 'ok', before);
  R.check('unpublish: DELETE of the retired key -> 204', (await del(first)) === 204, '');
  const jwks = await get(jwksPath(issuer));
  R.check('unpublish: it is gone from the JWKS at once', !jwks.keys.some((k) => k.kid === first) && jwks.keys.length === 1,
    jwks.keys.map((k) => k.kid).join(','));
  const after = await outcome(() => jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(jwksUrl(issuer))), { issuer: issOf(issuer), audience: AUDIENCE }));
  R.check('unpublish: a fresh jose client now refuses its token (ERR_JWKS_NO_MATCHING_KEY)', after.startsWith('ERR_JWKS_NO_MATCHING_KEY'), after);
}

await Promise.all([
  drill('grace 30', 'drill-node-30', JOSE_COOLDOWN_S, [joseClient('drill-node-30'), jwksRsaClient('drill-node-30')],
    { 'jose createRemoteJWKSet': 'accept-all', 'jsonwebtoken + jwks-rsa': 'accept-all' }),
  drill('grace 0', 'drill-node-0', 0, [joseClient('drill-node-0'), jwksRsaClient('drill-node-0')],
    { 'jose createRemoteJWKSet': 'cooldown', 'jsonwebtoken + jwks-rsa': 'accept-all' }),
  unpublish(),
]);
process.exitCode = R.finish();
