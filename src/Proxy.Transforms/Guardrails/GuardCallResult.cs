namespace Proxy.Transforms.Guardrails;

/// <summary>One guard call: a verdict, or why there is none (down, slow, nonsense); never an exception.</summary>
public readonly record struct GuardCallResult(ModerationResult? Result, string? Failure)
{
    public bool Failed => Result is null;

    public bool Flagged => Result is { Flagged: true };

    public static GuardCallResult Fail(string reason) => new(null, reason);
}
