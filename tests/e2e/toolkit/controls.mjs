// The test controls (<mount>/_admin: faults, clock, request ledger, reset,
// ADMIN_TOKEN) seen by Node resource-server libraries: jose's
// createRemoteJWKSet and auth0's jsonwebtoken + jwks-rsa.
//   - ledger: how often each caching client really fetched the JWKS;
//   - JWKS faults: a warm cache rides out an outage, what a cold client says
//     for each fault (status, empty, garbage, delay), recovery after `count`;
//   - clock: tokens of a shifted issuer clock, and a rotation travelled
//     through by moving the clock;
//   - reset: keys stay, tokens keep verifying;
//   - ADMIN_TOKEN: _admin refused without it, minting open.
//
//   MOCK_IDP_URL=http://127.0.0.1:PORT [TOOLKIT_ADMIN_TOKEN=...] node controls.mjs
//
// Every check uses its own dynamic issuer, so this runs beside the others.

import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { ADMIN_TOKEN, AUDIENCE, Report, get, http, issOf, jwksPath, jwksUrl, mint, peek } from './lib.mjs';

const R = new Report('controls_node');

async function outcome(fn) {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e?.code ? `${e.code}: ${e.message}` : `${e?.name}: ${e?.message}`;
  }
}

const joseRemote = (issuer, options = {}) => {
  const set = jose.createRemoteJWKSet(new URL(jwksUrl(issuer)), options);
  return (token, verifyOptions = {}) =>
    jose.jwtVerify(token, set, { issuer: issOf(issuer), audience: AUDIENCE, ...verifyOptions });
};

const jwksRsaVerifier = (issuer, options = {}) => {
  const client = jwksRsa({ jwksUri: jwksUrl(issuer), ...options });
  const getKey = (header, cb) => client.getSigningKey(header.kid).then((k) => cb(null, k.getPublicKey()), cb);
  return (token) =>
    new Promise((resolve, reject) =>
      jsonwebtoken.verify(token, getKey, { algorithms: ['RS256'], issuer: issOf(issuer), audience: AUDIENCE },
        (e, claims) => (e ? reject(e) : resolve(claims))),
    );
};

/** Starts a check's issuer clean (clock, faults, ledger): a rerun on a server that lives on gives the same counts. */
async function fresh(issuer) {
  const [status, body] = await http('POST', `/${issuer}/_admin/reset`);
  if (status !== 204) throw new Error(`POST /${issuer}/_admin/reset: ${status} ${JSON.stringify(body)}`);
}

/** The ledger's entries for `path` on `issuer`, newest first. */
const ledger = async (issuer, path) => get(`/${issuer}/_admin/requests?path=${encodeURIComponent(path)}`);

async function ledgerCounts() {
  const issuer = 'ctl-ledger-node';
  await fresh(issuer);
  const tokens = [];
  for (let i = 0; i < 10; i++) tokens.push(await mint(issuer, { sub: `u${i}` }));
  const verifyJose = joseRemote(issuer);
  const verifyRsa = jwksRsaVerifier(issuer);
  const results = [];
  for (const t of tokens) results.push(await outcome(() => verifyJose(t)), await outcome(() => verifyRsa(t)));
  R.check('ledger: jose and jwks-rsa verify 10 fresh tokens each', results.every((r) => r === 'ok'), results.find((r) => r !== 'ok'));
  const fetches = await ledger(issuer, `/${issuer}/jwks`);
  R.check('ledger: the issuer saw exactly 2 JWKS fetches (one per caching client), both 200',
    fetches.length === 2 && fetches.every((e) => e.method === 'GET' && e.status === 200), JSON.stringify(fetches.map((e) => e.status)));
  const mints = await ledger(issuer, `/${issuer}/token`);
  const [, claims] = peek(tokens.at(-1));
  R.check('ledger: 10 mints recorded, the newest with the last token\'s sub and jti',
    mints.length === 10 && mints[0].sub === claims.sub && mints[0].jti === claims.jti && mints[0].status === 200,
    JSON.stringify(mints[0]));
}

const FAULTS = [
  [{ status: 503 }, 'ERR_JOSE_GENERIC: Expected 200 OK from the JSON Web Key Set HTTP response', 'Service Unavailable'],
  [{ status: 500, body: 'empty' }, 'ERR_JOSE_GENERIC: Expected 200 OK', 'Internal Server Error'],
  [{ body: 'garbage' }, 'ERR_JOSE_GENERIC: Failed to parse the JSON Web Key Set HTTP response as JSON', 'is not valid JSON'],
  [{ body: 'empty' }, 'ERR_JOSE_GENERIC: Failed to parse the JSON Web Key Set HTTP response as JSON', 'The JWKS endpoint did not contain any keys'],
  [{ delay_ms: 1500 }, 'ERR_JWKS_TIMEOUT: request timed out', 'socket hang up'],
];

