#!/usr/bin/env bash
# End-to-end benchmark: the gateway (Proxy.Host) in front of the fake vLLM upstream vs the upstream directly.
#
#   scripts/bench.sh [--duration 10] [--warmup 30] [--connections 32] [--prompt-chars 1000] [--rate 200]
#                    [--json PATH] [--skip-build] [--stand-in] [--protocols]
#
# --protocols adds, after the chat phases, the same max and stream loads sent as Anthropic's /v1/messages (translated
# to chat) and as OpenAI's /v1/responses (native), then chat's max load again (drift check), and a table comparing the
# gateway's CPU per request and stream TTFB across the three.
# Publishes FakeUpstream, Proxy.Host and Proxy.LoadTest (Release) into bench/.build/core/, starts the upstream
# on 127.0.0.1:18000 (CPU 0) and the gateway on 127.0.0.1:18100 (CPU 1), warms the gateway up, then runs each
# phase against the upstream directly and through the gateway. Raw output and report.md go to
# bench/results/<UTC stamp>/. Everything started here is stopped by PID on exit, Ctrl-C or error.
# --stand-in replaces the gateway with a second FakeUpstream on 18100: for testing this script only.
set -euo pipefail

DURATION=10
WARMUP=30
CONNECTIONS=32
PROMPT_CHARS=1000
LONG_PROMPT_CHARS=12000
RATE=200
JSON_OUT=""
SKIP_BUILD=0
STAND_IN=0
PROTOCOLS=0
LOADGEN_WARMUP=2          # unrecorded seconds at the start of every phase (the load generator's own JIT)
STREAM_CONNECTIONS=16
STREAM_CHUNK_DELAY_MS=10
STREAM_TOKENS=20
UP_PORT=18000
GW_PORT=18100
KEY=sk-bench
MODEL=fake-model
READY_TIMEOUT=60

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "bench.sh: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --duration) DURATION=${2:?}; shift 2 ;;
        --warmup) WARMUP=${2:?}; shift 2 ;;
        --connections) CONNECTIONS=${2:?}; shift 2 ;;
        --prompt-chars) PROMPT_CHARS=${2:?}; shift 2 ;;
        --rate) RATE=${2:?}; shift 2 ;;
        --json) JSON_OUT=${2:?}; shift 2 ;;
        --skip-build) SKIP_BUILD=1; shift ;;
        --stand-in) STAND_IN=1; shift ;;
        --protocols) PROTOCOLS=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option $1" ;;
    esac
done

for pair in "duration:$DURATION" "warmup:$WARMUP" "connections:$CONNECTIONS" "prompt-chars:$PROMPT_CHARS" "rate:$RATE"; do
    is_uint "${pair#*:}" || die "--${pair%%:*} must be a whole number, got ${pair#*:}"
done
((DURATION >= 1 && DURATION <= 600)) || die "--duration must be 1..600"
((WARMUP <= 600)) || die "--warmup must be 0..600"
((CONNECTIONS >= 1 && CONNECTIONS <= 512)) || die "--connections must be 1..512"
((RATE >= 1 && RATE <= 100000)) || die "--rate must be 1..100000"

for tool in dotnet curl jq; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/bench/.build/core
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/$STAMP
mkdir -p "$OUT"
DIRECT_URL=http://127.0.0.1:$UP_PORT/v1/chat/completions
GW_URL=http://127.0.0.1:$GW_PORT/v1/chat/completions
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)

LOAD_PIN=()
PROXY_PIN=()
if ((NPROC >= 2)) && command -v taskset >/dev/null; then
    LOAD_PIN=(taskset -c 0)
    PROXY_PIN=(taskset -c 1)
fi

# ---------------------------------------------------------------- process bookkeeping
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 50); do
        local alive=0
        for pid in "${PIDS[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        ((alive == 0)) && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'echo "bench.sh: interrupted" >&2; exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- build
publish() {
    local name=$1 project=$2
    log "publish $name"
    if ! dotnet publish "$ROOT/$project" -c Release -o "$BUILD/$name" --nologo -v quiet >"$OUT/build-$name.log" 2>&1; then
        tail -n 20 "$OUT/build-$name.log" >&2
        die "dotnet publish $project failed (log: $OUT/build-$name.log)"
    fi
}
if ((SKIP_BUILD == 0)); then
    publish fake tests/FakeUpstream
    publish loadtest benchmarks/Proxy.LoadTest
    ((STAND_IN == 1)) || publish gateway src/Proxy.Host
