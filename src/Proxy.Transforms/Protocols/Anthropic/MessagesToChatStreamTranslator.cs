using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Outbound stream unit for <c>anthropic/</c> deployments: Anthropic's events into chat.completion.chunk events, each
/// as it arrives. message_start → the role chunk; text_delta → content; thinking_delta → reasoning_content; a tool_use
/// block's start and its input_json_delta pieces → tool_calls with the call's index; message_delta → the finish chunk;
/// message_stop → a usage chunk (the gateway hides it from clients that did not ask) and <c>[DONE]</c>. An
/// <c>event: error</c> (e.g. overloaded_error mid-stream) becomes chat's <c>data: {"error": ...}</c> and ends the stream;
/// <see cref="StreamError"/> tells the transformer, so the attempt counts as failed.
/// </summary>
public sealed class MessagesToChatStreamTranslator(long created) : IResponseBodyTranslator, IDisposable
{
    private readonly SseEventSplitter _events = new();
    private readonly List<int> _toolOfBlock = [];
    private byte[] _id = "\"chatcmpl\""u8.ToArray();
    private byte[] _model = "\"\""u8.ToArray();
    private MessagesUsage _usage;
    private int _tools;
    private bool _ended;

    /// <summary>The Anthropic error type of an error event that ended the stream; null when it ended cleanly.</summary>
    public string? StreamError { get; private set; }

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