async function jwksFaults() {
  // A warm cache rides out an outage; cold clients fail with their error.
  const issuer = 'ctl-faults-node';
  await fresh(issuer);
  const first = await mint(issuer, { sub: 'warm' });
  const warmJose = joseRemote(issuer);
  const warmRsa = jwksRsaVerifier(issuer);
  await warmJose(first);
  await warmRsa(first);
  const [status, armed] = await http('PUT', `/${issuer}/_admin/faults`, { endpoint: 'jwks', status: 503 });
  R.check('faults: PUT _admin/faults arms a JWKS 503 until cleared', status === 200 && armed.count === null, JSON.stringify(armed));
  const during = await mint(issuer, { sub: 'during' });
  const res = [await outcome(() => warmJose(during)), await outcome(() => warmRsa(during))];
  R.check('faults: during a JWKS outage, warm jose and jwks-rsa caches keep verifying tokens of a known kid', res.every((r) => r === 'ok'), res.join('; '));
  const faulted = await ledger(issuer, `/${issuer}/jwks`);
  R.check('faults: ... without fetching (the ledger has only the 2 warm-up fetches)', faulted.length === 2, `${faulted.length} entries`);
  await http('DELETE', `/${issuer}/_admin/faults`);

  for (const [fault, joseErr, rsaErr] of FAULTS) {
    const iss = `ctl-fault-${Object.values(fault).join('-')}`;
    await fresh(iss);
    const token = await mint(iss, { sub: 'cold' });
    await http('PUT', `/${iss}/_admin/faults`, { endpoint: 'jwks', ...fault });
    const j = await outcome(() => joseRemote(iss, { timeoutDuration: 1000 })(token));
    const r = await outcome(() => jwksRsaVerifier(iss, { timeout: 1000 })(token));
    const what = JSON.stringify(fault);
    R.check(`faults ${what}: a cold jose client (timeoutDuration 1000) fails: ${joseErr}`, j.startsWith(joseErr), j);
    R.check(`faults ${what}: a cold jwks-rsa client (timeout 1000) fails: ${rsaErr}`,
      r.startsWith(`JsonWebTokenError: error in secret or public key callback: `) && r.includes(rsaErr), r);
  }

  // A fault for one call: the failed fetch is not cached, the next call refetches.
  const iss = 'ctl-fault-once';
  await fresh(iss);
  const token = await mint(iss, { sub: 'once' });
  await http('PUT', `/${iss}/_admin/faults`, { endpoint: 'jwks', status: 503, count: 1 });
  const verify = joseRemote(iss);
  const tries = [await outcome(() => verify(token)), await outcome(() => verify(token))];
  R.check('faults count 1: jose fails once, then its next verification refetches and succeeds',
    tries[0].startsWith('ERR_JOSE_GENERIC') && tries[1] === 'ok', tries.join(' / '));
  const calls = await ledger(iss, `/${iss}/jwks`);
  R.check('faults count 1: the ledger shows the JWKS answered 503 then 200', calls.map((e) => e.status).join(',') === '200,503',
    calls.map((e) => e.status).join(','));
  const [, left] = await http('GET', `/${iss}/_admin/faults`);
  R.check('faults count 1: the fault cleared itself (GET _admin/faults is [])', Array.isArray(left) && left.length === 0, JSON.stringify(left));
}

async function clock() {
  const issuer = 'ctl-clock-node';
  await fresh(issuer);
  await mint(issuer, { sub: 'start' });
  const [s1, set] = await http('PUT', `/${issuer}/_admin/clock`, { offset_sec: -7200 });
  R.check('clock: PUT offset -7200 answers the shifted now', s1 === 200 && set.offset_sec === -7200
    && Math.abs(set.now - (Date.now() / 1000 - 7200)) < 3, JSON.stringify(set));
  const past = await mint(issuer, { sub: 'past' });
  R.check('clock -2 h: the token is expired for jose on the real clock',
    (await outcome(() => joseRemote(issuer)(past))).startsWith('ERR_JWT_EXPIRED'), '');
  R.check('clock -2 h: ... and for jsonwebtoken (TokenExpiredError)',
    (await outcome(() => jwksRsaVerifier(issuer)(past))).startsWith('TokenExpiredError'), '');
  const atIssuer = await outcome(() => joseRemote(issuer)(past, { currentDate: new Date(set.now * 1000) }));
  R.check('clock -2 h: ... yet valid for jose at the issuer\'s now (currentDate)', atIssuer === 'ok', atIssuer);
  await http('PUT', `/${issuer}/_admin/clock`, { offset_sec: 7200 });
  const future = await mint(issuer, { sub: 'future' });
  const f = [await outcome(() => joseRemote(issuer)(future)), await outcome(() => jwksRsaVerifier(issuer)(future))];
  R.check('clock +2 h: jose refuses (nbf check) and jsonwebtoken says NotBeforeError',
    f[0].includes('"nbf" claim timestamp check failed') && f[1].startsWith('NotBeforeError'), f.join(' / '));
  const [, frozen] = await http('PUT', `/${issuer}/_admin/clock`, { now: 2000000000 });
  const [, c1] = peek(await mint(issuer, { sub: 'f1' }));
  R.check('clock frozen: iat is exactly the frozen now', frozen.frozen === true && c1.iat === 2000000000, `iat ${c1.iat}`);
  const [s2] = await http('DELETE', `/${issuer}/_admin/clock`);
  const now = await mint(issuer, { sub: 'now' });
  R.check('clock: DELETE (204) goes back to the system clock; jose accepts the next token',
    s2 === 204 && (await outcome(() => joseRemote(issuer)(now))) === 'ok', `${s2}`);

  // Reset: clock back, keys stay.
  const [s3] = await http('POST', `/${issuer}/_admin/reset`);
  const [, after] = await http('GET', `/${issuer}/_admin/clock`);
  const afterReset = await mint(issuer, { sub: 'after-reset' });
  R.check('reset: 204, the clock is the system clock again, the key still signs',
    s3 === 204 && after.offset_sec === 0 && after.frozen === false && peek(afterReset)[0].kid === peek(now)[0].kid, JSON.stringify(after));
  const v = await outcome(() => joseRemote(issuer)(now));
  R.check('reset: jose verifies a token minted before it', v === 'ok', v);
}

