"""The plugin as pytest loads it (pytester): options, config file, start-up
errors, and the server's end with the session."""

import json
import os
import socket
import urllib.parse

import pytest

CONFIG = """\
users:
  alice: {sub: user_alice, org_id: org_1, org_role: admin, org_slug: acme,
          claims: {email: alice@example.com}}
  bob: {sub: user_bob}
"""

# The inner session's test: alice from the config file, claims read back
# unverified (the outer tests verify signatures against the served JWKS).
ALICE_TEST = """
import base64, json

def test_alice(mock_idp):
    token = mock_idp.token("alice", aud="my-api")
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["sub"], claims["email"], claims["aud"]) == ("user_alice", "alice@example.com", "my-api")
"""


def test_help_lists_the_option(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*mock-idp*", "*--mock-idp-config=FILE*"])


def test_config_file_from_the_option(pytester):
    pytester.makefile(".yaml", **{"mock-idp": CONFIG})
    pytester.makepyfile(ALICE_TEST)
    result = pytester.runpytest("--mock-idp-config", "mock-idp.yaml")
    result.assert_outcomes(passed=1)


def test_config_file_from_the_environment(pytester, monkeypatch):
    pytester.makefile(".yaml", **{"mock-idp": CONFIG})
    pytester.makepyfile(ALICE_TEST)
    monkeypatch.setenv("MOCK_IDP_CONFIG", "mock-idp.yaml")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_the_option_wins_over_the_environment(pytester, monkeypatch):
    pytester.makefile(".yaml", **{"mock-idp": CONFIG})
    pytester.makepyfile(ALICE_TEST)
    monkeypatch.setenv("MOCK_IDP_CONFIG", "missing.yaml")
    result = pytester.runpytest("--mock-idp-config", "mock-idp.yaml")
    result.assert_outcomes(passed=1)


def test_without_a_config_a_persona_is_refused_with_the_servers_message(pytester):
    pytester.makepyfile(ALICE_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*MockIdpError: mock-idp POST http://127.0.0.1:*/token for user 'alice' answered 400: invalid_request: user: unknown user*"])


def test_one_server_per_session_stopped_at_its_end(pytester):
    record = pytester.path / "seen.jsonl"
    pytester.makepyfile(
        f"""
        import json

        def test_a(mock_idp):
            with open({str(record)!r}, "a") as f:
                f.write(json.dumps([mock_idp.url, mock_idp.pid]) + "\\n")

        def test_b(mock_idp):
            test_a(mock_idp)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    seen = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(seen) == 2 and seen[0] == seen[1], "one mock-idp for the session"
    url, pid = seen[0]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    port = urllib.parse.urlsplit(url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_config_mock_idp_refuses_is_reported_with_its_message(pytester):
    pytester.makefile(".yaml", **{"mock-idp": "bogus_key: 1\n"})
    pytester.makepyfile("def test_x(mock_idp):\n    pass\n")
    result = pytester.runpytest("--mock-idp-config", "mock-idp.yaml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*MockIdpError: mock-idp (*--config*mock-idp.yaml) exited before serving (exit code *)*"])
    result.stdout.fnmatch_lines(["*bogus_key*"])


def test_a_missing_binary_is_reported(pytester, monkeypatch):
    monkeypatch.setenv("MOCK_IDP_BIN", "/nonexistent/mock-idp")
    pytester.makepyfile("def test_x(mock_idp):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*MockIdpError: mock-idp binary not found: '/nonexistent/mock-idp'. Set MOCK_IDP_BIN*"])


def test_mock_idp_url_uses_a_running_server(pytester, monkeypatch, mock_idp):
    monkeypatch.setenv("MOCK_IDP_URL", mock_idp.url + "/")
    pytester.makepyfile(
        f"""
        def test_x(mock_idp):
            assert mock_idp.url == {mock_idp.url!r}
            assert mock_idp.pid is None
            assert mock_idp.token(sub="user_y")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
