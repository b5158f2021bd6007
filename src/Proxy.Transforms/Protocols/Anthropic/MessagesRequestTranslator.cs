using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Inbound request unit: an Anthropic Messages body (<c>/v1/messages</c> or <c>/v1/messages/count_tokens</c>) into the
/// OpenAI chat body the pipeline works on. One pass records where the top-level members are; the chat body is then
/// written in chat's order, copying strings, schemas and tool inputs as raw tokens (never re-serialised).
/// </summary>
/// <remarks>
/// Translated: <c>system</c> (string or text blocks) and mid-conversation <c>system</c> turns → system messages; text,
/// image (base64 and URL → <c>image_url</c>), document (base64 → <c>file</c>, text → text), <c>tool_use</c> →
/// <c>tool_calls</c> (input → arguments), <c>tool_result</c> → <c>tool</c> messages; <c>tools</c> (input_schema →
/// parameters), <c>tool_choice</c> (auto, any → required, tool → function, none; disable_parallel_tool_use →
/// parallel_tool_calls: false), max_tokens, stop_sequences → stop, temperature, top_p, top_k, metadata.user_id → user,
/// stream (with include_usage, so usage comes back). Accepted and not sent: thinking and redacted_thinking blocks,
/// <c>thinking</c>, <c>cache_control</c>, <c>context_management</c>, <c>output_config</c>, <c>service_tier</c> and
/// Anthropic's own tools (bash, text_editor, web_search, ...), which a chat model cannot run. Other members (LiteLLM's
/// request extras, vLLM's) are copied through for the pipeline to read or strip.
/// </remarks>
public static class MessagesRequestTranslator
{
    private const int MaxPassThrough = 32;

    /// <summary>
    /// Writes the chat body for <paramref name="body"/> (a JSON object the routing scan has validated) into
    /// <paramref name="output"/>. Returns null, or the 400 the client gets for input chat cannot carry (nothing has
    /// been sent anywhere then).
    /// </summary>
    /// <param name="countTokens">A count_tokens body: max_tokens is not required and nothing streams.</param>
    public static GatewayError? Translate(ReadOnlySpan<byte> body, IBufferWriter<byte> output, bool countTokens)
    {
        try
        {
            return TranslateCore(body, output, countTokens);
        }
        catch (JsonException)
        {
            return GatewayError.InvalidJson("check the syntax");
        }
        catch (InvalidOperationException)
        {
            // A number where a string was expected, and the like, deep inside a block.
            return Invalid("messages", "a value has the wrong type; see https://docs.anthropic.com/en/api/messages for the shape of each block");
        }
    }

    private static GatewayError? TranslateCore(ReadOnlySpan<byte> body, IBufferWriter<byte> output, bool countTokens)
    {
        var members = default(Members);
        Span<long> passThrough = stackalloc long[MaxPassThrough];
        var passCount = 0;
        var reader = new Utf8JsonReader(body, RequestScanner.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex;
            var kind = Classify(ref reader);
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            var range = new ValueRange(valueStart, (int)reader.BytesConsumed);
            switch (kind)
            {
                case Member.PassThrough:
                    if (passCount < MaxPassThrough)
                    {
                        passThrough[passCount++] = RequestScanner.Pack(nameStart, range.End);
                    }

                    break;
                case Member.Dropped:
                    break;
                case Member.Metadata:
                    // LiteLLM reads its own keys (metadata.guardrails, ...) from metadata; the splicer strips it upstream.
                    members.Metadata = range;
                    if (passCount < MaxPassThrough)
                    {
                        passThrough[passCount++] = RequestScanner.Pack(nameStart, range.End);
                    }

                    break;
                default:
                    members.Set(kind, range);
                    break;
            }
        }

        if (Check(body, in members, countTokens) is { } invalid)
        {
            return invalid;
        }

        var json = new RawJsonWriter(output);
        json.StartObject();
        if (members.Model.IsSet)
        {
            json.Name("\"model\""u8);
            json.Raw(members.Model.Of(body));
        }

        json.Name("\"messages\""u8);
        json.StartArray();
        if (members.System.IsSet && WriteSystem(ref json, members.System.Of(body), new Location("system")) is { } systemError)
        {
            return systemError;
        }

        if (WriteMessages(ref json, members.Messages.Of(body)) is { } messagesError)
        {
            return messagesError;
        }

        json.EndArray();
        WriteParameters(ref json, body, in members, countTokens);
        if (members.Tools.IsSet && WriteTools(ref json, body, in members) is { } toolsError)
        {
            return toolsError;
        }

        for (var i = 0; i < passCount; i++)
        {
            json.RawMember(body[RequestScanner.RangeStart(passThrough[i])..RequestScanner.RangeEnd(passThrough[i])]);
        }

        json.EndObject();
        return null;
    }

