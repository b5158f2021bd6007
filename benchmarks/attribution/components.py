#!/usr/bin/env python3
"""Groups attribution.sh's sampled per-type allocations (*.types.tsv: type, bytes/request, share) into components.

    python3 benchmarks/attribution/components.py TOTAL_BYTES_PER_REQ FILE.types.tsv

AllocationTick samples one object per ~100 KB allocated, so the per-type figures are estimates (a few percent of the
total at 100,000 requests); the exact total comes from the allocated-bytes counter and is passed as the first argument.
"""
import re
import sys

COMPONENTS = [
    ("gateway request state (GatewayRequestContext, AttemptContext, RequestOutcome, ProxyRequestState)",
     r"^Proxy\.(Abstractions\.(GatewayRequestContext|AttemptContext|RequestOutcome)|Host\.Pipeline\.(ProxyRequestState|TranslatedClientBody))$"),
    ("gateway middleware, transformer and copier state machines", r"AsyncStateMachineBox.*Proxy\.(Host|Transforms|Admin)\."),
    ("gateway admin objects (key checks, spend-log rows)", r"Proxy\.Admin\."),
    ("other gateway objects", r"^Proxy\."),
    ("YARP forwarder (SendAsync, StreamCopyHttpContent, feature, transform context)", r"Yarp\.|StreamCopyResult"),
    ("HttpClient upstream call (connection pool, headers, messages)",
     r"System\.Net\.Http|HeaderEntry|HeaderStoreItemInfo|HttpConnection|ContentLengthReadStream|ChunkedEncoding|UriInfo|System\.Uri$|Task`1\[System\.IO\.Stream\]"),
    ("Kestrel and ASP.NET Core (request body, routing, authorization, items)",
     r"Microsoft\.AspNetCore|Kestrel|RouteValueDictionary|Entry\[System\.Object,System\.Object\]|Dictionary`2\[System\.Object,System\.Object\]"),
    ("strings (ids, header values, formatted numbers)", r"^System\.String$"),
    ("byte/char buffers", r"^System\.(Byte|Char)\[\]$"),
]

def main():
    total = float(sys.argv[1])
    rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[2]) if line.strip()]
    sampled = sum(float(r[1]) for r in rows) or 1
    groups = {name: 0.0 for name, _ in COMPONENTS}
    groups["other (runtime, tasks, boxed values, collections)"] = 0.0
    for t, b, _ in rows:
        for name, pattern in COMPONENTS:
            if re.search(pattern, t):
                groups[name] += float(b)
                break
        else:
            groups["other (runtime, tasks, boxed values, collections)"] += float(b)
    # The top-25 list covers most but not all bytes: scale the sampled figures to the exact total.
    scale = total / sampled
    for name, b in groups.items():
        if b > 0:
            print(f"| {name} | {b * scale:,.0f} | {100 * b / sampled:.0f} % |")

main()
