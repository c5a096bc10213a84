"""End-to-end check from another ecosystem: mint tokens on a running mock-idp
and verify each with PyJWT's PyJWKClient against the served JWKS.

Usage: python3 tests/e2e/verify_pyjwt.py http://127.0.0.1:PORT
(the server must run with the personas file tests/e2e/users.yaml and
ISSUER=http://issuer.e2e, AUDIENCE unset).
"""

import json
import sys
import time
import urllib.error
import urllib.request

import jwt
from jwt import PyJWKClient

BASE = sys.argv[1].rstrip("/")
ISSUER = "http://issuer.e2e"
passed = failed = 0


def post(path, body=None, form=None):
    data, headers = None, {}
    if body is not None:
        data, headers = json.dumps(body).encode(), {"content-type": "application/json"}
    if form is not None:
        data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {e!r}")


jwks_client = PyJWKClient(BASE + "/.well-known/jwks.json", cache_keys=False)
certs_client = PyJWKClient(BASE + "/certs", cache_keys=False)


def verify(token, audience=None, client=jwks_client):
    key = client.get_signing_key_from_jwt(token)
    options = {"require": ["exp", "iat", "sub"], "verify_aud": audience is not None}
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=ISSUER, options=options)


def mint(body):
    status, res = post("/token", body=body)
    assert status == 200, (status, res)
    assert res["token_type"] == "Bearer", res
    return res["access_token"]


def persona_alice():
    claims = verify(mint({"user": "alice"}))
    assert claims["sub"] == "user_alice", claims
    assert claims["o"] == {"id": "org_1", "rol": "admin", "slg": "acme"}, claims
    assert claims["email"] == "alice@example.com", claims
    assert claims["v"] == 2 and claims["fva"] == [0, -1], claims
    assert claims["sid"].startswith("sess_"), claims
    header = jwt.get_unverified_header(mint({"user": "alice"}))
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"], header


def custom_claims_and_audience():
    token = mint({"sub": "user_x", "aud": ["api", "web"], "preset": "plain", "claims": {"roles": ["qa"]}})
    claims = verify(token, audience="api", client=certs_client)
    assert claims["roles"] == ["qa"] and "v" not in claims, claims


def wrong_audience_rejected():
    token = mint({"aud": "other"})
    try:
        verify(token, audience="api")
    except jwt.InvalidAudienceError:
        return
    raise AssertionError("token for another audience verified")


def expired_rejected():
    token = mint({"user": "bob", "expires_in": -60})
    try:
        verify(token)
    except jwt.ExpiredSignatureError:
        return
    raise AssertionError("expired token verified")


def tampered_rejected():
    token = mint({"sub": "user_t"})
    head, payload, sig = token.split(".")
    forged = jwt.utils.base64url_encode(json.dumps({"sub": "admin", "iss": ISSUER, "exp": int(time.time()) + 60, "iat": int(time.time())}).encode()).decode()
    try:
        verify(f"{head}.{forged}.{sig}")
    except jwt.InvalidSignatureError:
        return
    raise AssertionError("tampered token verified")


def client_credentials_grant():
    status, res = post("/token", form={"grant_type": "client_credentials", "client_id": "svc", "client_secret": "x", "scope": "read"})
    assert status == 200, res
    claims = verify(res["access_token"])
    assert claims["sub"] == "svc" and claims["scope"] == "read", claims


def unknown_user_error():
    status, res = post("/token", body={"user": "mallory"})
    assert status == 400 and res["error"] == "invalid_request", res
    assert "mallory" in res["error_description"] and "alice" in res["error_description"], res


def discovery_points_at_served_jwks():
    with urllib.request.urlopen(BASE + "/.well-known/openid-configuration", timeout=5) as res:
        doc = json.load(res)
    assert doc["issuer"] == ISSUER, doc
    client = PyJWKClient(doc["jwks_uri"], cache_keys=False)
    verify(mint({"user": "alice"}), client=client)


for name, fn in [
    ("persona alice verifies with PyJWKClient", persona_alice),
    ("custom claims and aud via /certs", custom_claims_and_audience),
    ("wrong audience rejected", wrong_audience_rejected),
    ("expired token rejected", expired_rejected),
    ("tampered payload rejected", tampered_rejected),
    ("client_credentials grant", client_credentials_grant),
    ("unknown user error names known users", unknown_user_error),
    ("discovery jwks_uri serves the signing key", discovery_points_at_served_jwks),
]:
    check(name, fn)

print(f"pyjwt: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