        if (!_ended)
        {
            Fail(output, "\"api_error\""u8, "\"litellm.APIConnectionError: AnthropicException - the stream ended before message_stop; the answer is incomplete, retry the request\""u8);
        }
    }

    public void Dispose() => _events.Dispose();

    private void OnEvent(ReadOnlySpan<byte> lines, IBufferWriter<byte> output)
    {
        if (_ended)
        {
            return;
        }

        var data = SseEvent.Parse(lines).Data;
        if (data.IsEmpty)
        {
            return;
        }

        MessagesEventFacts facts;
        try
        {
            facts = MessagesEventFacts.Read(data);
        }
        catch (JsonException)
        {
            Fail(output, "\"api_error\""u8, "\"the upstream sent an event that is not JSON\""u8);
            return;
        }

        var type = facts.Type;
        if (type.SequenceEqual("content_block_delta"u8))
        {
            OnDelta(in facts, output);
        }
        else if (type.SequenceEqual("message_start"u8))
        {
            OnStart(MessagesEventFacts.Read(facts.Inner), output);
        }
        else if (type.SequenceEqual("content_block_start"u8))
        {
            OnBlockStart(in facts, output);
        }
        else if (type.SequenceEqual("message_delta"u8))
        {
            if (!facts.Usage.IsEmpty)
            {
                _usage.Merge(facts.Usage);
            }

            var delta = MessageBlockFacts.Read(facts.Inner);
            if (!delta.StopReason.IsEmpty)
            {
                var json = BeginChunk(output);
                json.StartObject();
                json.EndObject();
                EndChunk(ref json, output, StopReasons.ToChat(delta.StopReason));
            }
        }
        else if (type.SequenceEqual("message_stop"u8))
        {
            WriteUsageChunk(output);
            RawJson.Write(output, "data: [DONE]\n\n"u8);
            _ended = true;
        }
        else if (type.SequenceEqual("error"u8))
        {
            var error = MessageBlockFacts.Read(facts.Inner);
            StreamError = error.Type.IsEmpty ? "api_error" : Encoding.UTF8.GetString(error.Type);
            var typeToken = new ArrayBufferWriter<byte>(32);
            RawJson.WriteString(typeToken, error.Type.IsEmpty ? "api_error"u8 : error.Type);
            Fail(output, typeToken.WrittenSpan, error.Message.IsEmpty ? "\"the upstream failed while streaming\""u8 : error.Message);
        }
    }

    private void OnStart(in MessagesEventFacts message, IBufferWriter<byte> output)
    {
        if (!message.Id.IsEmpty)
        {
            _id = message.Id.ToArray();
        }

        if (!message.Model.IsEmpty)
        {
            _model = message.Model.ToArray();
        }

        if (!message.Usage.IsEmpty)
        {
            _usage.Merge(message.Usage);
        }

        var json = BeginChunk(output);
        json.StartObject();
        json.Name("\"role\""u8);
        json.Raw("\"assistant\""u8);
        json.Name("\"content\""u8);
        json.Raw("\"\""u8);
        json.EndObject();
        EndChunk(ref json, output, default);
    }

    private void OnBlockStart(in MessagesEventFacts facts, IBufferWriter<byte> output)
    {
        var block = MessageBlockFacts.Read(facts.Inner);
        if (block.Type.SequenceEqual("tool_use"u8))
        {
            while (_toolOfBlock.Count <= facts.Index)
            {
                _toolOfBlock.Add(-1);
            }

            var tool = _tools++;
            _toolOfBlock[facts.Index] = tool;
            var json = BeginChunk(output);
            json.StartObject();
            json.Name("\"tool_calls\""u8);
            json.StartArray();
            json.StartObject();
            json.Name("\"index\""u8);
            json.Int(tool);
            json.Name("\"id\""u8);
            json.Raw(block.Id.IsEmpty ? "\"\""u8 : block.Id);
            json.Name("\"type\""u8);
            json.Raw("\"function\""u8);
            json.Name("\"function\""u8);
            json.StartObject();
            json.Name("\"name\""u8);
            json.Raw(block.Name.IsEmpty ? "\"\""u8 : block.Name);
            json.Name("\"arguments\""u8);
            json.Raw("\"\""u8);
            json.EndObject();
            json.EndObject();
            json.EndArray();
            json.EndObject();
            EndChunk(ref json, output, default);
        }
        else if (block.Type.SequenceEqual("text"u8) && block.Text.Length > 2)
        {
            WriteText(output, "\"content\""u8, block.Text);
        }
    }

    private void OnDelta(in MessagesEventFacts facts, IBufferWriter<byte> output)
    {
        var delta = MessageBlockFacts.Read(facts.Inner);
        if (delta.Type.SequenceEqual("text_delta"u8) && delta.Text.Length > 2)
        {
            WriteText(output, "\"content\""u8, delta.Text);
        }
        else if (delta.Type.SequenceEqual("thinking_delta"u8) && delta.Thinking.Length > 2)
        {
            WriteText(output, "\"reasoning_content\""u8, delta.Thinking);
        }
        else if (delta.Type.SequenceEqual("input_json_delta"u8) && delta.PartialJson.Length > 2)
        {
            var tool = facts.Index < _toolOfBlock.Count ? _toolOfBlock[facts.Index] : -1;
            var json = BeginChunk(output);
            json.StartObject();
            json.Name("\"tool_calls\""u8);
            json.StartArray();
            json.StartObject();
            json.Name("\"index\""u8);
            json.Int(Math.Max(tool, 0));
            json.Name("\"function\""u8);
            json.StartObject();
            json.Name("\"arguments\""u8);
            json.Raw(delta.PartialJson);
            json.EndObject();
            json.EndObject();
            json.EndArray();
            json.EndObject();
            EndChunk(ref json, output, default);
        }
    }

    private void WriteText(IBufferWriter<byte> output, ReadOnlySpan<byte> field, ReadOnlySpan<byte> text)
    {
        var json = BeginChunk(output);
        json.StartObject();
        json.Name(field);
        json.Raw(text);
        json.EndObject();
        EndChunk(ref json, output, default);
    }

    private void WriteUsageChunk(IBufferWriter<byte> output)
    {
        RawJson.Write(output, "data: "u8);
        var json = new RawJsonWriter(output);
        json.StartObject();
        WriteEnvelope(ref json);
        json.Name("\"choices\""u8);
        json.Raw("[]"u8);
        json.Name("\"usage\""u8);
        _usage.WriteChat(ref json);
        json.EndObject();
        RawJson.Write(output, "\n\n"u8);
    }

    /// <summary>Opens a chunk up to its delta; the caller writes the delta object and calls <see cref="EndChunk"/>.</summary>
    private RawJsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        RawJson.Write(output, "data: "u8);
        var json = new RawJsonWriter(output);
        json.StartObject();
        WriteEnvelope(ref json);
        json.Name("\"choices\""u8);
        json.StartArray();
        json.StartObject();
        json.Name("\"index\""u8);
        json.Int(0);
        json.Name("\"delta\""u8);
        return json;
    }

    private static void EndChunk(ref RawJsonWriter json, IBufferWriter<byte> output, ReadOnlySpan<byte> finishReason)
    {
        json.Name("\"logprobs\""u8);
        json.Null();
        json.Name("\"finish_reason\""u8);
        if (finishReason.IsEmpty)
        {
            json.Null();
        }
        else
        {
            json.Raw(finishReason);
        }

        json.EndObject();
        json.EndArray();
        json.EndObject();
        RawJson.Write(output, "\n\n"u8);
    }

    private void WriteEnvelope(ref RawJsonWriter json)
    {
        json.Name("\"id\""u8);
        json.Raw(_id);
        json.Name("\"object\""u8);
        json.Raw("\"chat.completion.chunk\""u8);
        json.Name("\"created\""u8);
        json.Int(created);
        json.Name("\"model\""u8);
        json.Raw(_model);
    }

    // Chat's mid-stream error event, as the gateway's own error writer frames it for OpenAI clients.
    private void Fail(IBufferWriter<byte> output, ReadOnlySpan<byte> quotedType, ReadOnlySpan<byte> quotedMessage)
    {
        _ended = true;
        StreamError ??= "api_error";
        RawJson.Write(output, "data: {\"error\":{\"message\":"u8);
        RawJson.Write(output, quotedMessage);
        RawJson.Write(output, ",\"type\":"u8);
        RawJson.Write(output, quotedType);
        RawJson.Write(output, ",\"param\":null,\"code\":\""u8);
        RawJson.Write(output, StatusFor(quotedType));
        RawJson.Write(output, "\"}}\n\n"u8);
    }

    private static ReadOnlySpan<byte> StatusFor(ReadOnlySpan<byte> quotedType) => quotedType switch
    {
        _ when quotedType.SequenceEqual("\"overloaded_error\""u8) => "503"u8,
        _ when quotedType.SequenceEqual("\"rate_limit_error\""u8) => "429"u8,
        _ when quotedType.SequenceEqual("\"invalid_request_error\""u8) => "400"u8,
        _ => "500"u8,
    };
}
