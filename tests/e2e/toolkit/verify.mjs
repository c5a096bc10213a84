// Algorithms, token variants and typ at+jwt of a running mock-idp, verified
// by two independent Node libraries against the JWKS the server serves:
// panva's jose (createLocalJWKSet + jwtVerify) and auth0's jsonwebtoken with
// jwks-rsa (the key by kid from the JWKS URL).
//
//   MOCK_IDP_URL=http://127.0.0.1:PORT TOOLKIT_ROOT_SECRET=... \
//   TOOLKIT_PARTNER_SECRET=... node verify.mjs
//
// Same server as verify_py.py (scripts/ci/toolkit.sh starts it); runs after it.

import { createHmac, createPublicKey, timingSafeEqual } from 'node:crypto';
import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { ALGS, AUDIENCE, Report, get, issOf, jwksPath, jwksUrl, mint, peek } from './lib.mjs';

const SECRETS = { '': process.env.TOOLKIT_ROOT_SECRET, partner: process.env.TOOLKIT_PARTNER_SECRET };
const R = new Report('verify_node');
const nameOf = (issuer) => issuer || 'root';

// --- the two verifiers, configured as a resource server would be ----------

/** jose: the served JWKS as a local key set, alg pinned, typ checked. */
async function joseVerify(token, issuer, alg, options = {}) {
  const jwks = jose.createLocalJWKSet(await get(jwksPath(issuer)));
  const { payload } = await jose.jwtVerify(token, jwks, {
    issuer: issOf(issuer),
    audience: AUDIENCE,
    algorithms: [alg],
    requiredClaims: ['exp', 'sub'],
    typ: 'JWT',
    ...options,
  });
  return payload;
}

/** jsonwebtoken, the key from jwks-rsa by the header's kid, alg pinned. */
function jwtVerify(token, issuer, alg, options = {}) {
  const client = jwksRsa({ jwksUri: jwksUrl(issuer) });
  const getKey = (header, cb) =>
    client.getSigningKey(header.kid).then((k) => cb(null, k.getPublicKey()), cb);
  return new Promise((resolve, reject) =>
    jsonwebtoken.verify(
      token,
      getKey,
      { algorithms: [alg], issuer: issOf(issuer), audience: AUDIENCE, ...options },
      (err, claims) => (err ? reject(err) : resolve(claims)),
    ),
  );
}

const VERIFIERS = { jose: joseVerify, jsonwebtoken: jwtVerify };

/** "ok" or a short description of the error (jose: code and claim). */
async function outcome(fn) {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e?.code?.startsWith('ERR_J')) {
      return `${e.code}${e.claim ? ` claim=${e.claim}` : ''}${e.reason ? ` reason=${e.reason}` : ''}: ${e.message}`;
    }
    return `${e?.name}: ${e?.message}`;
  }
}

// --- (1) algorithms ------------------------------------------------------

const SHAPE = {
  RS: ['RSA', undefined], PS: ['RSA', undefined], ES256: ['EC', 'P-256'], ES384: ['EC', 'P-384'], EdDSA: ['OKP', 'Ed25519'],
};
const shapeOf = (alg) => SHAPE[alg] ?? SHAPE[alg.slice(0, 2)];

async function algorithms(issuer) {
  const name = nameOf(issuer);
  for (const alg of ALGS) {
    const token = await mint(issuer, { sub: 'alg-check', alg });
    const [header] = peek(token);
    const jwk = (await get(jwksPath(issuer))).keys.find((k) => k.kid === header.kid);
    const [kty, crv] = shapeOf(alg);
    R.check(
      `${name} ${alg}: kid found in the served JWKS, kty=${kty}${crv ? ` crv=${crv}` : ''} alg=${alg} use=sig`,
      jwk && jwk.kty === kty && jwk.crv === crv && jwk.alg === alg && jwk.use === 'sig' && !('d' in jwk),
      JSON.stringify(jwk && { kty: jwk.kty, crv: jwk.crv, alg: jwk.alg, use: jwk.use }),
    );
    await R.run(`${name} ${alg}: jose verifies against the served JWKS`, async () => {
      const claims = await joseVerify(token, issuer, alg);
      return [claims.sub === 'alg-check', `sub=${claims.sub}`];
    });
    if (alg === 'EdDSA') {
      // jsonwebtoken 9 knows no EdDSA: documented, so asserted.
      const res = await outcome(() => jwtVerify(token, issuer, alg));
      R.check(`${name} EdDSA: jsonwebtoken 9 does not support EdDSA (Unknown key type "ed25519")`,
        res.includes('Unknown key type "ed25519"'), res);
    } else {
      await R.run(`${name} ${alg}: jsonwebtoken + jwks-rsa verifies against the served JWKS`, async () => {
        const claims = await jwtVerify(token, issuer, alg);
        return [claims.sub === 'alg-check', `sub=${claims.sub}`];
      });
    }
  }
  const secret = SECRETS[issuer];
  const token = await mint(issuer, { sub: 'hs-check', alg: 'HS256' });
  await R.run(`${name} HS256: jose verifies with the secret`, async () => {
    const { payload } = await jose.jwtVerify(token, new TextEncoder().encode(secret), {
      issuer: issOf(issuer), audience: AUDIENCE, algorithms: ['HS256'],
    });
    return [payload.sub === 'hs-check', ''];
  });
  await R.run(`${name} HS256: jsonwebtoken verifies with the secret`, async () => {
    const claims = jsonwebtoken.verify(token, secret, { algorithms: ['HS256'], issuer: issOf(issuer), audience: AUDIENCE });
    return [claims.sub === 'hs-check', ''];
  });
  const [header] = peek(token);
  const res = await outcome(() => jwksRsa({ jwksUri: jwksUrl(issuer) }).getSigningKey(header.kid));
  R.check(`${name} HS256: jwks-rsa finds no key for its kid in the JWKS`, res.startsWith('SigningKeyNotFoundError'), res);
}

