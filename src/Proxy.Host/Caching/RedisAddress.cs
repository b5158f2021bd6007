using Proxy.Abstractions;

namespace Proxy.Host.Caching;

/// <summary>Where a Redis URL points; <see cref="Database"/> is null when the URL names none.</summary>
internal readonly record struct RedisAddress(string Host, int Port, string? User, Secret Password, bool Ssl, int? Database);
