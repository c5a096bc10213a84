"""Algorithms, token variants and typ at+jwt of a running mock-idp, verified
by two independent Python libraries against the JWKS the server serves:
PyJWT (with cryptography; keys through PyJWKClient) and Authlib's joserfc.

    MOCK_IDP_URL=http://127.0.0.1:PORT TOOLKIT_ROOT_SECRET=... \
    TOOLKIT_PARTNER_SECRET=... python3 verify_py.py

The server must be the one scripts/ci/toolkit.sh starts (tests/e2e/toolkit/
config.yaml: issuers `partner` (ES256, its own HS256 secret) and `ves`
(ES256)), and this script must be the first to use it: it checks that keys
of non-default algorithms are published only after their first use.
"""

import hashlib
import hmac
import json
import os
import sys
import urllib.request
import warnings

import jwt  # PyJWT
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwt as jjwt
from joserfc.jwk import KeySet, OctKey

from tk import (
    ALGS,
    AUDIENCE,
    BASE,
    JWK_SHAPE,
    PRIVATE_MEMBERS,
    Report,
    b64d,
    get,
    http,
    iss_of,
    jwks_path,
    mint,
    peek,
)

# joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA" (for "Ed25519").
warnings.filterwarnings("ignore", message="EdDSA is deprecated")

SECRETS = {"": os.environ["TOOLKIT_ROOT_SECRET"], "partner": os.environ["TOOLKIT_PARTNER_SECRET"]}
REQUIRED = ["exp", "iat", "sub"]
R = Report("verify_py")


def served(issuer):
    return get(jwks_path(issuer))["keys"]


def outcome(fn):
    """"ok" or "<ExceptionClass>: <message>" of one verification."""
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - the class is the result
        return f"{type(e).__name__}: {e}"


# --- the two verifiers, configured as a resource server would be ---------


def pyjwt_verify(token, issuer, alg, require=REQUIRED):
    """PyJWKClient picks the key by kid from the served JWKS; decode pins alg."""
    client = jwt.PyJWKClient(BASE + jwks_path(issuer))
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key,
        algorithms=[alg],
        audience=AUDIENCE,
        issuer=iss_of(issuer),
        options={"require": list(require)},
    )


def joserfc_verify(token, issuer, alg, require=("exp", "sub")):
    """KeySet of the served JWKS (picked by kid), alg pinned, claims registry."""
    keys = KeySet.import_key_set({"keys": served(issuer)})
    tok = jjwt.decode(token, keys, algorithms=[alg])
    essential = {c: {"essential": True} for c in require if c not in ("iss", "aud")}
    jjwt.JWTClaimsRegistry(
        iss={"essential": True, "value": iss_of(issuer)},
        aud={"essential": True, "value": AUDIENCE},
        **essential,
    ).validate(tok.claims)
    return tok.claims


VERIFIERS = {"pyjwt": pyjwt_verify, "joserfc": joserfc_verify}


# --- (1) algorithms -------------------------------------------------------


def check_jwk(label, jwk, alg):
    kty, crv, size = JWK_SHAPE[alg]
    problems = []
    if (jwk.get("kty"), jwk.get("alg"), jwk.get("use")) != (kty, alg, "sig"):
        problems.append(f"kty/alg/use {jwk.get('kty')}/{jwk.get('alg')}/{jwk.get('use')}")
    if jwk.get("crv") != crv:
        problems.append(f"crv {jwk.get('crv')}")
    member = "n" if kty == "RSA" else "x"
    if len(b64d(jwk.get(member, ""))) != size:
        problems.append(f"{member} is {len(b64d(jwk.get(member, '')))} bytes, not {size}")
    if kty == "EC" and len(b64d(jwk.get("y", ""))) != size:
        problems.append("y size")
    private = [m for m in PRIVATE_MEMBERS if m in jwk]
    if private:
        problems.append(f"private members {private}")
    # The kid is the RFC 7638 thumbprint, computed by joserfc.
    thumb = KeySet.import_key_set({"keys": [jwk]}).keys[0].thumbprint()
    if jwk.get("kid") != thumb:
        problems.append(f"kid {jwk.get('kid')} is not the thumbprint {thumb}")
    R.check(f"{label}: JWK {kty}{'/' + crv if crv else ''} alg={alg} use=sig, RFC 7638 kid", not problems, "; ".join(problems))


