#!/usr/bin/env bash
# The gateway at two commits side by side in ONE run of ../shared/bench (same machine state), beside bare YARP and
# nginx: the before/after table a change's closing note needs.
#   benchmarks/before-after.sh BEFORE_REV [AFTER_REV=HEAD] [extra run.sh args, e.g. --json /tmp/ba.json]
#   MID_REV=REV adds a third build (gw-mid) between the two, e.g. the commit where a change landed before later work.
# Both builds run the bench's gateway-config.yaml (master key, metrics and access log on). Run it on a quiet
# machine (no builds or tests meanwhile); needs ../shared/bench/setup-peers.sh to have run once.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${BENCH_DIR:-$repo/../shared/bench}"
before=${1:?usage: before-after.sh BEFORE_REV [AFTER_REV] [run.sh args]}
after=${2:-HEAD}
shift $(( $# >= 2 ? 2 : 1 ))
work=/tmp/gw-before-after
rm -rf "$work" && mkdir -p "$work"

publish() {
  local rev=$1 name=$2
  git -C "$repo" worktree add -q --detach "$work/src-$name" "$rev"
  dotnet publish "$work/src-$name/src/Proxy.Host" -c Release -o "$work/$name" --nologo -v q >/dev/null
  git -C "$repo" worktree remove --force "$work/src-$name"
}
publish "$before" before
publish "$after" after

cmd() { echo "exec dotnet $work/$1/Proxy.Host.dll --host 127.0.0.1 --port \$TARGET_PORT --config \$BENCH_DIR/gateway-config.yaml"; }
mid=()
if [[ -n ${MID_REV:-} ]]; then
  publish "$MID_REV" mid
  mid=(--target gw-mid=http://127.0.0.1:18112/v1 --cmd gw-mid="$(cmd mid)" --header gw-mid='Authorization: Bearer sk-bench'
       --desc gw-mid="gateway at $(git -C "$repo" rev-parse --short "$MID_REV")")
fi
"$bench/run.sh" --only "nginx,yarp,gw-before${MID_REV:+,gw-mid},gw-after" \
  --target gw-before=http://127.0.0.1:18110/v1 --cmd gw-before="$(cmd before)" \
  --header gw-before='Authorization: Bearer sk-bench' --desc gw-before="gateway at $(git -C "$repo" rev-parse --short "$before")" \
  --target gw-after=http://127.0.0.1:18111/v1 --cmd gw-after="$(cmd after)" \
  --header gw-after='Authorization: Bearer sk-bench' --desc gw-after="gateway at $(git -C "$repo" rev-parse --short "$after")" \
  "${mid[@]}" "$@"
