using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>Something with rpm/tpm/parallel limits counted per minute: a key, a key's model, a team, a user, a customer.</summary>
internal interface IRateLimited
{
    KeyWindow Window { get; }

    /// <summary>Names its shared counts in Redis; unique across kinds (a key's is its hash).</summary>
    string LimitId { get; }

    long? RpmLimit { get; }

    long? TpmLimit { get; }

    long? MaxParallelRequests { get; }

    /// <summary>LiteLLM's descriptor in the 429 message: api_key, team, user, end_user, model_per_key.</summary>
    string LimitDescriptor { get; }
}
