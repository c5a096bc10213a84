"""Helpers for the token lifecycle suite: an HTTP client for the
jwt-auth-service API of one issuer, an independent JWT verifier (PyJWT against
the JWKS the issuer serves), an SSE reader (httpx-sse) and bounded polling.

Every wait here has a deadline; nothing sleeps for a fixed time where it can
poll. See docs/lifecycle.md for what is asserted and why.
"""

import base64
import json
import os
import re
import time
import uuid
from datetime import datetime

import httpx
import jwt
import requests
from httpx_sse import connect_sse

BASE = os.environ.get("MOCK_IDP_URL", "http://127.0.0.1:8081").rstrip("/")
AUDIENCE = "jas-api"
# Must match tests/e2e/lifecycle/config.yaml.
THRESHOLD = 3  # auto_renew_threshold_seconds
INTERVAL = 1  # auto_renew_worker_interval
TIMEOUT = 10  # per HTTP request
HEARTBEAT = 10  # seconds between SSE heartbeats (the original's ticker)

CONNECTED = {"message": "Token update stream connected"}
MISSING_TOKEN = {
    "error": "Missing token",
    "message": "Provide 'Autonity-Token' header or 'Authorization: Bearer <token>'",
}
BAD_AUTH_HEADER = {
    "error": "Invalid Authorization header format",
    "message": "Expected 'Bearer <token>' or use 'Autonity-Token' header",
}
TOKEN_REVOKED = {"error": "Token has been revoked"}
PARENT_REVOKED = {"error": "Parent token has been revoked"}
NO_LATEST = {
    "error": "No auto-renewed token available",
    "message": "Server-side auto-renewal may not be enabled for this token",
}

# Claims of each kind of token, exactly (pkg/auth/jwt.go: RegisteredClaims
# without nbf, then network, rate_limit, user_id, token_type, parent_jti).
SINGLE_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "jti", "network", "rate_limit", "user_id"}
PARENT_CLAIMS = SINGLE_CLAIMS | {"token_type"}
CHILD_CLAIMS = PARENT_CLAIMS | {"parent_jti"}


def new_user():
    return f"e2e-{uuid.uuid4().hex[:12]}"


def now():
    return time.time()


def parse_time(value):
    """RFC 3339 (Go's time.Time JSON: up to nanoseconds, Z or an offset) -> epoch seconds."""
    assert isinstance(value, str), f"a time must be an RFC 3339 string, got {value!r}"
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", value)
    assert m, f"not an RFC 3339 time: {value!r}"
    zone = "+00:00" if m[3] == "Z" else m[3]
    whole = datetime.fromisoformat(m[1] + zone).timestamp()
    return whole + (float("0" + m[2]) if m[2] else 0.0)


def b64url_json(value):
    """base64url (padding optional) of a JSON document -> the document."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+=*", value), f"not base64url: {value[:40]!r}"
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def wait_for(probe, timeout, what, step=0.1):
    """Call probe() until it returns something truthy; fail after timeout seconds."""
    deadline = now() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if now() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def tamper(token):
    """The same token with one signature character changed."""
    head, payload, sig = token.split(".")
    flipped = ("A" if sig[5] != "A" else "B")
    return ".".join([head, payload, sig[:5] + flipped + sig[6:]])


def unsigned(claims):
    """An alg=none token with the given claims."""

    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(claims)}."


def payload(token):
    """The claims of a token without verifying it (for foreign tokens only)."""
    return jwt.decode(token, options={"verify_signature": False})


def error_json(res, status):
    """Assert status and the service's error shape; return the body."""
    assert res.status_code == status, f"expected {status}, got {res.status_code}: {res.text[:300]}"
    assert res.headers.get("content-type", "").startswith("application/json"), res.headers
    body = res.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert set(body) <= {"error", "message"}, f"error bodies are {{error, message}}: {body}"
    if "message" in body:
        assert isinstance(body["message"], str) and body["message"], "message is omitted when empty"
    return body


