using System.Text.Json;

namespace Proxy.Admin.Spend;

/// <summary><c>spend_log_buffer</c> in /health/readiness: rows waiting for the database, capacity, dropped, full.</summary>
internal sealed class SpendBufferStatus(SpendQueue queue) : IReadinessContributor
{
    public string Name => "spend_log_buffer";

    public void WriteValue(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("depth", queue.Depth);
        json.WriteNumber("capacity", queue.Capacity);
        json.WriteNumber("dropped", queue.Dropped);
        json.WriteBoolean("full", queue.IsFull);
        json.WriteEndObject();
    }
}
