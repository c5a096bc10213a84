#!/usr/bin/env bash
# forbid-mock-idp-in-prod.sh: fail a production CI job when what it is about
# to ship references mock-idp (a dev/test-only token issuer).
# Docs: docs/production-safety.md. Needs bash, GNU find and GNU grep.
set -uo pipefail
export LC_ALL=C

PROG="${0##*/}"

usage() {
  cat <<EOF
usage: $PROG [--exclude GLOB]... [--] PATH...

Scans every file under each PATH (build outputs, manifests, compose and env
files, image file lists, unpacked images) for references to mock-idp and lists
each one as FILE:LINE: EXCERPT. Exit status: 0 none found, 1 found (listed on
stdout), 2 usage error or a file/directory that could not be read.

What counts as a reference (case-insensitive):
  mock-idp, mock_idp               the binary, image (mock-idp:dev), crate,
                                   packages (@mock-idp/playwright,
                                   pytest-mock-idp), k8s names, MOCK_IDP_*
                                   variables, the X-Mock-Idp header and the
                                   "mock_idp" discovery member
  token-issuer (as a whole name)   the example compose service and its URLs
                                   (http://token-issuer:8081/...)
  issuer.local (as a host name)    mock-idp's default issuer
  localhost|127.0.0.1|[::1]:8081 followed by /.well-known/jwks.json,
  /.well-known/openid-configuration, /certs or /api/pkeys, or alone as
  http(s)://localhost:8081 (an issuer value)
                                   mock-idp's default JWKS/discovery/issuer
                                   URLs (not http://localhost:8081/health)
The words "mock" or "idp" on their own, and camel-case identifiers such as
mockIdp, never match.

Also reported: files, directories and symlinks whose name matches, symlinks
whose target matches, and binary files that contain a match ("binary file
matches": a copied mock-idp binary is a reference). Symlinks are listed, never
followed (no loops), except a PATH given on the command line. .git, .hg and
.svn directories and this script itself are skipped.

options:
  --exclude GLOB   skip matching files and directories (repeatable). A GLOB
                   without '/' matches a name at any depth (like .gitignore);
                   one with '/' matches the path relative to each PATH, or the
                   whole path; '*' also matches '/'. Examples:
                   --exclude docs/production-safety.md --exclude 'test*'
  -h, --help       this help
EOF
}

usage_error() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  printf "usage: %s [--exclude GLOB]... [--] PATH...  (see --help)\n" "$PROG" >&2
  exit 2
}

excludes=()
roots=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --exclude)
      [ $# -ge 2 ] || usage_error "--exclude needs a GLOB"
      excludes+=("$2"); shift 2 ;;
    --exclude=*) excludes+=("${1#--exclude=}"); shift ;;
    --) shift; roots+=("$@"); break ;;
    -?*) usage_error "unknown option: $1" ;;
    *) roots+=("$1"); shift ;;
  esac
