"""DELETE /tokens/{jti} and DELETE /users/{user_id}/tokens: what is revoked,
and that /authorize, introspection, /renew, /tokens/latest and the SSE stream
see it at once (docs/lifecycle.md#revocation). No test sleeps between revoking
and checking: "at once" means the very next request."""

import pytest

from support import (
    CONNECTED,
    INTERVAL,
    PARENT_REVOKED,
    TOKEN_REVOKED,
    Stream,
    error_json,
    new_user,
    now,
)

CHILD_REFUSALS = (TOKEN_REVOKED, PARENT_REVOKED)


def assert_revoked_204(res):
    assert res.status_code == 204, f"{res.status_code} {res.text[:200]}"
    assert res.content == b"", "204 has no body"


def assert_refused(jas, token, what, bodies=(TOKEN_REVOKED,)):
    got = error_json(jas.authorize(token), 403)
    assert got in bodies, f"{what}: /authorize answered {got}"


def assert_inactive(jas, token, what):
    assert jas.introspect(token) == {"active": False}, f"{what} still introspects active"


def test_revoke_a_child(jas):
    pair = jas.pair(include_child=True, child_expires_in=60)
    renewed = jas.renew(pair["parent_token"]).json()
    assert_revoked_204(jas.revoke(pair["child_jti"]))

    assert_refused(jas, pair["child_token"], "the revoked child")
    assert_inactive(jas, pair["child_token"], "the revoked child")
    assert jas.authorize(pair["parent_token"]).status_code == 200, "revoking a child leaves its parent"
    assert jas.authorize(renewed["token"]).status_code == 200, "and its siblings"
    assert jas.introspect(renewed["token"])["active"] is True
    assert jas.renew(pair["parent_token"]).status_code == 200, "the parent still renews"


@pytest.mark.extension
def test_revoke_a_parent_cascades(jas):
    pair = jas.pair(include_child=True, child_expires_in=60)
    jti = pair["parent_jti"]
    latest = jas.wait_latest(jti)
    renewed = jas.renew(pair["parent_token"]).json()
    children = {
        "include_child child": pair["child_token"],
        "worker child": latest["child_token"],
        "renewed child": renewed["token"],
    }
    for what, token in children.items():
        assert jas.authorize(token).status_code == 200, f"{what} before the revocation"

    assert_revoked_204(jas.revoke(jti))

    assert_refused(jas, pair["parent_token"], "the parent")
    assert_inactive(jas, pair["parent_token"], "the parent")
    for what, token in children.items():
        assert_refused(jas, token, what, CHILD_REFUSALS)
        assert_inactive(jas, token, what)
        res = jas.ext_authz(token, "/api")
        assert res.status_code == 401, f"{what}: ext-authz {res.status_code}"
    assert error_json(jas.renew(pair["parent_token"]), 403) == PARENT_REVOKED
    assert error_json(jas.latest(jti), 403) == PARENT_REVOKED

    # Renewal has stopped: nothing new appears for two worker intervals.
    end = now() + 2 * INTERVAL + 0.5
    while now() < end:
        assert error_json(jas.latest(jti), 403) == PARENT_REVOKED


@pytest.mark.proposal
def test_stream_says_revoked_and_ends(jas):
    pair = jas.pair(child_expires_in=5)
    jti = pair["parent_jti"]
    jas.wait_latest(jti)
    with Stream(jas, jti, read_timeout=8) as s:
        assert s.next()[:2] == ("connected", CONNECTED)
        assert s.next()[0] == "token"
        assert_revoked_204(jas.revoke(jti))
        revoked_at = now()
        events = s.until(lambda e, d, a: e == "revoked", timeout=3, what="`revoked`")
        late = [d["child_jti"] for e, d, a in events if e == "token" and a > revoked_at + 0.5]
        assert not late, f"children pushed after the revocation: {late}"
        assert events[-1][1] == {"parent_jti": jti}
        assert s.next() is None, "the server ends the stream after `revoked`"

    with Stream(jas, jti, read_timeout=5) as s:  # a reconnect learns it at once
        assert s.next()[:2] == ("connected", CONNECTED)
        assert s.next()[:2] == ("revoked", {"parent_jti": jti})
        assert s.next() is None


def test_revoke_everything_of_a_user(jas):
    user, other = new_user(), new_user()
    single = jas.single(user_id=user)
    with_child = jas.pair(user_id=user, include_child=True, child_expires_in=60)
    worker_fed = jas.pair(user_id=user, child_expires_in=60)
    worker_child = jas.wait_latest(worker_fed["parent_jti"])
    renewed = jas.renew(with_child["parent_token"]).json()
    bystander = jas.pair(user_id=other, include_child=True)

    tokens = {
        "single token": single["token"],
        "parent": with_child["parent_token"],
        "include_child child": with_child["child_token"],
        "renewed child": renewed["token"],
        "second parent": worker_fed["parent_token"],
        "worker child": worker_child["child_token"],
    }
    for what, token in tokens.items():
        assert jas.authorize(token).status_code == 200, f"{what} before the revocation"

    assert_revoked_204(jas.revoke_user(user))

    for what, token in tokens.items():
        assert_refused(jas, token, what, CHILD_REFUSALS if "child" in what else (TOKEN_REVOKED,))
        assert_inactive(jas, token, what)
    for parent in (with_child, worker_fed):
        assert error_json(jas.latest(parent["parent_jti"]), 403) == PARENT_REVOKED
        assert error_json(jas.renew(parent["parent_token"]), 403) == PARENT_REVOKED
    for token in (bystander["parent_token"], bystander["child_token"]):
        assert jas.authorize(token).status_code == 200, "another user's tokens are untouched"

    # Revocation covers what was issued; the user can be issued new tokens.
    fresh = jas.pair(user_id=user, include_child=True)
    assert jas.authorize(fresh["child_token"]).status_code == 200
    assert jas.introspect(fresh["child_token"])["active"] is True


def test_revoking_unknown_things_is_204(jas):
    assert_revoked_204(jas.revoke("no-such-jti"))
    assert_revoked_204(jas.revoke_user(new_user()))


def test_revocations_are_per_issuer(jas, jas2):
    pair = jas.pair(include_child=True)
    assert_revoked_204(jas2.revoke(pair["parent_jti"]))
    assert_revoked_204(jas2.revoke(pair["child_jti"]))
    assert jas.authorize(pair["child_token"]).status_code == 200, "jas2 cannot revoke jas tokens"
    assert jas.renew(pair["parent_token"]).status_code == 200


@pytest.mark.proposal
def test_a_revoked_latest_child_is_replaced(jas):
    pair = jas.pair(child_expires_in=60)
    jti = pair["parent_jti"]
    first = jas.wait_latest(jti)
    assert_revoked_204(jas.revoke(first["child_jti"]))
    replacement = jas.wait_latest(jti, timeout=INTERVAL + 3, other_than=first["child_jti"])
    assert jas.authorize(replacement["child_token"]).status_code == 200
    assert jas.claims(replacement["child_token"])["parent_jti"] == jti
