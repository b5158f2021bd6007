#!/usr/bin/env bash
# Start-up and memory of one gateway build: time from exec to the first 200 (on /health/liveliness and on a chat
# through the fake upstream), RSS when ready, and RSS and peak RSS after a bounded load (Proxy.LoadTest rate mode).
# Everything on 127.0.0.1; the load stops by itself (count and time bounded).
#
#   benchmarks/aot-footprint.sh aot [BINARY]      default artifacts/aot/Proxy.Host (scripts/publish-aot.sh)
#   benchmarks/aot-footprint.sh jit [DLL]         default src/Proxy.Host/bin/Release/net10.0/Proxy.Host.dll
#   env: RATE (default 500 req/s), SECONDS_OF_LOAD (default 20: 10,000 requests), STARTS (default 5)
#
# It expects FakeUpstream and Proxy.LoadTest built in Release (dotnet build tests/FakeUpstream benchmarks/Proxy.LoadTest -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:?usage: aot-footprint.sh aot|jit [PATH]}
rate=${RATE:-500}
seconds=${SECONDS_OF_LOAD:-20}
starts=${STARTS:-5}
case "$kind" in
  aot) gateway=(${2:-artifacts/aot/Proxy.Host}) ;;
  jit) gateway=(dotnet "${2:-src/Proxy.Host/bin/Release/net10.0/Proxy.Host.dll}") ;;
  *) echo "first argument: aot or jit" >&2; exit 2 ;;
esac
fake=tests/FakeUpstream/bin/Release/net10.0/FakeUpstream.dll
loadtest=benchmarks/Proxy.LoadTest/bin/Release/net10.0/Proxy.LoadTest.dll

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

up_port=$(port)
dotnet "$fake" --port "$up_port" >"$work/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$up_port/health" >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: http://127.0.0.1:$up_port/v1
      api_key: sk-fake-upstream
general_settings:
  master_key: sk-footprint
YAML
chat='{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"max_tokens":4}'

# start: launches the gateway, waits for the first 200 on PATH; prints "ms pid".
start() {
  local gw_port t0 pid code
  gw_port=$(port)
  t0=$(now_ms)
  "${gateway[@]}" --config "$work/config.yaml" --host 127.0.0.1 --port "$gw_port" >"$work/gateway.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gw_port$1" -H 'Authorization: Bearer sk-footprint' \
      -H 'Content-Type: application/json' ${2:+-d "$2"} || true)
    [ "$code" = 200 ] && break
    sleep 0.005
  done
  [ "$code" = 200 ] || { echo "gateway did not answer 200 on $1" >&2; cat "$work/gateway.log" >&2; exit 1; }
  echo "$(( $(now_ms) - t0 )) $pid $gw_port"
}
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }
rss_mb() { awk -v f="$2" '$1 == f {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

live=(); first_chat=()
for _ in $(seq 1 "$starts"); do
  read -r ms pid _ < <(start /health/liveliness); live+=("$ms"); stop "$pid"
  read -r ms pid _ < <(start /v1/chat/completions "$chat"); first_chat+=("$ms"); stop "$pid"
done

read -r ms pid gw_port < <(start /health/liveliness)
pids+=("$pid")
sleep 1
ready=$(rss_mb "$pid" VmRSS:)
timeout $((seconds + 60)) dotnet "$loadtest" rate --url "http://127.0.0.1:$gw_port/v1" --key sk-footprint --model fake-model \
  --rate "$rate" --duration "$seconds" --connections 32 >"$work/load.txt"
after=$(rss_mb "$pid" VmRSS:)
peak=$(rss_mb "$pid" VmHWM:)
size=""
[ "$kind" = aot ] && size=" binary $(( $(stat -c %s "${gateway[0]}") / 1024 / 1024 )) MB;"

echo "$kind:$size start to first 200 (ms, $starts starts): liveliness ${live[*]}, chat ${first_chat[*]}"
echo "$kind: RSS ready ${ready} MB; after $((rate * seconds)) requests at $rate/s ${after} MB (peak ${peak} MB)"
grep -m1 -v '^LOADJSON' "$work/load.txt"
