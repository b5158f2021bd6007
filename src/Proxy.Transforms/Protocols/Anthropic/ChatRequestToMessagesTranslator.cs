using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Outbound request unit for <c>anthropic/</c> deployments: an OpenAI chat body into a Messages body. System and
/// developer messages become <c>system</c>; user text and images (data URLs → base64, others → url); assistant text
/// and tool_calls (arguments parsed into <c>input</c>); tool messages → tool_result blocks; tools, tool_choice
/// (auto, required → any, none, function → tool; parallel_tool_calls false → disable_parallel_tool_use),
/// max_tokens / max_completion_tokens (LiteLLM's default 4096 when absent, since Anthropic requires it), stop →
/// stop_sequences, temperature, top_p, top_k, user → metadata.user_id, stream. Parameters Messages has no place for
/// (n, seed, logprobs, penalties, response_format) are not sent: Anthropic refuses unknown members.
/// </summary>
public static class ChatRequestToMessagesTranslator
{
    // litellm.constants.DEFAULT_MAX_TOKENS
    private const int DefaultMaxTokens = 4096;

    public static GatewayError? Translate(ReadOnlySpan<byte> chat, string upstreamModel, IBufferWriter<byte> output)
    {
        try
        {
            return TranslateCore(chat, upstreamModel, output);
        }
        catch (JsonException)
        {
            return GatewayError.InvalidJson("check the syntax");
        }
        catch (InvalidOperationException)
        {
            return new GatewayError(400, "invalid_request_error", "A message has a value of the wrong type for translation to Anthropic Messages.", "messages");
        }
    }

    private static GatewayError? TranslateCore(ReadOnlySpan<byte> chat, string upstreamModel, IBufferWriter<byte> output)
    {
        ValueRange messages = default, maxTokens = default, temperature = default, topP = default, topK = default, stop = default,
            stream = default, tools = default, toolChoice = default, user = default;
        var parallelToolCalls = true;
        var reader = new Utf8JsonReader(chat, RequestScanner.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var kind = reader.TokenType;
            reader.Skip();
            var range = new ValueRange(start, (int)reader.BytesConsumed);
            if (name.SequenceEqual("messages"u8))
            {
                messages = range;
            }
            else if ((name.SequenceEqual("max_tokens"u8) || name.SequenceEqual("max_completion_tokens"u8)) && kind == JsonTokenType.Number)
            {
                maxTokens = range;
            }
            else if (name.SequenceEqual("temperature"u8) && kind == JsonTokenType.Number)
            {
                temperature = range;
            }
            else if (name.SequenceEqual("top_p"u8) && kind == JsonTokenType.Number)
            {
                topP = range;
            }
            else if (name.SequenceEqual("top_k"u8) && kind == JsonTokenType.Number)
            {
                topK = range;
            }
            else if (name.SequenceEqual("stop"u8) && kind is JsonTokenType.String or JsonTokenType.StartArray)
            {
                stop = range;
            }
            else if (name.SequenceEqual("stream"u8))
            {
                stream = range;
            }
            else if (name.SequenceEqual("tools"u8) && kind == JsonTokenType.StartArray)
            {
                tools = range;
            }
            else if (name.SequenceEqual("tool_choice"u8))
            {
                toolChoice = range;
            }
            else if (name.SequenceEqual("parallel_tool_calls"u8))
            {
                parallelToolCalls = kind != JsonTokenType.False;
            }
            else if (name.SequenceEqual("user"u8) && kind == JsonTokenType.String)
            {
                user = range;
            }
        }

        if (!messages.IsSet || chat[messages.Start] != (byte)'[')
        {
            return new GatewayError(400, "invalid_request_error", "Missing required parameter 'messages' (a list of chat messages).", "messages");
        }

        var json = new RawJsonWriter(output);
        json.StartObject();
        json.Name("\"model\""u8);
        json.String(Encoding.UTF8.GetBytes(upstreamModel));
        var messageList = messages.Of(chat);
        WriteSystem(ref json, messageList);
        json.Name("\"messages\""u8);
        json.StartArray();
        if (WriteMessages(ref json, messageList) is { } error)
        {
            return error;
        }

        json.EndArray();
        json.Name("\"max_tokens\""u8);
        if (maxTokens.IsSet)
        {
            json.Raw(maxTokens.Of(chat));
        }
        else
        {
            json.Int(DefaultMaxTokens);
        }

        CopyIfSet(ref json, "\"temperature\""u8, temperature, chat);
        CopyIfSet(ref json, "\"top_p\""u8, topP, chat);
        CopyIfSet(ref json, "\"top_k\""u8, topK, chat);
        if (stop.IsSet)
        {
            json.Name("\"stop_sequences\""u8);
            var value = stop.Of(chat);
            if (value[0] == (byte)'"')
            {
                json.StartArray();
                json.Raw(value);
                json.EndArray();
            }
            else
            {
                json.Raw(value);
            }
        }

        if (stream.IsSet && stream.Of(chat).SequenceEqual("true"u8))
        {
            json.Name("\"stream\""u8);
            json.True();
        }

        var hasTools = tools.IsSet && WriteTools(ref json, tools.Of(chat));
        if (hasTools)
        {
            WriteToolChoice(ref json, toolChoice.IsSet ? toolChoice.Of(chat) : default, parallelToolCalls);
        }

        if (user.IsSet)
        {
            json.Name("\"metadata\""u8);
            json.StartObject();
            json.Name("\"user_id\""u8);
            json.Raw(user.Of(chat));
            json.EndObject();
        }

        json.EndObject();
        return null;
    }

