#!/usr/bin/env bash
# Per-request allocations (exact: the runtime's allocated-bytes counter) and CPU of the gateway and of bare YARP on the
# shared bench's workload, one target after another in one invocation. Allocations per request are deterministic even
# on a busy machine; CPU per request is not (mark it preliminary unless the machine is quiet).
#
#   benchmarks/attribution.sh [--duration S] [--warmup S] [--only yarp,gw,gw-spend] [--types] [--perf] [--out DIR]
#
#   yarp      ../shared/bench/yarp-bare (one route, one destination, defaults)
#   gw        the gateway on ../shared/bench/gateway-config.yaml (master key, metrics, access log, spend logs off)
#   gw-spend  the same config with spend logs on (the embedded SQLite store, in a scratch folder)
#
# Each target runs pinned to CPU 1 (fake-vllm and the load on CPU 0) with the AllocProbe startup hook, which writes
# the process's cumulative allocated bytes every second. Phases: wrk non-streamed chat (32 connections), then
# loadgen streams (16 concurrent, 20 chunks). --types adds the sampled per-type breakdown (AllocationTick);
# --perf records CPU samples (perf + DOTNET_PerfMapEnabled=1) during the non-streamed phase. Prebuilt binaries are
# taken from $PERF_BUILD (default /tmp/perfb: fake-vllm, yarp-bare, loadgen, gw) and built there when missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
[[ -d $bench ]] || bench="$repo/../../shared/bench"   # from a worktree under wt/
build="${PERF_BUILD:-/tmp/perfb}"
duration=10 warmup=20 only="yarp,gw,gw-spend" types=0 perf=0 out=""
while (($#)); do
  case "$1" in
    --duration) duration=$2; shift 2;;
    --warmup) warmup=$2; shift 2;;
    --only) only=$2; shift 2;;
    --types) types=1; shift;;
    --perf) perf=1; shift;;
    --out) out=$2; shift 2;;
    -h|--help) sed -n 2,17p "$0"; exit 0;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
((duration > 0 && duration <= 300 && warmup >= 0 && warmup <= 300)) || { echo "--duration in 1..300, --warmup in 0..300" >&2; exit 2; }
out="${out:-$build/attribution-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
up_port=18300 proxy_port=18301
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

publish() { # project dir -> build/name
  local name=$1 project=$2
  [[ -f "$build/$name/.done" ]] && return
  timeout 600 dotnet publish "$project" -c Release -o "$build/$name" --nologo -v quiet >"$build/$name.publish.log" 2>&1 \
    || { cat "$build/$name.publish.log" >&2; exit 1; }
  touch "$build/$name/.done"
}
for p in fake-vllm yarp-bare loadgen; do publish "$p" "$bench/$p"; done
publish gw "$repo/src/Proxy.Host"
publish probe "$repo/benchmarks/AllocProbe"

taskset -c 0 "$build/fake-vllm/fake-vllm" --port "$up_port" --chunk-delay-ms 10 >"$out/fake-vllm.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$up_port/health" && break; sleep 0.1; done

mk_body() { # model stream -> JSON (the bench's body: messages before model, 1000-char prompt)
  python3 - "$1" "$2" <<'PY'
import json, sys
model, stream = sys.argv[1], sys.argv[2] == "true"
words = "The quick brown fox jumps over the lazy dog while the gateway forwards every token it sees. "
user = (words * 20)[:1000]
b = {"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": user}],
     "model": model, "max_tokens": 20 if stream else 16, "temperature": 0}
if stream:
    b["stream"] = True
    b["stream_options"] = {"include_usage": True}
sys.stdout.write(json.dumps(b, separators=(",", ":")))
PY
}
mk_body fake-model false > "$out/body.json"
mk_body fake-model true > "$out/body-stream.json"
sed "s#127.0.0.1:18000#127.0.0.1:$up_port#" "$bench/gateway-config.yaml" > "$out/gw.yaml"
mkdir -p "$out/spend"
grep -v disable_spend_logs "$out/gw.yaml" > "$out/spend/config.yaml"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
alloc_of() { awk -F'\t' -v k="$2" '$1 == k {print $2}' "$1"; }
snapshot() { sleep 1.2; cp "$probe_out/alloc.tsv" "$1"; }
hz=$(getconf CLK_TCK)

row() { # target phase requests before after cpu_ticks
  local target=$1 phase=$2 requests=$3 before=$4 after=$5 ticks=$6
  local bytes gen0
  bytes=$(( $(alloc_of "$after" total) - $(alloc_of "$before" total) ))
  gen0=$(( $(alloc_of "$after" gc0) - $(alloc_of "$before" gc0) ))
  python3 - "$target" "$phase" "$requests" "$bytes" "$gen0" "$ticks" "$hz" "$duration" <<'PY'
import json, sys
t, ph, n, b, g, ticks, hz, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
print(json.dumps({"target": t, "phase": ph, "requests": n, "rps": round(n / d, 1), "alloc_bytes": b,
                  "bytes_per_req": round(b / max(n, 1)), "gen0_per_1k": round(1000 * g / max(n, 1), 2),
                  "cpu_us_per_req": round(ticks / hz * 1e6 / max(n, 1), 1)}))
PY
}

types_diff() { # before after -> top types by sampled bytes in the phase
  python3 - "$1" "$2" "$3" <<'PY'
import sys
def read(p):
    d = {}
    for line in open(p):
        f = line.rstrip("\n").split("\t")
        if f[0] == "type": d[f[2]] = int(f[1])
    return d
a, b, n = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3])
diff = sorted(((b[k] - a.get(k, 0), k) for k in b), reverse=True)
total = sum(v for v, _ in diff if v > 0) or 1
for v, k in diff[:200]:
    if v <= 0: break
    print(f"{k}\t{v / n:.0f}\t{100 * v / total:.1f}%")
