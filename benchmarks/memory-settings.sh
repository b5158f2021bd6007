#!/usr/bin/env bash
# RSS of the gateway under the runtime settings a container operator would set, one after another on the same load:
# wrk non-streamed chat (32 connections) then loadgen streams (16 concurrent), on ../shared/bench/gateway-config.yaml.
#
#   benchmarks/memory-settings.sh [--duration S] [--cpus LIST]
#
# Rows: as shipped (workstation, non-concurrent GC, TieredPGO off), DOTNET_gcServer=1, DOTNET_GCConserveMemory=7,
# DOTNET_GCHeapHardLimit=64 MB, DOTNET_TieredPGO=1. --cpus (default "1", as the bench pins the proxy) is the taskset
# list for the gateway; server GC only differs from workstation GC with more than one CPU, so run it with "0,1" too.
# Prints a markdown table: RSS when ready, peak RSS (VmHWM), RSS at the end, requests/s of the wrk phase. Reuses the
# binaries attribution.sh builds ($PERF_BUILD, default /tmp/perfb). Traffic stays on 127.0.0.1.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
[[ -d $bench ]] || bench="$repo/../../shared/bench"
build="${PERF_BUILD:-/tmp/perfb}"
duration=20 cpus=1
while (($#)); do
  case "$1" in
    --duration) duration=$2; shift 2;;
    --cpus) cpus=$2; shift 2;;
    -h|--help) sed -n 2,12p "$0"; exit 0;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
((duration > 0 && duration <= 300)) || { echo "--duration in 1..300" >&2; exit 2; }
for b in fake-vllm loadgen gw; do [[ -f "$build/$b/.done" ]] || { echo "run benchmarks/attribution.sh once first (builds $build/$b)" >&2; exit 2; }; done
work=$(mktemp -d)
up_port=18320 gw_port=18321
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
taskset -c 0 "$build/fake-vllm/fake-vllm" --port "$up_port" --chunk-delay-ms 10 >/dev/null 2>&1 & pids+=($!)
sed "s#127.0.0.1:18000#127.0.0.1:$up_port#" "$bench/gateway-config.yaml" > "$work/gw.yaml"
python3 -c '
import json
u = ("The quick brown fox jumps over the lazy dog while the gateway forwards every token it sees. " * 20)[:1000]
b = {"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": u}], "model": "fake-model", "max_tokens": 16}
open("'"$work"'/body.json", "w").write(json.dumps(b))
b.update(stream=True, stream_options={"include_usage": True}, max_tokens=20)
open("'"$work"'/body-stream.json", "w").write(json.dumps(b))'
url="http://127.0.0.1:$gw_port/v1/chat/completions"
mb() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "| settings (gateway on CPUs $cpus) | RSS ready MB | peak RSS MB | RSS end MB | wrk req/s |"
echo "|---|---:|---:|---:|---:|"
run() { # label env...
  local label=$1; shift
  env "$@" taskset -c "$cpus" dotnet "$build/gw/Proxy.Host.dll" --config "$work/gw.yaml" --host 127.0.0.1 --port "$gw_port" >"$work/gw.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench' --data-binary "@$work/body.json" 2>/dev/null) == 200 ]] && break
    sleep 0.2
  done
  local ready; ready=$(mb "$pid" VmRSS)
  local w; w=$(WRK_BODY_FILE="$work/body.json" timeout $((duration + 30)) taskset -c 0 wrk -t1 -c32 -d"${duration}s" -s "$bench/lib/wrk-post.lua" \
    -H 'Authorization: Bearer sk-bench' "$url" 2>&1 | grep '^WRKJSON' | sed 's/^WRKJSON //' || echo '{}')
  timeout $((duration + 60)) taskset -c 0 "$build/loadgen/loadgen" stream --url "$url" --body "$work/body-stream.json" --conns 16 --duration "$duration" \
    --warmup 0 --header 'Authorization: Bearer sk-bench' >/dev/null 2>&1 || true
  local rps; rps=$(jq -r 'if .requests then (.requests / (.duration_us / 1e6) | floor) else "?" end' <<<"$w")
  echo "| $label | $ready | $(mb "$pid" VmHWM) | $(mb "$pid" VmRSS) | $rps |"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
run "as shipped (workstation GC, non-concurrent, TieredPGO off)" X=1
run "DOTNET_gcServer=1" DOTNET_gcServer=1
run "DOTNET_GCConserveMemory=7" DOTNET_GCConserveMemory=7
run "DOTNET_GCHeapHardLimit=0x4000000 (64 MB)" DOTNET_GCHeapHardLimit=0x4000000
run "DOTNET_TieredPGO=1" DOTNET_TieredPGO=1
