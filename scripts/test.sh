#!/usr/bin/env bash
# Runs the whole test suite and ends with one plain line "N passed, N failed" (CI reads that line).
# Services the tests need are started here on free loopback ports and stopped on exit.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
# Real Redis, PostgreSQL (and Chromium for the UI) on free loopback ports, stopped on exit.
source scripts/services.sh
trap 'services_stop; rm -f "$log"' EXIT
services_start
# Claude Code for the end-to-end /v1/messages test (installed once into a cache folder).
source scripts/claude-code.sh
claude_code_install
# Codex CLI for the end-to-end /v1/responses test (installed once into a cache folder).
source scripts/codex.sh
codex_install
# The Node openai SDK for the Responses API tests (installed once into a cache folder).
source scripts/openai-node.sh
openai_node_install

dotnet test Proxy.sln -c Release --nologo --blame-hang-timeout 5m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped < <(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {printf "%d %d %d\n", p, f, s}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before any test could report.
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ]
