using System.Collections.Frozen;

namespace Proxy.Transforms.Guardrails;

/// <summary>The guardrails of one config snapshot; immutable, swapped as a whole on reload.</summary>
public sealed record GuardrailSettings
{
    public static readonly GuardrailSettings Empty = new() { All = [], ModelGroups = FrozenSet<string>.Empty };

    public required IReadOnlyList<GuardrailDefinition> All { get; init; }

    /// <summary>Model group names of the config: a <c>/v1/moderations</c> request naming one is proxied, not answered here.</summary>
    public required FrozenSet<string> ModelGroups { get; init; }

    public long MaxRequestBodyBytes { get; init; } = 32L * 1024 * 1024;

    public bool Any => All.Count > 0;

    public GuardrailDefinition? Find(string name)
    {
        foreach (var guardrail in All)
        {
            if (string.Equals(guardrail.Name, name, StringComparison.Ordinal))
            {
                return guardrail;
            }
        }

        return null;
    }
}
