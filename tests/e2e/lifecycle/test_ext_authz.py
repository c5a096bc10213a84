"""<mount>/ext-authz for every issuer (issue 13 §3, CONTRACT "Token lifecycle
service"): Envoy's HTTP ext_authz service appends the original path and keeps
the original method; 200 with x-auth-sub and x-auth-claims (base64url JSON of
the claims) for a valid, unrevoked token of that issuer, 401 otherwise.
Required scopes/claims: docs/lifecycle.md#ext-authz-for-every-issuer."""

import pytest
import requests

from support import (
    BASE,
    TIMEOUT,
    b64url_json,
    payload,
    tamper,
    unsigned,
)

pytestmark = pytest.mark.extension

PATHS = ["", "/", "/some/path", "/api/v1/items?page=2", "/deep/a/b/c/d.json"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


def mint(mount, **body):
    res = requests.post(f"{mount}/token", json=body, timeout=TIMEOUT)
    assert res.status_code == 200, res.text
    return res.json()["access_token"]


def check_allowed(res, token, what):
    assert res.status_code == 200, f"{what}: {res.status_code} {res.text[:200]}"
    claims = payload(token)
    assert res.headers.get("x-auth-sub") == claims["sub"], what
    assert b64url_json(res.headers["x-auth-claims"]) == claims, f"{what}: x-auth-claims is the token's claims"


def check_denied(res, what, status=401):
    assert res.status_code == status, f"{what}: {res.status_code} {res.text[:200]}"
    assert "x-auth-sub" not in res.headers and "x-auth-claims" not in res.headers, what


def test_valid_token_any_path_any_method(jas):
    child = jas.pair(include_child=True)["child_token"]
    jas.verify(child)
    for path in PATHS:
        check_allowed(jas.ext_authz(child, path), child, f"GET {path!r}")
    for method in METHODS:
        check_allowed(jas.ext_authz(child, "/orders/7", method), child, method)


def test_lifecycle_tokens_of_every_kind(jas):
    pair = jas.pair(include_child=True)
    single = jas.single()["token"]
    for token in (pair["parent_token"], pair["child_token"], single):
        check_allowed(jas.ext_authz(token, "/x"), token, payload(token).get("token_type", "single"))


def test_rejections(jas, jas2):
    pair = jas.pair(include_child=True)
    child = pair["child_token"]
    revoked = jas.pair(include_child=True)
    assert jas.revoke(revoked["child_jti"]).status_code == 204
    orphan = jas.pair(include_child=True)
    assert jas.revoke(orphan["parent_jti"]).status_code == 204
    cases = {
        "no token": None,
        "garbage": "not-a-jwt",
        "tampered": tamper(child),
        "alg none": unsigned(jas.claims(child)),
        "expired": jas.single(expiry_days=-1)["token"],
        "another issuer's token": jas2.pair(include_child=True)["child_token"],
        "the root issuer's token": mint(BASE, sub="user_root"),
        "revoked child": revoked["child_token"],
        "child of a revoked parent": orphan["child_token"],
        "revoked parent": orphan["parent_token"],
    }
    for what, token in cases.items():
        check_denied(jas.ext_authz(token, "/api/v1/items"), what)
    res = jas.request("GET", "/ext-authz/x", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    check_denied(res, "Basic credentials")


def test_root_issuer_and_isolation(jas):
    token = mint(BASE, sub="user_root")
    res = requests.get(f"{BASE}/ext-authz/some/path", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    check_allowed(res, token, "root issuer")
    jas_token = jas.single()["token"]
    res = requests.get(f"{BASE}/ext-authz/some/path", headers={"Authorization": f"Bearer {jas_token}"}, timeout=TIMEOUT)
    check_denied(res, "a jas token at the root")


@pytest.mark.proposal
def test_required_scopes_and_claims(jas):
    token = mint(jas.mount, sub="svc", scope="read write", claims={"scope": "read write", "roles": ["ops", "dev"]})
    child = jas.pair(include_child=True, network="mainnet")["child_token"]
    allowed = [
        (token, {"require_scope": "read"}),
        (token, {"require_scope": ["read", "write"]}),
        (token, {"require_claim": "roles:ops"}),
        (child, {"require_claim": ["network:mainnet", "token_type:child"]}),
        (child, {"require_claim": "rate_limit:100"}),
    ]
    for tok, params in allowed:
        check_allowed(jas.ext_authz(tok, "/x", params=params), tok, params)
    forbidden = [
        (token, {"require_scope": "admin"}),
        (token, {"require_scope": ["read", "admin"]}),
        (token, {"require_claim": "roles:root"}),
        (child, {"require_claim": "network:testnet"}),
        (child, {"require_claim": "token_type:parent"}),
        (child, {"require_scope": "read"}),
    ]
    for tok, params in forbidden:
        res = jas.ext_authz(tok, "/x", params=params)
        check_denied(res, params, status=403)
        assert 'error="insufficient_scope"' in res.headers.get("www-authenticate", ""), params
    res = jas.ext_authz("not-a-jwt", "/x", params={"require_scope": "read"})
    check_denied(res, "invalid token with requirements")
    assert 'error="invalid_token"' in res.headers.get("www-authenticate", "")


@pytest.mark.proposal
def test_required_scopes_and_claims_as_headers(jas):
    """The same requirements as headers, for Envoy's authorization_request.headers_to_add
    (Envoy appends the client's own query to the check request)."""
    child = jas.pair(include_child=True, network="mainnet")["child_token"]
    ok = jas.request(
        "GET", "/ext-authz/x", headers={"Authorization": f"Bearer {child}", "x-auth-require-claim": "network:mainnet"}
    )
    check_allowed(ok, child, "header requirement met")
    no = jas.request(
        "GET", "/ext-authz/x", headers={"Authorization": f"Bearer {child}", "x-auth-require-claim": "network:testnet"}
    )
    check_denied(no, "header requirement unmet", status=403)
