namespace Proxy.Admin.Ui;

/// <summary>One embedded UI file, held in memory with its validator.</summary>
internal sealed record UiAsset(string Name, byte[] Content, string ContentType, string ETag);
