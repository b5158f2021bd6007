using System.Text.Json;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// The request settings a response object repeats (instructions, tools, temperature, ...), as the raw JSON the client
/// sent, with OpenAI's defaults for what it left out.
/// </summary>
public sealed class ResponseEcho
{
    public byte[] Instructions { get; private init; } = "null"u8.ToArray();

    public byte[] MaxOutputTokens { get; private init; } = "null"u8.ToArray();

    public byte[] Temperature { get; private init; } = "1.0"u8.ToArray();

    public byte[] TopP { get; private init; } = "1.0"u8.ToArray();

    public byte[] Tools { get; private init; } = "[]"u8.ToArray();

    public byte[] ToolChoice { get; private init; } = "\"auto\""u8.ToArray();

    public byte[] Text { get; private init; } = """{"format":{"type":"text"}}"""u8.ToArray();

    public byte[] ParallelToolCalls { get; private init; } = "true"u8.ToArray();

    public byte[] Metadata { get; private init; } = "{}"u8.ToArray();

    public byte[] User { get; private init; } = "null"u8.ToArray();

    public byte[] Truncation { get; private init; } = "\"disabled\""u8.ToArray();

    /// <summary>OpenAI's <c>store</c> (default true): whether the gateway keeps a bridged response.</summary>
    public bool Store { get; private init; } = true;

    /// <summary>The client's <c>previous_response_id</c> (as it sent it), repeated in the answer.</summary>
    public string? PreviousResponseId { get; private init; }

    public static ResponseEcho Read(ReadOnlySpan<byte> body, string? previousResponseId)
    {
        byte[]? instructions = null, maxOutput = null, temperature = null, topP = null, tools = null, toolChoice = null, text = null;
        byte[]? parallel = null, metadata = null, user = null, truncation = null;
        var store = true;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    var isNull = reader.TokenType == JsonTokenType.Null;
                    var value = RawJson.ValueOf(ref reader, body).ToArray();
                    if (isNull)
                    {
                        continue;
                    }

                    switch (name)
                    {
                        case "instructions": instructions = value; break;
                        case "max_output_tokens": maxOutput = value; break;
                        case "temperature": temperature = value; break;
                        case "top_p": topP = value; break;
                        case "tools": tools = value; break;
                        case "tool_choice": toolChoice = value; break;
                        case "text": text = value; break;
                        case "parallel_tool_calls": parallel = value; break;
                        case "metadata": metadata = value; break;
                        case "user": user = value; break;
                        case "truncation": truncation = value; break;
                        case "store": store = !value.AsSpan().SequenceEqual("false"u8); break;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // The body was checked before it was routed; an echo is never worth a failure.
        }

        var echo = new ResponseEcho { Store = store, PreviousResponseId = previousResponseId };
        return new ResponseEcho
        {
            Instructions = instructions ?? echo.Instructions,
            MaxOutputTokens = maxOutput ?? echo.MaxOutputTokens,
            Temperature = temperature ?? echo.Temperature,
            TopP = topP ?? echo.TopP,
            Tools = tools ?? echo.Tools,
            ToolChoice = toolChoice ?? echo.ToolChoice,
            Text = text ?? echo.Text,
            ParallelToolCalls = parallel ?? echo.ParallelToolCalls,
            Metadata = metadata ?? echo.Metadata,
            User = user ?? echo.User,
            Truncation = truncation ?? echo.Truncation,
            Store = store,
            PreviousResponseId = previousResponseId,
        };
    }
}
