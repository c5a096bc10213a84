"""Profile `google` through Google's own Python library, google-auth.

google.oauth2.id_token.verify_oauth2_token() is what Google's "verify the
Google ID token on your server side" guide calls. It downloads the
federated-signon certificates (kid -> X.509 PEM) from the module constant
_GOOGLE_OAUTH2_CERTS_URL, read at call time, so pointing that constant at
mock-idp's /oauth2/v1/certs keeps the whole check (signature, iat/exp,
audience, iss in accounts.google.com / https://accounts.google.com) offline.
verify_token(certs_url=.../oauth2/v3/certs) exercises its JWKS path too.
"""

import pytest
from google.auth import exceptions as gexc
from google.auth.transport import requests as google_requests
from google.oauth2 import id_token

from conftest import client, get_json, mint, mount, persona, tamper

NAME = "google"
ISS = "https://accounts.google.com"
WEB = client(NAME, "authorization_code")
ALICE = persona("alice")


@pytest.fixture()
def google_certs(monkeypatch):
    monkeypatch.setattr(id_token, "_GOOGLE_OAUTH2_CERTS_URL", f"{mount(NAME)}/oauth2/v1/certs")


REQUEST = google_requests.Request()


def test_v1_certs_are_pem_certificates_keyed_by_kid():
    certs = get_json(f"{mount(NAME)}/oauth2/v1/certs")
    jwks = get_json(f"{mount(NAME)}/oauth2/v3/certs")
    assert sorted(certs) == sorted(k["kid"] for k in jwks["keys"])
    assert all(v.startswith("-----BEGIN CERTIFICATE-----") for v in certs.values())


def test_verify_oauth2_token_gives_the_persona(google_certs):
    token = mint(mount(NAME), user="alice", aud=WEB["client_id"])
    info = id_token.verify_oauth2_token(token, REQUEST, audience=WEB["client_id"])
    assert info["iss"] == ISS
    assert info["sub"] == ALICE["sub"]
    assert info["email"] == ALICE["email"]
    assert info["email_verified"] is True
    assert info["name"] == ALICE["name"]
    assert info["given_name"] == ALICE["given_name"]
    assert info["family_name"] == ALICE["family_name"]
    assert info["hd"] == ALICE["email"].split("@")[1]


def test_verify_token_with_the_v3_jwks():
    token = mint(mount(NAME), user="bob", aud=WEB["client_id"])
    info = id_token.verify_token(token, REQUEST, audience=WEB["client_id"], certs_url=f"{mount(NAME)}/oauth2/v3/certs")
    assert info["sub"] == persona("bob")["sub"]
    assert "hd" not in info, "no hosted domain without an organization"


@pytest.mark.parametrize(
    "what,fields,error",
    [
        ("expired", {"expires_in": -3600}, "expired"),
        ("wrong issuer", {"iss": "https://accounts.example"}, "Wrong issuer"),
        ("wrong audience", {"aud": "someone-else.apps.googleusercontent.com"}, "audience"),
    ],
)
def test_broken_tokens_are_refused(google_certs, what, fields, error):
    token = mint(mount(NAME), **{"user": "alice", "aud": WEB["client_id"], **fields})
    with pytest.raises((ValueError, gexc.GoogleAuthError)) as e:
        id_token.verify_oauth2_token(token, REQUEST, audience=WEB["client_id"])
    assert error.lower() in str(e.value).lower(), f"{what}: {e.value}"


def test_tampered_and_foreign_tokens_are_refused(google_certs):
    good = mint(mount(NAME), user="alice", aud=WEB["client_id"])
    id_token.verify_oauth2_token(good, REQUEST, audience=WEB["client_id"])
    with pytest.raises(ValueError, match="signature"):
        id_token.verify_oauth2_token(tamper(good), REQUEST, audience=WEB["client_id"])
    foreign = mint(mount("plain"), user="alice", iss=ISS, aud=WEB["client_id"])
    with pytest.raises(ValueError, match="not found|signature"):
        id_token.verify_oauth2_token(foreign, REQUEST, audience=WEB["client_id"])
