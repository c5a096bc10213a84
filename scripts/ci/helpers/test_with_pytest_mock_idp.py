"""The helpers stage's test for pytest-mock-idp, run in a fresh venv that
installed the built wheel (scripts/ci/helpers.sh), with
--mock-idp-config mock-idp.yaml. Tokens are verified with PyJWT against
the JWKS the server serves."""

import jwt
import pytest

from pytest_mock_idp import MockIdpError


def verify(token, jwks_url, **options):
    key = jwt.PyJWKClient(jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], **options)


def test_persona_token_verifies_against_the_served_jwks(mock_idp):
    token = mock_idp.token("alice", aud="my-api")
    claims = verify(token, mock_idp.jwks_url, audience="my-api", issuer="https://issuer.helpers.test")
    assert claims["sub"] == "user_alice"
    assert claims["email"] == "alice@example.com"
    assert claims["o"] == {"id": "org_1", "rol": "admin", "slg": "acme"}


def test_fields_without_a_persona(mock_idp):
    claims = verify(mock_idp.token(sub="user_x", preset="plain", scope="read"), mock_idp.jwks_url,
                    issuer="https://issuer.helpers.test")
    assert (claims["sub"], claims["scope"]) == ("user_x", "read")
    assert "o" not in claims


def test_refusal_carries_the_servers_message(mock_idp):
    with pytest.raises(MockIdpError, match='unknown user "mallory"; known users: alice'):
        mock_idp.token("mallory")