    private static void CopyIfSet(ref RawJsonWriter json, ReadOnlySpan<byte> name, ValueRange range, ReadOnlySpan<byte> source)
    {
        if (range.IsSet)
        {
            json.Name(name);
            json.Raw(range.Of(source));
        }
    }

    private static void WriteSystem(ref RawJsonWriter json, ReadOnlySpan<byte> messages)
    {
        var any = false;
        var reader = new Utf8JsonReader(messages);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var message = MessageFacts.Read(RawJson.ValueOf(ref reader, messages));
            if (!message.IsSystem || message.Content.IsEmpty)
            {
                continue;
            }

            if (!any)
            {
                json.Name("\"system\""u8);
                json.StartArray();
                any = true;
            }

            WriteTextBlocks(ref json, message.Content);
        }

        if (any)
        {
            json.EndArray();
        }
    }

    /// <summary>A string or a list of text parts, as Messages text blocks (empty text is left out: Anthropic refuses it).</summary>
    private static void WriteTextBlocks(ref RawJsonWriter json, ReadOnlySpan<byte> content)
    {
        if (content[0] == (byte)'"')
        {
            if (content.Length > 2)
            {
                WriteTextBlock(ref json, content);
            }

            return;
        }

        if (content[0] != (byte)'[')
        {
            return;
        }

        var reader = new Utf8JsonReader(content);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var part = PartFacts.Read(RawJson.ValueOf(ref reader, content));
            if (part.Type.SequenceEqual("text"u8) && part.Text.Length > 2)
            {
                WriteTextBlock(ref json, part.Text);
            }
        }
    }

    private static void WriteTextBlock(ref RawJsonWriter json, ReadOnlySpan<byte> text)
    {
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"text\""u8);
        json.Name("\"text\""u8);
        json.Raw(text);
        json.EndObject();
    }

    private static GatewayError? WriteMessages(ref RawJsonWriter json, ReadOnlySpan<byte> messages)
    {
        var reader = new Utf8JsonReader(messages);
        reader.Read();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return new GatewayError(400, "invalid_request_error", $"messages[{index}] must be an object with role and content.", "messages");
            }

            var message = MessageFacts.Read(RawJson.ValueOf(ref reader, messages));
            index++;
            if (message.IsSystem)
            {
                continue;
            }

            if (message.Role.SequenceEqual("user"u8))
            {
                WriteUser(ref json, message.Content);
            }
            else if (message.Role.SequenceEqual("assistant"u8))
            {
                WriteAssistant(ref json, in message);
            }
            else if (message.Role.SequenceEqual("tool"u8))
            {
                WriteToolResult(ref json, in message);
            }
            else
            {
                return new GatewayError(400, "invalid_request_error",
                    $"messages[{index - 1}].role '{Encoding.UTF8.GetString(message.Role)}' cannot be sent to an Anthropic deployment; use system, user, assistant or tool.",
                    "messages");
            }
        }

        return null;
    }

    private static void WriteUser(ref RawJsonWriter json, ReadOnlySpan<byte> content)
    {
        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"user\""u8);
        json.Name("\"content\""u8);
        if (content.IsEmpty || content[0] != (byte)'[')
        {
            json.Raw(content.IsEmpty || content[0] != (byte)'"' ? "\"\""u8 : content);
            json.EndObject();
            return;
        }

        json.StartArray();
        var reader = new Utf8JsonReader(content);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var part = PartFacts.Read(RawJson.ValueOf(ref reader, content));
            if (part.Type.SequenceEqual("text"u8) && part.Text.Length > 2)
            {
                WriteTextBlock(ref json, part.Text);
            }
            else if (part.Type.SequenceEqual("image_url"u8) && !part.Url.IsEmpty)
            {
                WriteImage(ref json, part.Url);
            }
            else if (part.Type.SequenceEqual("file"u8) && !part.FileData.IsEmpty)
            {
                WriteDocument(ref json, part.FileData);
            }
        }

        json.EndArray();
        json.EndObject();
    }

    private static void WriteImage(ref RawJsonWriter json, ReadOnlySpan<byte> urlToken)
    {
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"image\""u8);
        json.Name("\"source\""u8);
        WriteSource(ref json, urlToken);
        json.EndObject();
    }

    private static void WriteDocument(ref RawJsonWriter json, ReadOnlySpan<byte> fileData)
    {
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"document\""u8);
        json.Name("\"source\""u8);
        WriteSource(ref json, fileData);
        json.EndObject();
    }

    /// <summary>A data URL becomes a base64 source; anything else a url source.</summary>
    private static void WriteSource(ref RawJsonWriter json, ReadOnlySpan<byte> urlToken)
    {
        var url = urlToken[1..^1];
        var comma = url.IndexOf((byte)',');
        var semicolon = url.IndexOf(";base64"u8);
        json.StartObject();
        if (url.StartsWith("data:"u8) && comma > 0 && semicolon > 5 && semicolon < comma)
        {
            json.Name("\"type\""u8);
            json.Raw("\"base64\""u8);
            json.Name("\"media_type\""u8);
            json.StartString();
            json.EscapedPiece(url[5..semicolon]);
            json.EndString();
            json.Name("\"data\""u8);
            json.StartString();
            json.EscapedPiece(url[(comma + 1)..]);
            json.EndString();
        }
        else
        {
            json.Name("\"type\""u8);
            json.Raw("\"url\""u8);
            json.Name("\"url\""u8);
            json.Raw(urlToken);
        }

        json.EndObject();
    }

    private static void WriteAssistant(ref RawJsonWriter json, in MessageFacts message)
    {
        var hasText = HasText(message.Content);
        if (!hasText && message.ToolCalls.IsEmpty)
        {
            // An empty assistant turn: Anthropic refuses empty content, and it carries nothing.
            return;
        }

        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        json.Name("\"content\""u8);
        json.StartArray();
        if (hasText)
        {
            WriteTextBlocks(ref json, message.Content);
        }

        if (!message.ToolCalls.IsEmpty)
        {
            var calls = message.ToolCalls;
            var reader = new Utf8JsonReader(calls);
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var call = ToolCallFacts.Read(RawJson.ValueOf(ref reader, calls));
                json.StartObject();
                json.Name("\"type\""u8);
                json.Raw("\"tool_use\""u8);
                json.Name("\"id\""u8);
                json.Raw(call.Id.IsEmpty ? "\"toolu_missing\""u8 : call.Id);
                json.Name("\"name\""u8);
                json.Raw(call.Name.IsEmpty ? "\"\""u8 : call.Name);
                json.Name("\"input\""u8);
                ToolArguments.WriteAsInput(ref json, call.Arguments);
                json.EndObject();
            }
        }

        json.EndArray();
        json.EndObject();
    }

    private static bool HasText(ReadOnlySpan<byte> content) =>
        !content.IsEmpty && ((content[0] == (byte)'"' && content.Length > 2) || (content[0] == (byte)'[' && content.IndexOf("\"text\""u8) >= 0));

    private static void WriteToolResult(ref RawJsonWriter json, in MessageFacts message)
    {
        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"user\""u8);
        json.Name("\"content\""u8);
        json.StartArray();
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"tool_result\""u8);
        json.Name("\"tool_use_id\""u8);
        json.Raw(message.ToolCallId.IsEmpty ? "\"toolu_missing\""u8 : message.ToolCallId);
        json.Name("\"content\""u8);
        if (!message.Content.IsEmpty && message.Content[0] == (byte)'[')
        {
            json.StartArray();
            WriteTextBlocks(ref json, message.Content);
            json.EndArray();
        }
        else
        {
            json.Raw(!message.Content.IsEmpty && message.Content[0] == (byte)'"' ? message.Content : "\"\""u8);
        }

        json.EndObject();
        json.EndArray();
        json.EndObject();
    }

    private static bool WriteTools(ref RawJsonWriter json, ReadOnlySpan<byte> tools)
    {
        var written = 0;
        var reader = new Utf8JsonReader(tools);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var tool = RawJson.ValueOf(ref reader, tools);
            var function = FunctionFacts.Read(tool);
            if (function.Name.IsEmpty)
            {
                continue;
            }

            if (written++ == 0)
            {
                json.Name("\"tools\""u8);
                json.StartArray();
            }

            json.StartObject();
            json.Name("\"name\""u8);
            json.Raw(function.Name);
            if (!function.Description.IsEmpty)
            {
                json.Name("\"description\""u8);
                json.Raw(function.Description);
            }

            json.Name("\"input_schema\""u8);
            json.Raw(function.Parameters.IsEmpty ? "{\"type\":\"object\",\"properties\":{}}"u8 : function.Parameters);
            json.EndObject();
        }

        if (written > 0)
        {
            json.EndArray();
        }

        return written > 0;
    }

    private static void WriteToolChoice(ref RawJsonWriter json, ReadOnlySpan<byte> choice, bool parallelToolCalls)
    {
        var type = "auto"u8;
        ReadOnlySpan<byte> name = default;
        if (!choice.IsEmpty && choice[0] == (byte)'"')
        {
            var value = choice[1..^1];
            type = value.SequenceEqual("required"u8) ? "any"u8 : value.SequenceEqual("none"u8) ? "none"u8 : "auto"u8;
        }
        else if (!choice.IsEmpty && choice[0] == (byte)'{')
        {
            name = FunctionFacts.Read(choice).Name;
            type = name.IsEmpty ? "auto"u8 : "tool"u8;
        }

        if (choice.IsEmpty && parallelToolCalls)
        {
            return;
        }

        json.Name("\"tool_choice\""u8);
        json.StartObject();
        json.Name("\"type\""u8);
        json.StartString();
        json.EscapedPiece(type);
        json.EndString();
        if (!name.IsEmpty)
        {
            json.Name("\"name\""u8);
            json.Raw(name);
        }

        if (!parallelToolCalls && !type.SequenceEqual("none"u8))
        {
            json.Name("\"disable_parallel_tool_use\""u8);
            json.True();
        }

        json.EndObject();
    }

    /// <summary>One chat message's role, content, tool_calls and tool_call_id (raw tokens).</summary>
    private readonly ref struct MessageFacts
    {
        public ReadOnlySpan<byte> Role { get; init; }

        public ReadOnlySpan<byte> Content { get; init; }

        public ReadOnlySpan<byte> ToolCalls { get; init; }

        public ReadOnlySpan<byte> ToolCallId { get; init; }

        public bool IsSystem => Role.SequenceEqual("system"u8) || Role.SequenceEqual("developer"u8);

        public static MessageFacts Read(ReadOnlySpan<byte> message)
        {
            ReadOnlySpan<byte> role = default, content = default, toolCalls = default, toolCallId = default;
            var reader = new Utf8JsonReader(message);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueSpan;
                reader.Read();
                if (member.SequenceEqual("role"u8) && reader.TokenType == JsonTokenType.String)
                {
                    role = reader.ValueSpan;
                }
                else if (member.SequenceEqual("content"u8))
                {
                    content = reader.TokenType == JsonTokenType.Null ? default : RawJson.ValueOf(ref reader, message);
                }
                else if (member.SequenceEqual("tool_calls"u8) && reader.TokenType == JsonTokenType.StartArray)
                {
                    toolCalls = RawJson.ValueOf(ref reader, message);
                }
                else if (member.SequenceEqual("tool_call_id"u8) && reader.TokenType == JsonTokenType.String)
                {
                    toolCallId = RawJson.ValueOf(ref reader, message);
                }
                else
                {
                    reader.Skip();
                }
            }

            return new MessageFacts { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId };
        }
    }

    /// <summary>One content part: its type, and the text, image URL or file data it carries.</summary>
    private readonly ref struct PartFacts
    {
        public ReadOnlySpan<byte> Type { get; init; }

        public ReadOnlySpan<byte> Text { get; init; }

        public ReadOnlySpan<byte> Url { get; init; }

        public ReadOnlySpan<byte> FileData { get; init; }

        public static PartFacts Read(ReadOnlySpan<byte> part)
        {
            ReadOnlySpan<byte> type = default, text = default, url = default, fileData = default;
            var reader = new Utf8JsonReader(part);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueSpan;
                reader.Read();
                if (member.SequenceEqual("type"u8) && reader.TokenType == JsonTokenType.String)
                {
                    type = reader.ValueSpan;
                }
                else if (member.SequenceEqual("text"u8) && reader.TokenType == JsonTokenType.String)
                {
                    text = RawJson.ValueOf(ref reader, part);
                }
                else if (member.SequenceEqual("image_url"u8))
                {
                    url = reader.TokenType == JsonTokenType.String ? RawJson.ValueOf(ref reader, part) : Nested(ref reader, part, "url"u8);
                }
                else if (member.SequenceEqual("file"u8))
                {
                    fileData = Nested(ref reader, part, "file_data"u8);
                }
                else
                {
                    reader.Skip();
                }
            }

            return new PartFacts { Type = type, Text = text, Url = url, FileData = fileData };
        }

        private static ReadOnlySpan<byte> Nested(scoped ref Utf8JsonReader reader, ReadOnlySpan<byte> source, ReadOnlySpan<byte> name)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return default;
            }

            ReadOnlySpan<byte> found = default;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isName = reader.ValueTextEquals(name);
                reader.Read();
                if (isName && reader.TokenType == JsonTokenType.String)
                {
                    found = RawJson.ValueOf(ref reader, source);
                }
                else
                {
                    reader.Skip();
                }
            }

            return found;
        }
    }

    /// <summary>A chat tool (or a tool_choice naming one): function name, description and parameters as raw tokens.</summary>
    private readonly ref struct FunctionFacts
    {
        public ReadOnlySpan<byte> Name { get; init; }

        public ReadOnlySpan<byte> Description { get; init; }

        public ReadOnlySpan<byte> Parameters { get; init; }

        public static FunctionFacts Read(ReadOnlySpan<byte> tool)
        {
            ReadOnlySpan<byte> name = default, description = default, parameters = default;
            var reader = new Utf8JsonReader(tool);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isFunction = reader.ValueTextEquals("function"u8);
                reader.Read();
                if (!isFunction || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var member = reader.ValueSpan;
                    reader.Read();
                    if (member.SequenceEqual("name"u8) && reader.TokenType == JsonTokenType.String)
                    {
                        name = RawJson.ValueOf(ref reader, tool);
                    }
                    else if (member.SequenceEqual("description"u8) && reader.TokenType == JsonTokenType.String)
                    {
                        description = RawJson.ValueOf(ref reader, tool);
                    }
                    else if (member.SequenceEqual("parameters"u8) && reader.TokenType == JsonTokenType.StartObject)
                    {
                        parameters = RawJson.ValueOf(ref reader, tool);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            return new FunctionFacts { Name = name, Description = description, Parameters = parameters };
        }
    }
}