done
[ ${#roots[@]} -gt 0 ] || usage_error "no PATH given"
for i in "${!roots[@]}"; do
  r="${roots[$i]}"
  [ -e "$r" ] || [ -L "$r" ] || usage_error "PATH '$r' does not exist"
  # find would read "-name" as an expression, not a path.
  case "$r" in -*) r="./$r" ;; esac
  # "tree/" and "tree" print the same paths, so --exclude 'tree/...' globs work.
  while [ "${#r}" -gt 1 ] && [ "${r%/}" != "$r" ]; do r="${r%/}"; done
  roots[i]="$r"
done
for g in "${excludes[@]}"; do
  [ -n "$g" ] || usage_error "--exclude needs a non-empty GLOB"
done

# The patterns (extended regular expressions, matched case-insensitively).
NAME_RE='mock[-_]idp'
SERVICE_RE='(^|[^[:alnum:]_-])token-issuer([^[:alnum:]_-]|$)'
ISSUER_RE='(^|[^[:alnum:]_.-])issuer\.local([^[:alnum:]_-]|$)'
LOOPBACK='(localhost|127\.0\.0\.1|\[::1\]):8081'
LOOPBACK_RE="$LOOPBACK/(\.well-known/(jwks\.json|openid-configuration)|certs|api/pkeys)"
# The bare origin, as an issuer value is written (ISSUER=http://localhost:8081),
# not followed by a path or anything else that continues the URL.
ORIGIN_RE="https?://$LOOPBACK/?([^[:alnum:]/._~%?#:@-]|\$)"
CONTENT_RE="$NAME_RE|$SERVICE_RE|$ISSUER_RE|$LOOPBACK_RE|$ORIGIN_RE"
# Up to 60 characters around the match, so a minified one-line bundle still
# gives a short, readable excerpt (and a binary file no control bytes).
EXCERPT_RE="[^[:cntrl:]]{0,60}($CONTENT_RE)[^[:cntrl:]]{0,60}"
# On "BASENAME/PATH" records: the basename (before the first '/') matches.
FILENAME_RE="^[^/]*$NAME_RE|^([^/]*[^[:alnum:]_/-])?token-issuer[^[:alnum:]_-]"

T0=$(date +%s%N)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/forbid-scan.XXXXXX") || { echo "$PROG: mktemp failed" >&2; exit 2; }
trap 'rm -rf "$TMP"' EXIT

# find: what to skip. Globs are matched by find itself (-name / -path), so
# the roots are escaped before being glued in front of a GLOB.
glob_escape() { printf '%s' "$1" | sed 's/[][*?\\]/\\&/g'; }
prune=(\( -type d \( -name .git -o -name .hg -o -name .svn \))
for g in "${excludes[@]}"; do
  while [ "${#g}" -gt 1 ] && [ "${g%/}" != "$g" ]; do g="${g%/}"; done
  if [[ "$g" == */* ]]; then
    prune+=(-o -path "$g")
    for r in "${roots[@]}"; do
      er=$(glob_escape "$r")
      [ "$r" = / ] && er=""
      prune+=(-o -path "$er/${g#./}")
    done
  else
    prune+=(-o -name "$g")
  fi
done
SELF="${BASH_SOURCE[0]}"
[ -f "$SELF" ] && prune+=(-o -samefile "$SELF")
prune+=(-o -samefile "$TMP") # our own scratch files, when a PATH contains $TMPDIR
prune+=(\))

# One walk: every entry's "BASENAME/PATH" (for name matches), regular files
# (to grep), symlinks with their targets. -H: a PATH that is a symlink is
# followed; nothing below it is (-P), so symlink loops cannot hang the walk.
find -H "${roots[@]}" "${prune[@]}" -prune -o \
  -fprintf "$TMP/names" '%f/%p\0' \
  \( -type f -fprint0 "$TMP/files" -o -type l -fprintf "$TMP/links" '%p\0%l\0' \) \
  2>"$TMP/find.err"
: >>"$TMP/names"; : >>"$TMP/files"; : >>"$TMP/links"

# Contents: -a so binary files are searched too; -o with EXCERPT_RE keeps the
# output printable. Output records: PATH \0 LINE:EXCERPT \n.
xargs -0 -r grep -Z -H -n -a -o -i -E -e "$EXCERPT_RE" -- <"$TMP/files" >"$TMP/hits" 2>"$TMP/grep.err"
# Which of the files with hits are binary (grep -I sees no line in them)?
hit_files() { # the distinct paths in $TMP/hits, NUL-separated
  local path rest prev=""
  while IFS= read -r -d '' path && IFS= read -r rest; do
    [ "$path" = "$prev" ] || printf '%s\0' "$path"
    prev="$path"
  done <"$TMP/hits"
}
hit_files >"$TMP/hitfiles"
xargs -0 -r grep -L -Z -I -e '' -- <"$TMP/hitfiles" >"$TMP/binaries" 2>>"$TMP/grep.err"

declare -A binary=()
while IFS= read -r -d '' path; do binary["$path"]=1; done <"$TMP/binaries"

# Control characters (a newline in a file name...) shown as '?'; builtins only,
# as this runs once per hit.
printable() { REPLY="${1//[[:cntrl:]]/?}"; }
report=()
declare -A seen=() files_hit=()
while IFS= read -r -d '' path && IFS= read -r rest; do
  line="${rest%%:*}" excerpt="${rest#*:}"
  if [ -n "${binary[$path]:-}" ]; then
    [ -z "${seen[$path]:-}" ] || continue
    seen["$path"]=1
    printable "$path"; p="$REPLY"
    report+=("$p: binary file matches: ${excerpt//[![:print:]]/?}")
  else
    [ -z "${seen[$path:$line]:-}" ] || continue
    seen["$path:$line"]=1
    excerpt="${excerpt#"${excerpt%%[![:space:]]*}"}"
    printable "$path"
    report+=("$REPLY:$line: $excerpt")
  fi
  files_hit["$path"]=1
done <"$TMP/hits"

while IFS= read -r -d '' rec; do
  path="${rec#*/}"
  printable "$path"
  report+=("$REPLY: name matches")
  files_hit["$path"]=1
done < <(grep -z -i -E -e "$FILENAME_RE" <"$TMP/names")

while IFS= read -r -d '' path && IFS= read -r -d '' target; do
  if printf '%s\n' "$target" | grep -q -i -E -e "$CONTENT_RE"; then
    printable "$path"; p="$REPLY"; printable "$target"
    report+=("$p: symlink to $REPLY")
    files_hit["$path"]=1
  fi
done <"$TMP/links"

nfiles=$(tr -cd '\0' <"$TMP/files" | wc -c)
ms=$((($(date +%s%N) - T0) / 1000000))
scanned="$nfiles files under ${#roots[@]} path(s) in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"

# Unreadable files or directories: the tree is not known to be clean.
errors=$(cat "$TMP/find.err" "$TMP/grep.err")

if [ ${#report[@]} -gt 0 ]; then
  printf '%s\n' "${report[@]}" | sort -s -t: -k1,1 -k2,2n
  [ -z "$errors" ] || printf '%s\n' "$errors" | sed "s/^/$PROG: warning: /" >&2
  printf '%s: FAIL: %d reference(s) to mock-idp in %d file(s) (%s). mock-idp is dev/test only: remove it from what ships, or --exclude what is not shipped.\n' \
    "$PROG" "${#report[@]}" "${#files_hit[@]}" "$scanned" >&2
  exit 1
fi
if [ -n "$errors" ]; then
  printf '%s\n' "$errors" | sed "s/^/$PROG: /" >&2
  printf '%s: could not read everything (see above): no reference found in what was read (%s)\n' "$PROG" "$scanned" >&2
  exit 2
fi
printf '%s: OK: no reference to mock-idp (%s)\n' "$PROG" "$scanned" >&2
exit 0
