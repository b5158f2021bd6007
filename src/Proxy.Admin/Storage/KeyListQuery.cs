namespace Proxy.Admin.Storage;

internal sealed record KeyListQuery(string? KeyAlias, string? UserId, string? TeamId, int Page, int Size);
