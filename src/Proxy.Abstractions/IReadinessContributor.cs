using System.Text.Json;

namespace Proxy.Abstractions;

/// <summary>Adds one member to <c>GET /health/readiness</c> (the database state, the spend buffer depth, …).</summary>
public interface IReadinessContributor
{
    /// <summary>The member's name; <c>"db"</c> replaces the host's default <c>"Not connected"</c>.</summary>
    string Name { get; }

    /// <summary>Writes the member's value (the name has been written).</summary>
    void WriteValue(Utf8JsonWriter json);
}
