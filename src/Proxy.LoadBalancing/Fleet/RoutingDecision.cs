namespace Proxy.LoadBalancing.Fleet;

/// <summary>Why the prefix-cache-aware strategy chose its deployment; its text goes to <c>x-litellm-routing-decision</c> and the outcome.</summary>
internal enum RoutingDecision
{
    /// <summary>No fleet-aware decision was made for this request (another strategy, or a single candidate).</summary>
    None,

    /// <summary>The deployment predicted to hold the longest cached prefix of the prompt.</summary>
    PrefixHit,

    /// <summary>No deployment held a useful prefix: the prompt's rendezvous home.</summary>
    Home,

    /// <summary>Nothing cached anywhere is worth steering by, and this replica is the only router: the least loaded deployment.</summary>
    LeastBusy,

    /// <summary>The best holder (or the home) was over the load bound or not eligible: the next one in line.</summary>
    Spill,

    /// <summary>The deployment the session (or the virtual key) first used: session_affinity / deployment_affinity.</summary>
    Session,
}
