#!/usr/bin/env bash
# Publishes the gateway as one Native AOT executable: artifacts/aot/Proxy.Host (no .NET runtime needed to run it).
#
#   scripts/publish-aot.sh            build it; fails on any AOT (IL3xxx) or trim (IL2xxx) warning
#   scripts/publish-aot.sh --smoke    build it, then run the AOT smoke subset of the integration tests against it
#                                     (dotnet test --filter Category=AotSmoke with PROXY_TEST_GATEWAY_BINARY set), with
#                                     the same throw-away Redis and PostgreSQL as scripts/test.sh; ends with the plain
#                                     "N passed, N failed, N skipped" line
#
# Environment: AOT_OUT (default artifacts/aot), AOT_RID (default linux-x64). The native toolchain is clang and zlib's
# headers (Debian: apt-get install clang zlib1g-dev); compose/Dockerfile runs this same publish command.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${AOT_OUT:-artifacts/aot}
rid=${AOT_RID:-linux-x64}
smoke=false
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=true ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "publish-aot.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "publish-aot.sh: Native AOT needs ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
# The one publish command (compose/Dockerfile runs the same).
if ! dotnet publish src/Proxy.Host -c Release -r "$rid" -p:PublishAot=true -o "$out" --nologo 2>&1 | tee "$log"; then
  echo "publish-aot.sh: publish failed" >&2
  exit 1
fi

# Our projects treat warnings as errors already; this also catches what the AOT compiler says about packages.
if grep -E 'warning IL[0-9]{4}' "$log" | sort -u | grep .; then
  echo "publish-aot.sh: the AOT publish has trim/AOT warnings (above); fix them or suppress them narrowly with a reason" >&2
  exit 1
fi

binary="$out/Proxy.Host"
size=$(stat -c %s "$binary")
echo "publish-aot.sh: $binary, $((size / 1024 / 1024)) MB, published in $(( $(date +%s) - start )) s"

if [ "$smoke" != true ]; then
  exit 0
fi

source scripts/services.sh
trap 'services_stop; rm -f "$log"' EXIT
services_start

export PROXY_TEST_GATEWAY_BINARY
PROXY_TEST_GATEWAY_BINARY=$(realpath "$binary")
dotnet test tests/Proxy.IntegrationTests -c Release --nologo --filter "Category=AotSmoke" --blame-hang-timeout 5m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

read -r passed failed skipped < <(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {printf "%d %d %d\n", p, f, s}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  # A filter that matched nothing is a broken smoke step, not a green one.
  echo "publish-aot.sh: the AotSmoke filter ran no test" >&2
  failed=1
fi
echo "aot-smoke: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
