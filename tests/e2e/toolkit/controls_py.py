"""The test controls (<mount>/_admin) seen by Python resource-server
libraries: PyJWT's PyJWKClient and joserfc.

  - ledger: how often PyJWKClient really fetched the JWKS; no secret of a
    password grant (password, client secret, tokens) anywhere in it;
  - JWKS faults: a warm PyJWKClient rides out an outage; what a cold one
    says for each fault; recovery after a one-call fault;
  - clock: tokens of a shifted issuer clock, for PyJWT and joserfc;
  - runtime personas and clients: a persona PUT over HTTP is minted at once,
    its claims verified; a registered client gets client_credentials tokens
    and makes the issuer strict; deleted, they are gone.

    MOCK_IDP_URL=http://127.0.0.1:PORT [TOOLKIT_ADMIN_TOKEN=...] python3 controls_py.py

Every check uses its own dynamic issuer, so this runs beside the others.
"""

import base64
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

import jwt  # PyJWT
from joserfc import jwt as jjwt
from joserfc.jwk import KeySet

from tk import AUDIENCE, BASE, Report, get, http, iss_of, jwks_path, mint

R = Report("controls_py")


def outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - the class is the result
        return f"{type(e).__name__}: {e}"


def fresh(issuer):
    """Starts a check's issuer clean (clock, faults, ledger, personas)."""
    status, body = http("POST", f"/{issuer}/_admin/reset")
    if status != 204:
        raise AssertionError(f"POST /{issuer}/_admin/reset: {status} {body}")


def ledger(issuer, path=None):
    query = f"?path={urllib.parse.quote(path)}" if path else ""
    return get(f"/{issuer}/_admin/requests{query}")


def pyjwt_verify(client, token, issuer, **options):
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=iss_of(issuer), **options)


def joserfc_verify(token, issuer, now=None):
    tok = jjwt.decode(token, KeySet.import_key_set(get(jwks_path(issuer))), algorithms=["RS256"])
    registry = jjwt.JWTClaimsRegistry(now=now, iss={"essential": True, "value": iss_of(issuer)},
                                      aud={"essential": True, "value": AUDIENCE})
    registry.validate(tok.claims)
    return tok.claims


def ledger_counts():
    issuer = "ctl-ledger-py"
    fresh(issuer)
    client = jwt.PyJWKClient(BASE + jwks_path(issuer))
    results = [outcome(lambda: pyjwt_verify(client, mint(issuer, {"sub": f"u{i}"}), issuer)) for i in range(10)]
    R.check("ledger: PyJWKClient verifies 10 fresh tokens", all(r == "ok" for r in results), str(set(results)))
    fetches = ledger(issuer, f"/{issuer}/jwks")
    R.check("ledger: the issuer saw exactly 1 JWKS fetch (PyJWKClient caches the set)",
            len(fetches) == 1 and fetches[0]["status"] == 200 and fetches[0]["method"] == "GET", str(fetches))


