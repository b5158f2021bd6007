#!/usr/bin/env bash
# Every performance claim of the README, in ONE run of ../shared/bench (so the ratios share one machine state):
#   yarp       bare YARP 2.3, the floor any YARP gateway builds on (built into run.sh)
#   gw         the gateway on the bench's gateway-config.yaml: master key, metrics and access log on (defaults)
#   gw-quiet   the same with --no-metrics and LITELLM_LOG=WARNING (no access log): the cost of observability
#   gw-vkey    a virtual key with spend tracking (spend-log rows + key spend in the embedded store): the cost of keys
#   gw-cache   cache: true (local); the bench repeats one request, so every request after the first is a cache hit
#   gw-guard   a default-on pre_call openai_moderation guardrail answered by a second fake-vllm --guard (zero latency)
#
#   nginx      nginx 1.22 (built into run.sh), the other reference
#
#   benchmarks/shared-bench.sh [extra run.sh args, e.g. --duration 10 --json /tmp/all.json]
#   EXTRA_TARGETS=a,b adds targets that the extra args define (--target a=URL --cmd a=...), e.g. an AOT build.
# Needs ../shared/bench/setup-peers.sh to have run once. Run it on a quiet machine (no builds meanwhile).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
out=/tmp/gw-bench
work=/tmp/gw-bench-work
key=sk-bench-virtual-key-0001
guard_port=18001

dotnet publish "$repo/src/Proxy.Host" -c Release -o "$out" --nologo -v q >/dev/null
rm -rf "$work" && mkdir -p "$work/keys"
cp "$repo/benchmarks/configs/keys.yaml" "$work/keys/config.yaml"

# The virtual key, created once in the embedded store of the keys config (a short-lived gateway).
"$repo/benchmarks/create-bench-key.sh" "$out" "$work/keys/config.yaml" "$key"
guard_pid=""
cleanup() {
  [ -n "$guard_pid" ] && kill "$guard_pid" 2>/dev/null || true
}
trap cleanup EXIT

# The zero-latency guard: a second fake-vllm in guard mode, on the load generator's CPU, outside the proxy's process tree.
taskset -c 0 dotnet "$bench/.build/fake-vllm/fake-vllm.dll" --port "$guard_port" --guard true >"$work/guard.log" 2>&1 &
guard_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$guard_port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

gw="exec dotnet $out/Proxy.Host.dll --host 127.0.0.1 --port \$TARGET_PORT"
"$bench/run.sh" --only "nginx,yarp,gw,gw-quiet,gw-vkey,gw-cache,gw-guard${EXTRA_TARGETS:+,$EXTRA_TARGETS}" \
  --target gw=http://127.0.0.1:18100/v1 --cmd gw="$gw --config \$BENCH_DIR/gateway-config.yaml" \
  --header gw='Authorization: Bearer sk-bench' --desc gw='defaults: master key, metrics + access log' \
  --target gw-quiet=http://127.0.0.1:18101/v1 --cmd gw-quiet="LITELLM_LOG=WARNING $gw --config \$BENCH_DIR/gateway-config.yaml --no-metrics" \
  --header gw-quiet='Authorization: Bearer sk-bench' --desc gw-quiet='--no-metrics, LITELLM_LOG=WARNING' \
  --target gw-vkey=http://127.0.0.1:18102/v1 --cmd gw-vkey="$gw --config $work/keys/config.yaml" \
  --header gw-vkey="Authorization: Bearer $key" --desc gw-vkey='virtual key, spend logs + key spend (SQLite)' \
  --target gw-cache=http://127.0.0.1:18103/v1 --cmd gw-cache="$gw --config $repo/benchmarks/scenarios/cache-hit-local.yaml" \
  --header gw-cache='Authorization: Bearer sk-bench' --desc gw-cache='local cache, every request after the first a hit' \
  --target gw-guard=http://127.0.0.1:18104/v1 --cmd gw-guard="$gw --config $repo/benchmarks/guard/guard-pre-call.yaml" \
  --header gw-guard='Authorization: Bearer sk-bench' --desc gw-guard='pre_call openai_moderation guard (fake, 0 ms)' \
  "$@"
