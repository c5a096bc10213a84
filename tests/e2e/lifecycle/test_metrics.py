"""The service's Prometheus metrics on mock-idp's /metrics, beside ours
(docs/lifecycle.md#metrics). Uses the issuer `jasm`, which no other test
revokes in, so deltas are exact."""

import pytest

from support import new_user, scrape, series

FAMILIES = {
    "jwt_parent_token_expiry_timestamp_seconds": "gauge",
    "jwt_parent_token_issued_timestamp_seconds": "gauge",
    "jwt_parent_tokens_active_total": "gauge",
    "jwt_revoked_tokens_total": "gauge",
}


def test_families_and_per_parent_series(jasm):
    user = new_user()
    pair = jasm.pair(user_id=user, network="metricsnet")
    claims = jasm.claims(pair["parent_token"])
    labels = {"user_id": user, "network": "metricsnet", "parent_jti": pair["parent_jti"]}

    types, samples = scrape()
    for family, kind in FAMILIES.items():
        assert types.get(family) == kind, f"# TYPE {family} {kind}"
    assert any(n.startswith("mock_idp_") for n, _, _ in samples), "mock-idp's own metrics stay"
    expiry = series(samples, "jwt_parent_token_expiry_timestamp_seconds", **labels)
    issued = series(samples, "jwt_parent_token_issued_timestamp_seconds", **labels)
    assert len(expiry) == 1 and abs(expiry[0] - claims["exp"]) <= 1, expiry
    assert len(issued) == 1 and abs(issued[0] - claims["iat"]) <= 1, issued
    assert sum(series(samples, "jwt_parent_tokens_active_total")) >= 1
    assert series(samples, "jwt_revoked_tokens_total"), "jwt_revoked_tokens_total has a sample"

    assert jasm.revoke(pair["parent_jti"]).status_code == 204
    _, samples = scrape()
    assert not series(samples, "jwt_parent_token_expiry_timestamp_seconds", parent_jti=pair["parent_jti"]), (
        "a revoked parent's series is gone"
    )
    assert not series(samples, "jwt_parent_token_issued_timestamp_seconds", parent_jti=pair["parent_jti"])


@pytest.mark.proposal
def test_counts_per_issuer(jasm):
    """Each series carries issuer="<name>"; counts are per issuer."""

    def counts():
        _, samples = scrape()
        active = series(samples, "jwt_parent_tokens_active_total", issuer="jasm")
        revoked = series(samples, "jwt_revoked_tokens_total", issuer="jasm")
        assert len(active) == 1 and len(revoked) == 1, (active, revoked)
        return active[0], revoked[0]

    active0, revoked0 = counts()
    user = new_user()
    singles = [jasm.single(user_id=user) for _ in range(3)]
    pairs = [jasm.pair(user_id=user) for _ in range(2)]
    latest = jasm.wait_latest(pairs[0]["parent_jti"])  # one worker child under each parent
    jasm.wait_latest(pairs[1]["parent_jti"])
    active1, revoked1 = counts()
    assert active1 == active0 + 2, "two new live parents"
    assert revoked1 == revoked0

    for s in singles:
        assert jasm.revoke(s["token_id"]).status_code == 204
    assert jasm.revoke(pairs[0]["parent_jti"]).status_code == 204  # cascades to its worker child
    active2, revoked2 = counts()
    assert active2 == active0 + 1
    assert revoked2 == revoked0 + 5, "3 single tokens, 1 parent, 1 child by cascade"
    assert jasm.authorize(latest["child_token"]).status_code == 403

    _, samples = scrape()
    assert series(samples, "jwt_parent_token_expiry_timestamp_seconds", issuer="jasm", parent_jti=pairs[1]["parent_jti"])
    assert jasm.revoke_user(user).status_code == 204
    active3, revoked3 = counts()
    assert active3 == active0
    assert revoked3 == revoked2 + 2, "the second parent and its child; the rest were revoked already"
