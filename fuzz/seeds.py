#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

    python3 fuzz/seeds.py        # rewrites the seed files (s-*), keeps others

The input layout of each target is documented in fuzz/src/lib.rs. Files the
fuzzer adds to a corpus directory (named by hash) are left alone; only the
seeds below are committed.
"""

import base64
import json
import os
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(kid, bits=2048, **over):
    n = bytes([0xC5]) + bytes((i * 7) % 256 for i in range(bits // 8 - 1))
    key = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64u(n), "e": "AQAB"}
    key.update(over)
    return key


def token_request():
    def t(sel, query, body):
        q = query.encode()
        return bytes([sel, len(q)]) + q + (body if isinstance(body, bytes) else body.encode())

    J, F, NONE, Q = 0, 1, 2, 0x80
    return {
        "json-sub": t(J, "", '{"sub":"x"}'),
        "json-all-fields": t(J, "", json.dumps({
            "sub": "u", "user": "alice", "preset": "plain", "org_id": "o", "org_role": "org:admin",
            "org_slug": "s", "aud": ["a", "b"], "iss": "http://i", "azp": "z", "scope": "a b",
            "expires_in": -5, "claims": {"x": 1, "exp": None}})),
        "json-persona": t(J, "", '{"user":"alice","claims":{"roles":["a"]}}'),
        "json-unknown-user": t(J, "", '{"user":"nobody"}'),
        "json-unknown-preset": t(J, "", '{"preset":"auth0"}'),
        "json-expires-max": t(J, "", '{"expires_in": 9223372036854775807}'),
        "json-expires-min": t(J, "", '{"expires_in": -9223372036854775808}'),
        "json-expires-100y+1": t(J, "", '{"expires_in": 3155760001}'),
        "json-expires-float": t(J, "", '{"expires_in": 1.5}'),
        "json-expires-huge-float": t(J, "", '{"expires_in": 1e300}'),
        "json-expires-string": t(J, "", '{"expires_in": "10"}'),
        "json-claims-array": t(J, "", '{"claims": [1]}'),
        "json-claims-exp": t(J, "", '{"claims": {"exp": 1e400, "iat": "x", "nbf": -1}}'),
        "json-aud-number": t(J, "", '{"aud": 5}'),
        "json-unknown-field": t(J, "", '{"foo": 1}'),
        "json-array": t(J, "", "[1,2]"),
        "json-broken": t(J, "", '{"sub":'),
        "json-deep": t(J, "", "[" * 200 + "]" * 200),
        "no-type-json": t(NONE, "", ' {"sub":"curl"}'),
        "form-mint": t(F, "", "sub=a&aud=x&aud=y&expires_in=60&claims=%7B%22a%22%3A1%7D"),
        "form-labelled-json": t(F, "", '{"sub":"a"}'),
        "form-client-credentials": t(F, "", "grant_type=client_credentials&client_id=c&client_secret=s&scope=a&audience=api"),
        "form-password": t(F, "", "grant_type=password&username=alice&password=pw&client_id=app&scope=openid%20offline_access"),
        "form-refresh-garbage": t(F, "", "grant_type=refresh_token&refresh_token=a.b.c&client_id=a"),
        "form-bogus-grant": t(F, "", "grant_type=bogus"),
        "form-bad-percent": t(F, "", "sub=%zz&x=%FF%FE"),
        "form-repeated": t(F, "", "grant_type=password&grant_type=password&username=a"),
        "query-only": t(Q | NONE, "sub=q&expires_in=10&aud=a&aud=b", ""),
        "query-claims-broken": t(Q | J, "claims=%7B", '{"sub":"b"}'),
        "query-and-form": t(Q | F, "sub=q", "org_id=o"),
        "text-plain": t(4, "", "sub=x"),
        "charset-form": t(5, "", "sub=cs"),
        "odd-content-type": t(7, "", "application/json\x00;{}"),
    }


def oauth_form():
    def f(op, body, auth=None):
        body = body if isinstance(body, str) else urllib.parse.urlencode(body)
        head = bytes([op | (0x80 if auth is not None else 0)])
        return head + ((auth + "\n") if auth is not None else "").encode() + body.encode()

    CLOSED = 0x40
    app = "Basic " + base64.b64encode(b"app:s3cret").decode()
    cb = "http://localhost/cb"
    return {
        "password": f(0, {"grant_type": "password", "username": "alice", "password": "pw", "client_id": "app", "scope": "openid offline_access"}),
        "password-wrong": f(0, {"grant_type": "password", "username": "alice", "password": "no", "client_id": "app"}),
        "refresh": f(0, {"grant_type": "refresh_token", "refresh_token": "@RT", "client_id": "app"}),
        "refresh-narrow": f(1, {"grant_type": "refresh_token", "refresh_token": "@RT", "client_id": "app", "scope": "openid"}),
        "refresh-widen": f(2, {"grant_type": "refresh_token", "refresh_token": "@RT", "client_id": "app", "scope": "admin"}),
        "refresh-other-client": f(0, {"grant_type": "refresh_token", "refresh_token": "@RT", "client_id": "other"}),
        "code": f(0, {"grant_type": "authorization_code", "code": "@CODE", "client_id": "app", "redirect_uri": cb}),
        "code-verifier": f(1, {"grant_type": "authorization_code", "code": "@CODE", "client_id": "app", "redirect_uri": cb, "code_verifier": "x" * 43}),
        "code-as-refresh": f(2, {"grant_type": "refresh_token", "refresh_token": "@CODE", "client_id": "app"}),
        "client-credentials": f(0, {"grant_type": "client_credentials", "client_id": "c", "claims": '{"a":[1,{"b":null}]}', "audience": "api"}),
        "repeated": f(0, "grant_type=password&username=a&username=b"),
        "closed-basic": f(CLOSED, {"grant_type": "client_credentials"}, auth=app),
        "closed-basic-wrong": f(CLOSED, {"grant_type": "password", "username": "bob"}, auth="Basic " + base64.b64encode(b"app:nope").decode()),
        "closed-basic-broken": f(CLOSED, {"grant_type": "client_credentials"}, auth="Basic %%%"),
        "closed-basic-and-form": f(CLOSED, {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret"}, auth=app),
        "closed-svc": f(CLOSED, {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "x", "scope": "read"}),
        "closed-svc-password": f(CLOSED, {"grant_type": "password", "client_id": "svc", "client_secret": "x", "username": "bob"}),
        "authorize": f(3, {"response_type": "code", "client_id": "app", "redirect_uri": cb, "login_hint": "bob", "state": "s", "nonce": "n",
                           "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}),
        "authorize-prompt-none": f(3, {"response_type": "code", "client_id": "app", "redirect_uri": cb, "prompt": "none"}),
        "authorize-bad-redirect": f(3, {"response_type": "code", "client_id": "app", "redirect_uri": "javascript:alert(1)"}),
        "authorize-token": f(3, {"response_type": "token", "client_id": "app", "redirect_uri": cb}),
        "closed-authorize-spa": f(CLOSED | 3, {"response_type": "code", "client_id": "spa", "redirect_uri": "http://localhost/spa", "login_hint": "carol",
                                               "code_challenge": "abc", "code_challenge_method": "plain"}),
        "login": f(4, {"response_type": "code", "client_id": "app", "redirect_uri": cb, "username": "alice", "password": "pw"}),
        "login-persona": f(4, {"response_type": "code", "client_id": "app", "redirect_uri": cb, "user": "carol", "claims": '{"x":1}'}),
        "login-cancel": f(4, {"response_type": "code", "client_id": "app", "redirect_uri": cb, "action": "cancel"}),
        "introspect-access": f(5, {"token": "@AT"}),
        "introspect-refresh": f(5, {"token": "@RT"}),
        "introspect-garbage": f(5, {"token": "eyJhbGciOiJub25lIn0.e30."}),
        "closed-introspect": f(CLOSED | 5, {"token": "@AT"}, auth=app),
        "revoke": f(6, {"token": "@AT"}),
        "userinfo": f(7, {"token": "@AT"}),
    }


def users_config():
    return {
        "users-yaml": "alice: {sub: a, org_id: o, org_role: admin, password: pw, claims: {email: a@x}}\nbob: {}\n",
        "users-json": '{"carol": {"sub": "u_c", "aud": ["a", "b"], "preset": "plain"}}',
        "users-empty-name": '"": {}\n',
        "users-unknown-field": "alice: {subject: x}\n",
        "users-bad-claims": "alice: {claims: [1]}\n",
        "config-full": """host: 127.0.0.1
