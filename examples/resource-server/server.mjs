// A tiny API that trusts mock-idp, the way a real service trusts a real IdP:
// it fetches the issuer's JWKS, verifies the Bearer token's RS256 signature,
// `iss`, `exp`/`nbf` (and `aud` when EXPECTED_AUDIENCE is set), and answers
//
//   GET /me      200 {"sub": ..., "claims": {...}}  or  401 {"error", "error_description"}
//   GET /health  200 {"status": "ok"}
//
// Configuration (environment):
//   JWKS_URL           where to fetch the keys. In docker-compose.yaml this is the
//                      *service* name (http://token-issuer:8081/...), not the
//                      issuer URL the browser sees: see docs/docker.md.
//   EXPECTED_ISSUER    must equal mock-idp's ISSUER, byte for byte.
//   EXPECTED_AUDIENCE  optional; when set, `aud` must contain it.
//   HOST, PORT         where to listen (default 0.0.0.0:3000).
//   NODE_ENV, APP_ENV  production/prod turns on the startup guard (prod-guard.mjs):
//                      if JWKS_URL answers as mock-idp, exit 78 with one line on
//                      stderr; every later JWKS fetch is checked too. See
//                      docs/production-safety.md. Otherwise no request at startup.
import http from 'node:http';
import { createRemoteJWKSet, customFetch, jwtVerify, errors } from 'jose';
import { guardedFetch, refuseMockIssuerInProduction } from './prod-guard.mjs';

const JWKS_URL = process.env.JWKS_URL || 'http://token-issuer:8081/.well-known/jwks.json';
const EXPECTED_ISSUER = process.env.EXPECTED_ISSUER || 'http://localhost:8081';
const EXPECTED_AUDIENCE = process.env.EXPECTED_AUDIENCE || undefined;
const HOST = process.env.HOST || '0.0.0.0';
const PORT = Number(process.env.PORT || 3000);

// Production only: one GET of JWKS_URL; exits 78 if it is mock-idp.
await refuseMockIssuerInProduction('JWKS_URL', JWKS_URL);

// jose caches the key set and refetches it when a token names an unknown
// `kid` (at most once per cooldown), so a restarted mock-idp with a new key
// is picked up without restarting this server.
const jwks = createRemoteJWKSet(new URL(JWKS_URL), {
  timeoutDuration: 2000,
  cooldownDuration: 5000,
  [customFetch]: guardedFetch('JWKS_URL', JWKS_URL),
});

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// RFC 6750 §3: a 401 names the problem in WWW-Authenticate too.
function unauthorized(res, description) {
  const header = `Bearer error="invalid_token", error_description="${description.replace(/["\\]/g, "'")}"`;
  send(res, 401, { error: 'invalid_token', error_description: description }, { 'www-authenticate': header });
}

function reason(err) {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" invalid: ${err.reason} (${err.message})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token kid';
  if (err instanceof errors.JWKSTimeout) return `JWKS fetch timed out (${JWKS_URL})`;
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  if (err && err.cause && err.cause.code) return `JWKS fetch failed: ${err.cause.code} (${JWKS_URL})`;
  return `verification failed: ${err && err.message ? err.message : String(err)}`;
}

async function me(req, res) {
  const auth = req.headers.authorization || '';
  const match = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!match) return unauthorized(res, 'missing "Authorization: Bearer <token>" header');
  try {
    const { payload, protectedHeader } = await jwtVerify(match[1], jwks, {
      issuer: EXPECTED_ISSUER,
      audience: EXPECTED_AUDIENCE,
      algorithms: ['RS256'],
    });
    return send(res, 200, { sub: payload.sub, kid: protectedHeader.kid, claims: payload });
  } catch (err) {
    return unauthorized(res, reason(err));
  }
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://placeholder');
  if (req.method === 'GET' && pathname === '/me') {
    me(req, res).catch((err) => send(res, 500, { error: 'server_error', error_description: String(err) }));
  } else if (req.method === 'GET' && pathname === '/health') {
    send(res, 200, { status: 'ok' });
  } else {
    send(res, 404, { error: 'not_found', error_description: `no route for ${req.method} ${pathname}` });
  }
});

server.listen(PORT, HOST, () => {
  const { address, port } = server.address();
  console.log(`resource-server listening on http://${address}:${port} (JWKS ${JWKS_URL}, issuer ${EXPECTED_ISSUER})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
