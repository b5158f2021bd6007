#!/usr/bin/env bash
# Soak: does the gateway's memory stay flat under hours of mixed traffic, and is every request accounted for?
#
#   benchmarks/soak.sh [--duration S] [--rate R] [--reload-every S] [--fail-rate F] [--out DIR] [--name NAME]
#
# Defaults (issue #18): 3600 s at 300 req/s, a config reload every 300 s, one of the two deployments failing 5 %.
# Traffic (benchmarks/Proxy.Soak): 30 % streams, 35 % non-streamed cache hits (20 prompts repeated), 35 % cache misses,
# spread over 4 virtual keys, with spend logs on (the embedded SQLite store, batches every 10 s) and the local cache
# on (entries kept 60 s, so the cache is at its steady size well inside the 5-minute warm-up; with LiteLLM's default
# 600 s the misses alone grow it by ~9 MB a minute for 10 minutes). Two fake-vllm deployments in one group; the second
# answers 500 to --fail-rate of its requests, and the router retries those on the other (num_retries: 2), so a client should see no error at all. Every 10 s it samples the
# gateway's RSS, open file descriptors and threads from /proc. At the end the gateway is stopped (its spend writer
# flushes) and the spend-log rows are counted. Checks: RSS after the first 5 minutes within +-10 % of its median,
# zero client errors, spend rows = requests answered. Writes a markdown table and an SVG plot of RSS to
# benchmarks/results/ (--out), named <date>-soak<NAME>.{md,svg,tsv}.
# Traffic stays on 127.0.0.1; every process started here is stopped by PID at the end (also on Ctrl-C).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
[[ -d $bench ]] || bench="$repo/../../shared/bench"   # from a worktree under wt/
build="${SOAK_BUILD:-/tmp/soak-build}"
duration=3600 rate=300 reload_every=300 fail_rate=0.05 out="$repo/benchmarks/results" name=""
while (($#)); do
  case "$1" in
    --duration) duration=$2; shift 2;;
    --rate) rate=$2; shift 2;;
    --reload-every) reload_every=$2; shift 2;;
    --fail-rate) fail_rate=$2; shift 2;;
    --out) out=$2; shift 2;;
    --name) name=$2; shift 2;;
    -h|--help) sed -n 2,18p "$0"; exit 0;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
