namespace Proxy.LoadBalancing.Fleet;

/// <summary>What an answer's cached_tokens said about the prefix index's prediction.</summary>
internal enum CacheFeedback
{
    Held,
    OverPredicted,
    Dropped,
}
