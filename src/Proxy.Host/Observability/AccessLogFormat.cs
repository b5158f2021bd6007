namespace Proxy.Host.Observability;

/// <summary>How access lines are written: as the simple console formatter's single line, or as its JSON object.</summary>
internal sealed record AccessLogFormat(bool Json);
