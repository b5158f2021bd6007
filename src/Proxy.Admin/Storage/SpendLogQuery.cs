namespace Proxy.Admin.Storage;

internal sealed record SpendLogQuery(string? ApiKey, string? RequestId, long? StartMs, long? EndMs, int Limit, string? UserId = null, string? TeamId = null);
