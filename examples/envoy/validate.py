"""Validates Envoy bootstrap configs offline, without an Envoy binary.

    pip install envoy-data-plane==2.2.0 PyYAML
    python3 examples/envoy/validate.py examples/envoy/*.yaml

What it checks, and what it cannot:

1. Schema: every file is parsed into Envoy's v3 `Bootstrap` message with
   `envoy-data-plane` (Python classes generated from Envoy's published
   .proto files, data-plane-api as of mid 2026). That rejects any unknown
   field name at any depth, a wrong value type, an unknown enum value
   (`codec_type`, `lb_policy`, `transport_api_version`...), and resolves each
   `typed_config` by its `@type` (an unknown type is an error), so the HTTP
   connection manager, the ext_authz filter and the router are checked field
   by field too. Deprecated fields are reported as errors.
2. Consistency Envoy checks at load time that matters here: each filter's
   `@type` belongs to its name, the router is the last HTTP filter and comes
   after ext_authz, every cluster a route or `server_uri` names exists,
   `path_prefix` and `path_override` are not both set, `failure_mode_allow`
   is off, the check's timeout is set.
3. mock-idp's side: the ext_authz path is `<mount>/ext-authz` (or
   `<mount>/authorize` with `path_override`), the upstream gets `x-auth-sub`
   and `x-auth-claims`, requirements are sent as `x-auth-require-*`
   headers, never in `path_prefix`'s query (Envoy appends the client's path
   and query after it).

Not checked: Envoy's protoc-gen-validate rules beyond the above, and
anything only a running Envoy shows (DNS, connections). The lifecycle stage
also replays the check request Envoy builds from envoy.yaml against a real
mock-idp (tests/e2e/lifecycle/test_envoy_example.py).
"""

import re
import sys
import warnings

import yaml
from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap

# Registers the typed_config types the examples use (import = registration).
import envoy_data_plane.envoy.extensions.filters.http.ext_authz.v3  # noqa: F401
import envoy_data_plane.envoy.extensions.filters.http.router.v3  # noqa: F401
import envoy_data_plane.envoy.extensions.filters.network.http_connection_manager.v3  # noqa: F401

TYPES = {
    "envoy.filters.network.http_connection_manager": "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "envoy.filters.http.ext_authz": "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
    "envoy.filters.http.router": "envoy.extensions.filters.http.router.v3.Router",
}
TYPE_PREFIX = "type.googleapis.com/"


def typed(entry):
    """The config of a filter entry, checking that its @type is its name's."""
    name = entry.get("name")
    config = entry.get("typed_config") or {}
    expected = TYPES.get(name)
    assert expected, f"filter {name!r}: not one this check knows"
    assert config.get("@type") == TYPE_PREFIX + expected, f"filter {name!r}: @type {config.get('@type')!r}"
    return config


def check_file(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    # 1. The schema, strictly; deprecation warnings are errors.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        Bootstrap.from_dict(doc)

    # 2. What Envoy checks when it loads the config.
    resources = doc["static_resources"]
    clusters = {c["name"] for c in resources["clusters"]}
    for c in resources["clusters"]:
        assert c["load_assignment"]["cluster_name"] == c["name"], f"cluster {c['name']}: load_assignment"
    checks = 0
    for listener in resources["listeners"]:
        for chain in listener["filter_chains"]:
            for net in chain["filters"]:
                hcm = typed(net)
                for vhost in hcm["route_config"]["virtual_hosts"]:
                    for route in vhost["routes"]:
                        cluster = route["route"]["cluster"]
                        assert cluster in clusters, f"route to unknown cluster {cluster!r}"
                names = [f["name"] for f in hcm["http_filters"]]
                assert names[-1] == "envoy.filters.http.router", f"the router must be the last filter: {names}"
                assert "envoy.filters.http.ext_authz" in names, names
                for f in hcm["http_filters"]:
                    config = typed(f)
                    if f["name"] == "envoy.filters.http.ext_authz":
                        check_ext_authz(config, clusters)
                        checks += 1
    assert checks, "no ext_authz filter"


def check_ext_authz(config, clusters):
    assert config.get("transport_api_version") == "V3"
    assert config.get("failure_mode_allow") is False, "failure_mode_allow must be off: deny when mock-idp is down"
    http = config["http_service"]
    uri = http["server_uri"]
    assert uri["cluster"] in clusters, f"server_uri.cluster {uri['cluster']!r} is not a cluster"
    assert re.fullmatch(r"\d+(\.\d+)?s", uri["timeout"]), f"server_uri.timeout {uri['timeout']!r}"
    prefix, override = http.get("path_prefix"), http.get("path_override")
    assert bool(prefix) != bool(override), "exactly one of path_prefix and path_override"
    # 3. mock-idp's endpoints.
    mount = r"(/realms)?(/[A-Za-z0-9][A-Za-z0-9._-]{0,63})?"
    if prefix:
        assert re.fullmatch(mount + "/ext-authz", prefix), f"path_prefix {prefix!r}: <mount>/ext-authz"
        upstream = {p.get("exact") for p in http["authorization_response"]["allowed_upstream_headers"]["patterns"]}
        assert {"x-auth-sub", "x-auth-claims"} <= upstream, f"allowed_upstream_headers: {upstream}"
    else:
        assert re.fullmatch(mount + "/authorize", override), f"path_override {override!r}: <mount>/authorize"
    for h in http.get("authorization_request", {}).get("headers_to_add", []):
        assert h["key"] in ("x-auth-require-scope", "x-auth-require-claim"), f"headers_to_add {h['key']!r}"
        if h["key"] == "x-auth-require-claim":
            assert ":" in h["value"], f"x-auth-require-claim {h['value']!r}: name:value"
    allowed = {p.get("exact") for p in config["allowed_headers"]["patterns"]}
    assert "authorization" in allowed, f"allowed_headers: {allowed}"


def main(paths):
    failed = 0
    for path in paths:
        try:
            check_file(path)
            print(f"ok: {path}")
        except Exception as e:  # one line per file, then the exit status
            failed += 1
            print(f"FAILED: {path}: {type(e).__name__}: {e}")
    return 1 if failed or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