fi
for dll in fake/FakeUpstream.dll loadtest/Proxy.LoadTest.dll; do
    [[ -f $BUILD/$dll ]] || die "$BUILD/$dll missing (run without --skip-build)"
done
((STAND_IN == 1)) || [[ -f $BUILD/gateway/Proxy.Host.dll ]] || die "$BUILD/gateway/Proxy.Host.dll missing"

# ---------------------------------------------------------------- start processes
port_busy() { curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" ; }
for port in "$UP_PORT" "$GW_PORT"; do
    if port_busy "$port"; then die "127.0.0.1:$port is already in use"; fi
done

cat >"$OUT/gateway.yaml" <<EOF
model_list:
  - model_name: $MODEL
    litellm_params:
      model: openai/$MODEL
      api_base: http://127.0.0.1:$UP_PORT/v1
      api_key: sk-fake-upstream
general_settings:
  master_key: $KEY
EOF

# wait_ready NAME PID URL: a small chat POST must answer 200 within READY_TIMEOUT seconds.
wait_ready() {
    local name=$1 pid=$2 url=$3 deadline=$((SECONDS + READY_TIMEOUT)) code
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (log: $OUT/$name.log)"
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H "Authorization: Bearer $KEY" \
            -H 'Content-Type: application/json' \
            -d "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"$MODEL\",\"max_tokens\":2}" "$url" || true)
        if [[ $code == 200 ]]; then
            log "$name ready (pid $pid)"
            return 0
        fi
        sleep 0.5
    done
    die "$name did not answer 200 on $url within ${READY_TIMEOUT}s (last: ${code:-none}; log: $OUT/$name.log)"
}

log "start upstream on 127.0.0.1:$UP_PORT ${LOAD_PIN[*]}"
"${LOAD_PIN[@]}" dotnet "$BUILD/fake/FakeUpstream.dll" --port "$UP_PORT" >"$OUT/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready upstream "$UP_PID" "$DIRECT_URL"

if ((STAND_IN == 1)); then
    GW_NAME="stand-in (second FakeUpstream)"
    log "start stand-in gateway on 127.0.0.1:$GW_PORT ${PROXY_PIN[*]}"
    "${PROXY_PIN[@]}" dotnet "$BUILD/fake/FakeUpstream.dll" --port "$GW_PORT" >"$OUT/gateway.log" 2>&1 &
else
    GW_NAME="Proxy.Host"
    log "start gateway on 127.0.0.1:$GW_PORT ${PROXY_PIN[*]}"
    "${PROXY_PIN[@]}" dotnet "$BUILD/gateway/Proxy.Host.dll" --config "$OUT/gateway.yaml" --host 127.0.0.1 --port "$GW_PORT" \
        >"$OUT/gateway.log" 2>&1 &
fi
GW_PID=$!
PIDS+=("$GW_PID")
wait_ready gateway "$GW_PID" "$GW_URL"
RSS_READY_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status")

# ---------------------------------------------------------------- phases
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# load NAME MODE URL [extra load generator args...]: runs one bounded load, writes $OUT/NAME.json.
load() {
    local name=$1 mode=$2 url=$3
    shift 3
    local args=("$mode" --url "$url" --key "$KEY" --model "$MODEL" "$@")
    local before=0 after=0 on_gateway=0
    [[ $url == "$GW_URL" ]] && on_gateway=1
    log "phase $name: ${args[*]}"
    ((on_gateway == 1)) && before=$(proc_ticks "$GW_PID")
    if ! timeout "$((DURATION + WARMUP + LOADGEN_WARMUP + 90))" "${LOAD_PIN[@]}" dotnet "$BUILD/loadtest/Proxy.LoadTest.dll" \
        "${args[@]}" >"$OUT/$name.txt" 2>&1; then
        tail -n 5 "$OUT/$name.txt" >&2
        die "load generator failed in phase $name"
    fi
    ((on_gateway == 1)) && after=$(proc_ticks "$GW_PID")
    kill -0 "$GW_PID" 2>/dev/null || die "gateway died during phase $name (log: $OUT/gateway.log)"
    grep -m1 '^[a-z]* http' "$OUT/$name.txt" >&2 || true
    grep -m1 '^LOADJSON ' "$OUT/$name.txt" | sed 's/^LOADJSON //' |
        jq --arg phase "$name" --argjson gw "$on_gateway" --argjson ticks "$((after - before))" --argjson hz "$CLK_TCK" '
            . + {phase: $phase}
            + (if $gw == 1 then {
                  gateway_cpu_s: ($ticks / $hz),
                  gateway_cpu_us_per_req: (if .all_requests > 0 then ($ticks / $hz * 1e6 / .all_requests) else null end)
               } else {} end)' >"$OUT/$name.json" ||
        die "no LOADJSON line in $OUT/$name.txt"
}

