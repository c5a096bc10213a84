"""mod_auth_openidc (Apache) against one mock-idp issuer, as a browser would.

    python3 rp_check.py RP_URL ISSUER FOREIGN_ISSUER

RP_URL is the Apache started by scripts/ci/oidc-apache.sh for ISSUER (the
issuer URL, = its `iss`); FOREIGN_ISSUER is another issuer of the same
mock-idp. Checks, each failing with what it saw:

1. the relying party: a request to /protected goes through mock-idp's
   authorize endpoint and login page (persona alice), the code comes back,
   mod_auth_openidc redeems it (PKCE, client_secret_basic), validates the ID
   token against discovery + JWKS (iss, aud, nonce, at_hash, exp) and calls
   userinfo; the page sees alice's claims;
2. the resource server (/api, OIDCOAuthVerifyJwksUri): a token minted by
   ISSUER is accepted; no token, an expired or bad-signature variant, and a
   token of FOREIGN_ISSUER are refused with 401;
3. logout: mod_auth_openidc sends the browser to mock-idp's end-session
   endpoint, which returns to the registered post-logout URL; the session
   is gone afterwards.
"""

import html
import re
import sys
import urllib.parse

import requests

RP, ISS, FOREIGN = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(ok, what, seen):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(f"{what}: saw {seen!r}")


def claims_of(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def login(session):
    """/protected -> authorize -> login page -> alice -> callback -> page."""
    r = session.get(RP + "/protected/env.cgi", allow_redirects=False)
    check(r.status_code == 302, "RP sends the browser to the issuer", r.status_code)
    authorize = r.headers.get("location", "")
    check(authorize.startswith(ISS + "/") or authorize.startswith(ISS.rstrip("/") + "/"),
          "to this issuer's authorization endpoint (from its discovery)", authorize)
    page = session.get(authorize).text
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    form = {k: html.unescape(v) for k, v in hidden}
    form["user"] = "alice"
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    check(action is not None, "the login page has its form", page[:300])
    r = session.post(urllib.parse.urljoin(authorize, action.group(1)), data=form,
                     allow_redirects=False)
    callback = r.headers.get("location", "")
    check(r.status_code in (302, 303) and "code=" in callback,
          "the login redirects to the RP's callback with a code", (r.status_code, callback[:200]))
    r = session.get(callback, allow_redirects=False)
    check(r.status_code == 302, "mod_auth_openidc accepts the code, the ID token and userinfo",
          (r.status_code, r.text[:500]))
    r = session.get(urllib.parse.urljoin(RP, r.headers.get("location", "/")), allow_redirects=False)
    check(r.status_code == 200, "the protected page is served", (r.status_code, r.text[:300]))
    return claims_of(r.text)


def mint(issuer, body):
    r = requests.post(issuer + "/token", json=body, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def api(token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(RP + "/api/env.cgi", headers=headers, timeout=10)


session = requests.Session()
seen = login(session)
check(seen.get("OIDC_CLAIM_sub") == "user_alice", "sub is alice's", seen)
check(seen.get("OIDC_CLAIM_iss") == ISS, "iss is the issuer's", seen.get("OIDC_CLAIM_iss"))
check(seen.get("OIDC_CLAIM_aud") == "rp", "aud is the client", seen.get("OIDC_CLAIM_aud"))
check(seen.get("OIDC_CLAIM_email") == "alice@example.com", "email from the persona",
      seen.get("OIDC_CLAIM_email"))
check(seen.get("REMOTE_USER") == f"user_alice@{ISS}", "REMOTE_USER is sub@iss",
      seen.get("REMOTE_USER"))

r = api(mint(ISS, {"user": "alice"}))
check(r.status_code == 200 and claims_of(r.text).get("REMOTE_USER") == "user_alice",
      "/api accepts a token of this issuer", (r.status_code, r.text[:300]))
for name, token in [
    ("no token", None),
    ("an expired token", mint(ISS, {"user": "alice", "variant": "expired"})),
    ("a bad signature", mint(ISS, {"user": "alice", "variant": "bad_signature"})),
    ("a token of another issuer", mint(FOREIGN, {"user": "alice"})),
]:
    r = api(token)
    check(r.status_code == 401, f"/api refuses {name}", r.status_code)

bye = RP + "/bye"
r = session.get(RP + "/protected/callback", params={"logout": bye}, allow_redirects=False)
end_session = r.headers.get("location", "")
check(r.status_code == 302 and end_session.startswith(ISS.rstrip("/")) and "id_token_hint=" in end_session,
      "logout goes to the issuer's end-session endpoint with the ID token", (r.status_code, end_session[:200]))
r = session.get(end_session, allow_redirects=False)
check(r.status_code in (302, 303) and r.headers.get("location", "").startswith(bye),
      "the end-session endpoint returns to the registered post-logout URL",
      (r.status_code, r.headers.get("location"), r.text[:200]))
r = session.get(RP + "/protected/env.cgi", allow_redirects=False)
check(r.status_code == 302, "after logout the RP asks for a login again", r.status_code)

if failures:
    print("\n".join(["", f"{len(failures)} check(s) failed:"] + failures), file=sys.stderr)
    sys.exit(1)
print(f"all checks passed for {ISS}")