PY
}

run_target() {
  local target=$1 cmd header=()
  probe_out="$out/$target.probe"; rm -rf "$probe_out"; mkdir -p "$probe_out"
  case "$target" in
    yarp) cmd=(env PORT="$proxy_port" UPSTREAM="http://127.0.0.1:$up_port" dotnet "$build/yarp-bare/yarp-bare.dll");;
    gw) cmd=(dotnet "$build/gw/Proxy.Host.dll" --config "$out/gw.yaml" --host 127.0.0.1 --port "$proxy_port"); header=(-H 'Authorization: Bearer sk-bench');;
    gw-spend) cmd=(dotnet "$build/gw/Proxy.Host.dll" --config "$out/spend/config.yaml" --host 127.0.0.1 --port "$proxy_port"); header=(-H 'Authorization: Bearer sk-bench');;
    *) echo "unknown target $target" >&2; return 1;;
  esac
  # With --perf: the JIT's perf map, and W^X off so that JIT'd code is not behind a deleted memfd perf cannot map.
  DOTNET_STARTUP_HOOKS="$build/probe/AllocProbe.dll" ALLOC_PROBE_OUT="$probe_out" ALLOC_PROBE_TYPES=$types DOTNET_PerfMapEnabled=$perf \
    DOTNET_EnableWriteXorExecute=$((1 - perf)) \
    taskset -c 1 "${cmd[@]}" >"$out/$target.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  local url="http://127.0.0.1:$proxy_port/v1/chat/completions" code=000
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" -H 'Content-Type: application/json' "${header[@]}" --data-binary "@$out/body.json" || true)
    [[ $code == 200 ]] && break; sleep 0.2
  done
  [[ $code == 200 ]] || { echo "$target did not answer 200 (got $code), see $out/$target.log" >&2; return 1; }
  sleep 1.5   # the probe's first file
  local wh=() lh=()
  [[ ${#header[@]} -gt 0 ]] && wh=(-H "${header[1]}") && lh=(--header "${header[1]}")
  if ((warmup > 0)); then
    WRK_BODY_FILE="$out/body.json" timeout $((warmup + 20)) taskset -c 0 wrk -t1 -c32 -d"${warmup}s" -s "$bench/lib/wrk-post.lua" "${wh[@]}" "$url" >/dev/null 2>&1 || true
  fi
  # Idle: what the process allocates on its own (timers, scrapers) in the length of a phase.
  snapshot "$out/$target.idle0"; sleep "$duration"; snapshot "$out/$target.idle1"
  echo "{\"target\":\"$target\",\"phase\":\"idle\",\"alloc_bytes_per_s\":$(( ($(alloc_of "$out/$target.idle1" total) - $(alloc_of "$out/$target.idle0" total)) / (duration + 1) ))}" >> "$out/rows.jsonl"

  snapshot "$out/$target.max0"; local t0; t0=$(cpu_ticks "$pid")
  local perf_pid=""
  if ((perf)); then
    perf record -F 499 -g -p "$pid" -o "$out/$target.perf.data" -- sleep "$duration" >/dev/null 2>&1 & perf_pid=$!
  fi
  local w; w=$(WRK_BODY_FILE="$out/body.json" timeout $((duration + 30)) taskset -c 0 wrk -t1 -c32 -d"${duration}s" --timeout 10s -s "$bench/lib/wrk-post.lua" "${wh[@]}" "$url" 2>&1 || true)
  local t1; t1=$(cpu_ticks "$pid"); snapshot "$out/$target.max1"
  [[ -n $perf_pid ]] && wait "$perf_pid" || true
  local n; n=$(grep '^WRKJSON' <<<"$w" | sed 's/^WRKJSON //' | jq '.requests - .err_status')
  row "$target" max "$n" "$out/$target.max0" "$out/$target.max1" $((t1 - t0)) | tee -a "$out/rows.jsonl"
  ((types)) && types_diff "$out/$target.max0" "$out/$target.max1" "$n" > "$out/$target.max.types.tsv"

  snapshot "$out/$target.stream0"; t0=$(cpu_ticks "$pid")
  local s; s=$(timeout $((duration + 60)) taskset -c 0 "$build/loadgen/loadgen" stream --url "$url" --body "$out/body-stream.json" --conns 16 \
    --duration "$duration" --warmup 0 --timeout-s 30 "${lh[@]}" 2>&1 || true)
  t1=$(cpu_ticks "$pid"); snapshot "$out/$target.stream1"
  n=$(grep '^LGJSON' <<<"$s" | sed 's/^LGJSON //' | jq '.ok + .warmup_requests')
  row "$target" stream "$n" "$out/$target.stream0" "$out/$target.stream1" $((t1 - t0)) | tee -a "$out/rows.jsonl"
  ((types)) && types_diff "$out/$target.stream0" "$out/$target.stream1" "$n" > "$out/$target.stream.types.tsv"
  if ((perf)); then
    { perf report -i "$out/$target.perf.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
      perf report -i "$out/$target.perf.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
    } > "$out/$target.perf.txt" || true
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

: > "$out/rows.jsonl"
IFS=, read -ra targets <<<"$only"
for t in "${targets[@]}"; do run_target "$t"; done
echo "results in $out (rows.jsonl, *.types.tsv, *.perf.txt)"
