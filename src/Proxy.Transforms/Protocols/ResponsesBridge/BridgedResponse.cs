using System.Text.Json;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// One Responses API answer the gateway makes itself from a chat answer (a bridged deployment, or a mock): its id, the
/// request settings it echoes, and, once the answer is complete, the final response object and its output items, which
/// the gateway stores so that <c>previous_response_id</c>, GET and input_items work on it.
/// </summary>
public sealed class BridgedResponse
{
    public BridgedResponse(string id, string model, long createdAt, ReadOnlySpan<byte> clientBody, string? previousResponseId)
    {
        Id = id;
        Model = model;
        CreatedAt = createdAt;
        Echo = ResponseEcho.Read(clientBody, previousResponseId);
    }

    /// <summary>The id the client sees (it names the deployment and that the gateway stores the response).</summary>
    public string Id { get; }

    public string Model { get; }

    public long CreatedAt { get; }

    public ResponseEcho Echo { get; }

    /// <summary>The final response object (status completed or incomplete); null until the chat answer is complete, and for a failed one.</summary>
    public byte[]? Final { get; internal set; }

    /// <summary>The final object's output items, each a JSON object.</summary>
    public IReadOnlyList<byte[]> OutputItems { get; internal set; } = [];

    /// <summary>The response is to be kept: the request did not say <c>store: false</c> and the answer completed.</summary>
    public bool ShouldStore => Echo.Store && Final is not null;

    internal static string NewItemId(string prefix) => prefix + Guid.NewGuid().ToString("N");

    /// <summary>The output items of a stored response object (for a conversation that continues from it).</summary>
    public static List<byte[]> OutputItemsOf(ReadOnlySpan<byte> response)
    {
        var items = new List<byte[]>();
        var reader = new Utf8JsonReader(response);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return items;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isOutput = reader.ValueTextEquals("output"u8);
            reader.Read();
            if (!isOutput || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                items.Add(RawJson.ValueOf(ref reader, response).ToArray());
            }
        }

        return items;
    }
}