def algorithms(issuer, default_alg):
    name = issuer or "root"
    initial = served(issuer)
    R.check(
        f"{name}: before any other algorithm is used the JWKS holds only the {default_alg} key",
        [k.get("alg") for k in initial] == [default_alg],
        str([k.get("alg") for k in initial]),
    )
    published = {k["alg"]: k["kid"] for k in initial}
    for alg in ALGS:
        before = served(issuer)
        if alg not in published:
            R.check(f"{name} {alg}: no {alg} key published before its first use",
                    all(k.get("alg") != alg for k in before), str([k.get("alg") for k in before]))
        token = mint(issuer, {"sub": "alg-check", "alg": alg})
        header, _ = peek(token)
        after = served(issuer)
        jwk = next((k for k in after if k.get("kid") == header.get("kid")), None)
        if not R.check(f"{name} {alg}: header alg={header.get('alg')}, its kid is in the served JWKS",
                       header.get("alg") == alg and jwk is not None, str(header)):
            continue
        check_jwk(f"{name} {alg}", jwk, alg)
        published[alg] = jwk["kid"]
        for lib, verify in VERIFIERS.items():
            R.run(f"{name} {alg}: {lib} verifies against the served JWKS",
                  lambda: (lambda c: (c["sub"] == "alg-check", f"sub={c['sub']}"))(verify(token, issuer, alg)))
    final = served(issuer)
    R.check(f"{name}: one key per algorithm, 9 distinct kids",
            sorted(k["alg"] for k in final) == sorted(ALGS) and len({k["kid"] for k in final}) == 9,
            str(sorted(k["alg"] for k in final)))
    rsa = [k["n"] for k in final if k["kty"] == "RSA"]
    R.check(f"{name}: each RSA/PSS algorithm has its own key", len(set(rsa)) == 6, f"{len(set(rsa))} distinct moduli")

    # HS256: the issuer's secret verifies it; nothing of it is ever published.
    secret = SECRETS[issuer]
    token = mint(issuer, {"sub": "hs-check", "alg": "HS256"})
    header, _ = peek(token)
    R.check(f"{name} HS256: header alg", header.get("alg") == "HS256", str(header))
    R.run(f"{name} HS256: pyjwt verifies with the secret", lambda: (jwt.decode(
        token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=iss_of(issuer),
        options={"require": REQUIRED})["sub"] == "hs-check", ""))
    R.run(f"{name} HS256: joserfc verifies with the secret", lambda: (jjwt.decode(
        token, OctKey.import_key(secret), algorithms=["HS256"]).claims["sub"] == "hs-check", ""))
    R.run(f"{name} HS256: a wrong secret is refused (pyjwt)", lambda: (
        outcome(lambda: jwt.decode(token, secret + "x", algorithms=["HS256"], audience=AUDIENCE))
        .startswith("InvalidSignatureError"), ""))
    raw = http("GET", jwks_path(issuer))[1]
    text = json.dumps(raw)
    R.check(f"{name} HS256: never in the JWKS (no oct key, no secret, not its kid)",
            all(k.get("kty") != "oct" for k in raw["keys"]) and secret not in text
            and (header.get("kid") is None or header["kid"] not in text)
            and len(raw["keys"]) == 9,
            f"kid={header.get('kid')}, {len(raw['keys'])} keys")
    doc = get(f"{'/' + issuer if issuer else ''}/.well-known/openid-configuration")
    supported = doc.get("id_token_signing_alg_values_supported", [])
    R.check(f"{name}: discovery lists {default_alg} first and every algorithm",
            supported[:1] == [default_alg] and set(ALGS) <= set(supported), str(supported))


