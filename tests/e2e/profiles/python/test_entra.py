"""Profile `entra` with Microsoft's Python client library, msal.

MSAL only accepts https authorities and https endpoints in the discovery
document, so the app is configured exactly as against Entra (authority
https://login.microsoftonline.com/<tenant>) and its documented `http_client`
parameter (a requests.Session) plays the network: requests for
login.microsoftonline.com go to mock-idp on loopback, and mock-idp's URLs in
the JSON answers read as login.microsoftonline.com again. MSAL itself fetches
the tenant's discovery document and calls the token endpoint it lists. Microsoft has no Python library that
validates access tokens for an API; its guidance is a generic JWT library,
so the tokens are verified with PyJWT against the discovered jwks_uri.
"""

import jwt
import msal
import pytest
import requests

from conftest import BASE, client, get_json, issuer, mint, mount, persona, tamper

NAME = "entra"
MS = "https://login.microsoftonline.com"
TENANT = issuer(NAME)["tenant_id"]
ISS = f"{MS}/{TENANT}/v2.0"
API = issuer(NAME)["audience"]
APP = client(NAME, "client_credentials")
ALICE = persona("alice")
SEEN = []


class ToMockIdp(requests.Session):
    """requests.Session that makes mock-idp answer for login.microsoftonline.com."""

    def request(self, method, url, *args, **kwargs):
        if url.startswith(f"{MS}/"):
            url = f"{BASE}/{url[len(MS) + 1:]}"
        SEEN.append(url.split("?")[0])
        kwargs.setdefault("timeout", 10)
        resp = super().request(method, url, *args, **kwargs)
        if "json" in resp.headers.get("content-type", ""):
            resp._content = resp.content.replace(f"{BASE}/".encode(), f"{MS}/".encode())
        return resp


def app():
    return msal.ConfidentialClientApplication(
        APP["client_id"],
        client_credential=APP["client_secret"],
        authority=f"{MS}/{NAME}",
        http_client=ToMockIdp(),
        instance_discovery=False,
    )


def verify(token, audience=API):
    d = get_json(f"{mount(NAME)}/v2.0/.well-known/openid-configuration")
    key = jwt.PyJWKClient(d["jwks_uri"]).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=ISS)


def test_client_credentials_app_token():
    r = app().acquire_token_for_client(scopes=[f"api://{API}/.default"])
    assert "access_token" in r, r
    p = verify(r["access_token"])
    assert p["ver"] == "2.0"
    assert p["tid"] == TENANT
    assert p["idtyp"] == "app"
    assert p["azp"] == APP["client_id"]
    assert sorted(p["roles"]) == sorted(APP["roles"])
    assert "scp" not in p
    assert all(u.startswith(f"{BASE}/") for u in SEEN), SEEN
    assert f"{BASE}/{NAME}/v2.0/.well-known/openid-configuration" in SEEN, "MSAL read the tenant discovery"
    assert f"{BASE}/{NAME}/oauth2/v2.0/token" in SEEN, "and used its token endpoint"


def test_username_password_user_token_and_id_token_claims():
    r = app().acquire_token_by_username_password(ALICE["username"], "any-password", scopes=[f"api://{API}/access_as_user"])
    assert "access_token" in r, r
    p = verify(r["access_token"])
    assert p["preferred_username"] == ALICE["username"]
    assert "access_as_user" in p["scp"].split()
    assert sorted(p["roles"]) == sorted(ALICE["roles"])
    idc = r["id_token_claims"]
    assert idc["tid"] == TENANT
    assert idc["oid"] == p["oid"]
    assert idc["aud"] == APP["client_id"]
    assert idc["iss"] == ISS


def test_broken_tokens_are_refused():
    m = mount(NAME)
    good = mint(m, user="alice")
    verify(good)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(mint(m, user="alice", expires_in=-3600))
    with pytest.raises(jwt.InvalidSignatureError):
        verify(tamper(good))
    with pytest.raises(jwt.InvalidIssuerError):
        verify(mint(m, user="alice", iss=f"{MS}/00000000-0000-0000-0000-000000000001/v2.0"))
    with pytest.raises(jwt.InvalidAudienceError):
        verify(mint(m, user="alice", aud="api://someone-else"))
    with pytest.raises(jwt.PyJWKClientError):
        verify(mint(mount("plain"), user="alice", iss=ISS, aud=API))
