#!/usr/bin/env bash
# Virtual keys vs master key, same run of the shared bench (issue #5 target: <= 10% throughput loss, p99 unchanged).
#   benchmarks/keys-bench.sh [extra run.sh args, e.g. --duration 10]
# 1. publishes the gateway to /tmp/gw-keys (Release),
# 2. copies benchmarks/configs/keys.yaml to a scratch folder and creates the virtual key sk-bench-virtual-key-0001
#    in its embedded store (a short-lived gateway on 127.0.0.1:18190),
# 3. runs ../shared/bench/run.sh with two targets on that same config: gw-master (Bearer sk-bench) and gw-vkey
#    (Bearer sk-bench-virtual-key-0001). Both write spend logs; gw-vkey also checks the key, its budget and limits
#    and adds each request's cost to the key's spend.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
out=/tmp/gw-keys
work=/tmp/gw-keys-bench
key=sk-bench-virtual-key-0001

dotnet publish "$repo/src/Proxy.Host" -c Release -o "$out" --nologo -v q >/dev/null
rm -rf "$work" && mkdir -p "$work"
cp "$repo/benchmarks/configs/keys.yaml" "$work/config.yaml"

dotnet "$out/Proxy.Host.dll" --config "$work/config.yaml" --host 127.0.0.1 --port 18190 >"$work/setup.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:18190/health/liveliness >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS http://127.0.0.1:18190/key/generate -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
  -d "{\"key\":\"$key\",\"key_alias\":\"bench\"}" >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true
trap - EXIT
echo "key $key created in $work/gateway.db"

cmd="exec dotnet $out/Proxy.Host.dll --config $work/config.yaml --port \$TARGET_PORT --host 127.0.0.1"
exec "$bench/run.sh" --only yarp,gw-master,gw-vkey \
  --target gw-master=http://127.0.0.1:18100/v1 --cmd gw-master="$cmd" --header gw-master='Authorization: Bearer sk-bench' --model gw-master=fake-model \
  --target gw-vkey=http://127.0.0.1:18101/v1 --cmd gw-vkey="$cmd" --header gw-vkey="Authorization: Bearer $key" --model gw-vkey=fake-model \
  "$@"
