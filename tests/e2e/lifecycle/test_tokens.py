"""POST /tokens and POST /token-pairs: response fields, token claims and
headers, lifetimes, request validation (docs/lifecycle.md#endpoints)."""

import json

import jwt
import pytest

from support import (
    AUDIENCE,
    CHILD_CLAIMS,
    PARENT_CLAIMS,
    SINGLE_CLAIMS,
    error_json,
    new_user,
    parse_time,
)

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_jwks_is_the_issuers_own(jas, jas2):
    keys = jas.jwks()["keys"]
    assert keys, "the JWKS lists at least one key"
    for k in keys:
        assert k["kty"] == "RSA" and k["use"] == "sig" and k["alg"] == "RS256", k
        assert k["kid"] and k["n"] and k["e"], k
        assert not PRIVATE_JWK_MEMBERS & set(k), f"private members published: {sorted(set(k))}"
    other = {k["n"] for k in jas2.jwks()["keys"]}
    assert not other & {k["n"] for k in keys}, "two issuers share a signing key"


def test_health(jas):
    for path in ("/health", "/healthz"):
        res = jas.request("GET", path)
        assert res.status_code == 200, path
        assert res.json() == {"status": "healthy", "redis": "connected"}, path


def test_single_token_defaults(jas):
    user = new_user()
    res = jas.post("/tokens", {"user_id": user})
    assert res.status_code == 201, res.text
    assert res.headers["content-type"].startswith("application/json")
    body = res.json()
    assert set(body) == {"token", "token_id", "expires_at"}, body

    header, claims = jas.verify(body["token"])
    assert header["kid"] in {k["kid"] for k in jas.jwks()["keys"]}
    assert set(claims) == SINGLE_CLAIMS, f"claims of a single token: {sorted(claims)}"
    assert claims["iss"] == jas.iss
    assert claims["aud"] == [AUDIENCE], "aud is an array, as golang-jwt v5 writes it"
    assert claims["sub"] == f"user_{user}"
    assert claims["user_id"] == user
    assert claims["network"] == "default"
    assert claims["rate_limit"] == 100
    assert claims["jti"] == body["token_id"]
    assert claims["exp"] - claims["iat"] == 3600, "default lifetime of POST /tokens is 1 hour"
    assert abs(parse_time(body["expires_at"]) - claims["exp"]) < 2, "expires_at is the token's exp"


@pytest.mark.parametrize(
    "fields, lifetime, extra",
    [
        ({"expiry_days": 2}, 2 * 86400, {}),
        ({"network": "mainnet", "rate_limit": 7}, 3600, {"network": "mainnet", "rate_limit": 7}),
        ({"rate_limit": 0}, 3600, {"rate_limit": 100}),
        pytest.param({"expires_in": 120}, 120, {}, marks=pytest.mark.extension, id="expires_in"),
    ],
    ids=["expiry_days", "network+rate_limit", "rate_limit-0-is-default", "expires_in"],
)
def test_single_token_fields(jas, fields, lifetime, extra):
    body = jas.single(**fields)
    claims = jas.claims(body["token"])
    assert claims["exp"] - claims["iat"] == lifetime, fields
    for key, value in extra.items():
        assert claims[key] == value, (fields, key)
    assert abs(parse_time(body["expires_at"]) - claims["exp"]) < 2


def test_token_pair_defaults(jas):
    user = new_user()
    body = jas.pair(user_id=user, network="mainnet", rate_limit=50)
    assert set(body) == {"parent_token", "parent_jti", "parent_expiry"}, (
        "without include_child there are no child fields"
    )
    assert body["parent_expiry"] == 30 * 86400
    claims = jas.claims(body["parent_token"])
    assert set(claims) == PARENT_CLAIMS, sorted(claims)
    assert claims["token_type"] == "parent"
    assert claims["jti"] == body["parent_jti"]
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert (claims["sub"], claims["user_id"]) == (f"user_{user}", user)
    assert (claims["network"], claims["rate_limit"]) == ("mainnet", 50)
    assert claims["iss"] == jas.iss and claims["aud"] == [AUDIENCE]


def test_token_pair_with_child(jas):
    user = new_user()
    body = jas.pair(user_id=user, network="testnet", rate_limit=5, include_child=True)
    assert set(body) == {
        "parent_token",
        "parent_jti",
        "parent_expiry",
        "child_token",
        "child_jti",
        "child_expiry",
    }, body
    assert (body["parent_expiry"], body["child_expiry"]) == (30 * 86400, 15 * 60)
    parent = jas.claims(body["parent_token"])
    child = jas.claims(body["child_token"])
    assert set(child) == CHILD_CLAIMS, sorted(child)
    assert child["token_type"] == "child"
    assert child["parent_jti"] == body["parent_jti"] == parent["jti"]
    assert child["jti"] == body["child_jti"] != parent["jti"]
    assert child["exp"] - child["iat"] == 15 * 60
    for key in ("iss", "aud", "sub", "user_id", "network", "rate_limit"):
        assert child[key] == parent[key], key


