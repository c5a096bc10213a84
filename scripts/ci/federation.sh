#!/usr/bin/env bash
# CI stage: key federation between replicas (issue 3).
#
# The federation unit tests and the three-replica and bad-peer tests
# (tests/it/federation.rs) run in the `rust` stage with everything else; this
# stage adds what needs a machine set up for it:
#  1. DNS discovery for real (tests/it/federation_dns.rs, #[ignore]d in the
#     `rust` stage): inside a network namespace of its own, whose /etc/hosts
#     (bind-mounted by `ip netns exec` from /etc/netns/<ns>/hosts; the real
#     /etc/hosts is never touched) makes one name resolve to 127.0.0.2-5;
#     replicas bind those loopback addresses.
#  2. The Kubernetes manifests in deploy/k8s/: schema validation with
#     kubernetes-validate (PyPI, ships its schemas), run inside the namespace,
#     i.e. with no network at all, plus a few checks of what the HA setup needs.
#
# Needs root (or passwordless sudo) for the namespace; installs iproute2 and
# python3-venv; removes the namespace and its /etc/netns directory on exit.
# About a minute on a warm machine.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cd "$REPO_ROOT"

NS="mockidp-test-$$"
DNS_NAME="mockidp-peers.test"
DNS_ADDRS="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5"
DNS_PORT=8081
KUBERNETES_VALIDATE_VERSION=1.37.0
K8S_VERSIONS=(1.29.0 1.37.0)

cleanup() {
  local pids
  pids="$($SUDO ip netns pids "$NS" 2>/dev/null || true)"
  # Only processes inside our own namespace: the replicas the test started.
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    $SUDO kill -9 $pids 2>/dev/null || true
  fi
  $SUDO ip netns del "$NS" 2>/dev/null || true
  $SUDO rm -rf "/etc/netns/$NS"
  $SUDO rmdir /etc/netns 2>/dev/null || true   # only if now empty
}
trap cleanup EXIT

apt_install iproute2 python3 python3-venv

log "federation: network namespace $NS ($DNS_NAME -> $DNS_ADDRS)"
$SUDO mkdir -p "/etc/netns/$NS"
{
  echo "127.0.0.1 localhost"
  for addr in ${DNS_ADDRS//,/ }; do echo "$addr $DNS_NAME"; done
} | $SUDO tee "/etc/netns/$NS/hosts" >/dev/null
# Resolve from the hosts file only: the namespace has no network for DNS anyway.
if [ -e /etc/nsswitch.conf ]; then
  echo "hosts: files" | $SUDO tee "/etc/netns/$NS/nsswitch.conf" >/dev/null
fi
$SUDO ip netns add "$NS"
$SUDO ip netns exec "$NS" ip link set lo up
# getaddrinfo without AI_ADDRCONFIG, as Rust's lookup_host calls it (`getent
# ahosts` sets that flag, which ignores loopback-only hosts and finds nothing).
$SUDO ip netns exec "$NS" python3 -c 'import socket, sys
print("getaddrinfo(%s) inside the namespace: %s" % (sys.argv[1],
      sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 8081, type=socket.SOCK_STREAM)})))' "$DNS_NAME"

log "federation: DNS discovery test inside $NS"
# The integration-test binary `it` (tests/it/main.rs), built as the `rust` stage builds it.
test_bin="$(cargo test --locked --test it --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "it" and m.get("executable"):
        print(m["executable"])')"
[ -x "$test_bin" ] || die "could not build the integration tests (tests/it)"
$SUDO ip netns exec "$NS" env \
  MOCK_IDP_DNS_NAME="$DNS_NAME" MOCK_IDP_DNS_ADDRS="$DNS_ADDRS" MOCK_IDP_DNS_PORT="$DNS_PORT" \
  "$test_bin" --ignored --exact federation_dns::dns_discovery_across_loopback_addresses --nocapture

log "federation: Kubernetes manifests (offline schema validation)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/mock-idp/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
for version in "${K8S_VERSIONS[@]}"; do
  # Inside the namespace: no network, so the schemas really are offline.
  $SUDO ip netns exec "$NS" "$venv/bin/kubernetes-validate" --strict -k "$version" deploy/k8s/*.yaml
done
# What the schema cannot say: the pieces of the HA setup fit together.
"$venv/bin/python" - deploy/k8s/*.yaml <<'PY'
import sys, yaml
docs = {}
for path in sys.argv[1:]:
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
def check(ok, what):
    if not ok:
        sys.exit(f"deploy/k8s: {what}")
sts = docs.get(("StatefulSet", "mock-idp"))
check(sts, "no StatefulSet mock-idp")
headless = docs.get(("Service", sts["spec"]["serviceName"]))
check(headless, "serviceName does not name a Service")
check(headless["spec"].get("clusterIP") == "None", "headless Service needs clusterIP: None")
check(headless["spec"].get("publishNotReadyAddresses") is True, "headless Service needs publishNotReadyAddresses: true")
check(any(s["kind"] == "Service" and s["spec"].get("clusterIP") != "None" for s in docs.values()), "no client Service")
check(sts["spec"]["replicas"] == 3, "replicas must be 3")
pod = sts["spec"]["template"]["spec"]
c = pod["containers"][0]
env = {e["name"]: e for e in c["env"]}
check(env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", "POD_NAME from metadata.name")
check(env["INSTANCE_ID"]["value"] == "$(POD_NAME)", "INSTANCE_ID from the pod name")
check(env["HOST"]["value"] == "0.0.0.0", "HOST=0.0.0.0")
port = headless["spec"]["ports"][0]["port"]
check(env["PEERS_DNS"]["value"] == f"{headless['metadata']['name']}.$(POD_NAMESPACE).svc.cluster.local:{port}",
      "PEERS_DNS must name the headless Service and its port")
check(env["PORT"]["value"] == str(c["ports"][0]["containerPort"]), "PORT must match containerPort")
for probe in ("readinessProbe", "livenessProbe"):
    check(c[probe]["httpGet"]["path"] == "/health", f"{probe} on /health")
check(pod["securityContext"]["runAsNonRoot"] is True, "runAsNonRoot")
check(c["securityContext"]["readOnlyRootFilesystem"] is True, "readOnlyRootFilesystem")
check(c["resources"]["limits"]["memory"], "memory limit")
print(f"deploy/k8s: {len(docs)} resources fit together")
PY

log "federation: OK"
