namespace Proxy.Abstractions;

/// <summary>
/// Who sent a request, as authentication established it. Immutable; a virtual key keeps one instance per version of
/// its settings, so admitting a request allocates nothing.
/// </summary>
public sealed record CallerIdentity
{
    /// <summary>No key was needed (no master key configured) or none was checked (an anonymous route).</summary>
    public static readonly CallerIdentity Anonymous = new();

    public static readonly CallerIdentity MasterKey = new() { IsMasterKey = true };

    public bool IsMasterKey { get; init; }

    /// <summary>Hash of the virtual key (never the key itself); null for the master key or an open gateway.</summary>
    public string? KeyHash { get; init; }

    /// <summary>The virtual key's alias, if it has one (a bounded, operator-chosen label).</summary>
    public string? KeyAlias { get; init; }

    /// <summary>Guardrails the virtual key turns on for its requests (LiteLLM's key metadata.guardrails); null when none.</summary>
    public IReadOnlyList<string>? Guardrails { get; init; }
}
