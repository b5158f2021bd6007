using System.Collections.Concurrent;

namespace Proxy.Transforms.Guardrails;

/// <summary>Counters per guardrail since start, for the metrics endpoint and tests; a DI singleton.</summary>
public sealed class GuardrailStats
{
    private readonly ConcurrentDictionary<string, GuardrailCounters> _byName = new(StringComparer.Ordinal);

    public GuardrailCounters For(string guardrail) => _byName.GetOrAdd(guardrail, static _ => new GuardrailCounters());

    /// <summary>The guardrails seen so far and their counters (live objects; read their properties).</summary>
    public IEnumerable<KeyValuePair<string, GuardrailCounters>> All => _byName;
}
