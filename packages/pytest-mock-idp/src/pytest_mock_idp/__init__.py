"""pytest-mock-idp: a mock-idp (mock OAuth 2.0 / OpenID Connect provider) for pytest.

The ``mock_idp`` session fixture (see :mod:`pytest_mock_idp.plugin`) is a
:class:`MockIdp`: ``.url``, ``.jwks_url``, ``.token(user=None, **fields)``,
``.issuer(name)``.
"""

from ._server import Issuer, MockIdp, MockIdpError

# Shown as pytest_mock_idp.MockIdpError in tracebacks, where users import it from.
for _cls in (Issuer, MockIdp, MockIdpError):
    _cls.__module__ = __name__
del _cls

__all__ = ["Issuer", "MockIdp", "MockIdpError"]
__version__ = "0.1.0"
