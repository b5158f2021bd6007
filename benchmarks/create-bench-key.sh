#!/usr/bin/env bash
# Creates the bench's virtual key in the embedded store next to a config: a short-lived gateway on 127.0.0.1:18190.
#   benchmarks/create-bench-key.sh PUBLISHED_DIR CONFIG KEY [TEAM_ID]
# With TEAM_ID the key belongs to that team, made first with a budget it never reaches (so every request pays for the
# team's blocked/model/budget checks and its spend). Run by keys-bench.sh and shared-bench.sh.
set -euo pipefail
out=$1 config=$2 key=$3 team=${4:-}
dotnet "$out/Proxy.Host.dll" --config "$config" --host 127.0.0.1 --port 18190 >"$(dirname "$config")/setup.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:18190/health/liveliness >/dev/null 2>&1 && break
  sleep 0.1
done
team_field=""
if [ -n "$team" ]; then
  curl -fsS http://127.0.0.1:18190/team/new -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
    -d "{\"team_id\":\"$team\",\"team_alias\":\"bench-team\",\"max_budget\":1000000000,\"budget_duration\":\"30d\"}" >/dev/null
  team_field=",\"team_id\":\"$team\""
fi
curl -fsS http://127.0.0.1:18190/key/generate -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
  -d "{\"key\":\"$key\",\"key_alias\":\"bench\"$team_field}" >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true