port: 8081
issuer: https://issuer.example
audience: [api, web]
token_ttl: 600
kid: dev-key
peers: http://a:8081,http://b:8081
peer_refresh_sec: 5
peer_timeout_ms: 100
peer_retention_sec: 60
instance_id: r1
cors_origins: http://localhost:3000
public_url: http://localhost:8081/
log_format: json
dynamic_issuers: false
replay_capacity: 1000
header_timeout_sec: 5
idle_timeout_sec: 30
shutdown_grace_sec: 3
max_connections: 100
users:
  alice: {password: pw}
clients:
  - {client_id: app, client_secret: s, redirect_uris: [http://localhost/cb], grant_types: [authorization_code, refresh_token]}
issuers:
  tenant-a: {token_ttl: 60, audience: a, users: {bob: {}}, clients: [{client_id: t}]}
  tenant-b: {issuer: https://b.example}
""",
        "config-peers-list": "peers: [http://a:1, http://b:2]\n",
        "config-cluster-dns": "cluster: {discovery: dns, dns_name: 'mock-idp.svc:8081', refresh_sec: 3}\n",
        "config-cluster-dns-missing": "cluster: {discovery: dns}\n",
        "config-cluster-static": "cluster: {enabled: true, static_peers: [http://x:1], instance_id: c}\n",
        "config-bad-discovery": "cluster: {discovery: k8s}\n",
        "config-unknown-key": "hots: 1\n",
        "config-zero-ttl": "token_ttl: 0\n",
        "config-negative-ttl": "token_ttl: -9223372036854775808\n",
        "config-port-overflow": "port: 70000\n",
        "config-zero-capacity": "replay_capacity: 0\n",
        "config-zero-timeouts": "header_timeout_sec: 0\nidle_timeout_sec: 0\n",
        "config-huge-timeouts": "header_timeout_sec: 18446744073709551615\nshutdown_grace_sec: 18446744073709551615\n",
        "config-huge-peer-durations": "peers: http://a:1\npeer_refresh_sec: 18446744073709551615\npeer_timeout_ms: 18446744073709551615\n",
        "config-huge-ttl": "token_ttl: 9223372036854775807\nissuers: {t: {token_ttl: 9223372036854775807}}\n",
        "config-reserved-issuer": "issuers: {token: {}}\n",
        "config-bad-issuer-name": "issuers: {'a/b': {}}\n",
        "config-https-peer": "peers: https://a:1\n",
        "config-bad-url": "issuer: not a url\n",
        "config-peers-dns": "peers_dns: '[::1]:8081'\n",
        "config-users-file": "users_file: users.yaml\n",
        "yaml-anchors": "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
        "yaml-tags": "--- !custom\nhost: !!binary aGVsbG8=\n",
        "yaml-multi-doc": "host: a\n---\nhost: b\n",
        "yaml-null": "~\n",
        "yaml-list": "- 1\n- 2\n",
        "yaml-deep": "a: " + "[" * 300 + "]" * 300 + "\n",
    }


def peer_jwks():
    good = jwk("good")
    out = {
        "jwks-one": {"keys": [good]},
        "jwks-empty": {"keys": []},
        "jwks-crlf-kid": {"keys": [jwk("a\r\nFORGED line")]},
        "jwks-long-kid": {"keys": [jwk("k" * 300)]},
        "jwks-small": {"keys": [jwk("small", 1024)]},
        "jwks-big": {"keys": [jwk("big", 16384)]},
        "jwks-ec": {"keys": [{"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}]},
        "jwks-even-e": {"keys": [jwk("e", e="AQAA")]},
        "jwks-enc": {"keys": [jwk("enc", use="enc")]},
        "jwks-alg": {"keys": [jwk("alg", alg="HS256")]},
        "jwks-n-not-b64": {"keys": [jwk("n", n="***")]},
        "jwks-kid-number": {"keys": [{**jwk("x"), "kid": 7}]},
        "jwks-empty-kid": {"keys": [jwk(" ")]},
        "jwks-not-objects": {"keys": ["x", 1, None, []]},
        "jwks-keys-object": {"keys": {}},
        "cluster": {"issuers": {"": {"keys": [good]}, "tenant": {"keys": [jwk("t")]}}},
        "cluster-bad-names": {"issuers": {"token": {"keys": [good]}, "a b": {"keys": []}, "x\r\ny": {"keys": []}}},
        "cluster-not-jwks": {"issuers": {"t": {"nope": 1}, "u": 5}},
        "cluster-keys-shape": {"keys": [good]},
    }
    out = {k: json.dumps(v).encode() for k, v in out.items()}
    out.update({
        "broken": b'{"keys": [',
        "not-json": b"<html>oops</html>",
        "null": b"null",
        "array": b"[]",
        "bom": b"\xef\xbb\xbf{\"keys\": []}",
        "deep": b"[" * 200 + b"]" * 200,
    })
    return out


def main():
    for target, seeds in (("token_request", token_request()), ("oauth_form", oauth_form()),
                          ("users_config", users_config()), ("peer_jwks", peer_jwks())):
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith("s-"):
                os.remove(os.path.join(d, name))
        for name, data in seeds.items():
            with open(os.path.join(d, f"s-{name}"), "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