((duration >= 60 && duration <= 86400)) || { echo "--duration in 60..86400 s" >&2; exit 2; }
((reload_every >= 10)) || { echo "--reload-every >= 10 s" >&2; exit 2; }
work="$build/run"; rm -rf "$work"; mkdir -p "$work" "$out" "$build"
port_a=18400 port_b=18401 gw_port=18410
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
log() { printf '[soak %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

log "building into $build"
publish() { timeout 900 dotnet publish "$1" -c Release -o "$2" --nologo -v quiet >"$build/publish.log" 2>&1 || { cat "$build/publish.log" >&2; exit 1; }; }
publish "$bench/fake-vllm" "$build/fake-vllm"
publish "$repo/src/Proxy.Host" "$build/gw"
publish "$repo/benchmarks/Proxy.Soak" "$build/soak"

"$build/fake-vllm/fake-vllm" --port "$port_a" --chunk-delay-ms 10 >"$work/fake-a.log" 2>&1 & pids+=($!)
"$build/fake-vllm/fake-vllm" --port "$port_b" --chunk-delay-ms 10 --rate-500 "$fail_rate" >"$work/fake-b.log" 2>&1 & pids+=($!)

write_config() { # request_timeout (changed by each reload)
  cat > "$work/config.yaml" <<YAML
# Soak config (benchmarks/soak.sh). Each reload changes request_timeout and nothing else.
model_list:
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: http://127.0.0.1:$port_a/v1
      api_key: sk-fake-upstream
      input_cost_per_token: 0.0000002
      output_cost_per_token: 0.0000008
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: http://127.0.0.1:$port_b/v1    # answers 500 to --fail-rate of its requests
      api_key: sk-fake-upstream
      input_cost_per_token: 0.0000002
      output_cost_per_token: 0.0000008
litellm_settings:
  num_retries: 2
  request_timeout: $1
  cache: true
  cache_params:
    type: local
    ttl: 60      # the misses' entries expire after a minute, so the cache reaches its steady size in the warm-up
router_settings:
  routing_strategy: simple-shuffle
general_settings:
  master_key: sk-soak
  proxy_batch_write_at: 10
YAML
}
write_config 60
dotnet "$build/gw/Proxy.Host.dll" --config "$work/config.yaml" --host 127.0.0.1 --port "$gw_port" >"$work/gateway.log" 2>&1 &
gw_pid=$!; pids+=("$gw_pid")
base="http://127.0.0.1:$gw_port"
for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/health/liveliness" 2>/dev/null && break; sleep 0.2; done
keys=()
for k in 1 2 3 4; do
  key="sk-soak-key-000$k"
  curl -fsS -o /dev/null "$base/key/generate" -H 'Authorization: Bearer sk-soak' -H 'Content-Type: application/json' \
    -d "{\"key\":\"$key\",\"key_alias\":\"soak-$k\"}"
  keys+=("$key")
done
log "gateway PID $gw_pid ready; $duration s at $rate req/s"

"$build/soak/Proxy.Soak" --url "$base/v1/chat/completions" --keys "$(IFS=,; echo "${keys[*]}")" --rate "$rate" --duration "$duration" \
  >"$work/load.out" 2>&1 & load_pid=$!; pids+=("$load_pid")

samples="$work/samples.tsv"
printf 't_s\trss_mb\tfds\tthreads\treloads\n' > "$samples"
start=$(date +%s) reloads=0 next_reload=$reload_every
while kill -0 "$load_pid" 2>/dev/null; do
  t=$(( $(date +%s) - start ))
  if ((t >= next_reload && t < duration)); then
    reloads=$((reloads + 1)); next_reload=$((next_reload + reload_every))
    write_config $((60 + reloads % 2))
    log "config reload $reloads"
  fi
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$gw_pid/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$gw_pid/status")
  fds=$(ls "/proc/$gw_pid/fd" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$rss" "$fds" "$threads" "$reloads" >> "$samples"
  ((t > duration + 180)) && { log "load did not end in time"; break; }
  sleep 10
done
wait "$load_pid" || true
summary=$(grep '^SOAKJSON' "$work/load.out" | sed 's/^SOAKJSON //' || echo '{}')
curl -fsS "$base/metrics" -H 'Authorization: Bearer sk-soak' >"$work/metrics.txt" 2>/dev/null || true
reload_ok=$(awk '/^gateway_config_reloads_total\{result="success"\}/ {print $2}' "$work/metrics.txt")
# The injected failures as the gateway saw them (each one retried on the other deployment).
injected=$(awk '/^litellm_deployment_failure_responses_total/ {s += $NF} END {print s + 0}' "$work/metrics.txt")
hwm=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$gw_pid/status")
log "stopping the gateway (its spend writer flushes)"
kill -TERM "$gw_pid"; for _ in $(seq 1 300); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
rows=$(sqlite3 "$work/gateway.db" 'SELECT COUNT(*) FROM "LiteLLM_SpendLogs";' 2>/dev/null || echo -1)
db_mb=$(du -m "$work/gateway.db" | cut -f1)

stamp=$(date -u +%Y-%m-%d)
python3 - "$samples" "$summary" "$rows" "$duration" "$rate" "$reloads" "${reload_ok:-?}" "$hwm" "$db_mb" "$out/$stamp-soak$name" "$fail_rate" "$injected" "$reload_every" <<'PY'
import json, statistics, sys
samples_path, summary, rows, duration, rate, reloads, reload_ok, hwm, db_mb, prefix, fail_rate, injected, reload_every = sys.argv[1:]
lines = [l.rstrip("\n").split("\t") for l in open(samples_path)][1:]
t = [int(l[0]) for l in lines]; rss = [float(l[1]) for l in lines]; fds = [int(l[2]) for l in lines]; thr = [int(l[3]) for l in lines]
s = json.loads(summary or "{}")
rows = int(rows)
settle = min(300, int(duration) // 2)   # the first 5 minutes (half of a shorter run) are the warm-up
after = [r for ti, r in zip(t, rss) if ti >= settle] or rss
med = statistics.median(after)
lo, hi = min(after), max(after)
flat = all(abs(r - med) <= 0.10 * med for r in after)
answered = s.get("ok", 0) + sum(v for k, v in s.get("codes", {}).items() if k != "200")
errors = s.get("sent", 0) - s.get("ok", 0)
checks = [
    (f"RSS after the first {settle // 60} min {settle % 60} s within +-10 % of its median", flat, f"median {med:.1f} MB, range {lo:.1f}-{hi:.1f} MB"),
    ("client errors (non-200, broken streams, exceptions, skipped)", errors == 0 and s.get("skipped", 0) == 0, f"{errors} of {s.get('sent', 0)}"),
    ("spend-log rows = requests answered", rows == answered, f"{rows} rows, {answered} answered"),
]
with open(prefix + ".tsv", "w") as f:
    f.write(open(samples_path).read())
# SVG: RSS (MB) over time, fds on a second scale.
W, H, L, B = 720, 300, 60, 40
tmax = max(t) or 1; rmax = max(max(rss) * 1.15, 1)
def x(v): return L + (W - L - 20) * v / tmax
def y(v): return H - B - (H - B - 20) * v / rmax
pts = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(t, rss))
fmax = max(max(fds) * 1.15, 1)
fpts = " ".join(f"{x(a):.1f},{H - B - (H - B - 20) * b / fmax:.1f}" for a, b in zip(t, fds))
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="14" font-size="13">Gateway RSS over the soak ({duration} s at {rate} req/s); grey: open fds (max {max(fds)})</text>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-20}" y2="{H-B}" stroke="black"/><line x1="{L}" y1="20" x2="{L}" y2="{H-B}" stroke="black"/>']
for k in range(0, 6):
    v = rmax * k / 5
    svg.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.0f} MB</text><line x1="{L}" y1="{y(v):.1f}" x2="{W-20}" y2="{y(v):.1f}" stroke="#eee"/>')