// --- (2) variants --------------------------------------------------------

const claimErr = (claim, reason = 'check_failed') => ['ERR_JWT_CLAIM_VALIDATION_FAILED', `claim=${claim} reason=${reason}`];
const JOSE = {
  expired: ['ERR_JWT_EXPIRED', 'claim=exp'],
  not_yet_valid: claimErr('nbf'),
  wrong_issuer: claimErr('iss'),
  wrong_audience: claimErr('aud'),
  bad_signature: ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', ''],
  unknown_kid: ['ERR_JWKS_NO_MATCHING_KEY', ''],
  // jose picks the key by kid when there is one, else the only key of the
  // header's alg and kty: a kid-less token verifies whenever one key fits.
  no_kid: 'ok',
  alg_none: ['ERR_JOSE_ALG_NOT_ALLOWED', ''],
  hs256_key_confusion: ['ERR_JOSE_ALG_NOT_ALLOWED', ''],
  missing_exp: claimErr('exp', 'missing'),
  missing_sub: claimErr('sub', 'missing'),
  wrong_typ: claimErr('typ'),
};
const JWT = {
  expired: ['TokenExpiredError', 'jwt expired'],
  not_yet_valid: ['NotBeforeError', 'jwt not active'],
  wrong_issuer: ['JsonWebTokenError', 'jwt issuer invalid. expected: '],
  wrong_audience: ['JsonWebTokenError', 'jwt audience invalid. expected: api'],
  bad_signature: ['JsonWebTokenError', 'invalid signature'],
  unknown_kid: ['JsonWebTokenError', 'Unable to find a signing key that matches'],
  // jwks-rsa: no kid -> the only key of a one-key JWKS, else refused.
  no_kid: 'one-key-ok',
  alg_none: ['JsonWebTokenError', 'jwt signature is required'],
  hs256_key_confusion: ['JsonWebTokenError', 'invalid algorithm'],
  // jsonwebtoken cannot require exp or sub (only check a given sub): accepted.
  missing_exp: 'ok',
  missing_sub: 'ok',
  // No typ option: accepted.
  wrong_typ: 'ok',
};
const EXPECT = { jose: JOSE, jsonwebtoken: JWT };