COMMON=(--connections "$CONNECTIONS" --prompt-chars "$PROMPT_CHARS" --duration "$DURATION" --warmup "$LOADGEN_WARMUP")
if ((WARMUP > 0)); then
    load warmup max "$GW_URL" --connections "$CONNECTIONS" --prompt-chars "$PROMPT_CHARS" --duration "$WARMUP"
fi
load direct-max max "$DIRECT_URL" "${COMMON[@]}"
load gateway-max max "$GW_URL" "${COMMON[@]}"
load direct-rate rate "$DIRECT_URL" "${COMMON[@]}" --rate "$RATE"
load gateway-rate rate "$GW_URL" "${COMMON[@]}" --rate "$RATE"
STREAM=(--connections "$STREAM_CONNECTIONS" --prompt-chars "$PROMPT_CHARS" --duration "$DURATION" --warmup "$LOADGEN_WARMUP"
    --max-tokens "$STREAM_TOKENS" --chunk-delay-ms "$STREAM_CHUNK_DELAY_MS")
load direct-stream stream "$DIRECT_URL" "${STREAM[@]}"
load gateway-stream stream "$GW_URL" "${STREAM[@]}"
LONG=(--connections "$CONNECTIONS" --prompt-chars "$LONG_PROMPT_CHARS" --duration "$DURATION" --warmup "$LOADGEN_WARMUP")
load direct-max-long max "$DIRECT_URL" "${LONG[@]}"
load gateway-max-long max "$GW_URL" "${LONG[@]}"
if ((PROTOCOLS == 1)); then
    for protocol in messages responses; do
        load "proto-max-$protocol" max "$GW_URL" "${COMMON[@]}" --protocol "$protocol"
        load "proto-stream-$protocol" stream "$GW_URL" "${STREAM[@]}" --protocol "$protocol"
    done
    load proto-max-chat max "$GW_URL" "${COMMON[@]}"
    load proto-stream-chat stream "$GW_URL" "${STREAM[@]}"
fi

