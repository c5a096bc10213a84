#!/usr/bin/env bash
# CI stage: replicas racing to create the signing key on one shared volume
# (issue 10, item 3). See docs/reliability.md#key-creation-races.
#
# Every replica runs as PID 1 in a PID namespace of its own (`unshare --pid
# --fork`), as in a container, so process ids cannot tell writers apart. Per
# round, KEYRACE_REPLICAS processes are released at once on ONE fresh
# PERSIST_KEYS_DIR with PORT=0. Checks, per round:
#   - each process saw itself as PID 1;
#   - all of them started, and exactly one logged "created new key pair";
#   - all serve the same single key (one kid, one n) in their JWKS;
#   - the directory holds exactly private.pem (mode 0600) and public.pem, a
#     matching pair whose modulus is the served n; no temporary file is left.
# Then the crash cases, each with KEYRACE_REPLICAS PID-1 processes at once:
#   - a writer SIGKILLed mid-write left a partial `.private.pem.1.tmp` (the
#     name the old code always used in a container) and a partial
#     `.public.pem.1.tmp`: all start; the fresh partial files are left as they
#     are, a temporary file older than 10 minutes is removed;
#   - a writer died between linking private.pem and public.pem: all start,
#     serve the key of private.pem (byte-for-byte untouched), and public.pem
#     is rewritten from it.
#
# Needs root (or unprivileged user namespaces, then `--user --map-root-user`
# is added). MOCK_IDP_BIN selects the binary (default: the release build).
# KEYRACE_REPLICAS (20) and KEYRACE_ROUNDS (3) size the run; ~10 s.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cd "$REPO_ROOT" || exit 1

N="${KEYRACE_REPLICAS:-20}"
ROUNDS="${KEYRACE_ROUNDS:-3}"
START_TIMEOUT_S=20

command -v unshare >/dev/null || apt_install util-linux
command -v openssl >/dev/null || apt_install openssl
command -v curl >/dev/null || apt_install curl
BIN="$(release_binary)"
[ -x "$BIN" ] || die "no mock-idp binary at $BIN"

UNSHARE=(unshare --pid --fork --kill-child)
if [ "$(id -u)" != 0 ]; then UNSHARE=(unshare --user --map-root-user --pid --fork --kill-child); fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyrace.XXXXXX")"
PIDS=()
cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# stop_all: SIGKILL the unshare processes this script started; --kill-child
# takes their PID-1 mock-idp down with them.
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

