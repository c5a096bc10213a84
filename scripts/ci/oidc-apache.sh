#!/usr/bin/env bash
# Part of the oidc stage: Apache httpd with mod_auth_openidc (Debian
# packages, C, cjose) as an independent relying party and resource server in
# front of three issuers of one mock-idp: a configured one (/tenant), a
# dynamic one (/dyn, created by the first request) and a Keycloak realm
# (/realms/kc). For each, tests/e2e/mod_auth_openidc/rp_check.py logs in as
# alice through the login page, has Apache validate the ID token and call
# userinfo, sends bearer tokens to an OAuth 2.0-protected location that
# verifies them against the issuer's JWKS (good, expired, bad signature,
# another issuer's) and logs out through the
# end-session endpoint.
#
#   scripts/ci/oidc-apache.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE="$REPO_ROOT/tests/e2e/mod_auth_openidc"
apt_install apache2 libapache2-mod-auth-openidc curl openssl
pip_install requests
MODS=/usr/lib/apache2/modules
[ -f "$MODS/mod_auth_openidc.so" ] || die "mod_auth_openidc.so not found in $MODS"

RP_PORT="$(free_port)"
TLS_PORT="$(free_port)"
RP="http://127.0.0.1:$RP_PORT"
SCRATCH="$(mktemp -d -t mock-idp-apache.XXXXXX)"
chmod 755 "$SCRATCH"
APACHE_PID=""
trap 'stop_pid "$APACHE_PID"; stop_pid "${MOCK_IDP_PID:-}"; rm -rf "$SCRATCH"' EXIT

cat >"$SCRATCH/mock-idp.yaml" <<YAML
users:
  alice: {sub: user_alice, email: alice@example.com, name: Alice}
clients:
  - client_id: rp
    client_secret: rp-secret
    redirect_uris: [$RP/protected/callback]
    post_logout_redirect_uris: [$RP/bye]
    grant_types: [authorization_code, refresh_token]
issuers:
  tenant: {}
YAML
start_mock_idp "$SCRATCH/mock-idp.log" serve --host 127.0.0.1 --config "$SCRATCH/mock-idp.yaml"
log "mock-idp on $MOCK_IDP_URL; Apache (mod_auth_openidc) on $RP"

# Apache drops root for its workers; as another user it stays that user.
if [ "$(id -u)" -eq 0 ]; then run_user=www-data run_group=www-data
else run_user="$(id -un)" run_group="$(id -gn)"; fi

status=0
for mount in tenant dyn realms/kc; do
  idp="$MOCK_IDP_URL/$mount"
  work="$SCRATCH/${mount//\//-}"
  mkdir -p "$work/www/protected" "$work/www/api"
  cp "$HERE/env.cgi" "$work/www/protected/env.cgi"
  cp "$HERE/env.cgi" "$work/www/api/env.cgi"
  echo ok >"$work/www/index.html"
  chmod -R a+rX "$work"
  # The JWKS URL as the issuer's discovery names it (this also creates
  # /dyn), reached through Apache's TLS proxy.
  jwks="$(curl -fsS "$idp/.well-known/openid-configuration" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["jwks_uri"])')"
  jwks_tls="https://127.0.0.1:$TLS_PORT${jwks#"$MOCK_IDP_URL"}"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
  apache2 -f "$HERE/httpd.conf" -D FOREGROUND \
    -C "Define WORK $work" -C "Define MODS $MODS" -C "Define RP_PORT $RP_PORT" \
    -C "Define IDP $idp" -C "Define IDP_JWKS_TLS $jwks_tls" -C "Define TLS_PORT $TLS_PORT" \
    -C "Define IDP_ORIGIN $MOCK_IDP_URL" \
    -C "Define USER_NAME $run_user" -C "Define GROUP_NAME $run_group" \
    >"$work/apache.out" 2>&1 &
  APACHE_PID=$!
  if ! (wait_http "$RP/index.html" 20); then cat "$work/apache.out" "$work/error.log" >&2 2>/dev/null; exit 1; fi
  log "mod_auth_openidc against $idp"
  if ! timeout 120 "$(ci_python)" "$HERE/rp_check.py" "$RP" "$idp" "$MOCK_IDP_URL/foreign"; then
    status=1
    log "Apache error log ($mount)"
    tail -n 40 "$work/error.log" >&2 || true
  fi
  stop_pid "$APACHE_PID"
  APACHE_PID=""
done
[ "$status" -eq 0 ] || { log "mock-idp log"; tail -n 30 "$SCRATCH/mock-idp.log" >&2; }
exit "$status"
