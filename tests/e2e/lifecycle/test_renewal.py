"""POST /renew, the auto-renewal worker, GET /tokens/latest and the SSE stream
GET /tokens/stream (docs/lifecycle.md#renewal-and-the-sse-stream).

config.yaml renews a child once THRESHOLD (3) seconds or less remain, checked
every INTERVAL (1) second, so a child with 5 s to live is replaced 2-3 s after
it was minted. Every wait is bounded.
"""

import pytest

from support import (
    CHILD_CLAIMS,
    CONNECTED,
    HEARTBEAT,
    INTERVAL,
    NO_LATEST,
    Stream,
    abandon_stream,
    error_json,
    new_user,
    now,
    parse_time,
    scrape,
    series,
    tamper,
    unsigned,
    wait_for,
)

LATEST_FIELDS = {"child_token", "child_jti", "expires_at", "renewed_at"}


def check_child(jas, token, parent_jti, verify_exp=True):
    claims = jas.claims(token, verify_exp)
    assert set(claims) == CHILD_CLAIMS, f"claims of a child: {sorted(claims)}"
    assert claims["token_type"] == "child"
    assert claims["parent_jti"] == parent_jti
    return claims


def check_latest_body(jas, body, parent_jti, lifetime=None):
    """A /tokens/latest body or an SSE `token` event: fields, claims, times."""
    assert set(body) == LATEST_FIELDS, body
    claims = check_child(jas, body["child_token"], parent_jti)
    assert claims["jti"] == body["child_jti"]
    assert abs(parse_time(body["expires_at"]) - claims["exp"]) < 2, "expires_at is the child's exp"
    assert abs(parse_time(body["renewed_at"]) - claims["iat"]) < 2, "renewed_at is when it was minted"
    if lifetime is not None:
        assert claims["exp"] - claims["iat"] == lifetime
    return claims


def test_renew_returns_a_linked_child(jas):
    user = new_user()
    pair = jas.pair(user_id=user, network="mainnet", rate_limit=9)
    res = jas.renew(pair["parent_token"])
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"token", "token_id", "expires_at"}, body
    claims = check_child(jas, body["token"], pair["parent_jti"])
    assert claims["jti"] == body["token_id"]
    assert claims["exp"] - claims["iat"] == 15 * 60, "a renewed child lives 15 minutes by default"
    assert abs(parse_time(body["expires_at"]) - claims["exp"]) < 2
    assert (claims["user_id"], claims["network"], claims["rate_limit"]) == (user, "mainnet", 9)
    assert jas.authorize(body["token"]).status_code == 200
    again = jas.renew(pair["parent_token"]).json()
    assert again["token_id"] != body["token_id"], "each renewal mints a new child"


def test_renew_rejections(jas, jas2):
    single = jas.single()["token"]
    pair = jas.pair(include_child=True)
    foreign = jas2.pair()["parent_token"]
    cases = [
        (single, 400, {"error": "Token is not a parent token", "message": "Expected token_type='parent', got ''"}),
        (pair["child_token"], 400, {"error": "Token is not a parent token", "message": "Expected token_type='parent', got 'child'"}),
        ("not-a-jwt", 401, "Invalid parent token"),
        (tamper(pair["parent_token"]), 401, "Invalid parent token"),
        (foreign, 401, "Invalid parent token"),
        (unsigned(jas.claims(pair["parent_token"])), 401, "Invalid parent token"),
    ]
    for token, status, expected in cases:
        got = error_json(jas.renew(token), status)
        if isinstance(expected, dict):
            assert got == expected, token[:30]
        else:
            assert got["error"] == expected and got.get("message"), (token[:30], got)


def test_latest_unknown_parent(jas):
    res = jas.latest("00000000-0000-4000-8000-000000000000")
    assert error_json(res, 404) == NO_LATEST


def test_latest_follows_auto_renewal(jas):
    pair = jas.pair(child_expires_in=5)
    jti = pair["parent_jti"]
    first = jas.wait_latest(jti)
    c1 = check_latest_body(jas, first, jti, lifetime=5)

    second = jas.wait_latest(jti, timeout=5 + INTERVAL + 2, other_than=first["child_jti"])
    seen = now()
    assert seen < c1["exp"], f"the replacement appeared {seen - c1['exp']:.2f} s after the previous child expired"
    c2 = check_latest_body(jas, second, jti, lifetime=5)
    assert c2["exp"] > c1["exp"] and c2["iat"] >= c1["iat"]
    if now() < c1["exp"] - 0.5:  # renewal does not revoke the previous child
        assert jas.authorize(first["child_token"]).status_code == 200


def test_stream_pushes_each_renewal_before_expiry(jas):
    pair = jas.pair(child_expires_in=5)
    jti = pair["parent_jti"]
    tokens = []

    def collect(event, data, arrival):
        if event == "token":
            claims = check_latest_body(jas, data, jti, lifetime=5)  # verified on arrival, so exp is checked
            tokens.append((data, claims, arrival))
        elif event == "heartbeat":
            assert set(data) == {"timestamp"} and abs(parse_time(data["timestamp"]) - arrival) < 5, data
        else:
            raise AssertionError(f"unexpected event {event!r}: {data}")
        return len(tokens) >= 3

    with Stream(jas, jti, read_timeout=8) as s:
        r = s.response
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["access-control-allow-origin"] == "*"
        event, data, _ = s.next()
        assert (event, data) == ("connected", CONNECTED)
        s.until(collect, timeout=25, what="three token events")

    for (prev, pc, _), (nxt, nc, arrival) in zip(tokens, tokens[1:]):
        assert nxt["child_jti"] != prev["child_jti"], "each token event carries a new child"
        assert arrival < pc["exp"], f"a child was pushed {arrival - pc['exp']:.2f} s after the previous one expired"
        assert nc["exp"] > pc["exp"]


