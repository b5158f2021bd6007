using System.Buffers;
using System.Text.Json;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Inbound response unit: a chat.completion into an Anthropic <c>message</c>. vLLM's reasoning becomes a thinking
/// block, the text a text block, each tool call a tool_use block (arguments parsed into <c>input</c>);
/// finish_reason becomes stop_reason; usage becomes input/output tokens, with cached prompt tokens as
/// cache_read_input_tokens. The body is held until it is complete (it is one JSON document), then written at once.
/// </summary>
public sealed class ChatToMessagesResponseTranslator(string model) : IResponseBodyTranslator, IDisposable
{
    private readonly ArrayPoolBufferWriter _body = new();

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        piece.CopyTo(_body.GetSpan(piece.Length));
        _body.Advance(piece.Length);
    }

    public void Complete(IBufferWriter<byte> output) => Translate(_body.WrittenMemory.Span, model, output);

    public void Dispose() => _body.Dispose();

    /// <summary>Writes the message for <paramref name="chat"/>; a body that is not a chat completion is passed on as it is.</summary>
    public static void Translate(ReadOnlySpan<byte> chat, string model, IBufferWriter<byte> output)
    {
        ChatCompletionFacts facts;
        try
        {
            facts = ChatCompletionFacts.Read(chat);
        }
        catch (JsonException)
        {
            RawJson.Write(output, chat);
            return;
        }

        if (!facts.HasChoices)
        {
            RawJson.Write(output, chat);
            return;
        }

        var json = new RawJsonWriter(output);
        json.StartObject();
        json.Name("\"id\""u8);
        WriteMessageId(ref json, facts.Id.IsSet ? facts.Id.Of(chat) : default);
        json.Name("\"type\""u8);
        json.Raw("\"message\""u8);
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        json.Name("\"model\""u8);
        json.String(System.Text.Encoding.UTF8.GetBytes(model));
        json.Name("\"content\""u8);
        json.StartArray();
        var choice = facts.Choice.IsSet ? ChoiceFacts.Read(facts.Choice.Of(chat)) : default;
        var hasTools = WriteContent(ref json, in choice);
        json.EndArray();
        json.Name("\"stop_reason\""u8);
        json.Raw(StopReasons.FromChat(choice.FinishReason, hasTools, !choice.StopSequence.IsEmpty));
        json.Name("\"stop_sequence\""u8);
        if (!hasTools && !choice.StopSequence.IsEmpty && choice.FinishReason.SequenceEqual("stop"u8))
        {
            json.Raw(choice.StopSequence);
        }
        else
        {
            json.Null();
        }

        json.Name("\"usage\""u8);
        var usage = facts.Usage.IsSet ? ChatUsage.Read(facts.Usage.Of(chat)) : default;
        usage.WriteAnthropic(ref json);
        json.EndObject();
    }

    /// <summary>"msg_" and the chat id without its "chatcmpl-" prefix (Anthropic ids start with msg_).</summary>
    internal static void WriteMessageId(ref RawJsonWriter json, ReadOnlySpan<byte> chatId)
    {
        json.StartString();
        json.StringPiece("msg_"u8);
        if (chatId.Length >= 2)
        {
            var inside = chatId[1..^1];
            json.EscapedPiece(inside.StartsWith("chatcmpl-"u8) ? inside["chatcmpl-".Length..] : inside);
        }
        else
        {
            json.StringPiece(System.Text.Encoding.ASCII.GetBytes(Guid.NewGuid().ToString("N")));
        }

        json.EndString();
    }

    private static bool WriteContent(ref RawJsonWriter json, in ChoiceFacts choice)
    {
        if (!choice.Reasoning.IsEmpty)
        {
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"thinking\""u8);
            json.Name("\"thinking\""u8);
            json.Raw(choice.Reasoning);
            // vLLM's reasoning is not signed; Anthropic's schema has the member, so it is present and empty.
            json.Name("\"signature\""u8);
            json.Raw("\"\""u8);
            json.EndObject();
        }

        if (choice.Content.Length > 2)
        {
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"text\""u8);
            json.Name("\"text\""u8);
            json.Raw(choice.Content);
            json.EndObject();
        }

        if (choice.ToolCalls.IsEmpty)
        {
            return false;
        }

        var any = false;
        var reader = new Utf8JsonReader(choice.ToolCalls);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var call = ToolCallFacts.Read(RawJson.ValueOf(ref reader, choice.ToolCalls));
            json.StartObject();
            json.Name("\"type\""u8);
            json.Raw("\"tool_use\""u8);
            json.Name("\"id\""u8);
            if (call.Id.IsEmpty)
            {
                json.String(System.Text.Encoding.ASCII.GetBytes("toolu_" + Guid.NewGuid().ToString("N")));
            }
            else
            {
                json.Raw(call.Id);
            }

            json.Name("\"name\""u8);
            if (call.Name.IsEmpty)
            {
                json.Raw("\"\""u8);
            }
            else
            {
                json.Raw(call.Name);
            }

            json.Name("\"input\""u8);
            ToolArguments.WriteAsInput(ref json, call.Arguments);
            json.EndObject();
            any = true;
        }

        return any;
    }
}