    private static GatewayError? Check(ReadOnlySpan<byte> body, in Members members, bool countTokens)
    {
        if (!members.Messages.IsSet)
        {
            return Invalid("messages", "Field required");
        }

        var messages = new Utf8JsonReader(members.Messages.Of(body));
        messages.Read();
        if (messages.TokenType != JsonTokenType.StartArray)
        {
            return Invalid("messages", "Input should be a valid list");
        }

        messages.Read();
        if (messages.TokenType == JsonTokenType.EndArray)
        {
            return Invalid("messages", "at least one message is required");
        }

        if (countTokens)
        {
            return null;
        }

        if (!members.MaxTokens.IsSet)
        {
            return Invalid("max_tokens", "Field required");
        }

        var maxTokens = new Utf8JsonReader(members.MaxTokens.Of(body));
        maxTokens.Read();
        if (maxTokens.TokenType != JsonTokenType.Number || !maxTokens.TryGetInt64(out var max) || max < 1)
        {
            return Invalid("max_tokens", "Input should be an integer greater than or equal to 1");
        }

        return null;
    }

    private static void WriteParameters(ref RawJsonWriter json, ReadOnlySpan<byte> body, in Members members, bool countTokens)
    {
        if (members.MaxTokens.IsSet)
        {
            json.Name("\"max_tokens\""u8);
            json.Raw(members.MaxTokens.Of(body));
        }

        if (!countTokens && members.Stream.IsSet)
        {
            var stream = members.Stream.Of(body);
            json.Name("\"stream\""u8);
            json.Raw(stream);
            if (stream.SequenceEqual("true"u8))
            {
                // Anthropic streams always end with usage; ask the chat upstream for its usage chunk.
                json.Name("\"stream_options\""u8);
                json.Raw("{\"include_usage\":true}"u8);
            }
        }

        CopyIfSet(ref json, "\"temperature\""u8, members.Temperature, body);
        CopyIfSet(ref json, "\"top_p\""u8, members.TopP, body);
        CopyIfSet(ref json, "\"top_k\""u8, members.TopK, body);
        CopyIfSet(ref json, "\"stop\""u8, members.StopSequences, body);
        if (members.Metadata.IsSet)
        {
            var metadata = members.Metadata.Of(body);
            if (UserIdOf(metadata) is { IsSet: true } userId)
            {
                json.Name("\"user\""u8);
                json.Raw(userId.Of(metadata));
            }
        }
    }

    private static ValueRange UserIdOf(ReadOnlySpan<byte> metadata)
    {
        var reader = new Utf8JsonReader(metadata);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUser = reader.ValueTextEquals("user_id"u8);
            reader.Read();
            if (isUser && reader.TokenType == JsonTokenType.String)
            {
                return new ValueRange((int)reader.TokenStartIndex, (int)reader.TokenStartIndex + reader.ValueSpan.Length + 2);
            }

            reader.Skip();
        }

