using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// Outbound request unit of the Responses bridge: a Responses API body into a chat/completions body for a deployment
/// that cannot serve Responses (anthropic/, azure/, azure_ai/, or model_info.supports_responses_api: false).
/// <c>instructions</c> becomes the system message; <c>input</c> (a string, or message, function_call and
/// function_call_output items with input_text, output_text, input_image and input_file parts) the messages;
/// function <c>tools</c>, <c>tool_choice</c>, <c>max_output_tokens</c>, <c>temperature</c>, <c>top_p</c>,
/// <c>parallel_tool_calls</c>, <c>user</c> and <c>text.format</c> (json_schema, json_object) their chat forms.
/// <c>reasoning</c> items and settings are dropped (chat has no portable form of them, and a model that does not reason
/// would reject one); <c>store</c> and <c>previous_response_id</c> are the gateway's business, never the upstream's.
/// </summary>
public static class ResponsesRequestTranslator
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the chat body for <paramref name="responses"/>; returns the 400 for what chat cannot carry.</summary>
    public static GatewayError? Translate(ReadOnlySpan<byte> responses, string model, IBufferWriter<byte> chat)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(responses.ToArray());
        }
        catch (JsonException)
        {
            return GatewayError.InvalidJson("check the syntax");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return GatewayError.NotAnObject();
            }

            if (Validate(root) is { } invalid)
            {
                return invalid;
            }

            using var json = new Utf8JsonWriter(chat, WriterOptions);
            json.WriteStartObject();
            json.WriteString("model"u8, model);
            json.WritePropertyName("messages"u8);
            if (WriteMessages(json, root) is { } badInput)
            {
                return badInput;
            }

            if (WriteSettings(json, root) is { } badSetting)
            {
                return badSetting;
            }

            json.WriteEndObject();
        }

        return null;
    }

    /// <summary>The checks every Responses request passes (native or bridged): <c>input</c> present and a string or a list.</summary>
    public static GatewayError? Validate(JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return new GatewayError(400, "invalid_request_error", "Missing required parameter: 'input'. Send a string or a list of input items.", "input");
        }

        if (input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return new GatewayError(400, "invalid_request_error",
                $"Invalid type for 'input': expected a string or an array of input items, but got {Describe(input.ValueKind)} instead.", "input");
        }

        if (root.TryGetProperty("background", out var background) && background.ValueKind == JsonValueKind.True)
        {
            return new GatewayError(400, "invalid_request_error",
                "background responses are not supported for this model: its deployments speak chat, which the gateway bridges in the foreground. Send background: false.", "background");
        }

        return null;
    }

    private static GatewayError? WriteMessages(Utf8JsonWriter json, JsonElement root)
    {
        var messages = new List<ChatMessage>();
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String && instructions.GetString() is { Length: > 0 } system)
        {
            messages.Add(new ChatMessage("system") { Text = system });
        }

        var input = root.GetProperty("input");
        if (input.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ChatMessage("user") { Text = input.GetString() });
        }
        else
        {
            var index = 0;
            foreach (var item in input.EnumerateArray())
            {
                if (AddItem(messages, item, index) is { } error)
                {
                    return error;
                }

                index++;
            }
        }

        json.WriteStartArray();
        foreach (var message in messages)
        {
            message.WriteTo(json);
        }

        json.WriteEndArray();
        return null;
    }

    private static GatewayError? AddItem(List<ChatMessage> messages, JsonElement item, int index)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return Invalid($"input[{index}]", "must be an object (an input item)");
        }

        var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "message";
        switch (type)
        {
            case "message":
                return AddMessage(messages, item, index);
            case "function_call":
            {
                var callId = StringOf(item, "call_id");
                var name = StringOf(item, "name");
                if (callId is null || name is null)
                {
                    return Invalid($"input[{index}]", "a function_call item needs call_id and name");
                }

                var call = new ToolCall(callId, name, StringOf(item, "arguments") ?? "{}");
                // Chat carries a turn's calls on one assistant message (after its text, when it had any).
                if (messages.Count > 0 && messages[^1] is { Role: "assistant", ToolCallId: null } last)
                {
                    (last.ToolCalls ??= []).Add(call);
                }
                else
                {
                    messages.Add(new ChatMessage("assistant") { ToolCalls = [call] });
                }

                return null;
            }

            case "function_call_output":
            {
                var callId = StringOf(item, "call_id");
                if (callId is null)
                {
                    return Invalid($"input[{index}]", "a function_call_output item needs call_id");
                }

                var output = item.TryGetProperty("output", out var o) ? o : default;
                messages.Add(new ChatMessage("tool") { ToolCallId = callId, Text = output.ValueKind == JsonValueKind.String ? output.GetString() : TextOfParts(output) });
                return null;
            }

            case "reasoning":
                // A reasoning model's own notes: chat has no portable place for them.
                return null;
            default:
                return new GatewayError(400, "invalid_request_error",
                    $"input[{index}]: items of type '{type}' are not supported for this model (its deployments speak chat, which the gateway bridges); "
                    + "send message, function_call and function_call_output items.", "input");
        }
    }

    private static GatewayError? AddMessage(List<ChatMessage> messages, JsonElement item, int index)
    {
        var role = StringOf(item, "role") ?? "user";
        role = role switch
        {
            "developer" => "system",
            "user" or "assistant" or "system" => role,
            _ => "",
        };
        if (role.Length == 0)
        {
            return Invalid($"input[{index}].role", "must be one of user, assistant, system, developer");
        }

        if (!item.TryGetProperty("content", out var content))
        {
            return Invalid($"input[{index}]", "a message item needs content");
        }

        var message = new ChatMessage(role);
        if (content.ValueKind == JsonValueKind.String)
        {
            message.Text = content.GetString();
            messages.Add(message);
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return Invalid($"input[{index}].content", "must be a string or a list of content parts");
        }

        if (role != "user")
        {
            // Assistant and system turns are text in chat.
            message.Text = TextOfParts(content);
            messages.Add(message);
            return null;
        }

        var parts = new List<Action<Utf8JsonWriter>>();
        var partIndex = 0;
        foreach (var part in content.EnumerateArray())
        {
            var where = $"input[{index}].content[{partIndex++}]";
            var partType = part.ValueKind == JsonValueKind.Object ? StringOf(part, "type") : null;
            switch (partType)
            {
                case "input_text" or "output_text" or "text":
                {
                    var text = StringOf(part, "text") ?? "";
                    parts.Add(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "text"u8);
                        w.WriteString("text"u8, text);
                        w.WriteEndObject();
                    });
                    break;
                }

                case "input_image":
                {
                    var url = StringOf(part, "image_url");
                    if (url is null)
                    {
                        return Invalid(where, "an input_image part needs image_url here (file_id is not available through the chat bridge)");
                    }

                    var detail = StringOf(part, "detail");
                    parts.Add(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "image_url"u8);
                        w.WriteStartObject("image_url"u8);
                        w.WriteString("url"u8, url);
                        if (detail is not null)
                        {
                            w.WriteString("detail"u8, detail);
                        }

                        w.WriteEndObject();
                        w.WriteEndObject();
                    });
                    break;
                }

                case "input_file":
                {
                    var data = StringOf(part, "file_data");
                    if (data is null)
                    {
                        return Invalid(where, "an input_file part needs file_data here (file_id and file_url are not available through the chat bridge)");
                    }

                    var name = StringOf(part, "filename");
                    parts.Add(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "file"u8);
                        w.WriteStartObject("file"u8);
                        w.WriteString("file_data"u8, data);
                        if (name is not null)
                        {
                            w.WriteString("filename"u8, name);
                        }

                        w.WriteEndObject();
                        w.WriteEndObject();
                    });
                    break;
                }

                default:
                    return Invalid(where, "must be an input_text, input_image or input_file part");
            }
        }

        message.Parts = parts;
        messages.Add(message);
        return null;
    }

    private static GatewayError? WriteSettings(Utf8JsonWriter json, JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "temperature" or "top_p" or "parallel_tool_calls" or "user":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        json.WritePropertyName(property.Name);
                        value.WriteTo(json);
                    }

                    break;
                case "max_output_tokens":
                    if (value.ValueKind == JsonValueKind.Number)
                    {
                        json.WritePropertyName("max_tokens"u8);
                        value.WriteTo(json);
                    }

                    break;
                case "stream":
                    if (value.ValueKind == JsonValueKind.True)
                    {
                        json.WriteBoolean("stream"u8, true);
                        // The Responses stream ends with the usage; chat sends it only when asked.
                        json.WriteStartObject("stream_options"u8);
                        json.WriteBoolean("include_usage"u8, true);
                        json.WriteEndObject();
                    }

                    break;
                case "tools":
                    if (WriteTools(json, value) is { } badTool)
                    {
                        return badTool;
                    }

                    break;
                case "tool_choice":
                    WriteToolChoice(json, value);
                    break;
                case "text":
                    WriteResponseFormat(json, value);
                    break;
            }
        }

        return null;
    }

    private static GatewayError? WriteTools(Utf8JsonWriter json, JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return tools.ValueKind == JsonValueKind.Null ? null : Invalid("tools", "must be a list of tools");
        }

        if (tools.GetArrayLength() == 0)
        {
            return null;
        }

        json.WriteStartArray("tools"u8);
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var type = tool.ValueKind == JsonValueKind.Object ? StringOf(tool, "type") : null;
            if (type != "function")
            {
                return new GatewayError(400, "invalid_request_error",
                    $"tools[{index}]: tools of type '{type}' are not supported for this model (its deployments speak chat, which the gateway bridges); only function tools are.",
                    "tools");
            }

            var name = StringOf(tool, "name");
            if (name is null)
            {
                return Invalid($"tools[{index}]", "a function tool needs a name");
            }

            json.WriteStartObject();
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, name);
            foreach (var member in tool.EnumerateObject())
            {
                if (member.Name is "description" or "parameters" or "strict" && member.Value.ValueKind != JsonValueKind.Null)
                {
                    member.WriteTo(json);
                }
            }

            json.WriteEndObject();
            json.WriteEndObject();
            index++;
        }

        json.WriteEndArray();
        return null;
    }

    private static void WriteToolChoice(Utf8JsonWriter json, JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            json.WritePropertyName("tool_choice"u8);
            choice.WriteTo(json);
            return;
        }

        if (choice.ValueKind == JsonValueKind.Object && StringOf(choice, "type") == "function" && StringOf(choice, "name") is { } name)
        {
            json.WriteStartObject("tool_choice"u8);
            json.WriteString("type"u8, "function"u8);
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, name);
            json.WriteEndObject();
            json.WriteEndObject();
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter json, JsonElement text)
    {
        if (text.ValueKind != JsonValueKind.Object || !text.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        switch (StringOf(format, "type"))
        {
            case "json_object":
                json.WriteStartObject("response_format"u8);
                json.WriteString("type"u8, "json_object"u8);
                json.WriteEndObject();
                return;
            case "json_schema":
                json.WriteStartObject("response_format"u8);
                json.WriteString("type"u8, "json_schema"u8);
                json.WriteStartObject("json_schema"u8);
                foreach (var member in format.EnumerateObject())
                {
                    if (member.Name is "name" or "schema" or "strict" or "description")
                    {
                        member.WriteTo(json);
                    }
                }

                json.WriteEndObject();
                json.WriteEndObject();
                return;
        }
    }

    /// <summary>The text of a list of content parts (input_text, output_text, refusal), joined; a string as it is.</summary>
    internal static string TextOfParts(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return content.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? "" : content.GetRawText();
        }

        var text = new System.Text.StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && (StringOf(part, "text") ?? StringOf(part, "refusal")) is { } piece)
            {
                text.Append(piece);
            }
        }

        return text.ToString();
    }

    internal static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static GatewayError Invalid(string param, string what) =>
        new(400, "invalid_request_error", $"Invalid value for '{param}': {what}.", param.Split('[', '.')[0]);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private sealed record ToolCall(string Id, string Name, string Arguments);

    private sealed class ChatMessage(string role)
    {
        public string Role { get; } = role;

        public string? Text { get; set; }

        public List<Action<Utf8JsonWriter>>? Parts { get; set; }

        public List<ToolCall>? ToolCalls { get; set; }

        public string? ToolCallId { get; init; }

        public void WriteTo(Utf8JsonWriter json)
        {
            json.WriteStartObject();
            json.WriteString("role"u8, Role);
            if (Parts is not null)
            {
                json.WriteStartArray("content"u8);
                foreach (var part in Parts)
                {
                    part(json);
                }

                json.WriteEndArray();
            }
            else if (Text is null && ToolCalls is not null)
            {
                json.WriteNull("content"u8);
            }
            else
            {
                json.WriteString("content"u8, Text ?? "");
            }

            if (ToolCallId is not null)
            {
                json.WriteString("tool_call_id"u8, ToolCallId);
            }

            if (ToolCalls is not null)
            {
                json.WriteStartArray("tool_calls"u8);
                foreach (var call in ToolCalls)
                {
                    json.WriteStartObject();
                    json.WriteString("id"u8, call.Id);
                    json.WriteString("type"u8, "function"u8);
                    json.WriteStartObject("function"u8);
                    json.WriteString("name"u8, call.Name);
                    json.WriteString("arguments"u8, call.Arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }
    }
}
