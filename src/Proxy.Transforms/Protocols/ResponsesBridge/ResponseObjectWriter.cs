using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// Writes the Responses API's objects as OpenAI does (openai-python's <c>Response</c>, <c>ResponseOutputMessage</c>,
/// <c>ResponseFunctionToolCall</c>, <c>ResponseUsage</c>): every member present, in OpenAI's order, with its defaults.
/// </summary>
internal static class ResponseObjectWriter
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="status">in_progress, completed, incomplete or failed.</param>
    /// <param name="incompleteReason">max_output_tokens or content_filter, for an incomplete response.</param>
    public static void WriteResponse(
        Utf8JsonWriter json, BridgedResponse response, string status, IReadOnlyList<byte[]> output, ChatUsage? usage, string? incompleteReason)
    {
        var echo = response.Echo;
        json.WriteStartObject();
        json.WriteString("id"u8, response.Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, response.CreatedAt);
        json.WriteString("status"u8, status);
        json.WriteBoolean("background"u8, false);
        json.WriteNull("error"u8);
        if (incompleteReason is not null)
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, incompleteReason);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details"u8);
        }

        Raw(json, "instructions"u8, echo.Instructions);
        Raw(json, "max_output_tokens"u8, echo.MaxOutputTokens);
        json.WriteString("model"u8, response.Model);
        json.WriteStartArray("output"u8);
        foreach (var item in output)
        {
            json.WriteRawValue(item, skipInputValidation: true);
        }

        json.WriteEndArray();
        Raw(json, "parallel_tool_calls"u8, echo.ParallelToolCalls);
        if (echo.PreviousResponseId is { } previous)
        {
            json.WriteString("previous_response_id"u8, previous);
        }
        else
        {
            json.WriteNull("previous_response_id"u8);
        }

        json.WriteStartObject("reasoning"u8);
        json.WriteNull("effort"u8);
        json.WriteNull("summary"u8);
        json.WriteEndObject();
        json.WriteBoolean("store"u8, echo.Store);
        Raw(json, "temperature"u8, echo.Temperature);
        Raw(json, "text"u8, echo.Text);
        Raw(json, "tool_choice"u8, echo.ToolChoice);
        Raw(json, "tools"u8, echo.Tools);
        Raw(json, "top_p"u8, echo.TopP);
        Raw(json, "truncation"u8, echo.Truncation);
        if (usage is { } counts)
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("input_tokens"u8, counts.PromptTokens);
            json.WriteStartObject("input_tokens_details"u8);
            json.WriteNumber("cached_tokens"u8, counts.CachedTokens);
            json.WriteEndObject();
            json.WriteNumber("output_tokens"u8, counts.CompletionTokens);
            json.WriteStartObject("output_tokens_details"u8);
            json.WriteNumber("reasoning_tokens"u8, 0);
            json.WriteEndObject();
            json.WriteNumber("total_tokens"u8, counts.PromptTokens + counts.CompletionTokens);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("usage"u8);
        }

        Raw(json, "user"u8, echo.User);
        Raw(json, "metadata"u8, echo.Metadata);
        json.WriteEndObject();
    }

    public static void WriteMessage(Utf8JsonWriter json, string id, string status, string? text)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("status"u8, status);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteStartArray("content"u8);
        if (text is not null)
        {
            WriteTextPart(json, text);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "output_text"u8);
        json.WriteString("text"u8, text);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteFunctionCall(Utf8JsonWriter json, string id, string status, string callId, string name, string arguments)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, id);
        json.WriteString("type"u8, "function_call"u8);
        json.WriteString("status"u8, status);
        json.WriteString("arguments"u8, arguments);
        json.WriteString("call_id"u8, callId);
        json.WriteString("name"u8, name);
        json.WriteEndObject();
    }

    public static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>OpenAI's status for a chat finish_reason: length is max_output_tokens, content_filter its own reason.</summary>
    public static string? IncompleteReason(string? finishReason) => finishReason switch
    {
        "length" => "max_output_tokens",
        "content_filter" => "content_filter",
        _ => null,
    };

    private static void Raw(Utf8JsonWriter json, ReadOnlySpan<byte> name, byte[] value)
    {
        json.WritePropertyName(name);
        json.WriteRawValue(value, skipInputValidation: true);
    }
}