def test_stream_sends_the_latest_at_once_then_heartbeats(jas):
    pair = jas.pair()  # 15-minute child: no renewal during this test
    jti = pair["parent_jti"]
    latest = jas.wait_latest(jti)
    with Stream(jas, jti) as s:
        assert s.next()[:2] == ("connected", CONNECTED)
        event, data, _ = s.next()
        assert event == "token" and data["child_jti"] == latest["child_jti"], "the current child comes first"
        check_latest_body(jas, data, jti, lifetime=15 * 60)
        events = s.until(lambda e, d, a: e == "heartbeat", timeout=HEARTBEAT + 3, what="a heartbeat")
        assert [e for e, _, _ in events] == ["heartbeat"], "nothing but a heartbeat on a quiet stream"
        _, beat, arrival = events[-1]
        assert set(beat) == {"timestamp"} and abs(parse_time(beat["timestamp"]) - arrival) < 5, beat


@pytest.mark.extension
def test_renewal_stops_when_the_parent_expires(jas):
    pair = jas.pair(parent_expires_in=4, child_expires_in=3)
    jti = pair["parent_jti"]
    parent_exp = jas.claims(pair["parent_token"])["exp"]
    jas.wait_latest(jti)
    wait_for(lambda: now() > parent_exp + 2 * INTERVAL + 0.5, 10, "the parent to expire")

    seen = set()
    end = now() + 2 * INTERVAL + 0.5
    while now() < end:
        res = jas.latest(jti)
        assert res.status_code in (200, 404), f"latest after the parent expired: {res.status_code} {res.text}"
        if res.status_code == 200:
            claims = jas.claims(res.json()["child_token"], verify_exp=False)
            assert claims["iat"] <= parent_exp, "a child was minted after its parent expired"
            seen.add(res.json()["child_jti"])
        else:
            assert res.json() == NO_LATEST
    assert len(seen) <= 1, f"renewal went on after the parent expired: {len(seen)} children"
    assert error_json(jas.renew(pair["parent_token"]), 401)["error"] == "Invalid parent token"
    assert error_json(jas.authorize(pair["parent_token"]), 401)["error"] == "Invalid JWT token"


@pytest.mark.proposal
def test_stream_says_expired_and_ends_when_the_parent_expires(jas):
    pair = jas.pair(parent_expires_in=3)
    jti = pair["parent_jti"]
    parent_exp = jas.claims(pair["parent_token"])["exp"]
    with Stream(jas, jti, read_timeout=8) as s:
        assert s.next()[:2] == ("connected", CONNECTED)
        events = s.until(lambda e, d, a: e == "expired", timeout=parent_exp - now() + INTERVAL + 3, what="`expired`")
        for event, data, _ in events[:-1]:
            if event == "token":
                claims = jas.claims(data["child_token"], verify_exp=False)
                assert claims["exp"] <= parent_exp, "a child never outlives its parent"
        assert events[-1][1] == {"parent_jti": jti}
        assert events[-1][2] >= parent_exp - 0.5, "`expired` came before the parent's exp"
        assert s.next() is None, "the server ends the stream after `expired`"


def test_client_disconnects_do_not_hurt_the_server(jas):
    pair = jas.pair(child_expires_in=5)
    jti = pair["parent_jti"]
    jas.wait_latest(jti)
    for i in range(12):
        s = Stream(jas, jti, read_timeout=5)
        assert s.next()[:2] == ("connected", CONNECTED)
        if i % 2:
            assert s.next()[0] == "token"
        s.close()
    for _ in range(8):
        abandon_stream(jas, jti)

    assert jas.request("GET", "/health").status_code == 200
    with Stream(jas, jti, read_timeout=8) as s:
        assert s.next()[:2] == ("connected", CONNECTED)
        first = s.until(lambda e, d, a: e == "token", timeout=5, what="the current child")[-1][1]
        pushed = s.until(
            lambda e, d, a: e == "token" and d["child_jti"] != first["child_jti"],
            timeout=5 + INTERVAL + 3,
            what="a renewed child after the disconnects",
        )[-1][1]
        check_latest_body(jas, pushed, jti, lifetime=5)


@pytest.mark.proposal
def test_disconnected_streams_are_freed(jasm):
    """mock_idp_lifecycle_sse_streams{issuer} counts the open streams; a client
    that goes away is forgotten at the latest at the next heartbeat. (jasm is
    the metrics issuer: no other test opens streams there, so counts are exact.)"""

    def open_streams():
        values = series(scrape()[1], "mock_idp_lifecycle_sse_streams", issuer="jasm")
        assert len(values) == 1, "one mock_idp_lifecycle_sse_streams series per issuer"
        return values[0]

    assert scrape()[0].get("mock_idp_lifecycle_sse_streams") == "gauge"
    pair = jasm.pair()
    assert open_streams() == 0
    streams = [Stream(jasm, pair["parent_jti"]) for _ in range(3)]
    for s in streams:
        assert s.next()[:2] == ("connected", CONNECTED)
    wait_for(lambda: open_streams() == 3, 3, "three open streams counted")
    for s in streams:
        s.close()
    abandon_stream(jasm, pair["parent_jti"])
    wait_for(lambda: open_streams() == 0, HEARTBEAT + 3, "the closed streams to be freed")
    assert jasm.revoke(pair["parent_jti"]).status_code == 204  # leave jasm without live parents
