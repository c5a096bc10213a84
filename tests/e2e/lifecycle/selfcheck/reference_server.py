"""Reference implementation of docs/lifecycle-spec.md in Python, only to check
that the e2e suite runs and can fail; not mock-idp, delete once it exists.

    MOCK_IDP_BIN=tests/e2e/lifecycle/selfcheck/fake-mock-idp bash scripts/ci/lifecycle.sh
Env toggles to simulate defects: REF_NO_CASCADE, REF_BARE_RENEWED, REF_POLL10,
REF_NO_CLAMP, REF_NO_STOP_ON_EXPIRY, REF_NO_ISSUER_LABEL, REF_AUTHZ_NO_PARENT_CHECK.
"""

import base64
import json
import os
import queue
import select
import socket
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

FLAG = lambda name: os.environ.get(name) == "1"  # noqa: E731
THRESHOLD, INTERVAL, HEARTBEAT = 3, 1, 10
AUD = "jas-api"


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Key:
    def __init__(self):
        self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        nums = self.priv.public_key().public_numbers()

        def b64(i):
            b = i.to_bytes((i.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

        self.jwk = {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": b64(nums.n), "e": b64(nums.e)}

    def sign(self, claims):
        return jwt.encode(claims, self.priv, algorithm="RS256", headers={"kid": self.kid})

    def check(self, token):
        h = jwt.get_unverified_header(token)
        if h.get("alg") != "RS256" or h.get("kid") != self.kid:
            raise jwt.InvalidTokenError("unexpected key or alg")
        return jwt.decode(token, self.priv.public_key(), algorithms=["RS256"], options={"verify_aud": False})


class Issuer:
    def __init__(self, name):
        self.name, self.key, self.lock = name, Key(), threading.RLock()
        self.revoked, self.users, self.children = set(), {}, {}
        self.renewals, self.latest, self.subs = {}, {}, {}
        self.streams = 0
        threading.Thread(target=self.worker, daemon=True).start()

    def mint(self, iss, user, network, rate, lifetime, token_type=None, parent=None, exp_cap=None):
        now = int(time.time())
        exp = now + lifetime
        if exp_cap is not None and not FLAG("REF_NO_CLAMP"):
            exp = min(exp, exp_cap)
        jti = str(uuid.uuid4())
        c = {"iss": iss, "sub": f"user_{user}", "aud": [AUD], "exp": exp, "iat": now, "jti": jti,
             "network": network, "user_id": user}
        if rate:
            c["rate_limit"] = rate
        if token_type:
            c["token_type"] = token_type
        if parent:
            c["parent_jti"] = parent
        with self.lock:
            self.users.setdefault(user, set()).add(jti)
            if parent:
                self.children.setdefault(parent, set()).add(jti)
        return self.key.sign(c), jti, exp, now

    def is_revoked(self, claims):
        with self.lock:
            if claims["jti"] in self.revoked:
                return "self"
            if claims.get("parent_jti") in self.revoked and not FLAG("REF_AUTHZ_NO_PARENT_CHECK"):
                return "parent"
        return None

    def notify(self, parent, item):
        for q in list(self.subs.get(parent, [])):
            q.put(item)

    def revoke(self, jti):
        with self.lock:
            self.revoked.add(jti)
            if not FLAG("REF_NO_CASCADE"):
                self.revoked |= self.children.get(jti, set())
            if jti in self.renewals:
                del self.renewals[jti]
                self.latest.pop(jti, None)
                self.notify(jti, ("revoked", None))

    def worker(self):
        while True:
            time.sleep(INTERVAL)
            now = time.time()
            with self.lock:
                for pj, cfg in list(self.renewals.items()):
                    if now >= cfg["parent_exp"] and not FLAG("REF_NO_STOP_ON_EXPIRY"):
                        del self.renewals[pj]
                        self.notify(pj, ("expired", None))
                        continue
                    lt = self.latest.get(pj)
                    if lt and lt["child_jti"] not in self.revoked and lt["exp"] - now > THRESHOLD:
                        continue
                    if FLAG("REF_BARE_RENEWED"):
                        tok, cj, exp, iat = self.mint(cfg["iss"], cfg["user"], cfg["network"], cfg["rate"], cfg["child"])
                    else:
                        tok, cj, exp, iat = self.mint(cfg["iss"], cfg["user"], cfg["network"], cfg["rate"], cfg["child"],
                                                      "child", pj, cfg["parent_exp"])
                    self.latest[pj] = {"child_token": tok, "child_jti": cj, "exp": exp, "renewed_at": time.time()}
                    if not FLAG("REF_POLL10"):
                        self.notify(pj, ("token", self.latest_body(pj)))

    def latest_body(self, pj):
        lt = self.latest[pj]
        return {"child_token": lt["child_token"], "child_jti": lt["child_jti"],
                "expires_at": rfc3339(lt["exp"]), "renewed_at": rfc3339(lt["renewed_at"])}


ISSUERS = {n: Issuer(n) for n in ("jas", "jas2", "jasm")}
ROOT = Key()


class ApiError(Exception):
    def __init__(self, status, error, message=""):
        self.status, self.error, self.message = status, error, message


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body=None, headers=None, ctype="application/json"):
        data = b"" if body is None else (json.dumps(body) + "\n").encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            v = json.loads(raw)
        except Exception as e:
            raise ApiError(400, "Invalid request body", str(e) or "EOF")
        if not isinstance(v, dict):
            raise ApiError(400, "Invalid request body", "json: cannot unmarshal into Go value")
        return v

    def handle_any(self):
        u = urlsplit(self.path)
        self.query = parse_qs(u.query)
        parts = u.path.split("/")
        try:
            if len(parts) > 1 and parts[1] in ISSUERS:
                iss = ISSUERS[parts[1]]
                sub = "/" + "/".join(parts[2:])
                return self.issuer_route(iss, sub, f"http://{self.headers['Host']}/{iss.name}")
            return self.root_route(u.path)
        except ApiError as e:
            body = {"error": e.error}
            if e.message:
                body["message"] = e.message
            self.send(e.status, body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = handle_any

    def root_route(self, path):
        if path == "/token" and self.command == "POST":
            b = self.body_json()
            now = int(time.time())
            c = {"iss": "https://issuer.local", "sub": b.get("sub", "user_default"), "iat": now, "exp": now + 900,
                 "jti": uuid.uuid4().hex}
            return self.send(200, {"access_token": ROOT.sign(c), "token_type": "Bearer", "expires_in": 900})
        if path == "/health":
            return self.send(200, {"status": "ok"})
        if path == "/metrics":
            return self.metrics()
        if path == "/ext-authz" or path.startswith("/ext-authz/"):
            return self.ext_authz(None, ROOT)
        self.send(404, {"error": "not_found"})

    def metrics(self):
        out = ["# TYPE mock_idp_jwks_requests_total counter", "mock_idp_jwks_requests_total 0"]
        fams = {"jwt_parent_token_expiry_timestamp_seconds": [], "jwt_parent_token_issued_timestamp_seconds": [],
                "jwt_parent_tokens_active_total": [], "jwt_revoked_tokens_total": [], "mock_idp_lifecycle_sse_streams": []}
        for iss in ISSUERS.values():
            with iss.lock:
                il = "" if FLAG("REF_NO_ISSUER_LABEL") else f'issuer="{iss.name}",'
                for pj, cfg in iss.renewals.items():
                    lab = f'{{{il}user_id="{cfg["user"]}",network="{cfg["network"]}",parent_jti="{pj}"}}'
                    fams["jwt_parent_token_expiry_timestamp_seconds"].append(f"{lab} {cfg['parent_exp']}")
                    fams["jwt_parent_token_issued_timestamp_seconds"].append(f"{lab} {cfg['iat']}")
                fams["jwt_parent_tokens_active_total"].append(f'{{{il.rstrip(",")}}} {len(iss.renewals)}')
                fams["jwt_revoked_tokens_total"].append(f'{{{il.rstrip(",")}}} {len(iss.revoked)}')
                fams["mock_idp_lifecycle_sse_streams"].append(f'{{issuer="{iss.name}"}} {iss.streams}')
        for f, lines in fams.items():
            out.append(f"# TYPE {f} gauge")
            out += [f + line for line in lines]
        data = ("\n".join(out) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def issuer_route(self, iss, sub, iss_url):
        m = self.command
        if sub == "/.well-known/jwks.json":
            return self.send(200, {"keys": [iss.key.jwk]})
        if sub in ("/health", "/healthz"):
            return self.send(200, {"status": "healthy", "redis": "connected"})
        if sub == "/token" and m == "POST":
            b = self.body_json()
            now = int(time.time())
            c = {"iss": iss_url, "sub": b.get("sub", "user_default"), "aud": [AUD], "iat": now, "exp": now + 900,
                 "jti": uuid.uuid4().hex}
            if b.get("scope"):
                c["scope"] = b["scope"]
            c.update(b.get("claims") or {})
            return self.send(200, {"access_token": iss.key.sign(c), "token_type": "Bearer", "expires_in": 900})
        if sub == "/introspect" and m == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            tok = parse_qs(self.rfile.read(n).decode()).get("token", [""])[0]
            try:
                c = iss.key.check(tok)
            except Exception:
                return self.send(200, {"active": False})
            if iss.is_revoked(c):
                return self.send(200, {"active": False})
            return self.send(200, {"active": True, **c})
        if sub == "/ext-authz" or sub.startswith("/ext-authz/"):
            return self.ext_authz(iss, iss.key)
        if sub == "/tokens" and m == "POST":
            return self.create_single(iss, iss_url)
        if sub == "/token-pairs" and m == "POST":
            return self.create_pair(iss, iss_url)
        if sub == "/renew" and m == "POST":
            return self.renew(iss)
        if sub == "/tokens/latest" and m == "GET":
            pj = self.need_parent()
            with iss.lock:
                if pj in iss.revoked:
                    raise ApiError(403, "Parent token has been revoked")
                if pj not in iss.latest:
                    raise ApiError(404, "No auto-renewed token available",
                                   "Server-side auto-renewal may not be enabled for this token")
                return self.send(200, iss.latest_body(pj))
        if sub == "/tokens/stream" and m == "GET":
            return self.stream(iss)
        mm = re.fullmatch(r"/tokens/([^/]+)", sub)
        if mm and m == "DELETE":
            iss.revoke(mm[1])
            return self.send(204)
        mm = re.fullmatch(r"/users/([^/]+)/tokens", sub)
        if mm and m == "DELETE":
            with iss.lock:
                for j in list(iss.users.get(mm[1], ())):
                    iss.revoke(j)
            return self.send(204)
        if sub == "/authorize" and m in ("GET", "POST", "HEAD"):
            return self.authorize(iss)
        self.send(404, {"error": "not_found"})

    def need_parent(self):
        pj = self.query.get("parent_jti", [""])[0]
        if not pj:
            raise ApiError(400, "parent_jti query parameter is required")
        return pj

    @staticmethod
    def int_field(b, name):
        v = b.get(name, 0)
        if v is None:
            return 0
        if isinstance(v, bool) or not isinstance(v, int):
            raise ApiError(400, "Invalid request body", f"json: cannot unmarshal into field {name} of type int")
        return v

    def common(self, b):
        user = b.get("user_id", "")
        if not isinstance(user, str) or not isinstance(b.get("network", ""), str):
            raise ApiError(400, "Invalid request body", "json: cannot unmarshal into field of type string")
        rate = self.int_field(b, "rate_limit")
        if "include_child" in b and not isinstance(b["include_child"], bool):
            raise ApiError(400, "Invalid request body", "json: cannot unmarshal into field include_child of type bool")
        for f in ("expiry_days", "parent_expiry_hours", "expires_in", "parent_expires_in", "child_expires_in"):
            self.int_field(b, f)
        if not user:
            raise ApiError(400, "user_id is required")
        return user, b.get("network") or "default", rate or 100

    def create_single(self, iss, iss_url):
        b = self.body_json()
        user, net, rate = self.common(b)
        life = 3600
        if b.get("expiry_days"):
            life = b["expiry_days"] * 86400
        if b.get("expires_in"):
            life = b["expires_in"]
        tok, jti, exp, _ = iss.mint(iss_url, user, net, rate, life)
        self.send(201, {"token": tok, "token_id": jti, "expires_at": rfc3339(exp)})

    def create_pair(self, iss, iss_url):
        b = self.body_json()
        user, net, rate = self.common(b)
        h = b.get("parent_expiry_hours", 0) or 0
        if h < 0 or h > 720:
            raise ApiError(400, "parent_expiry_hours must be between 0 and 720")
        plife = h * 3600 if h else 720 * 3600
        if b.get("parent_expires_in"):
            plife = b["parent_expires_in"]
        clife = b.get("child_expires_in") or 900
        ptok, pj, pexp, piat = iss.mint(iss_url, user, net, rate, plife, "parent")
        body = {"parent_token": ptok, "parent_jti": pj, "parent_expiry": plife}
        if b.get("include_child"):
            ctok, cj, _, _ = iss.mint(iss_url, user, net, rate, clife, "child", pj, pexp)
            body.update(child_token=ctok, child_jti=cj, child_expiry=clife)
        with iss.lock:
            iss.renewals[pj] = {"iss": iss_url, "user": user, "network": net, "rate": rate, "child": clife,
                                "parent_exp": pexp, "iat": piat}
        self.send(201, body)

    def renew(self, iss):
        b = self.body_json()
        pt = b.get("parent_token")
        if not isinstance(pt, str):
            if pt is None:
                raise ApiError(400, "parent_token is required")
            raise ApiError(400, "Invalid request body", "json: cannot unmarshal")
        if not pt:
            raise ApiError(400, "parent_token is required")
        try:
            c = iss.key.check(pt)
        except Exception as e:
            raise ApiError(401, "Invalid parent token", f"failed to parse token: {e}")
        if c.get("token_type") != "parent":
            raise ApiError(400, "Token is not a parent token",
                           f"Expected token_type='parent', got '{c.get('token_type', '')}'")
        if c["jti"] in iss.revoked:
            raise ApiError(403, "Parent token has been revoked")
        clife = iss.renewals.get(c["jti"], {}).get("child", 900)
        tok, jti, exp, _ = iss.mint(c["iss"], c["user_id"], c["network"], c.get("rate_limit", 0), clife, "child",
                                    c["jti"], c["exp"])
        self.send(200, {"token": tok, "token_id": jti, "expires_at": rfc3339(exp)})

    def authorize(self, iss):
        if "Autonity-Token" in self.headers:
            tok = self.headers["Autonity-Token"].strip()
            if not tok:
                raise ApiError(401, "Empty Autonity-Token header")
        else:
            tok = ""
            a = self.headers.get("Authorization", "")
            if a:
                if len(a) > 7 and a[:7].lower() == "bearer ":
                    tok = a[7:].strip()
                else:
                    raise ApiError(401, "Invalid Authorization header format",
                                   "Expected 'Bearer <token>' or use 'Autonity-Token' header")
        if not tok:
            raise ApiError(401, "Missing token", "Provide 'Autonity-Token' header or 'Authorization: Bearer <token>'")
        try:
            c = iss.key.check(tok)
        except Exception as e:
            raise ApiError(401, "Invalid JWT token", f"failed to parse token: {e}")
        r = iss.is_revoked(c)
        if r == "self":
            raise ApiError(403, "Token has been revoked")
        if r == "parent":
            raise ApiError(403, "Parent token has been revoked")
        self.send(200)

    def ext_authz(self, iss, key):
        a = self.headers.get("Authorization", "")
        deny = {"WWW-Authenticate": 'Bearer realm="mock-idp", error="invalid_token"'}
        if not (len(a) > 7 and a[:7].lower() == "bearer "):
            return self.send(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer realm="mock-idp"'})
        try:
            c = key.check(a[7:].strip())
        except Exception:
            return self.send(401, {"error": "invalid_token"}, deny)
        if iss and iss.is_revoked(c):
            return self.send(401, {"error": "invalid_token"}, deny)
        scopes = self.query.get("require_scope", []) + self.headers.get_all("x-auth-require-scope", [])
        claims_req = self.query.get("require_claim", []) + self.headers.get_all("x-auth-require-claim", [])
        have = set(str(c.get("scope", "")).split())
        ok = all(s in have for sc in scopes for s in sc.split())
        for req in claims_req:
            k, _, v = req.partition(":")
            val = c.get(k)
            if isinstance(val, list):
                ok &= v in [str(x) for x in val]
            else:
                ok &= val is not None and (str(val).lower() if isinstance(val, bool) else str(val)) == v
        if not ok:
            return self.send(403, {"error": "insufficient_scope"},
                             {"WWW-Authenticate": 'Bearer realm="mock-idp", error="insufficient_scope"'})
        enc = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=").decode()
        self.send(200, None, {"x-auth-sub": c["sub"], "x-auth-claims": enc})

    def stream(self, iss):
        pj = self.need_parent()
        self.send_response(200)
        for k, v in (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                     ("Connection", "keep-alive"), ("Access-Control-Allow-Origin", "*"),
                     ("Transfer-Encoding", "chunked")):
            self.send_header(k, v)
        self.end_headers()

        def ev(name, data):
            payload = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()

        q = queue.Queue()
        with iss.lock:
            iss.subs.setdefault(pj, []).append(q)
            iss.streams += 1
            revoked = pj in iss.revoked
            first = iss.latest_body(pj) if pj in iss.latest else None
        last = first["child_jti"] if first else None
        try:
            ev("connected", {"message": "Token update stream connected"})
            if revoked:
                ev("revoked", {"parent_jti": pj})
                return
            if first:
                ev("token", first)
            next_beat = time.time() + HEARTBEAT
            next_poll = time.time() + 10
            while True:
                try:
                    r, _, _ = select.select([self.connection], [], [], 0)
                    if r and self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return  # the client went away
                    kind, data = q.get(timeout=max(0.05, min(0.5, next_beat - time.time(), next_poll - time.time())))
                    if kind == "token":
                        ev("token", data)
                        last = data["child_jti"]
                    else:
                        ev(kind, {"parent_jti": pj})
                        return
                except queue.Empty:
                    if FLAG("REF_POLL10") and time.time() >= next_poll:
                        next_poll = time.time() + 10
                        with iss.lock:
                            cur = iss.latest_body(pj) if pj in iss.latest else None
                        if cur and cur["child_jti"] != last:
                            ev("token", cur)
                            last = cur["child_jti"]
                    if time.time() >= next_beat:
                        ev("heartbeat", {"timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
                        next_beat = time.time() + HEARTBEAT
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with iss.lock:
                iss.subs[pj].remove(q)
                iss.streams -= 1
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.daemon_threads = True
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    print(f"mock-idp listening on {url} (JWKS: {url}/.well-known/jwks.json)", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
