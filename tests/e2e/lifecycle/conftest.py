"""Token lifecycle service (profile `jwt-auth-service`) end to end, driven the
way klazomenai/jwt-auth-service's own clients drive it: token pairs, renewal,
polling and Server-Sent Events, revocation, Envoy/Istio external authorization.
Every token is verified here with PyJWT against the JWKS the issuer serves.

    MOCK_IDP_URL=http://127.0.0.1:PORT python3 -m pytest -v tests/e2e/lifecycle

mock-idp must run with tests/e2e/lifecycle/config.yaml and neither ISSUER nor
PUBLIC_URL set (scripts/ci/lifecycle.sh does all of this). The expected
behaviour is docs/lifecycle.md.

Markers (all run by default):
  extension  required by issue 13 / CONTRACT.md beyond what the original does
             (full cascade, children expire with parents, ext-authz, ...)
  proposal   mock-idp's own choices beyond CONTRACT.md, documented in
             docs/lifecycle.md
             (SSE `revoked`/`expired` events, per-issuer metric label, ...);
             deselect with -m "not proposal"
"""

import pytest

from support import Issuer


def pytest_configure(config):
    config.addinivalue_line("markers", "extension: required by issue 13 beyond the original service")
    config.addinivalue_line("markers", "proposal: mock-idp's own choices beyond CONTRACT.md (docs/lifecycle.md)")


@pytest.fixture(scope="session")
def jas():
    return Issuer("jas")


@pytest.fixture(scope="session")
def jas2():
    return Issuer("jas2")


@pytest.fixture(scope="session")
def jasm():
    return Issuer("jasm")