# --- (2) variants ---------------------------------------------------------

# What each library says, per variant: (exception class, text in its message),
# or "ok" where the library accepts the token by design (documented per row).
EXPECT = {
    "expired": {"pyjwt": ("ExpiredSignatureError", ""), "joserfc": ("ExpiredTokenError", "")},
    "not_yet_valid": {"pyjwt": ("ImmatureSignatureError", "nbf"), "joserfc": ("InvalidClaimError", "not yet valid")},
    "wrong_issuer": {"pyjwt": ("InvalidIssuerError", ""), "joserfc": ("InvalidClaimError", "'iss'")},
    "wrong_audience": {"pyjwt": ("InvalidAudienceError", ""), "joserfc": ("InvalidClaimError", "'aud'")},
    "bad_signature": {"pyjwt": ("InvalidSignatureError", ""), "joserfc": ("BadSignatureError", "")},
    "unknown_kid": {"pyjwt": ("PyJWKClientError", "Unable to find a signing key"),
                    "joserfc": ("InvalidKeyIdError", "No key for kid")},
    # PyJWKClient looks the key up by kid, always; joserfc's KeySet takes the
    # only key when there is one (one-key JWKS), refuses when there are more.
    "no_kid": {"pyjwt": ("PyJWKClientError", 'matches: "None"'), "joserfc": "one-key-ok"},
    "alg_none": {"pyjwt": ("InvalidAlgorithmError", "not allowed"), "joserfc": ("UnsupportedAlgorithmError", "'none'")},
    "hs256_key_confusion": {"pyjwt": ("InvalidAlgorithmError", "not allowed"),
                            "joserfc": ("UnsupportedAlgorithmError", "'HS256'")},
    "missing_exp": {"pyjwt": ("MissingRequiredClaimError", '"exp"'), "joserfc": ("MissingClaimError", "'exp'")},
    "missing_sub": {"pyjwt": ("MissingRequiredClaimError", '"sub"'), "joserfc": ("MissingClaimError", "'sub'")},
    # Neither library has a typ check: they accept it (check the header yourself).
    "wrong_typ": {"pyjwt": "ok", "joserfc": "ok"},
}

# What differs from the control token, (claims, header) (times within 2 s equal).
DIFF = {
    "expired": (["exp"], []), "not_yet_valid": (["nbf"], []), "wrong_issuer": (["iss"], []),
    "wrong_audience": (["aud"], []), "bad_signature": ([], []), "unknown_kid": ([], ["kid"]),
    "no_kid": ([], ["kid"]), "alg_none": ([], ["alg"]), "hs256_key_confusion": ([], ["alg"]),
    "missing_exp": (["exp"], []), "missing_sub": (["sub"], []), "wrong_typ": ([], ["typ"]),
}


def differing(a, b, volatile=("jti", "sid")):
    out = []
    for k in sorted(set(a) | set(b)):
        if k in volatile:
            continue
        x, y = a.get(k), b.get(k)
        if k in ("iat", "nbf", "exp") and isinstance(x, int) and isinstance(y, int):
            if abs(x - y) > 2:
                out.append(k)
        elif x != y:
            out.append(k)
    return out


