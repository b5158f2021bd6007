namespace Proxy.LoadBalancing.Affinity;

/// <summary>
/// What a pin is keyed by: the model group, the caller (virtual key hash; "" for the master key or an open gateway) and,
/// for session affinity, the session id. Scoping a session by the caller, as LiteLLM does, stops two callers who reuse a
/// session id from steering each other.
/// </summary>
internal readonly record struct PinKey(string ModelGroup, string Caller, string? Session);
