"""The key rotation drill against PyJWT's caching PyJWKClient.

A service verifies a stream of fresh tokens (one every 200 ms, bounded)
while the issuer rotates its key, with three client configurations:
  - defaults (JWK Set cached 300 s, unknown-kid refetch after a 30 s cooldown),
  - cache_keys=True (plus the per-kid LRU cache), lifespan 60 s,
  - cooldown_duration=0 (refetch on every unknown kid),
through a rotation with grace 30 s (= the default cooldown: every token
accepted) and with grace 0 (the cooling-down clients refuse the new key's
tokens until 30 s after their last fetch); and the retired key leaves the
JWKS once its last token has expired.

    MOCK_IDP_URL=http://127.0.0.1:PORT python3 drill_py.py

Each drill uses its own dynamic issuer, so this runs beside verify*.
"""

import base64
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt  # PyJWT

from tk import AUDIENCE, BASE, Report, get, http, iss_of, jwks_path, mint, peek

R = Report("drill_py")
_lock = threading.Lock()
TICK = 0.2
TOKEN_TTL = 8  # short-lived stream tokens: the retired key leaves soon after the switch
COOLDOWN = 30  # PyJWKClient's default cooldown_duration
ROTATE_AFTER = 2.0
AFTER_SWITCH_OK = 5


def check(label, ok, detail=""):
    with _lock:
        return R.check(label, ok, detail)