for k in range(0, 7):
    v = tmax * k / 6
    svg.append(f'<text x="{x(v):.1f}" y="{H-B+16}" text-anchor="middle">{v/60:.0f} min</text>')
svg.append(f'<polyline points="{fpts}" fill="none" stroke="#bbb" stroke-width="1"/>')
svg.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
svg.append('</svg>')
open(prefix + ".svg", "w").write("\n".join(svg))
md = [f"# Soak: {duration} s at {rate} req/s of mixed traffic", "",
      "Command: `benchmarks/soak.sh --duration %s --rate %s --reload-every %s` (traffic: 30 %% streams, 35 %% cache hits, 35 %% misses, 4 virtual keys, "
      "spend logs on SQLite, a config reload every %s s, one of two deployments failing %s of requests, retried)." % (duration, rate, reload_every, reload_every, fail_rate), "",
      f"Load: {json.dumps(s)}", "",
      f"Config reloads: {reloads} made, gateway_config_reloads_total{{result=\"success\"}} = {reload_ok}. Peak RSS (VmHWM) {hwm} MB. "
      f"gateway.db at the end: {db_mb} MB. Upstream failures the gateway saw (the injected 500s, each retried): {injected}.", "",
      "| check | result | value |", "|---|---|---|"]
md += [f"| {name} | {'PASS' if ok else 'FAIL'} | {value} |" for name, ok, value in checks]
md += ["", f"![RSS over time]({prefix.split('/')[-1]}.svg)", "", "| minute | RSS MB | open fds | threads |", "|---:|---:|---:|---:|"]
seen = set()
for ti, r, fd, th in zip(t, rss, fds, thr):
    m = ti // 60
    if m in seen: continue
    seen.add(m); md.append(f"| {m} | {r:.1f} | {fd} | {th} |")
md.append(f"| end | {rss[-1]:.1f} | {fds[-1]} | {thr[-1]} |")
open(prefix + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md[:14]))
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
PY