FAILED=0 CHECKS=0
pass() { CHECKS=$((CHECKS + 1)); echo "  pass: $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1)); echo "  FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...: pass if the command succeeds
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
same_nonempty() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# count_logs REGEX FILE...: how many of the files have a line matching REGEX.
count_logs() {
  local re="$1"; shift
  { grep -l -- "$re" "$@" 2>/dev/null || true; } | wc -l
}

# race NAME KEYS_DIR: start N PID-1 replicas on KEYS_DIR, released together,
# wait until each is listening or has exited. Leaves outputs in $WORK/NAME.
STARTED=0 ALL_STARTED=0 ALL_LAUNCHED=0
race() {
  local name="$1" keys="$2" out="$WORK/$1" i
  mkdir -p "$out"
  # The starting gun: a FIFO whose only writer is this script (fd 3). Each
  # shell opens it, says it is ready, and blocks reading it; closing fd 3
  # gives every reader EOF at once.
  local go="$out/go"
  mkfifo "$go"
  exec 3<>"$go"
  for i in $(seq "$N"); do
    # The shell prints its own pid ($$ = 1 in a new PID namespace), waits
    # for the gun, then becomes mock-idp (exec keeps PID 1).
    # shellcheck disable=SC2016 # expanded by the inner sh, on purpose
    PERSIST_KEYS_DIR="$keys" PORT=0 HOST=127.0.0.1 RUST_LOG=mock_idp=info \
      "${UNSHARE[@]}" sh -c 'exec 4<"$1"; echo "keyrace pid=$$"; read -r _ <&4
        exec 4<&-; exec "$2"' sh "$go" "$BIN" >"$out/$i.log" 2>&1 3>&- &
    PIDS+=($!)
  done
  # Fire once every shell is parked on the gun (bounded).
  local deadline=$((SECONDS + START_TIMEOUT_S))
  while [ "$(count_logs '^keyrace pid=' "$out"/*.log)" -lt "$N" ] &&
    [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
  exec 3>&-
  # Every process either listens or exits (a failed start exits at once).
  local alive pid
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
    [ "$(count_logs '^mock-idp listening on' "$out"/*.log)" -ge "$alive" ] && break
    sleep 0.05
  done
  STARTED="$(count_logs '^mock-idp listening on' "$out"/*.log)"
  ALL_STARTED=$((ALL_STARTED + STARTED)) ALL_LAUNCHED=$((ALL_LAUNCHED + N))
}

# check_race NAME KEYS_DIR WINNERS [LISTING]: the checks after a race (see the
# header). WINNERS: how many processes must log "created new key pair" (1, or
# 0 when private.pem was already there). LISTING: the expected directory
# entries (default: "private.pem public.pem").
check_race() {
  local name="$1" keys="$2" winners="$3" want="${4:-private.pem public.pem}" out="$WORK/$1" i
  local pid1
  pid1="$(count_logs '^keyrace pid=1$' "$out"/*.log)"
  check "$name: $pid1/$N processes were PID 1 in their own PID namespace" [ "$pid1" -eq "$N" ]
  if [ "$STARTED" -eq "$N" ]; then
    pass "$name: $STARTED/$N started"
  else
    fail "$name: only $STARTED/$N started; first failure:"
    for i in $(seq "$N"); do
      grep -q '^mock-idp listening on' "$out/$i.log" || { sed 's/^/    | /' "$out/$i.log"; break; }
    done
  fi
  local created
  created="$(count_logs 'created new key pair' "$out"/*.log)"
  check "$name: $created process(es) created the key (want $winners)" [ "$created" -eq "$winners" ]

  # The JWKS of every started replica: one distinct (kid, n) pair among all.
  : >"$out/served"
  for i in $(seq "$N"); do
    local url
    url="$(sed -n 's/^mock-idp listening on \(http[^ ]*\).*/\1/p' "$out/$i.log" | head -1)"
    [ -n "$url" ] || continue
    curl -fsS --max-time 5 "$url/.well-known/jwks.json" >>"$out/served" || echo '{"keys":[]}' >>"$out/served"
    echo >>"$out/served"
  done
  local served
  served="$(python3 - "$out/served" <<'PY'
import json, sys
pairs = set()
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    keys = json.loads(line)["keys"]
    pairs.add(tuple((k["kid"], k["n"]) for k in keys))
if len(pairs) == 1:
    (only,) = pairs
    if len(only) == 1:
        print(only[0][1])
        sys.exit(0)
print("    distinct JWKS: %d; keys in each: %s" % (len(pairs), [len(p) for p in pairs][:5]), file=sys.stderr)
sys.exit(1)
PY
)" || served=""
  check "$name: every replica serves the same single key (kid, n)" [ -n "$served" ]

  local listing
  listing="$(cd "$keys" && ls -A | LC_ALL=C sort | xargs)" || listing=""
  check "$name: the directory holds exactly: $want (got: $listing)" [ "$listing" = "$want" ]
  check "$name: private.pem has mode 600" [ "$(stat -c %a "$keys/private.pem")" = 600 ]
  local from_private from_public
  from_private="$(openssl pkey -in "$keys/private.pem" -pubout -outform DER 2>/dev/null | base64 -w0)" || from_private=""
  from_public="$(openssl pkey -pubin -in "$keys/public.pem" -outform DER 2>/dev/null | base64 -w0)" || from_public=""
  check "$name: public.pem is the public key of private.pem" same_nonempty "$from_private" "$from_public"
  # n (base64url, big-endian) as upper-case hex, as `openssl -modulus` prints it.
  local n_hex file_hex
  n_hex="$(python3 -c 'import base64, sys; n = sys.argv[1]; print(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)).hex().upper().lstrip("0"))' "${served:-AA}")" || n_hex=""
  file_hex="$(openssl rsa -pubin -in "$keys/public.pem" -noout -modulus 2>/dev/null | sed 's/^Modulus=//; s/^0*//')" || file_hex=""
  check "$name: the served n is the modulus in the key files" same_nonempty "$n_hex" "$file_hex"
  stop_all
}

log "keyrace: $ROUNDS rounds of $N PID-1 replicas creating the key on one fresh directory ($BIN)"
for round in $(seq "$ROUNDS"); do
  keys="$WORK/keys-$round"
  race "round$round" "$keys"
  check_race "round$round" "$keys" 1
done

log "keyrace: a writer SIGKILLed mid-write left partial temporary files"
keys="$WORK/keys-partial"
mkdir -m 700 "$keys"
printf -- '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7' >"$keys/.private.pem.1.tmp"
printf -- '-----BEGIN PUBLIC' >"$keys/.public.pem.1.tmp"
printf -- '-----BEGIN PRIVATE KEY-----\nMIIE' >"$keys/.private.pem.7.tmp"
chmod 600 "$keys"/.*.tmp
touch -d '1 hour ago' "$keys/.private.pem.7.tmp"
partial_before="$(cat "$keys/.private.pem.1.tmp" "$keys/.public.pem.1.tmp" | sha256sum)"
race partial "$keys"
check_race partial "$keys" 1 ".private.pem.1.tmp .public.pem.1.tmp private.pem public.pem"
check "partial: the fresh partial temporary files are left byte-for-byte" \
  [ "$(cat "$keys/.private.pem.1.tmp" "$keys/.public.pem.1.tmp" 2>/dev/null | sha256sum)" = "$partial_before" ]
check "partial: the temporary file older than 10 minutes was removed" [ ! -e "$keys/.private.pem.7.tmp" ]

log "keyrace: the creator died between linking private.pem and public.pem"
keys="$WORK/keys-halfpair"
mkdir -m 700 "$keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/private.pem" 2>/dev/null
chmod 600 "$keys/private.pem"
private_before="$(sha256sum <"$keys/private.pem")"
race halfpair "$keys"
check_race halfpair "$keys" 0
writers="$(count_logs 'wrote missing public.pem' "$WORK/halfpair"/*.log)"
check "halfpair: $writers process(es) wrote public.pem (want 1)" [ "$writers" -eq 1 ]
check "halfpair: private.pem is byte-for-byte untouched" [ "$(sha256sum <"$keys/private.pem")" = "$private_before" ]

echo
echo "keyrace: $ALL_STARTED/$ALL_LAUNCHED PID-1 starts succeeded; $((CHECKS - FAILED))/$CHECKS checks passed"
[ "$FAILED" -eq 0 ]
