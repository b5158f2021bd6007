using System.Buffers;
using System.Text.Json;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Outbound response unit for <c>anthropic/</c> deployments: an Anthropic <c>message</c> into a chat.completion. Text
/// blocks join into the content, thinking into reasoning_content, tool_use blocks into tool_calls (input serialised as
/// the arguments string); stop_reason becomes finish_reason; prompt_tokens count cache reads and writes too, with the
/// reads as cached_tokens, so cost and usage-based routing see the whole prompt.
/// </summary>
public sealed class MessagesToChatResponseTranslator(long created) : IResponseBodyTranslator, IDisposable
{
    private readonly ArrayPoolBufferWriter _body = new();

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        piece.CopyTo(_body.GetSpan(piece.Length));
        _body.Advance(piece.Length);
    }

    public void Complete(IBufferWriter<byte> output) => Translate(_body.WrittenMemory.Span, created, output);

    public void Dispose() => _body.Dispose();

    public static void Translate(ReadOnlySpan<byte> message, long created, IBufferWriter<byte> output)
    {
        MessagesEventFacts facts;
        try
        {
            facts = MessagesEventFacts.Read(message);
        }
        catch (JsonException)
        {
            RawJson.Write(output, message);
            return;
        }

        if (!facts.Type.SequenceEqual("message"u8))
        {
            RawJson.Write(output, message);
            return;
        }

        var json = new RawJsonWriter(output);
        json.StartObject();
        json.Name("\"id\""u8);
        json.Raw(facts.Id.IsEmpty ? "\"msg\""u8 : facts.Id);
        json.Name("\"object\""u8);
        json.Raw("\"chat.completion\""u8);
        json.Name("\"created\""u8);
        json.Int(created);
        json.Name("\"model\""u8);
        json.Raw(facts.Model.IsEmpty ? "\"\""u8 : facts.Model);
        json.Name("\"choices\""u8);
        json.StartArray();
        json.StartObject();
        json.Name("\"index\""u8);
        json.Int(0);
        json.Name("\"message\""u8);
        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        WriteContent(ref json, facts.Content);
        json.EndObject();
        json.Name("\"logprobs\""u8);
        json.Null();
        json.Name("\"finish_reason\""u8);
        json.Raw(StopReasons.ToChat(facts.StopReason));
        json.EndObject();
        json.EndArray();
        json.Name("\"usage\""u8);
        var usage = default(MessagesUsage);
        if (!facts.Usage.IsEmpty)
        {
            usage.Merge(facts.Usage);
        }

        usage.WriteChat(ref json);
        json.EndObject();
    }

    private static void WriteContent(ref RawJsonWriter json, ReadOnlySpan<byte> content)
    {
        int texts = 0, thinking = 0, tools = 0;
        if (!content.IsEmpty)
        {
            var reader = new Utf8JsonReader(content);
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var block = MessageBlockFacts.Read(RawJson.ValueOf(ref reader, content));
                texts += block.Type.SequenceEqual("text"u8) ? 1 : 0;
                thinking += block.Type.SequenceEqual("thinking"u8) ? 1 : 0;
                tools += block.Type.SequenceEqual("tool_use"u8) ? 1 : 0;
            }
        }

        json.Name("\"content\""u8);
        if (texts == 0)
        {
            json.Null();
        }
        else
        {
            WriteJoined(ref json, content, "text"u8);
        }

        if (thinking > 0)
        {
            json.Name("\"reasoning_content\""u8);
            WriteJoined(ref json, content, "thinking"u8);
        }

        if (tools == 0)
        {
            return;
        }

        json.Name("\"tool_calls\""u8);
        json.StartArray();
        var calls = new Utf8JsonReader(content);
        calls.Read();
        while (calls.Read() && calls.TokenType != JsonTokenType.EndArray)
        {
            var block = MessageBlockFacts.Read(RawJson.ValueOf(ref calls, content));
            if (!block.Type.SequenceEqual("tool_use"u8))
            {
                continue;
            }

            json.StartObject();
            json.Name("\"id\""u8);
            json.Raw(block.Id.IsEmpty ? "\"\""u8 : block.Id);
            json.Name("\"type\""u8);
            json.Raw("\"function\""u8);
            json.Name("\"function\""u8);
            json.StartObject();
            json.Name("\"name\""u8);
            json.Raw(block.Name.IsEmpty ? "\"\""u8 : block.Name);
            json.Name("\"arguments\""u8);
            json.String(block.Input.IsEmpty ? "{}"u8 : block.Input);
            json.EndObject();
            json.EndObject();
        }

        json.EndArray();
    }

    private static void WriteJoined(ref RawJsonWriter json, ReadOnlySpan<byte> content, ReadOnlySpan<byte> type)
    {
        json.StartString();
        var reader = new Utf8JsonReader(content);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // Anthropic splits one answer into several text blocks only around citations and tool calls: the pieces
            // read on without a separator.
            var block = MessageBlockFacts.Read(RawJson.ValueOf(ref reader, content));
            var text = type.SequenceEqual("text"u8) ? block.Text : block.Thinking;
            if (block.Type.SequenceEqual(type) && text.Length >= 2)
            {
                json.EscapedPiece(text[1..^1]);
            }
        }

        json.EndString();
    }
}