async function clockThroughRotation() {
  // Travel through a rotation: the switch and the retired key's exit follow the issuer's clock.
  const issuer = 'ctl-travel-node';
  await fresh(issuer);
  await mint(issuer, { sub: 'start' });
  const [, rot] = await http('POST', `/${issuer}/_admin/keys/rotate`, { grace_sec: 3600 });
  const oldToken = await mint(issuer, { sub: 'old' });
  R.check('clock rotation: during the 1 h grace the old key signs', peek(oldToken)[0].kid === rot.active_kid, '');
  // Past switch_at and past the last exp the old key signed (GET _admin/keys).
  const keys = await get(`/${issuer}/_admin/keys`);
  const lastExp = keys.keys.find((k) => k.kid === rot.active_kid).last_exp;
  await http('PUT', `/${issuer}/_admin/clock`, { offset_sec: Math.max(3600, lastExp - keys.now) + 5 });
  const newToken = await mint(issuer, { sub: 'new' });
  const jwks = await get(jwksPath(issuer));
  const kids = jwks.keys.map((k) => k.kid);
  R.check('clock rotation: moving the clock past switch_at and the old tokens\' exp switches the key and unpublishes the old one',
    peek(newToken)[0].kid === rot.next_kid && !kids.includes(rot.active_kid) && kids.includes(rot.next_kid), kids.join(','));
  const coldJose = await outcome(() => joseRemote(issuer)(oldToken));
  R.check('clock rotation: a fresh jose client no longer finds the old key (its token is otherwise valid)',
    coldJose.startsWith('ERR_JWKS_NO_MATCHING_KEY'), coldJose);
  const [s3] = await http('POST', `/${issuer}/_admin/reset`);
  const afterReset = await mint(issuer, { sub: 'after-reset' });
  const v = await outcome(() => joseRemote(issuer)(afterReset));
  R.check('reset after the rotation: the rotated key still signs and jose verifies its token',
    s3 === 204 && peek(afterReset)[0].kid === rot.next_kid && v === 'ok', `${s3} ${v}`);
}

async function adminToken() {
  if (!ADMIN_TOKEN) {
    R.check('ADMIN_TOKEN: set for this run (TOOLKIT_ADMIN_TOKEN)', false, 'not set: the protection is not checked');
    return;
  }
  const issuer = 'ctl-admin-node';
  await mint(issuer, { sub: 'x' });
  const bare = await fetch(`${jwksUrl(issuer).replace(/\/jwks$/, '')}/_admin/keys`);
  const text = await bare.text();
  R.check('ADMIN_TOKEN: _admin/keys without a token -> 401 invalid_token with WWW-Authenticate: Bearer',
    bare.status === 401 && JSON.parse(text).error === 'invalid_token' && (bare.headers.get('www-authenticate') ?? '').startsWith('Bearer'),
    `${bare.status} ${text}`);
  const [wrong, body] = await http('POST', `/${issuer}/_admin/keys/rotate`, {}, { adminAuth: false, headers: { authorization: 'Bearer not-the-token' } });
  R.check('ADMIN_TOKEN: a wrong token -> 401, the rotation not done, no token echoed',
    wrong === 401 && !JSON.stringify(body).includes('not-the-token') && !JSON.stringify(body).includes(ADMIN_TOKEN)
      && (await get(`/${issuer}/_admin/keys`)).keys.length === 1, `${wrong} ${JSON.stringify(body)}`);
  const [open] = await http('POST', `/${issuer}/token`, { sub: 'open' }, { adminAuth: false });
  R.check('ADMIN_TOKEN: POST /token stays open', open === 200, `${open}`);
}

await Promise.all([ledgerCounts(), jwksFaults(), clock(), clockThroughRotation(), adminToken()]);
process.exitCode = R.finish();
