"""Profile `keycloak` through python-keycloak (KeycloakOpenID), the client
most Python services use against Keycloak: it builds every URL from
server_url + realm (/realms/{realm}/protocol/openid-connect/...), and
decode_token() verifies with the realm's certs (jwcrypto: signature by kid,
exp/nbf with its default 60 s leeway; iss/azp/typ through check_claims, as a
service configures it).
"""

import pytest
from jwcrypto.jwt import JWTExpired, JWTInvalidClaimValue, JWTMissingKey
from keycloak import KeycloakOpenID

from conftest import BASE, client, mint, mount, persona, tamper

REALM = "keycloak"
REALM_URL = f"{BASE}/realms/{REALM}"
WEB = client(REALM, "web-app")
SVC = client(REALM, "billing-api")
ALICE = persona("alice")


def kc(c=WEB):
    return KeycloakOpenID(server_url=f"{BASE}/", realm_name=REALM, client_id=c["client_id"], client_secret_key=c["client_secret"])


def decode(token, c=WEB, **check):
    # With check_claims, jwcrypto checks exp only when it is listed ("exp": None = now, 60 s leeway).
    return kc(c).decode_token(token, check_claims={"iss": REALM_URL, "typ": "Bearer", "exp": None, **check})


def test_well_known_and_realm_key():
    wk = kc().well_known()
    assert wk["issuer"] == REALM_URL
    assert wk["token_endpoint"] == f"{REALM_URL}/protocol/openid-connect/token"
    assert wk["jwks_uri"] == f"{REALM_URL}/protocol/openid-connect/certs"
    assert kc().public_key(), "GET /realms/{realm} has public_key"


def test_password_grant_userinfo_introspect_logout():
    oidc = kc()
    tokens = oidc.token(ALICE["username"], "any-password", scope="openid profile email")
    at = decode(tokens["access_token"], azp=WEB["client_id"])
    assert at["sub"] == ALICE["sub"]
    assert at["preferred_username"] == ALICE["username"]
    assert sorted(at["realm_access"]["roles"]) == sorted(ALICE["roles"])
    for app, roles in ALICE["client_roles"].items():
        assert sorted(at["resource_access"][app]["roles"]) == sorted(roles)
    assert at["email"] == ALICE["email"]
    assert at["email_verified"] is True
    assert "openid" in at["scope"].split()
    idt = oidc.decode_token(tokens["id_token"], check_claims={"iss": REALM_URL, "typ": "ID", "exp": None, "aud": WEB["client_id"], "azp": WEB["client_id"]})
    assert idt["sid"] == at["sid"]

    info = oidc.userinfo(tokens["access_token"])
    assert info["sub"] == ALICE["sub"]
    assert info["preferred_username"] == ALICE["username"]
    intro = oidc.introspect(tokens["access_token"])
    assert intro["active"] is True
    assert intro["username"] == ALICE["username"]
    assert oidc.introspect(tamper(tokens["access_token"]))["active"] is False
    oidc.logout(tokens["refresh_token"])  # 204 from .../logout with the refresh token


def test_client_credentials_service_account():
    tokens = kc(SVC).token(grant_type="client_credentials")
    at = decode(tokens["access_token"], c=SVC, azp=SVC["client_id"])
    assert at["preferred_username"] == f"service-account-{SVC['client_id']}"
    assert at["client_id"] == SVC["client_id"]
    assert sorted(at["realm_access"]["roles"]) == sorted(SVC["roles"])
    assert at["resource_access"]["billing-api"]["roles"] == SVC["client_roles"]["billing-api"]


def test_json_mint_decodes():
    at = decode(mint(mount(REALM), user="alice"))
    assert at["typ"] == "Bearer"
    assert sorted(at["groups"]) == sorted(ALICE["groups"])
    assert at["name"] == ALICE["name"]


def test_broken_tokens_are_refused():
    m = mount(REALM)
    good = mint(m, user="alice")
    decode(good)
    with pytest.raises(JWTExpired):
        decode(mint(m, user="alice", expires_in=-3600))
    # jwcrypto reports a bad signature and an unknown key alike: no working key in the set.
    with pytest.raises(JWTMissingKey):
        decode(tamper(good))
    with pytest.raises(JWTInvalidClaimValue, match="iss"):
        decode(mint(m, user="alice", iss=f"{BASE}/realms/other"))
    with pytest.raises(JWTInvalidClaimValue, match="typ"):
        decode(mint(m, user="alice", claims={"typ": "ID"}))
    with pytest.raises(JWTMissingKey):
        decode(mint(mount("plain"), user="alice", iss=REALM_URL, claims={"typ": "Bearer"}))
