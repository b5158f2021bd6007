using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Fleet;

/// <summary>How loaded a deployment is, as least-busy and prefix-cache-aware see it.</summary>
internal static class FleetLoad
{
    /// <summary>
    /// With a fresh vLLM scrape: the engine's running + waiting requests, corrected by this gateway's own requests started
    /// or finished since the scrape (so a burst counts at once, and other replicas' requests count too). Without one (not
    /// scraped, scrape failed or stale): this gateway's own requests in flight, as LiteLLM's least-busy counts.
    /// </summary>
    public static int Of(DeploymentStats stats, long now)
    {
        var local = stats.InFlight;
        var engine = stats.Engine;
        if (engine.FreshUntil <= now)
        {
            return local;
        }

        return Math.Max(local, engine.Running + engine.Waiting + local - engine.InFlightAtScrape);
    }
}
