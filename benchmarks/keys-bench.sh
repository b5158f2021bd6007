#!/usr/bin/env bash
# Virtual keys vs master key, same run of the shared bench (issue #5 target: <= 10% throughput loss, p99 unchanged).
#   benchmarks/keys-bench.sh [extra run.sh args, e.g. --duration 10]
# 1. publishes the gateway to /tmp/gw-keys (Release),
# 2. copies benchmarks/configs/keys.yaml to a scratch folder and creates the virtual key sk-bench-virtual-key-0001
#    in its embedded store (a short-lived gateway on 127.0.0.1:18190),
# 3. runs ../shared/bench/run.sh with four gateway targets (plus bare YARP):
#    gw             the bench's own gateway-config.yaml, master key, no database at all (the issue's baseline)
#    gw-master      keys.yaml, master key: spend-log rows written, no key checks
#    gw-vkey        keys.yaml, virtual key sk-bench-virtual-key-0001: key, budget and limit checks, cost headers,
#                   key spend and spend-log rows
#    gw-vkey-nolog  the same with general_settings.disable_spend_logs (the keys' own cost, without spend-log rows)
#    gw-vkey-team   keys.yaml, virtual key sk-bench-team-key-0001 inside team bench-team with a budget (issue #17 target:
#                   CPU per request within 5 % of gw-vkey)
#    With --interleave first: gw, gw-vkey, gw, gw-vkey (alternating, to see the VM's drift within one run).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
out=/tmp/gw-keys
work=/tmp/gw-keys-bench
key=sk-bench-virtual-key-0001
team_key=sk-bench-team-key-0001

dotnet publish "$repo/src/Proxy.Host" -c Release -o "$out" --nologo -v q >/dev/null
rm -rf "$work" && mkdir -p "$work"
cp "$repo/benchmarks/configs/keys.yaml" "$work/config.yaml"
mkdir -p "$work/nolog"
sed 's/^general_settings:$/general_settings:\n  disable_spend_logs: true/' "$work/config.yaml" >"$work/nolog/config.yaml"
grep -q 'disable_spend_logs: true' "$work/nolog/config.yaml"

"$repo/benchmarks/create-bench-key.sh" "$out" "$work/config.yaml" "$key"
"$repo/benchmarks/create-bench-key.sh" "$out" "$work/config.yaml" "$team_key" bench-team
cp "$work/gateway.db" "$work/nolog/gateway.db"
echo "key $key created in $work/gateway.db (and a copy in $work/nolog)"

gw="exec dotnet $out/Proxy.Host.dll --port \$TARGET_PORT --host 127.0.0.1"
if [ "${1:-}" = "--interleave" ]; then
  # gw and gw-vkey twice each, alternating, to see how much of a difference between them is this VM's drift.
  shift
  exec "$bench/run.sh" --only gw-1,vkey-1,gw-2,vkey-2 \
    --target gw-1=http://127.0.0.1:18100/v1 --cmd gw-1="$gw --config \$BENCH_DIR/gateway-config.yaml" \
    --header gw-1='Authorization: Bearer sk-bench' --desc gw-1='master key, no database' \
    --target vkey-1=http://127.0.0.1:18101/v1 --cmd vkey-1="$gw --config $work/config.yaml" \
    --header vkey-1="Authorization: Bearer $key" --model vkey-1=fake-model --desc vkey-1='virtual key, key spend + spend logs (SQLite)' \
    --target gw-2=http://127.0.0.1:18102/v1 --cmd gw-2="$gw --config \$BENCH_DIR/gateway-config.yaml" \
    --header gw-2='Authorization: Bearer sk-bench' --desc gw-2='master key, no database' \
    --target vkey-2=http://127.0.0.1:18103/v1 --cmd vkey-2="$gw --config $work/config.yaml" \
    --header vkey-2="Authorization: Bearer $key" --model vkey-2=fake-model --desc vkey-2='virtual key, key spend + spend logs (SQLite)' \
    "$@"
fi
exec "$bench/run.sh" --only yarp,gw,gw-master,gw-vkey,gw-vkey-team,gw-vkey-nolog \
  --target gw=http://127.0.0.1:18100/v1 --cmd gw="$gw --config \$BENCH_DIR/gateway-config.yaml" \
  --header gw='Authorization: Bearer sk-bench' --desc gw='master key, no database' \
  --target gw-master=http://127.0.0.1:18101/v1 --cmd gw-master="$gw --config $work/config.yaml" \
  --header gw-master='Authorization: Bearer sk-bench' --model gw-master=fake-model --desc gw-master='master key, spend logs (SQLite)' \
  --target gw-vkey=http://127.0.0.1:18102/v1 --cmd gw-vkey="$gw --config $work/config.yaml" \
  --header gw-vkey="Authorization: Bearer $key" --model gw-vkey=fake-model --desc gw-vkey='virtual key, key spend + spend logs (SQLite)' \
  --target gw-vkey-team=http://127.0.0.1:18104/v1 --cmd gw-vkey-team="$gw --config $work/config.yaml" \
  --header gw-vkey-team="Authorization: Bearer $team_key" --model gw-vkey-team=fake-model \
  --desc gw-vkey-team='virtual key inside a team with a budget, team + key spend + spend logs (SQLite)' \
  --target gw-vkey-nolog=http://127.0.0.1:18103/v1 --cmd gw-vkey-nolog="$gw --config $work/nolog/config.yaml" \
  --header gw-vkey-nolog="Authorization: Bearer $key" --model gw-vkey-nolog=fake-model --desc gw-vkey-nolog='virtual key, disable_spend_logs' \
  "$@"
