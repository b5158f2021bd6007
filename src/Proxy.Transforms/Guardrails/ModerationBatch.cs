namespace Proxy.Transforms.Guardrails;

/// <summary>Verdicts for several inputs (one per input, in order), or why there are none.</summary>
public readonly record struct ModerationBatch(IReadOnlyList<ModerationResult>? Results, string? Failure);
