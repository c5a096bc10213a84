"""Shared helpers of the Python side of the toolkit e2e suite: HTTP calls to
the mock-idp under test, the PASS/FAIL reporter and JWT peeking.

Only the standard library here: the verifiers (PyJWT, joserfc) are imported
by the scripts that test them, so a helper can never verify by accident.
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ.get("MOCK_IDP_URL", "").rstrip("/")
if not BASE:
    sys.exit("MOCK_IDP_URL is not set (the base URL of the mock-idp under test)")
# The root issuer's iss (--issuer); named issuers' iss is BASE/{name}.
ROOT_ISS = os.environ.get("TOOLKIT_ROOT_ISS", BASE)
AUDIENCE = "api"
ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
# What every algorithm's JWK must look like: (kty, crv, key size in bytes).
JWK_SHAPE = {
    "RS256": ("RSA", None, 256),
    "RS384": ("RSA", None, 256),
    "RS512": ("RSA", None, 256),
    "PS256": ("RSA", None, 256),
    "PS384": ("RSA", None, 256),
    "PS512": ("RSA", None, 256),
    "ES256": ("EC", "P-256", 32),
    "ES384": ("EC", "P-384", 48),
    "EdDSA": ("OKP", "Ed25519", 32),
}
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")

def mount(issuer):
    """The path prefix of an issuer ("" for the root)."""
    return f"/{issuer}" if issuer else ""


def iss_of(issuer):
    return f"{BASE}/{issuer}" if issuer else ROOT_ISS


def jwks_path(issuer):
    return f"/{issuer}/jwks" if issuer else "/.well-known/jwks.json"


# ADMIN_TOKEN of the server, if it has one: sent on every `_admin` call.
ADMIN_TOKEN = os.environ.get("TOOLKIT_ADMIN_TOKEN", "")


def http(method, path, body=None, timeout=10, admin_auth=True):
    """(status, parsed JSON or text) of one call; never raises on HTTP errors.
    `_admin` calls carry the admin token unless admin_auth is False."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if admin_auth and ADMIN_TOKEN and "/_admin" in path:
        req.add_header("authorization", f"Bearer {ADMIN_TOKEN}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def get(path):
    status, body = http("GET", path)
    if status != 200:
        raise AssertionError(f"GET {path}: {status} {body}")
    return body


def mint(issuer, body):
    """A token from POST <mount>/token (JSON body); fails loudly otherwise."""
    status, res = http("POST", f"{mount(issuer)}/token", body)
    if status != 200 or not isinstance(res, dict) or "access_token" not in res:
        raise AssertionError(f"POST {mount(issuer)}/token {body}: {status} {res}")
    return res["access_token"]


def b64d(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def peek(token):
    """(header, claims) without verifying anything."""
    head, payload = token.split(".")[:2]
    return json.loads(b64d(head)), json.loads(b64d(payload))


class Report:
    """One PASS/FAIL line per check, a summary line at the end."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.started = time.monotonic()

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {label}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {label}: {detail}", flush=True)
        return ok

    def run(self, label, fn):
        """Runs fn() -> (ok, detail); an exception is a failure naming it."""
        try:
            ok, detail = fn()
        except Exception as e:  # noqa: BLE001 - a check that crashed is a failed check
            ok, detail = False, f"{type(e).__name__}: {e}"
        return self.check(label, ok, detail)

    def finish(self):
        secs = time.monotonic() - self.started
        print(f"{self.name} took {secs:.1f} s", flush=True)
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1