async function variants(issuer, alg, oneKey) {
  const name = nameOf(issuer);
  const names = (await get('/token/variants')).variants.map((v) => v.name);
  R.check('GET /token/variants lists the variants this suite knows', names.length === 12 && names.every((n) => n in JOSE), names.join(','));
  const request = { sub: 'user_variant', org_id: 'org_1', scope: 'read' };
  const control = await mint(issuer, request);
  for (const [lib, verify] of Object.entries(VERIFIERS)) {
    await R.run(`${name} control: ${lib} accepts the token of the same request without variant`, async () => {
      const claims = await verify(control, issuer, alg);
      return [claims.sub === 'user_variant', ''];
    });
  }
  const jwks = await get(jwksPath(issuer));
  for (const variant of names) {
    const token = await mint(issuer, { ...request, variant });
    const [header, claims] = peek(token);
    for (const [lib, verify] of Object.entries(VERIFIERS)) {
      let expected = EXPECT[lib][variant];
      if (expected === 'one-key-ok') {
        expected = oneKey ? 'ok' : ['JsonWebTokenError', 'No KID specified and JWKS endpoint returned more than 1 key'];
      }
      const res = await outcome(() => verify(token, issuer, alg));
      const ok = expected === 'ok' ? res === 'ok' : res.startsWith(expected[0]) && res.includes(expected[1]);
      const want = expected === 'ok' ? 'accepted' : `${expected[0]}${expected[1] ? ` (${expected[1]})` : ''}`;
      R.check(`${name} ${variant}: ${lib} -> ${want}`, ok, res);
    }
    if (variant === 'wrong_issuer') {
      R.check(`${name} wrong_issuer: jsonwebtoken names the expected iss`,
        (await outcome(() => jwtVerify(token, issuer, alg))).endsWith(`expected: ${issOf(issuer)}`), claims.iss);
    }
    if (variant === 'missing_exp' || variant === 'missing_sub') {
      const claim = variant.split('_')[1];
      await R.run(`${name} ${variant}: jose accepts it when ${claim} is not in requiredClaims (optional by default)`, async () => {
        await joseVerify(token, issuer, alg, { requiredClaims: [] });
        return [true, ''];
      });
    }
    if (variant === 'wrong_typ') {
      await R.run(`${name} wrong_typ: jose without the typ option accepts it (typ ${header.typ})`, async () => {
        await joseVerify(token, issuer, alg, { typ: undefined });
        return [true, ''];
      });
    }
    if (variant === 'hs256_key_confusion') {
      const jwk = jwks.keys.find((k) => k.kid === header.kid);
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const [h, p, sig] = token.split('.');
      const mac = createHmac('sha256', pem).update(`${h}.${p}`).digest();
      const given = Buffer.from(sig, 'base64url');
      R.check(`${name} hs256_key_confusion: a naive HMAC-SHA256 (node:crypto) with the served key's SPKI PEM as secret ACCEPTS it`,
        mac.length === given.length && timingSafeEqual(mac, given), 'HMAC compared');
      const naiveJose = await outcome(() => jose.jwtVerify(token, new TextEncoder().encode(pem), { algorithms: ['HS256'] }));
      R.check(`${name} hs256_key_confusion: jose given the PEM bytes as an HS256 secret ACCEPTS it (jose trusts the caller's key)`,
        naiveJose === 'ok', naiveJose);
      const naiveJwt = await outcome(() => jsonwebtoken.verify(token, pem, { algorithms: ['HS256'] }));
      R.check(`${name} hs256_key_confusion: jsonwebtoken refuses a PEM public key as an HS256 secret`,
        naiveJwt.includes('must be a symmetric key'), naiveJwt);
      const unpinnedJose = await outcome(() => joseVerify(token, issuer, alg, { algorithms: undefined }));
      R.check(`${name} hs256_key_confusion: jose without the algorithms option refuses (a JWKS never verifies HS256)`,
        unpinnedJose.startsWith('ERR_JOSE_NOT_SUPPORTED'), unpinnedJose);
      const unpinnedJwt = await outcome(() => jwtVerify(token, issuer, alg, { algorithms: undefined }));
      R.check(`${name} hs256_key_confusion: jsonwebtoken without the algorithms option refuses (allowed algorithms follow the key type)`,
        unpinnedJwt.includes('invalid algorithm'), unpinnedJwt);
    }
  }
}

/** Every variant with every algorithm (root), checked by jose. */
async function variantsByAlg() {
  const names = (await get('/token/variants')).variants.map((v) => v.name);
  for (const alg of ALGS) {
    const bad = [];
    const control = await outcome(async () => joseVerify(await mint('', { sub: 'm', alg }), '', alg));
    for (const variant of names) {
      const res = await outcome(async () => joseVerify(await mint('', { sub: 'm', alg, variant }), '', alg));
      const expected = JOSE[variant];
      const ok = expected === 'ok' ? res === 'ok' : res.startsWith(expected[0]) && res.includes(expected[1]);
      if (!ok) bad.push(`${variant}: ${res}`);
    }
    R.check(`root ${alg}: jose refuses each of the ${names.length} variants for its reason, accepts the control`,
      control === 'ok' && bad.length === 0, [`control: ${control}`, ...bad].join('; '));
  }
}

// --- (4) typ at+jwt ------------------------------------------------------

const RFC9068 = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

async function atJwt(issuer, alg) {
  const name = nameOf(issuer);
  const token = await mint(issuer, { sub: 'user_at', typ: 'at+jwt', client_id: 'svc-1', scope: 'read' });
  await R.run(`${name} at+jwt: jose with typ 'at+jwt' and every RFC 9068 claim required verifies it`, async () => {
    const claims = await joseVerify(token, issuer, alg, { typ: 'at+jwt', requiredClaims: RFC9068 });
    return [claims.client_id === 'svc-1' && claims.aud === AUDIENCE && claims.scope === 'read', JSON.stringify(claims.client_id)];
  });
  const asJwt = await outcome(() => joseVerify(token, issuer, alg, { typ: 'JWT' }));
  R.check(`${name} at+jwt: jose expecting typ JWT refuses it`, asJwt.includes('claim=typ'), asJwt);
  const control = await mint(issuer, { sub: 'user_at', client_id: 'svc-1' });
  const plain = await outcome(() => joseVerify(control, issuer, alg, { typ: 'at+jwt' }));
  R.check(`${name} at+jwt: jose with typ 'at+jwt' refuses the same request's plain JWT`, plain.includes('claim=typ'), plain);
  await R.run(`${name} at+jwt: jsonwebtoken verifies it (it never looks at typ)`, async () => {
    const claims = await jwtVerify(token, issuer, alg);
    return [claims.client_id === 'svc-1', ''];
  });
}

await algorithms('');
await algorithms('partner');
await variants('vrs', 'RS256', true);
await variants('ves', 'ES256', true);
await variants('', 'RS256', false);
await variantsByAlg();
await atJwt('', 'RS256');
await atJwt('partner', 'ES256');
process.exitCode = R.finish();
