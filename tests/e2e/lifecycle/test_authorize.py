"""POST|GET|HEAD <mount>/authorize, the service's own Envoy/Istio external
authorization check (docs/lifecycle.md#authorize-the-services-own-check): where the token is read
from, 200 with an empty body, 401 and 403 with the service's error bodies."""

import pytest
import requests

from support import (
    BAD_AUTH_HEADER,
    BASE,
    MISSING_TOKEN,
    TIMEOUT,
    error_json,
    tamper,
    unsigned,
)


@pytest.fixture(scope="module")
def tokens(jas):
    pair = jas.pair(include_child=True)
    return {
        "child": pair["child_token"],
        "parent": pair["parent_token"],
        "single": jas.single()["token"],
    }


def root_token():
    res = requests.post(f"{BASE}/token", json={"sub": "user_root"}, timeout=TIMEOUT)
    assert res.status_code == 200, res.text
    return res.json()["access_token"]


@pytest.mark.parametrize("method", ["POST", "GET", "HEAD"])
@pytest.mark.parametrize("kind", ["child", "parent", "single"])
def test_valid_tokens_every_way(jas, tokens, method, kind):
    token = tokens[kind]
    ways = {
        "Autonity-Token": {"Autonity-Token": token},
        "Authorization: Bearer": {"Authorization": f"Bearer {token}"},
        "Authorization: bearer": {"Authorization": f"bearer {token}"},
        "Authorization: BEARER": {"Authorization": f"BEARER {token}"},
        "Autonity-Token wins over a bad Authorization": {
            "Autonity-Token": token,
            "Authorization": "Basic Zm9vOmJhcg==",
        },
    }
    for way, headers in ways.items():
        res = jas.request(method, "/authorize", headers=headers)
        assert res.status_code == 200, f"{method} {kind} via {way}: {res.status_code} {res.text[:200]}"
        assert res.content == b"", f"{method} {kind} via {way}: 200 has an empty body"


def test_rejections(jas, jas2, tokens):
    child = tokens["child"]
    expired = jas.single(expiry_days=-1)["token"]
    cases = [
        ("no token", {}, MISSING_TOKEN),
        ("Basic credentials", {"Authorization": "Basic Zm9vOmJhcg=="}, BAD_AUTH_HEADER),
        ("Bearer without a token", {"Authorization": "Bearer"}, BAD_AUTH_HEADER),
        ("another scheme", {"Authorization": f"Token {child}"}, BAD_AUTH_HEADER),
        ("empty Autonity-Token beats a valid Bearer", {"Autonity-Token": "", "Authorization": f"Bearer {child}"},
         {"error": "Empty Autonity-Token header"}),
        ("bad Autonity-Token beats a valid Bearer", {"Autonity-Token": "x.y.z", "Authorization": f"Bearer {child}"},
         "Invalid JWT token"),
        ("garbage", {"Authorization": "Bearer not-a-jwt"}, "Invalid JWT token"),
        ("tampered signature", {"Autonity-Token": tamper(child)}, "Invalid JWT token"),
        ("expired", {"Autonity-Token": expired}, "Invalid JWT token"),
        ("alg none", {"Autonity-Token": unsigned(jas.claims(child))}, "Invalid JWT token"),
        ("another issuer's token", {"Autonity-Token": jas2.pair(include_child=True)["child_token"]},
         "Invalid JWT token"),
        ("the root issuer's token", {"Authorization": f"Bearer {root_token()}"}, "Invalid JWT token"),
    ]
    for what, headers, expected in cases:
        got = error_json(jas.request("POST", "/authorize", headers=headers), 401)
        if isinstance(expected, dict):
            assert got == expected, what
        else:
            assert got["error"] == expected and got.get("message"), (what, got)
    res = jas.request("HEAD", "/authorize")
    assert res.status_code == 401 and res.content == b""
