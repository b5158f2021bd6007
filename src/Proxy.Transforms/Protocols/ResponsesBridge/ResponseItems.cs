using System.Buffers;
using System.Text.Json;
using Proxy.Transforms.Body;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// The items of a Responses conversation the gateway keeps for a bridged response: a request's input as items (a string
/// input is one user message; every item gets an id, as OpenAI's input_items lists them), and the body a follow-up
/// becomes: its input after the stored conversation, without the previous_response_id no deployment knows.
/// </summary>
public static class ResponseItems
{
    /// <summary>The request's input as items with ids; empty for a body without a usable input.</summary>
    public static List<byte[]> InputItemsOf(ReadOnlySpan<byte> body)
    {
        var items = new List<byte[]>();
        using var document = Parse(body);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("input", out var input))
        {
            return items;
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            var text = input.GetString()!;
            items.Add(ResponseObjectWriter.Serialize(json =>
            {
                json.WriteStartObject();
                json.WriteString("id"u8, BridgedResponse.NewItemId("msg_"));
                json.WriteString("type"u8, "message"u8);
                json.WriteString("role"u8, "user"u8);
                json.WriteString("status"u8, "completed"u8);
                json.WriteStartArray("content"u8);
                json.WriteStartObject();
                json.WriteString("type"u8, "input_text"u8);
                json.WriteString("text"u8, text);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }));
            return items;
        }

        if (input.ValueKind != JsonValueKind.Array)
        {
            return items;
        }

        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var type = ResponsesRequestTranslator.StringOf(item, "type");
            var hasId = ResponsesRequestTranslator.StringOf(item, "id") is not null;
            items.Add(ResponseObjectWriter.Serialize(json =>
            {
                json.WriteStartObject();
                if (!hasId)
                {
                    json.WriteString("id"u8, BridgedResponse.NewItemId(type switch
                    {
                        "function_call" => "fc_",
                        "function_call_output" => "fco_",
                        "reasoning" => "rs_",
                        _ => "msg_",
                    }));
                }

                if (type is null)
                {
                    json.WriteString("type"u8, "message"u8);
                }

                foreach (var member in item.EnumerateObject())
                {
                    member.WriteTo(json);
                }

                json.WriteEndObject();
            }));
        }

        return items;
    }

    /// <summary>Items as one JSON array (the stored form).</summary>
    public static string ToJsonArray(IEnumerable<byte[]> items)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        buffer.Write("["u8);
        var first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                buffer.Write(","u8);
            }

            buffer.Write(item);
            first = false;
        }

        buffer.Write("]"u8);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The items of a stored JSON array.</summary>
    public static List<byte[]> FromJsonArray(string array)
    {
        var items = new List<byte[]>();
        using var document = Parse(System.Text.Encoding.UTF8.GetBytes(array));
        if (document?.RootElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in document.RootElement.EnumerateArray())
            {
                items.Add(System.Text.Encoding.UTF8.GetBytes(item.GetRawText()));
            }
        }

        return items;
    }

    /// <summary>
    /// The follow-up's body as every deployment can take it: <paramref name="input"/> (the stored conversation, then the
    /// request's own input items) in place of its input, and no previous_response_id.
    /// </summary>
    public static PooledBuffer WithInput(ReadOnlySpan<byte> body, IEnumerable<byte[]> input)
    {
        using var document = Parse(body) ?? throw new ArgumentException("The body must be JSON.", nameof(body));
        var output = new ArrayPoolBufferWriter();
        try
        {
            using (var json = new Utf8JsonWriter(output, ResponseObjectWriter.Options))
            {
                json.WriteStartObject();
                foreach (var member in document.RootElement.EnumerateObject())
                {
                    if (member.Name is not ("input" or "previous_response_id"))
                    {
                        member.WriteTo(json);
                    }
                }

                json.WriteStartArray("input"u8);
                foreach (var item in input)
                {
                    json.WriteRawValue(item, skipInputValidation: true);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return output.Detach();
        }
        finally
        {
            output.Dispose();
        }
    }

    private static JsonDocument? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
