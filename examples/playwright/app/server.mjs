// A tiny resource server + static page, standing in for "your app" in the
// Playwright example. Plain node:http, no framework.
//
//   GET /            the page (app/public/index.html; no external assets)
//   GET /app.js      its script
//   GET /api/me      verifies `Authorization: Bearer <JWT>` against mock-idp's
//                    JWKS and the expected issuer; 200 {claims} or 401
//                    {error, reason}
//   GET /health      200 {"status":"ok"} (Playwright's readiness probe)
//   GET /login       OIDC sign-in: redirect to mock-idp's /authorize (code +
//                    PKCE S256, state, nonce; ?login_hint=alice passes through)
//   GET /callback    exchanges the code at mock-idp's POST /token, checks the
//                    ID token (signature, iss, aud, nonce), then hands the
//                    access token to the page as /?token=...
//
// Environment:
//   APP_HOST      bind address            (default 127.0.0.1)
//   APP_PORT      bind port               (default 18082)
//   MOCK_IDP_URL  mock-idp base URL       (default http://127.0.0.1:8081)
//   JWKS_URL      JWKS to verify against  (default $MOCK_IDP_URL/.well-known/jwks.json)
//   ISSUER        required `iss`          (default $MOCK_IDP_URL)
//   AUDIENCE      required `aud`, if set  (default: not checked)
//   CLIENT_ID     OAuth client id         (default example-app; mock-idp
//                 accepts any client unless its config lists clients)
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';

const host = process.env.APP_HOST || '127.0.0.1';
const port = Number(process.env.APP_PORT ?? 18082);
const idpUrl = (process.env.MOCK_IDP_URL || 'http://127.0.0.1:8081').replace(/\/+$/, '');
const jwksUrl = process.env.JWKS_URL || `${idpUrl}/.well-known/jwks.json`;
const issuer = process.env.ISSUER || idpUrl;
const audience = process.env.AUDIENCE || undefined;
const clientId = process.env.CLIENT_ID || 'example-app';
const callbackUrl = `http://${host}:${port}/callback`;

// Fetched lazily, cached, and re-fetched when a token names an unknown `kid`.
const jwks = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000 });

const pub = new URL('./public/', import.meta.url);
const statics = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
};

function send(res, status, body, headers = {}) {
  const json = typeof body !== 'string';
  const payload = json ? JSON.stringify(body) : body;
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

// Why a token was refused, in words a test (and a person) can read.
function reasonOf(err) {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" rejected: ${err.reason}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no matching key in JWKS';
  if (err instanceof errors.JWKSTimeout) return 'JWKS fetch timed out';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return 'malformed token';
  return err?.message || String(err);
}

async function me(req, res) {
  const auth = req.headers.authorization || '';
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!m) {
    return send(res, 401, { error: 'missing_token', reason: 'no Bearer token' },
      { 'www-authenticate': 'Bearer' });
  }
  try {
    const { payload, protectedHeader } = await jwtVerify(m[1], jwks, {
      issuer,
      audience,
      algorithms: ['RS256'],
    });
    return send(res, 200, { claims: payload, kid: protectedHeader.kid });
  } catch (err) {
    const reason = reasonOf(err);
    return send(res, 401, { error: 'invalid_token', reason },
      { 'www-authenticate': `Bearer error="invalid_token", error_description="${reason.replace(/"/g, "'")}"` });
  }
}

// Sign-ins in progress: state -> { verifier, nonce, created }.
const pending = new Map();
const PENDING_TTL_MS = 5 * 60_000;

function login(res, query) {
  const now = Date.now();
  for (const [key, flow] of pending) if (now - flow.created > PENDING_TTL_MS) pending.delete(key);
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  pending.set(state, { verifier, nonce, created: now });
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: callbackUrl,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const hint = query.get('login_hint');
  if (hint) params.set('login_hint', hint);
  res.writeHead(302, { location: `${idpUrl}/authorize?${params}`, 'cache-control': 'no-store' });
  res.end();
}

async function callback(res, query) {
  const state = query.get('state') || '';
  const flow = pending.get(state);
  pending.delete(state);
  if (query.get('error')) {
    return send(res, 400, `sign-in failed: ${query.get('error')}: ${query.get('error_description') || ''}`);
  }
  if (!flow) return send(res, 400, 'sign-in failed: unknown or expired state');
  // RFC 9207: the authorization response names its issuer.
  if (query.get('iss') !== issuer) return send(res, 400, `sign-in failed: unexpected iss ${query.get('iss')}`);
  const tokenRes = await fetch(`${idpUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: query.get('code') || '',
      redirect_uri: callbackUrl,
      client_id: clientId,
      code_verifier: flow.verifier,
    }),
    signal: AbortSignal.timeout(5000),
  });
  const tokens = await tokenRes.json();
  if (!tokenRes.ok) return send(res, 400, `sign-in failed: ${tokens.error}: ${tokens.error_description}`);
  const { payload: id } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: clientId, algorithms: ['RS256'] });
  if (id.nonce !== flow.nonce) return send(res, 400, 'sign-in failed: ID token nonce mismatch');
  // Hand the access token to the page the same way tests do (?token=).
  res.writeHead(302, { location: `/?token=${encodeURIComponent(tokens.access_token)}`, 'cache-control': 'no-store' });
  res.end();
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed' });
  if (path === '/health') return send(res, 200, { status: 'ok' });
  if (path === '/login') return login(res, url.searchParams);
  if (path === '/callback') {
    callback(res, url.searchParams).catch((err) => send(res, 400, `sign-in failed: ${reasonOf(err)}`));
    return;
  }
  if (path === '/api/me') {
    me(req, res).catch((err) => send(res, 500, { error: 'server_error', reason: String(err) }));
    return;
  }
  const file = statics[path];
  if (file) {
    return send(res, 200, readFileSync(new URL(file[0], pub), 'utf8'), { 'content-type': file[1] });
  }
  return send(res, 404, { error: 'not_found' });
});

server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`example app listening on http://${host}:${actual} (issuer ${issuer}, jwks ${jwksUrl})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // the browser's keep-alive sockets would hold close() open
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