@pytest.mark.parametrize(
    "fields, parent_lifetime, child_lifetime",
    [
        ({"parent_expiry_hours": 2}, 7200, 900),
        ({"parent_expiry_hours": 720}, 720 * 3600, 900),
        ({"parent_expiry_hours": 0}, 720 * 3600, 900),
        pytest.param(
            {"parent_expires_in": 600, "child_expires_in": 60}, 600, 60, marks=pytest.mark.extension
        ),
    ],
    ids=["2h", "720h", "0-is-default", "seconds"],
)
def test_token_pair_lifetimes(jas, fields, parent_lifetime, child_lifetime):
    body = jas.pair(include_child=True, **fields)
    assert (body["parent_expiry"], body["child_expiry"]) == (parent_lifetime, child_lifetime), fields
    parent = jas.claims(body["parent_token"])
    child = jas.claims(body["child_token"])
    assert parent["exp"] - parent["iat"] == parent_lifetime, fields
    assert child["exp"] - child["iat"] == child_lifetime, fields


def test_each_token_has_its_own_jti(jas):
    jtis = set()
    for _ in range(5):
        body = jas.pair(include_child=True)
        jtis |= {body["parent_jti"], body["child_jti"]}
        jtis.add(jas.single()["token_id"])
    assert len(jtis) == 15


USER_ID_REQUIRED = {"error": "user_id is required"}
PARENT_HOURS_RANGE = {"error": "parent_expiry_hours must be between 0 and 720"}


BAD_REQUESTS = {
    "tokens: no user_id": ("/tokens", {}, USER_ID_REQUIRED),
    "tokens: empty user_id": ("/tokens", {"user_id": ""}, USER_ID_REQUIRED),
    "pairs: no user_id": ("/token-pairs", {"network": "mainnet"}, USER_ID_REQUIRED),
    "pairs: 721 hours": ("/token-pairs", {"user_id": "u1", "parent_expiry_hours": 721}, PARENT_HOURS_RANGE),
    "pairs: -1 hours": ("/token-pairs", {"user_id": "u1", "parent_expiry_hours": -1}, PARENT_HOURS_RANGE),
    "renew: no parent_token": ("/renew", {}, {"error": "parent_token is required"}),
    "renew: empty parent_token": ("/renew", {"parent_token": ""}, {"error": "parent_token is required"}),
    "tokens: not JSON": ("/tokens", "{not json", "Invalid request body"),
    "tokens: empty body": ("/tokens", "", "Invalid request body"),
    "tokens: user_id a number": ("/tokens", {"user_id": 5}, "Invalid request body"),
    "tokens: rate_limit a string": ("/tokens", {"user_id": "u1", "rate_limit": "ten"}, "Invalid request body"),
    "pairs: include_child a string": ("/token-pairs", {"user_id": "u1", "include_child": "yes"}, "Invalid request body"),
    "pairs: fractional hours": ("/token-pairs", {"user_id": "u1", "parent_expiry_hours": 1.5}, "Invalid request body"),
    "renew: an array": ("/renew", "[]", "Invalid request body"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests(jas, case):
    path, body, expected = BAD_REQUESTS[case]
    data = body if isinstance(body, str) else json.dumps(body)
    res = jas.post(path, data=data, headers={"Content-Type": "application/json"})
    got = error_json(res, 400)
    case = f"POST {path} {data!r}"
    if isinstance(expected, dict):
        assert got == expected, case
    else:
        assert got["error"] == expected, case
        assert got.get("message"), f"{case}: the parser's reason is in message"


def test_query_parameter_required(jas):
    for path in ("/tokens/latest", "/tokens/stream"):
        res = jas.request("GET", path)
        assert error_json(res, 400) == {"error": "parent_jti query parameter is required"}, path


def test_body_without_json_content_type_and_unknown_fields(jas):
    # curl -d '{"user_id": ...}' sends application/x-www-form-urlencoded; the
    # original decodes the body as JSON whatever the type, and ignores unknown fields.
    user = new_user()
    res = jas.post(
        "/token-pairs",
        data=json.dumps({"user_id": user, "include_child": True, "colour": "blue"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert res.status_code == 201, res.text
    assert jas.claims(res.json()["child_token"])["user_id"] == user


def test_tokens_are_per_issuer(jas, jas2):
    body = jas.pair(include_child=True)
    with pytest.raises((AssertionError, jwt.InvalidTokenError)):
        jas2.verify(body["child_token"])  # kid unknown there (or the signature fails)
    res = jas2.authorize(body["child_token"])
    assert error_json(res, 401)["error"] == "Invalid JWT token"
    res = jas2.renew(body["parent_token"])
    assert error_json(res, 401)["error"] == "Invalid parent token"
