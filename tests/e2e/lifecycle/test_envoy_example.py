"""examples/envoy/*.yaml against a real mock-idp, without Envoy: each test
builds the check request Envoy's HTTP ext_authz filter sends for a client
request (the client's method; path_prefix + the client's path and query, or
path_override; only Host, Content-Length, Authorization and the
allowed_headers of the client's headers, plus headers_to_add), sends it to
mock-idp, and applies Envoy's rules to the answer (200: the
allowed_upstream_headers go to the API; anything else: denied, the status
and the allowed_client_headers go to the client). The config files'
schema is checked by examples/envoy/validate.py (scripts/ci/lifecycle.sh
runs both)."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from support import BASE, TIMEOUT, b64url_json, payload

pytestmark = pytest.mark.extension

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "envoy"


def ext_authz_config(name):
    doc = yaml.safe_load((EXAMPLES / name).read_text())
    hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    (f,) = [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_authz"]
    return f["typed_config"]


def matches(patterns, name):
    return any(p.get("exact") == name.lower() for p in patterns)


class Envoy:
    """The HTTP ext_authz filter of one example config, pointed at BASE."""

    ALWAYS = ("host", "content-length", "authorization")  # Method and Path are the request line

    def __init__(self, jas, name):
        self.http = jas.http
        self.config = ext_authz_config(name)
        self.service = self.config["http_service"]
        self.allowed = self.config.get("allowed_headers", {}).get("patterns", [])

    def check(self, method, path, headers):
        """(status, upstream headers or None, client headers) for a client request."""
        svc = self.service
        check_path = svc.get("path_override") or svc["path_prefix"] + path
        sent = {k: v for k, v in headers.items() if k.lower() in self.ALWAYS or matches(self.allowed, k)}
        sent["content-length"] = "0"
        for h in svc.get("authorization_request", {}).get("headers_to_add", []):
            sent[h["key"]] = h["value"]
        res = self.http.request(method, BASE + check_path, headers=sent, timeout=TIMEOUT)
        response = svc.get("authorization_response", {})
        if res.status_code == 200:
            up = response.get("allowed_upstream_headers", {}).get("patterns", [])
            return 200, {k.lower(): v for k, v in res.headers.items() if matches(up, k)}, {}
        client = response.get("allowed_client_headers", {}).get("patterns", [])
        # Envoy adds these to a non-empty allowed_client_headers list.
        auto = ("path", "status", "content-length", "www-authenticate", "location")
        shown = {k.lower(): v for k, v in res.headers.items() if matches(client, k) or (client and k.lower() in auto)}
        return res.status_code, None, shown


def test_the_example_points_at_a_served_issuer(jas):
    for name in ("envoy.yaml", "envoy-authorize.yaml"):
        svc = ext_authz_config(name)["http_service"]
        path = svc.get("path_prefix") or svc["path_override"]
        assert path.startswith(f"/{jas.name}/"), f"{name}: the examples use issuer {jas.name}: {path}"
        assert urlsplit(svc["server_uri"]["uri"]).port == 8081, name


def test_envoy_yaml_passes_children_with_their_claims_and_denies_the_rest(jas):
    envoy = Envoy(jas, "envoy.yaml")
    pair = jas.pair(include_child=True, network="mainnet")
    child, parent = pair["child_token"], pair["parent_token"]
    for method, path in [("GET", "/api/orders?page=2"), ("DELETE", "/api/orders/7"), ("POST", "/")]:
        status, upstream, _ = envoy.check(method, path, {"Authorization": f"Bearer {child}", "Cookie": "x=1"})
        assert status == 200, (method, path)
        assert upstream["x-auth-sub"] == payload(child)["sub"]
        assert b64url_json(upstream["x-auth-claims"]) == payload(child)
    # headers_to_add requires token_type:child: a parent is refused, and says why.
    status, upstream, client = envoy.check("GET", "/api", {"Authorization": f"Bearer {parent}"})
    assert (status, upstream) == (403, None)
    assert 'error="insufficient_scope"' in client["www-authenticate"]
    # No token, a revoked child: 401 with the challenge.
    assert jas.revoke(pair["parent_jti"]).status_code == 204
    for headers in ({}, {"Authorization": f"Bearer {child}"}):
        status, upstream, client = envoy.check("GET", "/api", headers)
        assert (status, upstream) == (401, None), headers
        assert client["www-authenticate"].startswith('Bearer realm="mock-idp"')


def test_envoy_authorize_yaml_uses_the_services_own_check(jas):
    envoy = Envoy(jas, "envoy-authorize.yaml")
    pair = jas.pair(include_child=True)
    child = pair["child_token"]
    for headers in ({"Autonity-Token": child}, {"Authorization": f"Bearer {child}"}):
        status, _, _ = envoy.check("GET", "/api/orders", headers)
        assert status == 200, headers
    status, _, _ = envoy.check("GET", "/api", {})
    assert status == 401
    # The original's /authorize answers POST, GET and HEAD only: other client
    # methods are denied with this config (envoy.yaml's /ext-authz takes any).
    status, _, _ = envoy.check("DELETE", "/api/orders/7", {"Autonity-Token": child})
    assert status == 405
