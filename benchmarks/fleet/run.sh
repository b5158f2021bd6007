#!/usr/bin/env bash
# The fleet routing benchmark, one command: builds the gateway and the driver (Release), then runs every workload with
# every strategy against 4 simulated vLLM engines and writes the report (default benchmarks/results/<date>-fleet.md).
#   benchmarks/fleet/run.sh [--scale 0.2] [--seed N] [--only shared-prefix] [--strategy least-busy,oracle] [--replicas 1,4] [--out file.md]
# Bounded: ~32 runs of a few hundred requests each at a fixed offered rate; about 12 minutes at --scale 1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dotnet build src/Proxy.Host -c Release -nologo -v q
dotnet build benchmarks/fleet/FleetBench -c Release -nologo -v q
out="benchmarks/results/$(date +%Y-%m-%d)-fleet.md"
args=("$@")
if [[ ! " ${args[*]-} " =~ " --out " ]]; then
  args+=(--out "$out")
fi
exec dotnet benchmarks/fleet/FleetBench/bin/Release/net10.0/FleetBench.dll \
  --gateway src/Proxy.Host/bin/Release/net10.0/Proxy.Host.dll "${args[@]}"