        return default;
    }

    private static void CopyIfSet(ref RawJsonWriter json, ReadOnlySpan<byte> name, ValueRange range, ReadOnlySpan<byte> body)
    {
        if (range.IsSet)
        {
            json.Name(name);
            json.Raw(range.Of(body));
        }
    }

    // The system prompt: a string, or text blocks joined by newlines (chat templates expect one system string).
    private static GatewayError? WriteSystem(ref RawJsonWriter json, ReadOnlySpan<byte> value, Location path)
    {
        var reader = new Utf8JsonReader(value);
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            json.StartObject();
            json.Name("\"role\""u8);
            json.Raw("\"system\""u8);
            json.Name("\"content\""u8);
            json.Raw(value);
            json.EndObject();
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return Invalid(path, "Input should be a string or a list of text blocks");
        }

        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"system\""u8);
        json.Name("\"content\""u8);
        if (WriteJoinedText(ref json, value, path) is { } error)
        {
            return error;
        }

        json.EndObject();
        return null;
    }

    /// <summary>Text blocks of <paramref name="blocks"/> (an array) as one string value joined by newlines.</summary>
    private static GatewayError? WriteJoinedText(ref RawJsonWriter json, ReadOnlySpan<byte> blocks, Location path)
    {
        var reader = new Utf8JsonReader(blocks);
        reader.Read();
        json.StartString();
        var index = 0;
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var block = RawJson.ValueOf(ref reader, blocks);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("text"u8))
            {
                if (!first)
                {
                    json.StringPiece("\n"u8);
                }

                first = false;
                json.EscapedPiece(Inside(facts.Text.Of(block)));
            }
            else if (!IsIgnoredBlock(facts.Type))
            {
                json.EndString();
                return UnknownBlock(path.Then(index), facts.Type, "text");
            }

            index++;
        }

        json.EndString();
        return null;
    }

    private static GatewayError? WriteMessages(ref RawJsonWriter json, ReadOnlySpan<byte> messages)
    {
        var reader = new Utf8JsonReader(messages);
        reader.Read();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var path = new Location("messages").Then(index);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return Invalid(path, "Input should be an object with role and content");
            }

            var message = RawJson.ValueOf(ref reader, messages);
            if (WriteMessage(ref json, message, path) is { } error)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static GatewayError? WriteMessage(ref RawJsonWriter json, ReadOnlySpan<byte> message, Location path)
    {
        ReadOnlySpan<byte> role = default;
        ReadOnlySpan<byte> content = default;
        var reader = new Utf8JsonReader(message);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                role = reader.TokenType == JsonTokenType.String ? reader.ValueSpan : "?"u8;
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                content = RawJson.ValueOf(ref reader, message);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (content.IsEmpty)
        {
            return Invalid(path.Then("content"), "Field required");
        }

        if (role.SequenceEqual("user"u8))
        {
            return WriteUser(ref json, content, path.Then("content"));
        }

        if (role.SequenceEqual("assistant"u8))
        {
            return WriteAssistant(ref json, content, path.Then("content"));
        }

        if (role.SequenceEqual("system"u8))
        {
            // Claude Code sends system turns inside the conversation; chat carries them as system messages in place.
            return WriteSystem(ref json, content, path.Then("content"));
        }

        return role.IsEmpty ? Invalid(path.Then("role"), "Field required") : Invalid(path.Then("role"), "Input should be 'user' or 'assistant'");
    }

    private static GatewayError? WriteUser(ref RawJsonWriter json, ReadOnlySpan<byte> content, Location path)
    {
        if (content[0] == (byte)'"')
        {
            WriteSimpleMessage(ref json, "\"user\""u8, content);
            return null;
        }

        if (content[0] != (byte)'[')
        {
            return Invalid(path, "Input should be a string or a list of content blocks");
        }

        // Tool results answer the assistant's tool calls, so they go first, as tool messages; the rest follows as one
        // user message (Anthropic puts both in one user turn).
        var parts = 0;
        var onlyText = true;
        var reader = new Utf8JsonReader(content);
        reader.Read();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var blockPath = path.Then(index++);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return Invalid(blockPath, "Input should be a content block object");
            }

            var block = RawJson.ValueOf(ref reader, content);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("tool_result"u8))
            {
                if (WriteToolResult(ref json, block, in facts, blockPath) is { } error)
                {
                    return error;
                }

                parts += facts.ImageCount;
                onlyText &= facts.ImageCount == 0;
            }
            else if (facts.Type.SequenceEqual("text"u8))
            {
                parts++;
            }
            else if (facts.Type.SequenceEqual("image"u8) || facts.Type.SequenceEqual("document"u8))
            {
                parts++;
                onlyText = false;
            }
            else if (!IsIgnoredBlock(facts.Type))
            {
                return UnknownBlock(blockPath, facts.Type, "text, image, document, tool_result");
            }
        }

        if (parts == 0)
        {
            return null;
        }

        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"user\""u8);
        json.Name("\"content\""u8);
        if (onlyText && parts == 1)
        {
            // One text block: a plain string, which every chat server and template takes.
            return WriteSingleText(ref json, content);
        }

        json.StartArray();
        reader = new Utf8JsonReader(content);
        reader.Read();
        index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var blockPath = path.Then(index++);
            var block = RawJson.ValueOf(ref reader, content);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("tool_result"u8))
            {
                // Chat's tool messages carry text only; a tool's images are shown to the model right after.
                if (facts.ImageCount > 0 && WriteToolResultImages(ref json, block, blockPath) is { } imageError)
                {
                    return imageError;
                }
            }
            else if (WritePart(ref json, block, in facts, blockPath) is { } error)
            {
                return error;
            }
        }

        json.EndArray();
        json.EndObject();
        return null;
    }

    private static GatewayError? WriteSingleText(ref RawJsonWriter json, ReadOnlySpan<byte> content)
    {
        var reader = new Utf8JsonReader(content);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var block = RawJson.ValueOf(ref reader, content);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("text"u8))
            {
                json.Raw(facts.Text.Of(block));
            }
        }

        json.EndObject();
        return null;
    }

    private static GatewayError? WritePart(ref RawJsonWriter json, ReadOnlySpan<byte> block, in BlockFacts facts, Location path)
    {
        if (facts.Type.SequenceEqual("text"u8))
        {
            if (!facts.Text.IsSet)
            {
                return Invalid(path.Then("text"), "Field required");
            }

            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"text\""u8);
            json.Name("\"text\""u8);
            json.Raw(facts.Text.Of(block));
            json.EndObject();
            return null;
        }

        if (facts.Type.SequenceEqual("image"u8))
        {
            return WriteImage(ref json, block, in facts, path);
        }

        if (facts.Type.SequenceEqual("document"u8))
        {
            return WriteDocument(ref json, block, in facts, path);
        }

        // Ignored blocks (thinking in a user turn) write nothing.
        return null;
    }

    private static GatewayError? WriteImage(ref RawJsonWriter json, ReadOnlySpan<byte> block, in BlockFacts facts, Location path)
    {
        if (!facts.Source.IsSet)
        {
            return Invalid(path.Then("source"), "Field required");
        }

        var source = SourceFacts.Read(facts.Source.Of(block));
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"image_url\""u8);
        json.Name("\"image_url\""u8);
        json.StartObject();
        json.Name("\"url\""u8);
        if (source.Type.SequenceEqual("base64"u8) && source.Data.IsSet && source.MediaType.IsSet)
        {
            WriteDataUrl(ref json, source);
        }
        else if (source.Type.SequenceEqual("url"u8) && source.Url.IsSet)
        {
            json.Raw(source.Url.Of(source.Raw));
        }
        else
        {
            return Invalid(path.Then("source"), "an image source is {\"type\": \"base64\", \"media_type\", \"data\"} or {\"type\": \"url\", \"url\"}");
        }

        json.EndObject();
        json.EndObject();
        return null;
    }

    private static GatewayError? WriteDocument(ref RawJsonWriter json, ReadOnlySpan<byte> block, in BlockFacts facts, Location path)
    {
        var source = facts.Source.IsSet ? SourceFacts.Read(facts.Source.Of(block)) : default;
        if (source.Type.SequenceEqual("text"u8) && source.Data.IsSet)
        {
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"text\""u8);
            json.Name("\"text\""u8);
            json.Raw(source.Data.Of(source.Raw));
            json.EndObject();
            return null;
        }

        if (source.Type.SequenceEqual("base64"u8) && source.Data.IsSet && source.MediaType.IsSet)
        {
            // OpenAI's file part, as LiteLLM translates a PDF document.
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"file\""u8);
            json.Name("\"file\""u8);
            json.StartObject();
            json.Name("\"file_data\""u8);
            WriteDataUrl(ref json, source);
            json.EndObject();
            json.EndObject();
            return null;
        }

        return Invalid(path.Then("source"), "a document is translated to chat only from a base64 or text source");
    }

    private static void WriteDataUrl(ref RawJsonWriter json, in SourceFacts source)
    {
        json.StartString();
        json.StringPiece("data:"u8);
        json.EscapedPiece(Inside(source.MediaType.Of(source.Raw)));
        json.StringPiece(";base64,"u8);
        json.EscapedPiece(Inside(source.Data.Of(source.Raw)));
        json.EndString();
    }

    private static GatewayError? WriteToolResult(ref RawJsonWriter json, ReadOnlySpan<byte> block, in BlockFacts facts, Location path)
    {
        if (!facts.ToolUseId.IsSet)
        {
            return Invalid(path.Then("tool_use_id"), "Field required");
        }

        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"tool\""u8);
        json.Name("\"tool_call_id\""u8);
        json.Raw(facts.ToolUseId.Of(block));
        json.Name("\"content\""u8);
        if (!facts.Content.IsSet)
        {
            json.Raw("\"\""u8);
        }
        else
        {
            var content = facts.Content.Of(block);
            if (content[0] == (byte)'"')
            {
                json.Raw(content);
            }
            else if (content[0] == (byte)'[')
            {
                if (WriteToolResultText(ref json, content, path.Then("content")) is { } error)
                {
                    return error;
                }
            }
            else
            {
                return Invalid(path.Then("content"), "Input should be a string or a list of text and image blocks");
            }
        }

        json.EndObject();
        return null;
    }

    // A tool result's text blocks joined; images are counted by BlockFacts and written into the user message after.
    private static GatewayError? WriteToolResultText(ref RawJsonWriter json, ReadOnlySpan<byte> content, Location path)
    {
        var reader = new Utf8JsonReader(content);
        reader.Read();
        json.StartString();
        var first = true;
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var block = RawJson.ValueOf(ref reader, content);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("text"u8) && facts.Text.IsSet)
            {
                if (!first)
                {
                    json.StringPiece("\n"u8);
                }

                first = false;
                json.EscapedPiece(Inside(facts.Text.Of(block)));
            }
            else if (!facts.Type.SequenceEqual("image"u8) && !facts.Type.SequenceEqual("document"u8) && !IsIgnoredBlock(facts.Type))
            {
                json.EndString();
                return UnknownBlock(path.Then(index), facts.Type, "text, image");
            }

            index++;
        }

        json.EndString();
        return null;
    }

    private static GatewayError? WriteToolResultImages(ref RawJsonWriter json, ReadOnlySpan<byte> block, Location path)
    {
        var facts = BlockFacts.Read(block);
        var content = facts.Content.Of(block);
        var reader = new Utf8JsonReader(content);
        reader.Read();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var inner = RawJson.ValueOf(ref reader, content);
            var innerFacts = BlockFacts.Read(inner);
            if (innerFacts.Type.SequenceEqual("image"u8) && WriteImage(ref json, inner, in innerFacts, path.Then("content").Then(index)) is { } error)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static GatewayError? WriteAssistant(ref RawJsonWriter json, ReadOnlySpan<byte> content, Location path)
    {
        if (content[0] == (byte)'"')
        {
            WriteSimpleMessage(ref json, "\"assistant\""u8, content);
            return null;
        }

        if (content[0] != (byte)'[')
        {
            return Invalid(path, "Input should be a string or a list of content blocks");
        }

        var texts = 0;
        var tools = 0;
        var reader = new Utf8JsonReader(content);
        reader.Read();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var blockPath = path.Then(index++);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return Invalid(blockPath, "Input should be a content block object");
            }

            var facts = BlockFacts.Read(RawJson.ValueOf(ref reader, content));
            if (facts.Type.SequenceEqual("text"u8))
            {
                texts++;
            }
            else if (facts.Type.SequenceEqual("tool_use"u8))
            {
                if (!facts.Id.IsSet || !facts.Name.IsSet)
                {
                    return Invalid(blockPath, "a tool_use block needs id and name");
                }

                tools++;
            }
            else if (!IsIgnoredBlock(facts.Type))
            {
                return UnknownBlock(blockPath, facts.Type, "text, tool_use, thinking, redacted_thinking");
            }
        }

        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        json.Name("\"content\""u8);
        if (texts == 0)
        {
            json.Null();
        }
        else
        {
            WriteAssistantText(ref json, content);
        }

        if (tools > 0)
        {
            json.Name("\"tool_calls\""u8);
            json.StartArray();
            reader = new Utf8JsonReader(content);
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var block = RawJson.ValueOf(ref reader, content);
                var facts = BlockFacts.Read(block);
                if (!facts.Type.SequenceEqual("tool_use"u8))
                {
                    continue;
                }

                json.StartObject();
                json.Name("\"id\""u8);
                json.Raw(facts.Id.Of(block));
                json.Name("\"type\""u8);
                json.Raw("\"function\""u8);
                json.Name("\"function\""u8);
                json.StartObject();
                json.Name("\"name\""u8);
                json.Raw(facts.Name.Of(block));
                json.Name("\"arguments\""u8);
                // Chat carries the input as a JSON string: the raw object text, escaped once.
                json.String(facts.Input.IsSet ? facts.Input.Of(block) : "{}"u8);
                json.EndObject();
                json.EndObject();
            }

            json.EndArray();
        }

        json.EndObject();
        return null;
    }

    private static void WriteAssistantText(ref RawJsonWriter json, ReadOnlySpan<byte> content)
    {
        var reader = new Utf8JsonReader(content);
        reader.Read();
        json.StartString();
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var block = RawJson.ValueOf(ref reader, content);
            var facts = BlockFacts.Read(block);
            if (facts.Type.SequenceEqual("text"u8) && facts.Text.IsSet)
            {
                if (!first)
                {
                    json.StringPiece("\n"u8);
                }

                first = false;
                json.EscapedPiece(Inside(facts.Text.Of(block)));
            }
        }

        json.EndString();
    }

    private static void WriteSimpleMessage(ref RawJsonWriter json, ReadOnlySpan<byte> quotedRole, ReadOnlySpan<byte> content)
    {
        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw(quotedRole);
        json.Name("\"content\""u8);
        json.Raw(content);
        json.EndObject();
    }

    private static GatewayError? WriteTools(ref RawJsonWriter json, ReadOnlySpan<byte> body, in Members members)
    {
        var tools = members.Tools.Of(body);
        var reader = new Utf8JsonReader(tools);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return Invalid("tools", "Input should be a valid list");
        }

        var written = 0;
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var path = new Location("tools").Then(index++);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return Invalid(path, "Input should be a tool object");
            }

            var tool = RawJson.ValueOf(ref reader, tools);
            var facts = ToolFacts.Read(tool);
            if (facts.Type.IsSet && !Inside(facts.Type.Of(tool)).SequenceEqual("custom"u8))
            {
                // Anthropic's own tools (bash_*, text_editor_*, web_search_*, computer_*) run on Anthropic's side only.
                continue;
            }

            if (!facts.Name.IsSet)
            {
                return Invalid(path.Then("name"), "Field required");
            }

            if (!facts.Schema.IsSet)
            {
                return Invalid(path.Then("input_schema"), "Field required");
            }

            var schema = facts.Schema.Of(tool);
            if (!IsObjectSchema(schema))
            {
                return Invalid(path.Then("input_schema"), "Input should be a JSON Schema object with \"type\": \"object\"");
            }

            if (written++ == 0)
            {
                json.Name("\"tools\""u8);
                json.StartArray();
            }

            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"function\""u8);
            json.Name("\"function\""u8);
            json.StartObject();
            json.Name("\"name\""u8);
            json.Raw(facts.Name.Of(tool));
            if (facts.Description.IsSet)
            {
                json.Name("\"description\""u8);
                json.Raw(facts.Description.Of(tool));
            }

            json.Name("\"parameters\""u8);
            json.Raw(schema);
            json.EndObject();
            json.EndObject();
        }

        if (written == 0)
        {
            return null;
        }

        json.EndArray();
        if (members.ToolChoice.IsSet)
        {
            return WriteToolChoice(ref json, members.ToolChoice.Of(body));
        }

        return null;
    }

    private static bool IsObjectSchema(ReadOnlySpan<byte> schema)
    {
        var reader = new Utf8JsonReader(schema);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType)
            {
                return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("object"u8);
            }

            reader.Skip();
        }

        // Anthropic requires the type; a schema without one describes an object to every chat server we know.
        return true;
    }

    private static GatewayError? WriteToolChoice(ref RawJsonWriter json, ReadOnlySpan<byte> choice)
    {
        var reader = new Utf8JsonReader(choice);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return Invalid("tool_choice", "Input should be an object such as {\"type\": \"auto\"}");
        }

        ReadOnlySpan<byte> type = default;
        ReadOnlySpan<byte> name = default;
        var disableParallel = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = reader.TokenType == JsonTokenType.String ? RawJson.ValueOf(ref reader, choice) : default;
            }
            else if (reader.ValueTextEquals("disable_parallel_tool_use"u8))
            {
                reader.Read();
                disableParallel = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        json.Name("\"tool_choice\""u8);
        if (type.SequenceEqual("auto"u8))
        {
            json.Raw("\"auto\""u8);
        }
        else if (type.SequenceEqual("any"u8))
        {
            json.Raw("\"required\""u8);
        }
        else if (type.SequenceEqual("none"u8))
        {
            json.Raw("\"none\""u8);
        }
        else if (type.SequenceEqual("tool"u8) && !name.IsEmpty)
        {
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"function\""u8);
            json.Name("\"function\""u8);
            json.StartObject();
            json.Name("\"name\""u8);
            json.Raw(name);
            json.EndObject();
            json.EndObject();
        }
        else
        {
            return Invalid("tool_choice.type", "Input should be 'auto', 'any', 'tool' (with a name) or 'none'");
        }

        if (disableParallel)
        {
            json.Name("\"parallel_tool_calls\""u8);
            json.False();
        }

        return null;
    }

    private static bool IsIgnoredBlock(ReadOnlySpan<byte> type) => type.SequenceEqual("thinking"u8) || type.SequenceEqual("redacted_thinking"u8);

    /// <summary>A string token without its quotes: its escaped content.</summary>
    private static ReadOnlySpan<byte> Inside(ReadOnlySpan<byte> stringToken) => stringToken.Length >= 2 ? stringToken[1..^1] : default;


    private static GatewayError Invalid(string path, string message) =>
        new(400, "invalid_request_error", $"{path}: {message}", path);

    private static GatewayError Invalid(Location path, string message) => Invalid(path.ToString(), message);

    private static GatewayError UnknownBlock(Location path, ReadOnlySpan<byte> type, string expected)
    {
        var name = type.IsEmpty ? "(none)" : System.Text.Encoding.UTF8.GetString(type);
        return Invalid(path.Then("type"), $"content block type '{name}' is not supported here; expected one of: {expected}");
    }

    private static Member Classify(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            // An escaped name is never one of Anthropic's; copy it through for the pipeline to judge.
            return Member.PassThrough;
        }

        var name = reader.ValueSpan;
        return name switch
        {
            _ when name.SequenceEqual("model"u8) => Member.Model,
            _ when name.SequenceEqual("messages"u8) => Member.Messages,
            _ when name.SequenceEqual("system"u8) => Member.System,
            _ when name.SequenceEqual("max_tokens"u8) => Member.MaxTokens,
            _ when name.SequenceEqual("metadata"u8) => Member.Metadata,
            _ when name.SequenceEqual("stop_sequences"u8) => Member.StopSequences,
            _ when name.SequenceEqual("stream"u8) => Member.Stream,
            _ when name.SequenceEqual("temperature"u8) => Member.Temperature,
            _ when name.SequenceEqual("top_p"u8) => Member.TopP,
            _ when name.SequenceEqual("top_k"u8) => Member.TopK,
            _ when name.SequenceEqual("tools"u8) => Member.Tools,
            _ when name.SequenceEqual("tool_choice"u8) => Member.ToolChoice,
            _ when IsAnthropicOnly(name) => Member.Dropped,
            _ => Member.PassThrough,
        };
    }

    // Anthropic parameters a chat upstream has no use for (or would reject).
    private static bool IsAnthropicOnly(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("thinking"u8) || name.SequenceEqual("context_management"u8) || name.SequenceEqual("output_config"u8)
        || name.SequenceEqual("service_tier"u8) || name.SequenceEqual("container"u8) || name.SequenceEqual("mcp_servers"u8)
        || name.SequenceEqual("cache_control"u8) || name.SequenceEqual("betas"u8) || name.SequenceEqual("output_format"u8)
        || name.SequenceEqual("inference_geo"u8) || name.SequenceEqual("speed"u8) || name.SequenceEqual("anthropic_version"u8)
        || name.SequenceEqual("stream_options"u8);

    /// <summary>
    /// Where a value sits, for error messages in Anthropic's style (<c>messages.2.content.0.type</c>); built as a string
    /// only when there is an error, so a valid request pays nothing for it.
    /// </summary>
    private readonly struct Location(string root, int first = -1, string? second = null, int third = -1, string? fourth = null)
    {
        // Segments fill in order (index, name, index, name); anything deeper is appended to the last name.
        public Location Then(int index) => first < 0 && second is null ? new(root, index)
            : third < 0 ? new(root, first, second, index)
            : new(root, first, second, third, Join(fourth, index.ToString(CultureInfo.InvariantCulture)));

        public Location Then(string name) => second is null && third < 0 ? new(root, first, name)
            : new(root, first, second, third, Join(fourth, name));

        private static string Join(string? head, string tail) => head is null ? tail : head + "." + tail;

        public override string ToString()
        {
            var text = new System.Text.StringBuilder(root);
            Append(text, first);
            Append(text, second);
            Append(text, third);
            Append(text, fourth);
            return text.ToString();
        }

        private static void Append(System.Text.StringBuilder text, int index)
        {
            if (index >= 0)
            {
                text.Append('.').Append(index.ToString(CultureInfo.InvariantCulture));
            }
        }

        private static void Append(System.Text.StringBuilder text, string? name)
        {
            if (name is not null)
            {
                text.Append('.').Append(name);
            }
        }
    }

    private enum Member
    {
        PassThrough,
        Dropped,
        Model,
        Messages,
        System,
        MaxTokens,
        Metadata,
        StopSequences,
        Stream,
        Temperature,
        TopP,
        TopK,
        Tools,
        ToolChoice,
    }

    private struct Members
    {
        public ValueRange Model;
        public ValueRange Messages;
        public ValueRange System;
        public ValueRange MaxTokens;
        public ValueRange Metadata;
        public ValueRange StopSequences;
        public ValueRange Stream;
        public ValueRange Temperature;
        public ValueRange TopP;
        public ValueRange TopK;
        public ValueRange Tools;
        public ValueRange ToolChoice;

        public void Set(Member kind, ValueRange range)
        {
            // The first occurrence wins, as for the routing scan.
            switch (kind)
            {
                case Member.Model: Model = First(Model, range); break;
                case Member.Messages: Messages = First(Messages, range); break;
                case Member.System: System = First(System, range); break;
                case Member.MaxTokens: MaxTokens = First(MaxTokens, range); break;
                case Member.StopSequences: StopSequences = First(StopSequences, range); break;
                case Member.Stream: Stream = First(Stream, range); break;
                case Member.Temperature: Temperature = First(Temperature, range); break;
                case Member.TopP: TopP = First(TopP, range); break;
                case Member.TopK: TopK = First(TopK, range); break;
                case Member.Tools: Tools = First(Tools, range); break;
                case Member.ToolChoice: ToolChoice = First(ToolChoice, range); break;
            }
        }

        private static ValueRange First(ValueRange current, ValueRange next) => current.IsSet ? current : next;
    }
}