PEAK_RSS_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW_PID/status")
RSS_END_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status")
GW_CPU_TOTAL_S=$(awk -v hz="$CLK_TCK" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$GW_PID/stat")

# ---------------------------------------------------------------- summary and report
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
DOTNET_VERSION=$(dotnet --version)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

jq -s \
    --arg date "$DATE" --arg commit "$COMMIT" --arg cpu "$CPU_MODEL" --arg dotnet "$DOTNET_VERSION" \
    --arg gateway "$GW_NAME" --argjson nproc "$NPROC" --arg pinned "${PROXY_PIN[*]:-no}" \
    --argjson peak "$PEAK_RSS_KB" --argjson rss_end "$RSS_END_KB" --argjson rss_ready "$RSS_READY_KB" \
    --argjson cpu_total "$GW_CPU_TOTAL_S" \
    --argjson duration "$DURATION" --argjson warmup "$WARMUP" --argjson connections "$CONNECTIONS" \
    --argjson prompt "$PROMPT_CHARS" --argjson long_prompt "$LONG_PROMPT_CHARS" --argjson rate "$RATE" \
    --argjson sconn "$STREAM_CONNECTIONS" --argjson sdelay "$STREAM_CHUNK_DELAY_MS" --argjson stokens "$STREAM_TOKENS" '
    def r2: if . == null then null else (. * 100 | round) / 100 end;
    (map({key: .phase, value: .}) | from_entries) as $p
    | {
        date: $date, commit: $commit, gateway: $gateway,
        machine: {nproc: $nproc, cpu: $cpu, dotnet: $dotnet, proxy_pinning: $pinned},
        params: {duration_s: $duration, warmup_s: $warmup, connections: $connections, prompt_chars: $prompt,
                 long_prompt_chars: $long_prompt, rate: $rate, stream_connections: $sconn,
                 stream_chunk_delay_ms: $sdelay, stream_tokens: $stokens},
        gateway_process: {rss_ready_mb: ($rss_ready / 1024 | r2), peak_rss_mb: ($peak / 1024 | r2),
                          rss_end_mb: ($rss_end / 1024 | r2), cpu_total_s: $cpu_total},
        phases: $p,
        comparisons: [ ["max", "rate", "stream", "max-long"][] as $k
          | $p["direct-" + $k] as $d | $p["gateway-" + $k] as $g
          | select($d != null and $g != null)
          | {
              phase: $k,
              direct_rps: ($d.rps | r2), gateway_rps: ($g.rps | r2),
              throughput_ratio: (if $d.rps > 0 then ($g.rps / $d.rps * 1000 | round) / 1000 else null end),
              direct_p50_ms: $d.p50_ms, gateway_p50_ms: $g.p50_ms,
              direct_p99_ms: $d.p99_ms, gateway_p99_ms: $g.p99_ms,
              added_p50_ms: ($g.p50_ms - $d.p50_ms | r2), added_p99_ms: ($g.p99_ms - $d.p99_ms | r2),
              direct_errors: $d.errors, gateway_errors: $g.errors,
              gateway_cpu_us_per_req: ($g.gateway_cpu_us_per_req | r2),
              peak_rss_mb: ($peak / 1024 | r2)
            }
            + (if $k == "rate" then {
                  direct_send_p50_ms: $d.send_p50_ms, gateway_send_p50_ms: $g.send_p50_ms,
                  added_send_p50_ms: ($g.send_p50_ms - $d.send_p50_ms | r2),
                  added_send_p99_ms: ($g.send_p99_ms - $d.send_p99_ms | r2)
               } else {} end)
            + (if $k == "stream" then {
                  direct_ttfb_p50_ms: $d.ttfb_p50_ms, gateway_ttfb_p50_ms: $g.ttfb_p50_ms,
                  added_ttfb_p50_ms: ($g.ttfb_p50_ms - $d.ttfb_p50_ms | r2),
                  added_ttfb_p99_ms: ($g.ttfb_p99_ms - $d.ttfb_p99_ms | r2),
                  direct_total_p50_ms: $d.total_p50_ms, gateway_total_p50_ms: $g.total_p50_ms,
                  direct_reads_p50: $d.reads_p50, gateway_reads_p50: $g.reads_p50
               } else {} end)
        ]
      }
      + (if $p["proto-max-chat"] == null then {} else {
          protocols: [ ["chat", "messages", "responses"][] as $k
            | $p["proto-max-" + $k] as $m | $p["proto-stream-" + $k] as $st
            | {
                protocol: $k, max_rps: ($m.rps | r2), cpu_us_per_req: ($m.gateway_cpu_us_per_req | r2),
                cpu_vs_chat: (($m.gateway_cpu_us_per_req / $p["proto-max-chat"].gateway_cpu_us_per_req * 1000 | round) / 1000),
                cpu_vs_chat_first_run: (($m.gateway_cpu_us_per_req / $p["gateway-max"].gateway_cpu_us_per_req * 1000 | round) / 1000),
                stream_ttfb_p50_ms: $st.ttfb_p50_ms, stream_ttfb_p99_ms: $st.ttfb_p99_ms,
                added_ttfb_p50_ms_vs_chat: ($st.ttfb_p50_ms - $p["proto-stream-chat"].ttfb_p50_ms | r2),
                stream_cpu_us_per_stream: ($st.gateway_cpu_us_per_req | r2), errors: ($m.errors + $st.errors)
              } ] } end)' "$OUT"/direct-*.json "$OUT"/gateway-*.json $(ls "$OUT"/proto-*.json 2>/dev/null) >"$OUT/summary.json"

jq -r '
    def f: if . == null then "–" else tostring end;
    def title: {"max": "max throughput (closed loop)", "rate": "fixed rate (open loop)",
                "stream": "streaming", "max-long": "max throughput, long prompt"}[.];
    def params($c):
      if $c.phase == "max" then "\(.params.connections) connections, \(.params.prompt_chars)-char prompt"
      elif $c.phase == "max-long" then "\(.params.connections) connections, \(.params.long_prompt_chars)-char prompt (messages before model)"
      elif $c.phase == "rate" then "\(.params.rate) req/s, \(.params.prompt_chars)-char prompt; latency from the scheduled send time (send: from the actual send)"
      else "\(.params.stream_connections) streams, \(.params.stream_tokens) chunks, \(.params.stream_chunk_delay_ms) ms apart" end;
    . as $s
    | "# Gateway benchmark: \(.gateway) vs direct upstream",
      "",
      "\(.date), commit `\(.commit)`, \(.machine.nproc) CPUs (\(.machine.cpu)), .NET SDK \(.machine.dotnet). Upstream: FakeUpstream on 127.0.0.1:18000; gateway on 127.0.0.1:18100 pinned with `\(.machine.proxy_pinning)`; load generator (Proxy.LoadTest) and upstream on CPU 0. Gateway warm-up: \(.params.warmup_s) s of max load (not reported); each phase \(.params.duration_s) s after 2 s unrecorded. Gateway process: RSS \(.gateway_process.rss_ready_mb) MB when ready, peak (VmHWM) \(.gateway_process.peak_rss_mb) MB, RSS at the end \(.gateway_process.rss_end_mb) MB, \(.gateway_process.cpu_total_s) CPU s in total. Gateway CPU per request is the utime+stime of the process over the whole load-generator run (2 s unrecorded start included, in both numerator and denominator); in the rate and stream phases it also carries the idle cost of an unsaturated process.",
      "",
      (.comparisons[] as $c
        | "## \($c.phase | title)",
          "",
          "\($s | params($c))",
          "",
          "| metric | direct | gateway | gateway − direct |",
          "|---|---:|---:|---:|",
          "| req/s | \($c.direct_rps | f) | \($c.gateway_rps | f) | ratio \($c.throughput_ratio | f) |",
          "| p50 ms | \($c.direct_p50_ms | f) | \($c.gateway_p50_ms | f) | \($c.added_p50_ms | f) |",
          "| p99 ms | \($c.direct_p99_ms | f) | \($c.gateway_p99_ms | f) | \($c.added_p99_ms | f) |",
          (if $c.phase == "rate" then
            "| p50 ms from send | \($c.direct_send_p50_ms | f) | \($c.gateway_send_p50_ms | f) | \($c.added_send_p50_ms | f) |",
            "| p99 ms from send | | | \($c.added_send_p99_ms | f) |"
           else empty end),
          (if $c.phase == "stream" then
            "| TTFB p50 ms | \($c.direct_ttfb_p50_ms | f) | \($c.gateway_ttfb_p50_ms | f) | \($c.added_ttfb_p50_ms | f) |",
            "| TTFB p99 ms | | | \($c.added_ttfb_p99_ms | f) |",
            "| last byte p50 ms | \($c.direct_total_p50_ms | f) | \($c.gateway_total_p50_ms | f) | |",
            "| reads/stream p50 | \($c.direct_reads_p50 | f) | \($c.gateway_reads_p50 | f) | |"
           else empty end),
          "| errors | \($c.direct_errors | f) | \($c.gateway_errors | f) | |",
          "| gateway CPU µs/\(if $c.phase == "stream" then "stream" else "req" end) | | \($c.gateway_cpu_us_per_req | f) | |",
          "| gateway peak RSS MB | | \($c.peak_rss_mb | f) | |",
          ""),
      (if .protocols == null then empty else
        "## Protocols: the same request as chat, Anthropic Messages (translated) and Responses (native)",
        "",
        "Max throughput and streaming loads as above, sent to /v1/chat/completions, /v1/messages and /v1/responses; chat ran once more after the other two (\"vs chat\" is against that run; \"vs first chat\" against the max phase above).",
        "",
        "| protocol | req/s | gateway CPU µs/req | vs chat | vs first chat | stream TTFB p50 ms | p99 ms | TTFB − chat p50 ms | CPU µs/stream | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        (.protocols[] | "| \(.protocol) | \(.max_rps | f) | \(.cpu_us_per_req | f) | \(.cpu_vs_chat | f) | \(.cpu_vs_chat_first_run | f) | \(.stream_ttfb_p50_ms | f) | \(.stream_ttfb_p99_ms | f) | \(.added_ttfb_p50_ms_vs_chat | f) | \(.stream_cpu_us_per_stream | f) | \(.errors | f) |"),
        "" end)
' "$OUT/summary.json" >"$OUT/report.md"

cat "$OUT/report.md"
if [[ -n $JSON_OUT ]]; then
    mkdir -p "$(dirname "$JSON_OUT")"
    cp "$OUT/summary.json" "$JSON_OUT"
fi
log "raw results in $OUT"
