namespace Proxy.Transforms.Guardrails;

/// <summary>One turn of the conversation a guard judges: <see cref="IsAgent"/> for the model's turns, else the user's.</summary>
public readonly record struct GuardMessage(bool IsAgent, string Text);