class CountingClient(jwt.PyJWKClient):
    """PyJWKClient that records when it fetched the JWKS (nothing else changed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fetches = []

    def fetch_data(self):
        data = super().fetch_data()
        self.fetches.append(time.time())
        return data


class Service:
    """A resource server: one PyJWKClient, RS256, iss and aud checked."""

    def __init__(self, name, issuer, cooldown, **options):
        self.name = name
        self.issuer = issuer
        self.cooldown = cooldown
        self.client = CountingClient(BASE + jwks_path(issuer), **options)

    def verify(self, token):
        try:
            key = self.client.get_signing_key_from_jwt(token)
            jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=iss_of(self.issuer))
            return "ok"
        except Exception as e:  # noqa: BLE001 - the class is the result
            return f"{type(e).__name__}: {e}"


def services(issuer):
    return [
        Service("PyJWKClient defaults", issuer, COOLDOWN),
        Service("PyJWKClient cache_keys=True lifespan=60", issuer, COOLDOWN, cache_keys=True, lifespan=60),
        Service("PyJWKClient cooldown_duration=0", issuer, 0, cooldown_duration=0),
    ]


def kids(issuer):
    return [k["kid"] for k in get(jwks_path(issuer))["keys"]]


def drill(label, issuer, grace, expect):
    clients = services(issuer)
    events, presence = [], []  # (t, kid, exp, {name: outcome}); (t, old kid published?)
    t0 = time.time()
    deadline = t0 + ROTATE_AFTER + grace + COOLDOWN + 15
    rotation = switch_seen = old_kid = last_old = None
    ok_after = 0
    for _ in range(1000):
        if time.time() >= deadline:
            break
        tick = time.time()
        token = mint(issuer, {"sub": "drill", "expires_in": TOKEN_TTL})
        header, claims = peek(token)
        old_kid = old_kid or header["kid"]
        results = {c.name: c.verify(token) for c in clients}
        now = time.time()
        events.append((now, header["kid"], claims["exp"], results))
        presence.append((time.time(), old_kid in kids(issuer)))
        if header["kid"] == old_kid:
            last_old = token
        if rotation is None and time.time() - t0 >= ROTATE_AFTER:
            before = time.time()
            status, body = http("POST", f"/{issuer}/_admin/keys/rotate", {"grace_sec": grace})
            after = time.time()
            served = kids(issuer)
            # switch_at is the server's now (whole seconds, after it made the key) + grace.
            check(f"{label}: rotate answers the signing kid as active_kid, a next_kid, switch_at = now + {grace}",
                  status == 200 and body["active_kid"] == old_kid and body["next_kid"] != old_kid
                  and int(before) + grace <= body["switch_at"] <= after + grace,
                  f"{status} {body}, asked at {before:.1f}, answered at {after:.1f}")
            check(f"{label}: the next key is published at once, beside the signing key",
                  body["next_kid"] in served and old_kid in served, str(served))
            rotation = body
        if rotation and header["kid"] == rotation["next_kid"]:
            if switch_seen is None:
                switch_seen = now
                served = kids(issuer)
                check(f"{label}: after the switch both keys are published",
                      old_kid in served and rotation["next_kid"] in served, str(served))
                for c in clients:
                    res = c.verify(last_old)
                    check(f"{label}: {c.name} still accepts the old key's last (unexpired) token after the switch", res == "ok", res)
            ok_after = ok_after + 1 if all(r == "ok" for r in results.values()) else 0
            if ok_after >= AFTER_SWITCH_OK:
                break
        time.sleep(max(0.0, TICK - (time.time() - tick)))

    old = [e for e in events if e[1] == old_kid]
    new = [e for e in events if rotation and e[1] == rotation["next_kid"]]
    check(f"{label}: {len(events)} tokens streamed, {len(old)} by the old key then {len(new)} by the new one",
          rotation is not None and len(old) + len(new) == len(events) and len(new) >= AFTER_SWITCH_OK
          and all(e[1] == old_kid for e in events[: len(old)]), f"old {len(old)}, new {len(new)}")
    if not rotation or switch_seen is None:
        return
    check(f"{label}: the new key signs from switch_at (first new token {switch_seen - rotation['switch_at']:.1f} s after it)",
          rotation["switch_at"] - 1 <= switch_seen <= rotation["switch_at"] + 3, str(rotation["switch_at"]))
    for c in clients:
        bad_old = [e[3][c.name] for e in old if e[3][c.name] != "ok"]
        check(f"{label}: {c.name} accepts every old-key token ({len(old)})", not bad_old, "; ".join(bad_old[:2]))
        refused = [e for e in new if e[3][c.name] != "ok"]
        last_fetch = max(t for t in c.client.fetches if t <= switch_seen)
        if expect[c.name] == "accept-all":
            check(f"{label}: {c.name} accepts every new-key token ({len(new)}), no refusal through the rotation",
                  not refused, "; ".join(e[3][c.name] for e in refused[:2]))
        else:
            until = last_fetch + c.cooldown
            first_ok = next((e for e in new if e[3][c.name] == "ok"), None)
            check(f"{label}: {c.name} refuses the new key's tokens ({len(refused)}) while cooling down, with its unknown-kid error",
                  refused and all(e[3][c.name].startswith("PyJWKClientError: Unable to find a signing key") and e[0] < until + 1 for e in refused),
                  "; ".join(e[3][c.name] for e in refused[:1]))
            after = f"{first_ok[0] - last_fetch:.1f} s" if first_ok else "-"
            check(f"{label}: {c.name} refetches and accepts from {c.cooldown} s after its last fetch on ({after})",
                  first_ok is not None and until - 0.5 <= first_ok[0] <= until + 3
                  and all(e[3][c.name] == "ok" for e in new if e[0] >= first_ok[0]), after)
        check(f"{label}: {c.name} fetched the JWKS twice (at start, on the new kid)", len(c.client.fetches) == 2,
              f"{len(c.client.fetches)} fetches at " + ", ".join(f"{t - t0:.1f}" for t in c.client.fetches) + " s")

    last_exp = max(e[2] for e in old)
    if time.time() < last_exp:
        status = get(f"/{issuer}/_admin/keys")
        entry = next((k for k in status["keys"] if k["kid"] == old_kid), None)
        check(f"{label}: GET _admin/keys shows the old key retired with last_exp = the last exp it signed",
              entry and entry["state"] == "retired" and entry["last_exp"] == last_exp, str(entry))
    gone_at = next((t for i, (t, present) in enumerate(presence) if i > 0 and not present), None)
    for _ in range(50):
        if gone_at or time.time() > last_exp + 5:
            break
        time.sleep(0.2)
        present = old_kid in kids(issuer)
        presence.append((time.time(), present))
        if not present:
            gone_at = time.time()
    last_present = max(t for t, p in presence if p)
    gone = f"{gone_at - last_exp:.1f}" if gone_at else "-"
    check(f"{label}: the retired key left the JWKS after its last token's exp (present {last_present - last_exp:.1f} s, gone {gone} s after it)",
          gone_at is not None and last_exp <= gone_at <= last_exp + 4 and last_present >= last_exp - 2 and last_present < gone_at,
          f"exp {last_exp}, last present {last_present:.1f}, gone {gone_at}")


def token_form(issuer, form):
    """(status, JSON) of an OAuth token request by client web:s3cret."""
    req = urllib.request.Request(f"{BASE}/{issuer}/token", data=urllib.parse.urlencode(form).encode())
    req.add_header("authorization", "Basic " + base64.b64encode(b"web:s3cret").decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def refresh_across_rotation():
    """A refresh token outlives a rotation: its key stays published (and
    accepted by the token endpoint) until the refresh token's exp, not only
    its access token's. Issuer `short` has token_ttl 2 (config)."""
    issuer = "short"
    status, first = token_form(issuer, {"grant_type": "password", "username": "alice", "password": "x", "scope": "openid"})
    if not check("refresh drill: password grant gives a refresh token", status == 200 and "refresh_token" in first, f"{status}"):
        return
    old_kid = peek(first["refresh_token"])[0]["kid"]
    access_exp = peek(first["access_token"])[1]["exp"]
    refresh_exp = peek(first["refresh_token"])[1]["exp"]
    status, rot = http("POST", f"/{issuer}/_admin/keys/rotate", {"grace_sec": 0})
    check("refresh drill: rotate (grace 0) retires the key that signed the refresh token",
          status == 200 and rot["active_kid"] == old_kid, f"{status} {rot}")
    # Past the access and ID tokens' exp, long before the refresh token's.
    time.sleep(max(0.0, access_exp + 2 - time.time()))
    published = old_kid in kids(issuer)
    status, again = token_form(issuer, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    detail = f"refresh token exp in {refresh_exp - time.time():.0f} s; old key published: {published}; refresh: {status} {again.get('error_description', '')}"
    with _lock:
        R.check("refresh drill: after the access token's exp the retired key is still published and the refresh grant works",
                published and status == 200 and "access_token" in again, detail)


def run_refresh(errors):
    try:
        refresh_across_rotation()
    except Exception as e:  # noqa: BLE001 - a crashed drill is a failed check
        errors.append(f"refresh drill: {type(e).__name__}: {e}")


def main():
    runs = [
        ("grace 30", "drill-py-30", COOLDOWN, {
            "PyJWKClient defaults": "accept-all",
            "PyJWKClient cache_keys=True lifespan=60": "accept-all",
            "PyJWKClient cooldown_duration=0": "accept-all",
        }),
        ("grace 0", "drill-py-0", 0, {
            "PyJWKClient defaults": "cooldown",
            "PyJWKClient cache_keys=True lifespan=60": "cooldown",
            "PyJWKClient cooldown_duration=0": "accept-all",
        }),
    ]
    errors = []

    def run(args):
        try:
            drill(*args)
        except Exception as e:  # noqa: BLE001 - a crashed drill is a failed check
            errors.append(f"{args[0]}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(r,)) for r in runs]
    threads.append(threading.Thread(target=lambda: run_refresh(errors)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for e in errors:
        check("drill ran to its end", False, e)
    check("every drill finished in time", not any(t.is_alive() for t in threads), "")
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
