using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Inbound stream unit: chat.completion.chunk events into Anthropic's event sequence, each chunk converted as it
/// arrives: <c>message_start</c> and <c>ping</c> on the first chunk; <c>content_block_start</c> /
/// <c>content_block_delta</c> (<c>thinking_delta</c> for vLLM's reasoning, <c>text_delta</c>, <c>input_json_delta</c>
/// for tool arguments) / <c>content_block_stop</c> as the kind of content changes; and at <c>[DONE]</c>
/// <c>message_delta</c> (stop_reason, usage from the usage chunk) and <c>message_stop</c>. An error event (the
/// upstream's, or the gateway's, already in Anthropic's framing) ends the stream as an Anthropic <c>event: error</c>,
/// and a stream cut before its end gets one too, never a clean <c>message_stop</c>.
/// </summary>
public sealed class ChatToMessagesStreamTranslator : IResponseBodyTranslator, IDisposable
{
    private readonly SseEventSplitter _events = new();
    private readonly byte[] _model;
    private readonly int _estimatedInputTokens;
    private readonly List<int> _toolBlocks = [];
    private byte[]? _messageId;
    private bool _started;
    private bool _ended;
    private BlockKind _open;
    private int _blockIndex = -1;
    private int _openToolIndex = -1;
    private bool _hasToolCalls;
    private byte[]? _finishReason;
    private byte[]? _stopSequence;
    private ChatUsage? _usage;
    private int _contentEvents;

    /// <param name="model">The model the client asked for, reported back in message_start (as Anthropic does).</param>
    /// <param name="estimatedInputTokens">message_start's input_tokens; the real count follows in message_delta.</param>
    public ChatToMessagesStreamTranslator(string model, int estimatedInputTokens)
    {
        _model = Encoding.UTF8.GetBytes(model);
        _estimatedInputTokens = estimatedInputTokens;
    }

    private enum BlockKind
    {
        None,
        Text,
        Thinking,
        Tool,
    }

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        while (_events.Next(ref piece, out var sseEvent))
        {
            OnEvent(sseEvent, output);
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        var rest = _events.TakeRest();
        if (!rest.IsEmpty)
        {
            OnEvent(rest, output);
        }

        if (_ended)
        {
            return;
        }

        if (_finishReason is not null)
        {
            // vLLM always ends with [DONE]; a server that stops right after its finish chunk still finished.
            Finish(output);
            return;
        }

        Fail(output, "api_error"u8, "the upstream stream ended before it was complete; the answer above is cut short, retry the request"u8);
    }

    public void Dispose() => _events.Dispose();

    private void OnEvent(ReadOnlySpan<byte> lines, IBufferWriter<byte> output)
    {
        if (_ended)
        {
            return;
        }

        var sseEvent = SseEvent.Parse(lines);
        if (sseEvent.HasName)
        {
            // Already in Anthropic's framing: the gateway's own error event for a stream that failed mid-way.
            RawJson.Write(output, lines);
            RawJson.Write(output, "\n\n"u8);
            _ended |= sseEvent.Name.SequenceEqual("error"u8);
            return;
        }

        var data = sseEvent.Data;
        if (data.IsEmpty)
        {
            return;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            Finish(output);
            return;
        }

        ChatCompletionFacts chunk;
        try
        {
            chunk = ChatCompletionFacts.Read(data);
        }
        catch (JsonException)
        {
            Fail(output, "api_error"u8, "the upstream sent an event that is not JSON"u8);
            return;
        }

        if (chunk.Error.IsSet)
        {
            UpstreamError(chunk.Error.Of(data), output);
            return;
        }

        if (!_started)
        {
            Start(chunk.Id.IsSet ? chunk.Id.Of(data) : default, output);
        }

        if (chunk.Choice.IsSet)
        {
            OnChoice(ChoiceFacts.Read(chunk.Choice.Of(data)), output);
        }

        if (chunk.Usage.IsSet)
        {
            _usage = ChatUsage.Read(chunk.Usage.Of(data));
        }
    }

