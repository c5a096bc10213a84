"""The pytest plugin (entry point ``pytest11``): the ``mock_idp`` fixture.

- Binary: ``$MOCK_IDP_BIN``, else ``mock-idp`` on PATH.
- Config file: ``--mock-idp-config FILE``, else ``$MOCK_IDP_CONFIG`` (passed
  as ``--config``; a relative path is relative to where pytest was invoked).
- ``$MOCK_IDP_URL``: use that running mock-idp instead of starting one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Optional

import pytest

from ._server import MockIdp


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-idp", "mock-idp (the mock_idp fixture)")
    group.addoption(
        "--mock-idp-config",
        metavar="FILE",
        default=None,
        help="mock-idp config file (YAML: users, clients, issuers, ...) for the mock_idp fixture "
        "[default: $MOCK_IDP_CONFIG, else none]",
    )


def _config_file(config: pytest.Config) -> Optional[Path]:
    value = config.getoption("mock_idp_config") or os.environ.get("MOCK_IDP_CONFIG")
    if not value:
        return None
    return Path(config.invocation_params.dir, value)


@pytest.fixture(scope="session")
def mock_idp(request: pytest.FixtureRequest) -> Iterator[MockIdp]:
    """A mock-idp for the test session, on a free 127.0.0.1 port.

    ``.url``, ``.jwks_url``, ``.token(user=None, **fields)`` (the access
    token string), ``.issuer(name)`` (the same for the named issuer at
    ``{url}/{name}``). Started with this process's environment, so
    ``USERS_FILE``, ``ISSUER``, ... apply; stopped at the end of the session.
    """
    external = os.environ.get("MOCK_IDP_URL")
    if external:
        yield MockIdp(external)
        return
    idp = MockIdp.start(config=_config_file(request.config))
    try:
        yield idp
    finally:
        idp.stop()
