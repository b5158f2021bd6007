using FakeUpstream;

namespace FleetBench;

/// <summary>
/// The best a router could do with perfect knowledge: it reads every engine's true cache (what it would serve from it
/// now) and true load, and picks the longest cached prefix within the same bounded load (1.25 x mean), ties to the least
/// loaded. Requests go straight to the engine, without a gateway.
/// </summary>
internal static class Oracle
{
    public static int Pick(IReadOnlyList<FakeUpstreamServer> engines, string renderedPrompt)
    {
        var total = 0;
        var loads = new int[engines.Count];
        for (var i = 0; i < engines.Count; i++)
        {
            loads[i] = engines[i].Engine!.Load;
            total += loads[i];
        }

        var cap = (int)Math.Ceiling(1.25 * (total + 1) / engines.Count);
        var best = -1;
        var bestCached = -1;
        for (var i = 0; i < engines.Count; i++)
        {
            if (loads[i] >= cap)
            {
                continue;
            }

            var cached = engines[i].Engine!.CachedTokensFor(renderedPrompt);
            if (cached > bestCached || (cached == bestCached && loads[i] < loads[best]))
            {
                best = i;
                bestCached = cached;
            }
        }

        return best;
    }
}