def spki_pem(jwk):
    """The SPKI PEM of a served JWK, built by cryptography (not mock-idp)."""
    key = jwt.PyJWK(jwk).key
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def variants(issuer, alg, one_key):
    name = issuer or "root"
    catalogue = get("/token/variants")["variants"]
    names = [v["name"] for v in catalogue]
    R.check("GET /token/variants lists the 12 variants, each with what it tests",
            sorted(names) == sorted(EXPECT) and all(len(v.get("tests", "")) > 20 for v in catalogue), str(names))
    request = {"sub": "user_variant", "org_id": "org_1", "scope": "read"}
    control = mint(issuer, request)
    c_header, c_claims = peek(control)
    for lib, verify in VERIFIERS.items():
        R.run(f"{name} control: {lib} accepts the token of the same request without variant",
              lambda: (verify(control, issuer, alg)["sub"] == "user_variant", ""))
    jwks = served(issuer)
    for variant in names:
        token = mint(issuer, {**request, "variant": variant})
        header, claims = peek(token)
        want = DIFF[variant]
        got = (differing(c_claims, claims), differing(c_header, header))
        R.check(f"{name} {variant}: differs from the control in exactly {want}", got == (list(want[0]), list(want[1])), str(got))
        for lib, verify in VERIFIERS.items():
            expected = EXPECT[variant][lib]
            if expected == "one-key-ok":
                expected = "ok" if one_key else ("InvalidKeyIdError", "No key for kid: 'None'")
            result = outcome(lambda: verify(token, issuer, alg))
            if expected == "ok":
                ok = result == "ok"
                want_text = "accepted"
            else:
                ok = result.startswith(expected[0] + ":") and expected[1] in result
                want_text = f"{expected[0]} ({expected[1]})" if expected[1] else expected[0]
            R.check(f"{name} {variant}: {lib} -> {want_text}", ok, result)
        if variant == "wrong_issuer":
            R.check(f"{name} wrong_issuer: iss {claims.get('iss')!r} differs from the expected {iss_of(issuer)!r} the control has",
                    claims.get("iss") != iss_of(issuer) and c_claims.get("iss") == iss_of(issuer), "")
        if variant in ("missing_exp", "missing_sub"):
            # Refused only when required: both libraries accept it otherwise.
            claim = variant.split("_")[1]
            loose = [c for c in REQUIRED if c != claim]
            R.run(f"{name} {variant}: pyjwt accepts it when {claim} is not required (exp/sub are optional by default)",
                  lambda: (bool(pyjwt_verify(token, issuer, alg, require=loose)), ""))
            R.run(f"{name} {variant}: joserfc accepts it when {claim} is not essential",
                  lambda: (bool(joserfc_verify(token, issuer, alg, require=[c for c in ("exp", "sub") if c != claim])), ""))
        if variant == "wrong_typ":
            R.check(f"{name} wrong_typ: typ {header.get('typ')!r} is neither JWT nor at+jwt (an app-level header check refuses it)",
                    header.get("typ") not in ("JWT", "at+jwt", None), str(header))
        if variant == "alg_none":
            R.check(f"{name} alg_none: alg none, empty signature", header.get("alg") == "none" and token.endswith("."), str(header))
        if variant == "hs256_key_confusion":
            jwk = next(k for k in jwks if k["kid"] == header.get("kid"))
            pem = spki_pem(jwk)
            signing_input, sig = token.rsplit(".", 1)
            naive = hmac.compare_digest(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest(), b64d(sig))
            R.check(f"{name} hs256_key_confusion: a naive HMAC-SHA256 check with the served key's SPKI PEM as secret ACCEPTS it (a real confusion token)",
                    naive, "the HMAC matches" if naive else "the HMAC does not match")
            R.check(f"{name} hs256_key_confusion: pyjwt refuses the PEM as an HMAC secret even when asked for HS256",
                    outcome(lambda: jwt.decode(token, pem, algorithms=["HS256"], audience=AUDIENCE)).startswith("InvalidKeyError"),
                    outcome(lambda: jwt.decode(token, pem, algorithms=["HS256"], audience=AUDIENCE)))
            # Unpinned: PyJWT given the PyJWK takes the JWK's alg; joserfc's
            # default algorithms with the key set.
            R.check(f"{name} hs256_key_confusion: pyjwt with the PyJWK and no algorithms list refuses (the JWK's alg wins)",
                    outcome(lambda: jwt.decode(token, jwt.PyJWK(jwk), audience=AUDIENCE)).startswith("InvalidAlgorithmError"),
                    outcome(lambda: jwt.decode(token, jwt.PyJWK(jwk), audience=AUDIENCE)))
            unpinned = outcome(lambda: jjwt.decode(token, KeySet.import_key_set({"keys": jwks})))
            R.check(f"{name} hs256_key_confusion: joserfc with default algorithms refuses", unpinned != "ok", unpinned)


