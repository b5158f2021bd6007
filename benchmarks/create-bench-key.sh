#!/usr/bin/env bash
# Creates the bench's virtual key in the embedded store next to a config: a short-lived gateway on 127.0.0.1:18190.
#   benchmarks/create-bench-key.sh PUBLISHED_DIR CONFIG KEY
# Run by keys-bench.sh and shared-bench.sh.
set -euo pipefail
out=$1 config=$2 key=$3
dotnet "$out/Proxy.Host.dll" --config "$config" --host 127.0.0.1 --port 18190 >"$(dirname "$config")/setup.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:18190/health/liveliness >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS http://127.0.0.1:18190/key/generate -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
  -d "{\"key\":\"$key\",\"key_alias\":\"bench\"}" >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true
