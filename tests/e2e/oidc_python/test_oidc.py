"""mock-idp end to end with Authlib (requests client). Every token is verified
here against the served JWKS with Authlib's JOSE implementation, and ID tokens
with its OIDC claim rules (iss, aud, exp, iat, nonce, at_hash).

    MOCK_IDP_URL=http://127.0.0.1:PORT python3 -m pytest tests/e2e/oidc_python

mock-idp must run with ISSUER = MOCK_IDP_URL and tests/e2e/oidc-config.yaml.
"""

import os
import secrets
import warnings
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

with warnings.catch_warnings():
    # Authlib 1.x announces that authlib.jose moves to joserfc in 2.0.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken, IDToken

ISSUER = os.environ.get("MOCK_IDP_URL", "http://127.0.0.1:8081").rstrip("/")
APP_CALLBACK = "http://127.0.0.1/e2e/callback"
TIMEOUT = 10


@pytest.fixture(scope="session")
def metadata():
    res = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=TIMEOUT)
    res.raise_for_status()
    return res.json()


@pytest.fixture(scope="session")
def keys(metadata):
    res = requests.get(metadata["jwks_uri"], timeout=TIMEOUT)
    res.raise_for_status()
    return JsonWebKey.import_key_set(res.json())


def verify_access(token, keys, audience=None):
    options = {"iss": {"essential": True, "value": ISSUER}, "exp": {"essential": True}}
    if audience:
        options["aud"] = {"essential": True, "value": audience}
    claims = jwt.decode(token, keys, claims_options=options)
    claims.validate(leeway=0)
    assert claims.header["alg"] == "RS256" and claims.header["kid"]
    return claims


def verify_id_token(token, keys, client_id, access_token, nonce=None, cls=IDToken):
    claims = jwt.decode(
        token,
        keys,
        claims_cls=cls,
        claims_options={"iss": {"value": ISSUER}},
        claims_params={"client_id": client_id, "nonce": nonce, "access_token": access_token},
    )
    assert claims.get("at_hash"), "ID tokens carry at_hash"
    claims.validate(leeway=0)  # checks at_hash against the access token
    return claims


def session(client_id, secret=None, method="client_secret_basic", **kw):
    s = OAuth2Session(client_id, secret, token_endpoint_auth_method=method, **kw)
    s.timeout = TIMEOUT
    return s


def test_discovery(metadata):
    assert metadata["issuer"] == ISSUER
    for field, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ]:
        assert metadata[field] == ISSUER + path, field
    rfc8414 = requests.get(f"{ISSUER}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()
    assert rfc8414 == metadata
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
    }
    assert metadata["response_types_supported"] == ["code"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(metadata, keys, method):
    s = session("e2e-service", "service-secret", method)
    token = s.fetch_token(
        metadata["token_endpoint"],
        grant_type="client_credentials",
        claims='{"tier": "gold"}',
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert "refresh_token" not in token
    claims = verify_access(token["access_token"], keys, "e2e-api")
    assert claims["sub"] == "e2e-service"
    assert claims["roles"] == ["reader"]
    assert claims["tier"] == "gold"


def test_client_credentials_wrong_secret(metadata):
    s = session("e2e-service", "nope")
    with pytest.raises(OAuthError) as e:
        s.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert e.value.error == "invalid_client"


def test_password_refresh_rotation_and_reuse(metadata, keys):
    s = session("e2e-app", "app-secret", scope="openid offline_access")
    token = s.fetch_token(metadata["token_endpoint"], username="alice", password="any")
    access = verify_access(token["access_token"], keys, "e2e-api")
    assert access["sub"] == "user_alice"
    assert access["o"] == {"id": "org_1", "rol": "admin", "slg": "acme"}
    id_token = verify_id_token(token["id_token"], keys, "e2e-app", token["access_token"])
    assert id_token["sub"] == "user_alice" and id_token["email"] == "alice@example.com"

    first_refresh = token["refresh_token"]
    new = s.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert new["refresh_token"] != first_refresh
    assert verify_access(new["access_token"], keys, "e2e-api")["sub"] == "user_alice"
    verify_id_token(new["id_token"], keys, "e2e-app", new["access_token"])

    with pytest.raises(OAuthError) as e:
        s.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert e.value.error == "invalid_grant", "reused refresh token"
    with pytest.raises(OAuthError) as e:
        s.refresh_token(metadata["token_endpoint"], refresh_token="made-up")
    assert e.value.error == "invalid_grant", "made-up refresh token"


def test_password_errors(metadata):
    s = session("e2e-app", "app-secret")
    for username, password in [("bob", "wrong"), ("mallory", "x")]:
        with pytest.raises(OAuthError) as e:
            s.fetch_token(metadata["token_endpoint"], username=username, password=password)
        assert e.value.error == "invalid_grant", username


def test_userinfo_introspection_revocation(metadata, keys):
    s = session("e2e-app", "app-secret", scope="openid")
    token = s.fetch_token(metadata["token_endpoint"], username="bob", password="hunter2")
    info = s.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.json()["sub"] == "user_bob"
    assert info.json()["email"] == "bob@example.com"

    res = s.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    body = res.json()
    assert body["active"] is True and body["sub"] == "user_bob" and body["client_id"] == "e2e-app"

    res = s.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
    assert res.status_code == 200
    res = s.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert res.json() == {"active": False}
    res = s.revoke_token(metadata["revocation_endpoint"], token="unknown-token")
    assert res.status_code == 200

    bad = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_authorization_code_with_pkce(metadata, keys):
    s = session(
        "e2e-app",
        "app-secret",
        scope="openid email",
        redirect_uri=APP_CALLBACK,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = s.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, login_hint="alice"
    )
    res = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert res.status_code == 302, res.text
    callback = res.headers["Location"]
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state] and query["iss"] == [ISSUER]

    token = s.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = verify_id_token(
        token["id_token"], keys, "e2e-app", token["access_token"], nonce=nonce, cls=CodeIDToken
    )
    assert claims["sub"] == "user_alice" and claims["nonce"] == nonce
    assert verify_access(token["access_token"], keys, "e2e-api")["email"] == "alice@example.com"

    with pytest.raises(OAuthError) as e:  # codes are single-use
        s.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert e.value.error == "invalid_grant"