def jwks_caching_headers():
    """The JWKS's HTTP max-age, which bounds a safe rotation grace for
    clients that cache by headers (docs/testing-toolkit.md says 60 s)."""
    for issuer in ("", "partner"):
        with urllib.request.urlopen(BASE + jwks_path(issuer), timeout=10) as res:
            cache_control = res.headers.get("cache-control")
        R.check(f"{issuer or 'root'}: the JWKS says Cache-Control: public, max-age=60",
                cache_control == "public, max-age=60", str(cache_control))
    variants_named = get("/partner/token/variants")
    R.check("GET /partner/token/variants lists the same variants as the root's",
            variants_named == get("/token/variants"), str(variants_named)[:80])


def variant_misuse():
    """Variants that cannot apply are refused with a 400 naming the field."""
    status, body = http("POST", "/token", {"variant": "expird"})
    R.check("an unknown variant -> 400 invalid_request naming variant and the value",
            status == 400 and body.get("error") == "invalid_request" and "variant" in body.get("error_description", "")
            and "expird" in body.get("error_description", ""), f"{status} {body}")
    status, body = http("POST", "/ves/token", {"alg": "HS256"})
    R.check("HS256 on an issuer without a secret -> 400 invalid_request naming HS256_SECRET",
            status == 400 and "HS256_SECRET" in body.get("error_description", ""), f"{status} {body}")
    for bad in ("none", "rs256", "HS512"):
        status, body = http("POST", "/token", {"alg": bad})
        R.check(f"alg {bad!r} -> 400 invalid_request listing the supported algorithms",
                status == 400 and body.get("error_description", "").startswith("alg: ") and "EdDSA" in body.get("error_description", ""),
                f"{status} {body}")
    status, body = http("POST", "/token", {"alg": "HS256", "variant": "hs256_key_confusion"})
    R.check("hs256_key_confusion with alg HS256 (no published key to confuse) -> 400 invalid_request naming the variant",
            status == 400 and body.get("error") == "invalid_request"
            and body.get("error_description", "").startswith("variant: hs256_key_confusion"), f"{status} {body}")


# --- (4) typ at+jwt -------------------------------------------------------


def at_jwt(issuer, alg):
    name = issuer or "root"
    token = mint(issuer, {"sub": "user_at", "typ": "at+jwt", "client_id": "svc-1", "scope": "read"})
    header, claims = peek(token)
    R.check(f"{name} at+jwt: header typ at+jwt", header.get("typ") == "at+jwt", str(header))
    rfc9068 = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
    R.run(f"{name} at+jwt: pyjwt verifies with every RFC 9068 claim required",
          lambda: (pyjwt_verify(token, issuer, alg, require=rfc9068)["client_id"] == "svc-1", ""))
    R.run(f"{name} at+jwt: joserfc verifies with every RFC 9068 claim essential",
          lambda: (joserfc_verify(token, issuer, alg, require=rfc9068)["client_id"] == "svc-1", ""))
    R.check(f"{name} at+jwt: claims", claims.get("client_id") == "svc-1" and claims.get("aud") == AUDIENCE
            and claims.get("sub") == "user_at" and claims.get("scope") == "read", str({k: claims.get(k) for k in rfc9068}))


def main():
    # (1) Root first (RS256 by default), then the named issuer configured for ES256.
    algorithms("", "RS256")
    algorithms("partner", "ES256")
    # (2) One-key issuers (a dynamic RS256 one, a configured ES256 one), then
    # the root, whose JWKS now has one key per algorithm.
    variants("vrs", "RS256", one_key=True)
    variants("ves", "ES256", one_key=True)
    variants("", "RS256", one_key=False)
    variant_misuse()
    jwks_caching_headers()
    # (4)
    at_jwt("", "RS256")
    at_jwt("partner", "ES256")
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
