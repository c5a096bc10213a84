"""The plugin's own tests. They need the mock-idp binary (MOCK_IDP_BIN or
PATH) and PyJWT (`pip install '.[test]'`), and test the *installed* plugin:
pytest loads it through its `pytest11` entry point."""

import os

pytest_plugins = ["pytester"]

# These tests are about the fixture starting its own mock-idp: a MOCK_IDP_URL
# left in the environment (e.g. by a CI script) must not redirect them.
os.environ.pop("MOCK_IDP_URL", None)
os.environ.pop("MOCK_IDP_CONFIG", None)