class Issuer:
    """One jwt-auth-service issuer mounted at BASE/name."""

    def __init__(self, name):
        self.name = name
        self.mount = f"{BASE}/{name}"
        self.iss = self.mount
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only: never a proxy from the environment
        self._keys = {}

    # --- plain HTTP -------------------------------------------------------
    def request(self, method, path, **kw):
        kw.setdefault("timeout", TIMEOUT)
        return self.http.request(method, self.mount + path, **kw)

    def post(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.request("POST", path, **kw)

    # --- the service's API ------------------------------------------------
    def single(self, **fields):
        fields.setdefault("user_id", new_user())
        res = self.post("/tokens", fields)
        assert res.status_code == 201, f"POST /tokens {fields}: {res.status_code} {res.text[:300]}"
        return res.json()

    def pair(self, **fields):
        fields.setdefault("user_id", new_user())
        res = self.post("/token-pairs", fields)
        assert res.status_code == 201, f"POST /token-pairs {fields}: {res.status_code} {res.text[:300]}"
        return res.json()

    def renew(self, parent_token):
        return self.post("/renew", {"parent_token": parent_token})

    def latest(self, parent_jti):
        return self.request("GET", "/tokens/latest", params={"parent_jti": parent_jti})

    def wait_latest(self, parent_jti, timeout=None, other_than=None):
        """The body of GET /tokens/latest once it is 200 (and names a child other than other_than)."""

        def probe():
            res = self.latest(parent_jti)
            if res.status_code == 200 and res.json()["child_jti"] != other_than:
                return res.json()
            assert res.status_code in (200, 404), f"latest: {res.status_code} {res.text[:300]}"
            return None

        return wait_for(probe, timeout or INTERVAL + 3, f"a latest child of {parent_jti}")

    def revoke(self, jti):
        return self.request("DELETE", f"/tokens/{jti}")

    def revoke_user(self, user_id):
        return self.request("DELETE", f"/users/{user_id}/tokens")

    def authorize(self, token=None, method="POST", headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.request(method, "/authorize", headers=h)

    def introspect(self, token):
        res = self.post("/introspect", data={"token": token})
        assert res.status_code == 200, f"introspect: {res.status_code} {res.text[:300]}"
        return res.json()

    def ext_authz(self, token=None, path="", method="GET", params=None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.request(method, "/ext-authz" + path, headers=headers, params=params)

    # --- verification with the served JWKS ---------------------------------
    def jwks(self):
        res = self.request("GET", "/.well-known/jwks.json")
        assert res.status_code == 200, f"JWKS: {res.status_code}"
        return res.json()

    def _key(self, kid):
        if kid not in self._keys:
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in self.jwks()["keys"]}
        assert kid in self._keys, f"kid {kid} is not in the JWKS of {self.mount}"
        return self._keys[kid]

    def verify(self, token, verify_exp=True):
        """(header, claims) of a token of this issuer, checked by PyJWT with the served key."""
        header = jwt.get_unverified_header(token)
        assert header.get("alg") == "RS256", header
        assert header.get("typ") == "JWT", header
        claims = jwt.decode(
            token,
            self._key(header.get("kid")).key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=self.iss,
            leeway=0,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
                "verify_exp": verify_exp,
            },
        )
        return header, claims

    def claims(self, token, verify_exp=True):
        return self.verify(token, verify_exp)[1]


class Stream:
    """GET <mount>/tokens/stream?parent_jti=... read with httpx-sse.

    next() blocks at most read_timeout seconds and returns (event, data, arrival)
    with data parsed as JSON, or None at the end of the stream.
    """

    def __init__(self, issuer, parent_jti, read_timeout=HEARTBEAT + 3):
        self.client = httpx.Client(timeout=httpx.Timeout(5.0, read=read_timeout), trust_env=False)
        self._cm = connect_sse(
            self.client, "GET", issuer.mount + "/tokens/stream", params={"parent_jti": parent_jti}
        )
        self.source = self._cm.__enter__()
        self.response = self.source.response
        self._events = self.source.iter_sse()
        self.closed = False

    def next(self):
        try:
            sse = next(self._events)
        except StopIteration:
            return None
        except httpx.ReadTimeout as e:
            raise AssertionError("no SSE event (not even a heartbeat) within the read timeout") from e
        except httpx.RemoteProtocolError:
            return None  # the server ended the stream
        data = json.loads(sse.data) if sse.data else None
        return sse.event, data, now()

    def until(self, predicate, timeout, what):
        """Read events until predicate(event, data, arrival) is true; return all events read."""
        deadline = now() + timeout
        seen = []
        while True:
            assert now() < deadline, f"timed out after {timeout} s waiting for {what}; got {[e[0] for e in seen]}"
            item = self.next()
            if item is None:
                raise AssertionError(f"the stream ended before {what}; got {[e[0] for e in seen]}")
            seen.append(item)
            if predicate(*item):
                return seen

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self._cm.__exit__(None, None, None)
            finally:
                self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- Prometheus text format ------------------------------------------------
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(path="/metrics"):
    """(types, samples) of BASE+path: types {family: type}, samples [(name, labels, value)]."""
    http = requests.Session()
    http.trust_env = False
    res = http.get(BASE + path, timeout=TIMEOUT)
    assert res.status_code == 200, f"{path}: {res.status_code}"
    types, samples = {}, []
    for line in res.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(None, 3)
            types[family] = kind.strip()
        elif line and not line.startswith("#"):
            m = _SAMPLE.match(line)
            assert m, f"not a Prometheus sample line: {line!r}"
            labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(m[2] or "")}
            samples.append((m[1], labels, float(m[3])))
    return types, samples


def series(samples, name, **labels):
    """Values of the samples of `name` whose labels include `labels`."""
    return [v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items())]


def abandon_stream(issuer, parent_jti):
    """Open the SSE stream on a raw socket, read the first bytes, drop the connection."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(issuer.mount)
    with socket.create_connection((u.hostname, u.port), timeout=5) as sock:
        sock.sendall(
            (
                f"GET {u.path}/tokens/stream?parent_jti={parent_jti} HTTP/1.1\r\n"
                f"Host: {u.netloc}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        first = sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 200"), first[:80]
