namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>xunit trait values: <c>dotnet test --filter Category=AotSmoke</c>.</summary>
public static class TestCategories
{
    /// <summary>
    /// The smoke subset that CI runs against the Native AOT binary (scripts/publish-aot.sh --smoke): chat, streams, keys
    /// and spend on SQLite and PostgreSQL, the Redis cache, metrics, admin calls, /v1/messages, reload and errors. Each
    /// such test talks to the gateway over HTTP only (no <see cref="GatewayInstance.Services"/>), so it runs unchanged
    /// in process and against the binary.
    /// </summary>
    public const string AotSmoke = "AotSmoke";
}