def token_form(issuer, form, client=("web", "")):
    req = urllib.request.Request(f"{BASE}/{issuer}/token", data=urllib.parse.urlencode(form).encode())
    req.add_header("authorization", "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def ledger_keeps_no_secret():
    issuer = "ctl-secrets-py"
    fresh(issuer)
    password = "pw-" + secrets.token_hex(8)
    client_secret = "cs-" + secrets.token_hex(8)
    status, body = http("PUT", f"/{issuer}/_admin/users/dora", {"sub": "user_dora", "password": password})
    R.check("personas: PUT _admin/users/dora (201), the password shown as <set>",
            status == 201 and body.get("password") == "<set>" and password not in json.dumps(body), f"{status} {body}")
    status, tokens = token_form(issuer, {"grant_type": "password", "username": "dora", "password": password,
                                         "scope": "openid"}, client=("web", client_secret))
    R.check("ledger secrets: the password grant for dora succeeds", status == 200 and "refresh_token" in tokens, f"{status}")
    # The same secrets in a query string too.
    http("POST", f"/{issuer}/token?grant_type=password&username=dora&password={password}&client_secret={client_secret}")
    entries = json.dumps(ledger(issuer))
    leaked = [name for name, value in [("password", password), ("client secret", client_secret),
                                       ("access token", tokens.get("access_token", "-")),
                                       ("refresh token", tokens.get("refresh_token", "-"))] if value in entries]
    R.check("ledger secrets: no password, client secret or token in GET _admin/requests", not leaked and "<redacted>" in entries,
            f"leaked: {leaked}" if leaked else "query values shown as <redacted>")
    http("DELETE", f"/{issuer}/_admin/users/dora")


def runtime_persona():
    issuer = "ctl-persona-py"
    fresh(issuer)
    status, body = http("PUT", f"/{issuer}/_admin/users/carol",
                        {"sub": "user_carol", "org_id": "org_9", "org_role": "admin",
                         "claims": {"email": "carol@example.com", "roles": ["qa"]}})
    R.check("personas: PUT _admin/users/carol -> 201", status == 201, f"{status} {body}")
    token = mint(issuer, {"user": "carol"})
    client = jwt.PyJWKClient(BASE + jwks_path(issuer))
    claims = pyjwt_verify(client, token, issuer)
    R.check("personas: the next mint for carol verifies (PyJWT) with her sub, org and claims",
            claims["sub"] == "user_carol" and claims.get("email") == "carol@example.com" and claims.get("roles") == ["qa"]
            and claims.get("o", {}).get("id") == "org_9", json.dumps({k: claims.get(k) for k in ("sub", "email", "roles", "o")}))
    status, _ = http("DELETE", f"/{issuer}/_admin/users/carol")
    status2, body = http("POST", f"/{issuer}/token", {"user": "carol"})
    R.check("personas: DELETE (204), then minting for carol is a 400 naming her",
            status == 204 and status2 == 400 and "carol" in body.get("error_description", ""), f"{status} {status2} {body}")


def runtime_client():
    issuer = "ctl-client-py"
    fresh(issuer)
    secret = "svc-" + secrets.token_hex(8)
    status, body = http("PUT", f"/{issuer}/_admin/clients/svc",
                        {"client_secret": secret, "grant_types": ["client_credentials"], "scope": "read"})
    R.check("clients: PUT _admin/clients/svc -> 201, the secret never shown",
            status == 201 and secret not in json.dumps(body), f"{status} {body}")
    status, tokens = token_form(issuer, {"grant_type": "client_credentials"}, client=("svc", secret))
    claims = None
    if status == 200:
        client = jwt.PyJWKClient(BASE + jwks_path(issuer))
        claims = pyjwt_verify(client, tokens["access_token"], issuer, options={"require": ["exp", "sub"]})
    R.check("clients: its client_credentials token verifies (PyJWT) with sub = svc",
            status == 200 and isinstance(claims, dict) and claims.get("sub") == "svc", f"{status} {claims}")
    status, body = token_form(issuer, {"grant_type": "client_credentials"}, client=("svc", secret + "x"))
    R.check("clients: a wrong secret -> 401 invalid_client", status == 401 and body.get("error") == "invalid_client", f"{status} {body}")
    status, body = token_form(issuer, {"grant_type": "client_credentials"}, client=("other", "x"))
    R.check("clients: with one client registered the issuer is strict: another client -> 401",
            status == 401 and body.get("error") == "invalid_client", f"{status} {body}")
    entry = ledger(issuer, f"/{issuer}/token")
    R.check("clients: the ledger names the client of the issued token, never its secret",
            any(e.get("client_id") == "svc" and e.get("status") == 200 for e in entry) and secret not in json.dumps(entry),
            str([(e.get("client_id"), e.get("status")) for e in entry]))
    http("DELETE", f"/{issuer}/_admin/clients/svc")


FAULTS = [
    ({"status": 503}, 'PyJWKClientConnectionError: Fail to fetch data from the url, err: "HTTP Error 503: Service Unavailable"'),
    ({"status": 500, "body": "empty"}, 'PyJWKClientConnectionError: Fail to fetch data from the url, err: "HTTP Error 500'),
    ({"body": "garbage"}, "JSONDecodeError: "),
    ({"body": "empty"}, "JSONDecodeError: "),
    ({"delay_ms": 1500}, 'PyJWKClientConnectionError: Fail to fetch data from the url, err: "timed out"'),
]


def jwks_faults():
    issuer = "ctl-faults-py"
    fresh(issuer)
    warm = jwt.PyJWKClient(BASE + jwks_path(issuer))
    pyjwt_verify(warm, mint(issuer, {"sub": "warm"}), issuer)
    http("PUT", f"/{issuer}/_admin/faults", {"endpoint": "jwks", "status": 503})
    res = outcome(lambda: pyjwt_verify(warm, mint(issuer, {"sub": "during"}), issuer))
    R.check("faults: during a JWKS outage a warm PyJWKClient keeps verifying tokens of a known kid", res == "ok", res)
    R.check("faults: ... without fetching (the ledger has only the warm-up fetch)",
            len(ledger(issuer, f"/{issuer}/jwks")) == 1, "")
    http("DELETE", f"/{issuer}/_admin/faults")
    for fault, expected in FAULTS:
        iss = "ctl-fault-py-" + "-".join(str(v) for v in fault.values())
        fresh(iss)
        token = mint(iss, {"sub": "cold"})
        http("PUT", f"/{iss}/_admin/faults", {"endpoint": "jwks", **fault})
        res = outcome(lambda: pyjwt_verify(jwt.PyJWKClient(BASE + jwks_path(iss), timeout=1), token, iss))
        R.check(f"faults {json.dumps(fault)}: a cold PyJWKClient (timeout=1) fails: {expected}", res.startswith(expected), res)
    iss = "ctl-fault-py-once"
    fresh(iss)
    token = mint(iss, {"sub": "once"})
    http("PUT", f"/{iss}/_admin/faults", {"endpoint": "jwks", "status": 503, "count": 1})
    client = jwt.PyJWKClient(BASE + jwks_path(iss))
    tries = [outcome(lambda: pyjwt_verify(client, token, iss)) for _ in range(2)]
    R.check("faults count 1: PyJWKClient fails once, then its next call refetches and succeeds",
            tries[0].startswith("PyJWKClientConnectionError") and tries[1] == "ok", " / ".join(tries))


def clock():
    issuer = "ctl-clock-py"
    fresh(issuer)
    client = jwt.PyJWKClient(BASE + jwks_path(issuer))
    status, set_ = http("PUT", f"/{issuer}/_admin/clock", {"offset_sec": -7200})
    past = mint(issuer, {"sub": "past"})
    R.check("clock -2 h: PyJWT says ExpiredSignatureError",
            outcome(lambda: pyjwt_verify(client, past, issuer)).startswith("ExpiredSignatureError"), f"{status} {set_}")
    R.check("clock -2 h: joserfc says ExpiredTokenError",
            outcome(lambda: joserfc_verify(past, issuer)).startswith("ExpiredTokenError"), "")
    res = outcome(lambda: joserfc_verify(past, issuer, now=set_["now"]))
    R.check("clock -2 h: ... yet joserfc at the issuer's now (JWTClaimsRegistry(now=...)) accepts it", res == "ok", res)
    http("PUT", f"/{issuer}/_admin/clock", {"offset_sec": 7200})
    future = mint(issuer, {"sub": "future"})
    res = outcome(lambda: pyjwt_verify(client, future, issuer))
    R.check("clock +2 h: PyJWT says ImmatureSignatureError (iat)", res.startswith("ImmatureSignatureError") and "(iat)" in res, res)
    res = outcome(lambda: joserfc_verify(future, issuer))
    R.check("clock +2 h: joserfc says InvalidClaimError (issued in the future)",
            res.startswith("InvalidClaimError") and "issued in the future" in res, res)
    status, _ = http("DELETE", f"/{issuer}/_admin/clock")
    res = outcome(lambda: pyjwt_verify(client, mint(issuer, {"sub": "now"}), issuer))
    R.check("clock: DELETE (204), then PyJWT accepts the next token", status == 204 and res == "ok", f"{status} {res}")


def main():
    for fn in (ledger_counts, ledger_keeps_no_secret, runtime_persona, runtime_client, jwks_faults, clock):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a crashed group is a failed check
            R.check(f"{fn.__name__} ran to its end", False, f"{type(e).__name__}: {e}")
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