    private void Start(ReadOnlySpan<byte> chatId, IBufferWriter<byte> output)
    {
        _started = true;
        var id = new ArrayBufferWriter<byte>(64);
        var idJson = new RawJsonWriter(id);
        ChatToMessagesResponseTranslator.WriteMessageId(ref idJson, chatId);
        _messageId = id.WrittenSpan.ToArray();

        var json = BeginEvent(output, "message_start"u8);
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"message_start\""u8);
        json.Name("\"message\""u8);
        json.StartObject();
        json.Name("\"id\""u8);
        json.Raw(_messageId);
        json.Name("\"type\""u8);
        json.Raw("\"message\""u8);
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        json.Name("\"model\""u8);
        json.String(_model);
        json.Name("\"content\""u8);
        json.Raw("[]"u8);
        json.Name("\"stop_reason\""u8);
        json.Null();
        json.Name("\"stop_sequence\""u8);
        json.Null();
        json.Name("\"usage\""u8);
        new ChatUsage(_estimatedInputTokens, 0, 0).WriteAnthropic(ref json);
        json.EndObject();
        json.EndObject();
        EndEvent(output);
        RawJson.Write(output, "event: ping\ndata: {\"type\":\"ping\"}\n\n"u8);
    }

    private void OnChoice(in ChoiceFacts choice, IBufferWriter<byte> output)
    {
        if (choice.Reasoning.Length > 2)
        {
            Open(BlockKind.Thinking, -1, default, default, output);
            Delta(output, "\"thinking_delta\""u8, "\"thinking\""u8, choice.Reasoning);
        }

        if (choice.Content.Length > 2)
        {
            Open(BlockKind.Text, -1, default, default, output);
            Delta(output, "\"text_delta\""u8, "\"text\""u8, choice.Content);
        }

        if (!choice.ToolCalls.IsEmpty)
        {
            OnToolCalls(choice.ToolCalls, output);
        }

        if (!choice.FinishReason.IsEmpty)
        {
            _finishReason = choice.FinishReason.ToArray();
            _stopSequence = choice.StopSequence.IsEmpty ? null : choice.StopSequence.ToArray();
        }
    }

    private void OnToolCalls(ReadOnlySpan<byte> calls, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(calls);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var call = ToolCallFacts.Read(RawJson.ValueOf(ref reader, calls));
            _hasToolCalls = true;
            var starts = !call.Id.IsEmpty || !call.Name.IsEmpty;
            if (starts && !(_open == BlockKind.Tool && _openToolIndex == call.Index && BlockOf(call.Index) == _blockIndex))
            {
                Open(BlockKind.Tool, call.Index, call.Id, call.Name, output);
            }
            else if (BlockOf(call.Index) < 0)
            {
                // Arguments for a call whose start was never seen: open a block for it anyway so nothing is lost.
                Open(BlockKind.Tool, call.Index, default, default, output);
            }

            if (call.Arguments.Length > 2)
            {
                // Deltas go to the call's own block; vLLM streams one call after another, so that is the open one.
                DeltaAt(output, BlockOf(call.Index), "\"input_json_delta\""u8, "\"partial_json\""u8, call.Arguments);
            }
        }
    }

    private int BlockOf(int toolIndex) => toolIndex >= 0 && toolIndex < _toolBlocks.Count ? _toolBlocks[toolIndex] : -1;

    private void Open(BlockKind kind, int toolIndex, ReadOnlySpan<byte> toolId, ReadOnlySpan<byte> toolName, IBufferWriter<byte> output)
    {
        if (_open == kind && kind != BlockKind.Tool)
        {
            return;
        }

        Close(output);
        _blockIndex++;
        _open = kind;
        var json = BeginEvent(output, "content_block_start"u8);
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"content_block_start\""u8);
        json.Name("\"index\""u8);
        json.Int(_blockIndex);
        json.Name("\"content_block\""u8);
        json.StartObject();
        switch (kind)
        {
            case BlockKind.Text:
                json.Name("\"type\""u8);
                json.Raw("\"text\""u8);
                json.Name("\"text\""u8);
                json.Raw("\"\""u8);
                break;
            case BlockKind.Thinking:
                json.Name("\"type\""u8);
                json.Raw("\"thinking\""u8);
                json.Name("\"thinking\""u8);
                json.Raw("\"\""u8);
                json.Name("\"signature\""u8);
                json.Raw("\"\""u8);
                break;
            default:
                while (_toolBlocks.Count <= toolIndex)
                {
                    _toolBlocks.Add(-1);
                }

                _toolBlocks[toolIndex] = _blockIndex;
                _openToolIndex = toolIndex;
                json.Name("\"type\""u8);
                json.Raw("\"tool_use\""u8);
                json.Name("\"id\""u8);
                if (toolId.IsEmpty)
                {
                    json.String(Encoding.ASCII.GetBytes("toolu_" + Guid.NewGuid().ToString("N")));
                }
                else
                {
                    json.Raw(toolId);
                }

                json.Name("\"name\""u8);
                json.Raw(toolName.IsEmpty ? "\"\""u8 : toolName);
                json.Name("\"input\""u8);
                json.Raw("{}"u8);
                break;
        }

        json.EndObject();
        json.EndObject();
        EndEvent(output);
    }

    private void Close(IBufferWriter<byte> output)
    {
        if (_open == BlockKind.None)
        {
            return;
        }

        _open = BlockKind.None;
        _openToolIndex = -1;
        RawJson.Write(output, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"u8);
        RawJson.WriteInt(output, _blockIndex);
        RawJson.Write(output, "}\n\n"u8);
    }

    private void Delta(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) =>
        DeltaAt(output, _blockIndex, type, field, value);

    private void DeltaAt(IBufferWriter<byte> output, int index, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        _contentEvents++;
        RawJson.Write(output, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"u8);
        RawJson.WriteInt(output, index);
        RawJson.Write(output, ",\"delta\":{\"type\":"u8);
        RawJson.Write(output, type);
        RawJson.Write(output, ","u8);
        RawJson.Write(output, field);
        RawJson.Write(output, ":"u8);
        RawJson.Write(output, value);
        RawJson.Write(output, "}}\n\n"u8);
    }

    private void Finish(IBufferWriter<byte> output)
    {
        if (!_started)
        {
            Start(default, output);
        }

        Close(output);
        _ended = true;
        var finish = _finishReason ?? "stop"u8.ToArray();
        var stopSequence = _stopSequence is not null && !_hasToolCalls && finish.AsSpan().SequenceEqual("stop"u8);
        var json = BeginEvent(output, "message_delta"u8);
        json.StartObject();
        json.Name("\"type\""u8);
        json.Raw("\"message_delta\""u8);
        json.Name("\"delta\""u8);
        json.StartObject();
        json.Name("\"stop_reason\""u8);
        json.Raw(StopReasons.FromChat(finish, _hasToolCalls, stopSequence));
        json.Name("\"stop_sequence\""u8);
        if (stopSequence)
        {
            json.Raw(_stopSequence);
        }
        else
        {
            json.Null();
        }

        json.EndObject();
        json.Name("\"usage\""u8);
        // Without a usage chunk: the prompt estimate and one token per content event (vLLM sends one per event).
        var usage = _usage ?? new ChatUsage(_estimatedInputTokens, _contentEvents, 0);
        usage.WriteAnthropic(ref json);
        json.EndObject();
        EndEvent(output);
        RawJson.Write(output, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8);
    }

    private void UpstreamError(ReadOnlySpan<byte> error, IBufferWriter<byte> output)
    {
        // OpenAI's {"error": {"message", "type", "code"}}, or a bare message string.
        ReadOnlySpan<byte> message = default;
        var status = 500;
        var reader = new Utf8JsonReader(error);
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            message = error;
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueSpan;
                reader.Read();
                if (member.SequenceEqual("message"u8) && reader.TokenType == JsonTokenType.String)
                {
                    message = RawJson.ValueOf(ref reader, error);
                }
                else if (member.SequenceEqual("code"u8) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
                {
                    status = number;
                }
                else if (member.SequenceEqual("code"u8) && reader.TokenType == JsonTokenType.String
                    && System.Buffers.Text.Utf8Parser.TryParse(reader.ValueSpan, out int parsed, out _))
                {
                    status = parsed;
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        var type = Encoding.UTF8.GetBytes(AnthropicErrors.TypeFor(status));
        FailRaw(output, type, message.IsEmpty ? "\"the upstream failed while streaming\""u8 : message);
    }

    private void Fail(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> message)
    {
        var quoted = new ArrayBufferWriter<byte>(message.Length + 8);
        RawJson.WriteString(quoted, message);
        FailRaw(output, type, quoted.WrittenSpan);
    }

    private void FailRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> quotedMessage)
    {
        _ended = true;
        RawJson.Write(output, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\""u8);
        RawJson.Write(output, type);
        RawJson.Write(output, "\",\"message\":"u8);
        RawJson.Write(output, quotedMessage);
        RawJson.Write(output, "}}\n\n"u8);
    }

    private static RawJsonWriter BeginEvent(IBufferWriter<byte> output, ReadOnlySpan<byte> name)
    {
        RawJson.Write(output, "event: "u8);
        RawJson.Write(output, name);
        RawJson.Write(output, "\ndata: "u8);
        return new RawJsonWriter(output);
    }

    private static void EndEvent(IBufferWriter<byte> output) => RawJson.Write(output, "\n\n"u8);
}
