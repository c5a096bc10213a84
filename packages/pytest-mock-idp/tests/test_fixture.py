"""The session fixture against a real mock-idp: tokens verified with PyJWT
against the JWKS the server serves."""

import json
import re
import urllib.error
import urllib.request

import jwt
import pytest

from pytest_mock_idp import Issuer, MockIdp, MockIdpError


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def verify(token, issuer, **options):
    """Decode `token` with the key the issuer's served JWKS has for its kid."""
    key = jwt.PyJWKClient(issuer.jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], **options)


def test_the_fixture_started_a_mock_idp_on_a_free_loopback_port(mock_idp):
    assert isinstance(mock_idp, MockIdp)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", mock_idp.url)
    assert mock_idp.pid is not None
    assert mock_idp.jwks_url == f"{mock_idp.url}/.well-known/jwks.json"
    assert get_json(f"{mock_idp.url}/health") == {"status": "ok"}
    discovery = get_json(mock_idp.discovery_url)
    assert discovery["jwks_uri"] == mock_idp.jwks_url
    assert discovery["token_endpoint"] == mock_idp.token_url


def test_token_verifies_against_the_served_jwks(mock_idp):
    token = mock_idp.token(sub="user_x", aud="my-api", org_id="org_9", org_role="org:admin",
                           claims={"email": "x@example.com"})
    claims = verify(token, mock_idp, audience="my-api")
    assert claims["sub"] == "user_x"
    assert claims["email"] == "x@example.com"
    assert claims["o"] == {"id": "org_9", "rol": "admin"}
    assert claims["iss"] == get_json(mock_idp.discovery_url)["issuer"]
    kids = [k["kid"] for k in get_json(mock_idp.jwks_url)["keys"]]
    assert jwt.get_unverified_header(token)["kid"] in kids


def test_an_expired_token_is_expired(mock_idp):
    token = mock_idp.token(sub="user_x", expires_in=-60)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token, mock_idp)


def test_a_refused_request_raises_with_the_servers_error(mock_idp):
    with pytest.raises(MockIdpError) as caught:
        mock_idp.token("nobody")
    err = caught.value
    assert (err.status, err.error) == (400, "invalid_request")
    assert 'unknown user "nobody"' in err.error_description
    assert f"mock-idp POST {mock_idp.token_url} for user 'nobody' answered 400: invalid_request: user: unknown user" in str(err)

    with pytest.raises(MockIdpError, match="expires_in"):
        mock_idp.token(sub="user_x", expires_in="soon")


def test_issuer_names_are_checked_before_any_request(mock_idp):
    for bad in ["", "../token", "a/b", "-x", "x" * 65, "a b"]:
        with pytest.raises(ValueError, match="issuer name"):
            mock_idp.issuer(bad)
    team = mock_idp.issuer("team-a")
    assert isinstance(team, Issuer)
    assert team.url == f"{mock_idp.url}/team-a"
    assert team.jwks_url == f"{mock_idp.url}/team-a/.well-known/jwks.json"


def serves_named_issuers(idp):
    try:
        get_json(f"{idp.url}/issuers")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return False
        raise
    return True


def test_a_named_issuer_mints_with_its_own_key(mock_idp):
    if not serves_named_issuers(mock_idp):
        pytest.skip("this mock-idp binary does not serve named issuers (GET /issuers is 404)")
    team = mock_idp.issuer("team-a")
    token = team.token(sub="svc_a", aud="api")
    claims = verify(token, team, audience="api")
    assert claims["sub"] == "svc_a"
    assert claims["iss"] == team.url
    # Not with the root's keys, and a root token not with the issuer's.
    with pytest.raises(jwt.PyJWKClientError):
        verify(token, mock_idp, audience="api")
    with pytest.raises(jwt.PyJWKClientError):
        verify(mock_idp.token(sub="root_user"), team)
    # A refused request names the issuer's endpoint.
    with pytest.raises(MockIdpError, match=re.escape(f"{team.url}/token")):
        team.token("nobody")
