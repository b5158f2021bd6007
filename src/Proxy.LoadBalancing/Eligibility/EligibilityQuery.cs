namespace Proxy.LoadBalancing.Eligibility;

/// <summary>The facts of one attempt that decide which deployments may serve it.</summary>
/// <param name="InputTokens">The prompt's tokens (counted or estimated): checked against tpm, and against max_input_tokens when <paramref name="CheckContextWindow"/>.</param>
/// <param name="CheckContextWindow">router_settings.enable_pre_call_checks.</param>
/// <param name="Minute">The current minute (<see cref="Proxy.Abstractions.DeploymentStats.MinuteOf"/>), for the per-minute limits.</param>
public readonly record struct EligibilityQuery(int InputTokens, bool CheckContextWindow, long Minute);
