using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// Inbound stream unit of the Responses bridge: chat.completion.chunk events into the Responses API's events, each
/// with its <c>event:</c> line and a <c>sequence_number</c>, as OpenAI sends them: response.created and
/// response.in_progress first; per text answer response.output_item.added, response.content_part.added,
/// response.output_text.delta..., response.output_text.done, response.content_part.done, response.output_item.done;
/// per tool call response.output_item.added, response.function_call_arguments.delta..., .done and
/// response.output_item.done; then response.completed (or response.incomplete) with the whole response and its usage.
/// Events are written as the chunks complete them. The last event waits for <see cref="Complete"/>, so that the
/// gateway can store the response before the client learns it is done. A chat error event becomes an <c>error</c> event.
/// </summary>
public sealed class ChatToResponsesStreamTranslator : IResponseBodyTranslator, IDisposable
{
    private readonly BridgedResponse _response;
    private readonly SseEventSplitter _splitter = new();
    private readonly ArrayBufferWriter<byte> _scratch = new(512);
    private readonly List<byte[]> _items = [];
    private readonly Dictionary<int, ToolState> _tools = [];
    private int _sequence;
    private bool _started;
    private bool _finished;
    private bool _failed;
    private int _nextOutputIndex;

    // The open text item, if any.
    private string? _messageId;
    private int _messageIndex;
    private StringBuilder? _text;

    private string? _finishReason;
    private ChatUsage? _usage;

    public ChatToResponsesStreamTranslator(BridgedResponse response) => _response = response;

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        while (_splitter.Next(ref piece, out var sseEvent))
        {
            OnEvent(SseEvent.Parse(sseEvent).Data, output);
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        if (!_finished && !_failed)
        {
            // A stream cut without its [DONE]: what was said is closed and completed all the same.
            var rest = _splitter.TakeRest();
            if (!rest.IsEmpty)
            {
                OnEvent(SseEvent.Parse(rest).Data, output);
            }

            Finish(output);
        }

        if (_response.Final is { } final && !_failed)
        {
            var incomplete = ResponseObjectWriter.IncompleteReason(_finishReason) is not null;
            Emit(output, incomplete ? "response.incomplete" : "response.completed", json =>
            {
                json.WritePropertyName("response"u8);
                json.WriteRawValue(final, skipInputValidation: true);
            });
        }
    }

    public void Dispose() => _splitter.Dispose();

    /// <summary>Closes what is open and builds the final response (its <c>Final</c> set), holding back the last event.</summary>
    private void Finish(IBufferWriter<byte> output)
    {
        if (_finished || _failed)
        {
            return;
        }

        Start(output);
        CloseMessage(output);
        CloseTools(output);
        _finished = true;
        var incomplete = ResponseObjectWriter.IncompleteReason(_finishReason);
        _response.Final = ResponseObjectWriter.Serialize(json =>
            ResponseObjectWriter.WriteResponse(json, _response, incomplete is null ? "completed" : "incomplete", _items, _usage, incomplete));
        _response.OutputItems = _items;
    }

    private void OnEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (_failed || _finished || data.IsEmpty)
        {
            return;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            // The end: every item is closed now; response.completed waits for Complete (the gateway stores it first).
            Finish(output);
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data.ToArray());
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var chunk = document.RootElement;
            if (chunk.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (chunk.TryGetProperty("error", out var error))
            {
                Fail(output, error);
                return;
            }

            Start(output);
            if (chunk.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                _usage = ChatUsage.Read(Encoding.UTF8.GetBytes(usage.GetRawText()));
            }

            if (!chunk.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return;
            }

            var choice = choices[0];
            if (ResponsesRequestTranslator.StringOf(choice, "finish_reason") is { } finish)
            {
                _finishReason = finish;
            }

            if (!choice.TryGetProperty("delta", out var delta) || delta.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (ResponsesRequestTranslator.StringOf(delta, "content") is { Length: > 0 } text)
            {
                OnText(output, text);
            }

            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    OnToolCall(output, call);
                }
            }
        }
    }

    private void Start(IBufferWriter<byte> output)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var initial = ResponseObjectWriter.Serialize(json => ResponseObjectWriter.WriteResponse(json, _response, "in_progress", [], null, null));
        foreach (var type in (string[])["response.created", "response.in_progress"])
        {
            Emit(output, type, json =>
            {
                json.WritePropertyName("response"u8);
                json.WriteRawValue(initial, skipInputValidation: true);
            });
        }
    }

    private void OnText(IBufferWriter<byte> output, string text)
    {
        if (_messageId is null)
        {
            _messageId = BridgedResponse.NewItemId("msg_");
            _messageIndex = _nextOutputIndex++;
            _text = new StringBuilder();
            Emit(output, "response.output_item.added", json =>
            {
                json.WriteNumber("output_index"u8, _messageIndex);
                json.WritePropertyName("item"u8);
                ResponseObjectWriter.WriteMessage(json, _messageId, "in_progress", null);
            });
            Emit(output, "response.content_part.added", json =>
            {
                WriteTextRef(json);
                json.WritePropertyName("part"u8);
                ResponseObjectWriter.WriteTextPart(json, "");
            });
        }

        _text!.Append(text);
        Emit(output, "response.output_text.delta", json =>
        {
            WriteTextRef(json);
            json.WriteString("delta"u8, text);
            json.WriteStartArray("logprobs"u8);
            json.WriteEndArray();
        });
    }

    private void OnToolCall(IBufferWriter<byte> output, JsonElement call)
    {
        var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        if (!_tools.TryGetValue(index, out var tool))
        {
            // A call after text: the text item is done (chat sends a turn's text before its calls).
            CloseMessage(output);
            tool = new ToolState(
                BridgedResponse.NewItemId("fc_"),
                ResponsesRequestTranslator.StringOf(call, "id") ?? BridgedResponse.NewItemId("call_"),
                function.ValueKind == JsonValueKind.Object ? ResponsesRequestTranslator.StringOf(function, "name") ?? "" : "",
                _nextOutputIndex++);
            _tools[index] = tool;
            Emit(output, "response.output_item.added", json =>
            {
                json.WriteNumber("output_index"u8, tool.OutputIndex);
                json.WritePropertyName("item"u8);
                ResponseObjectWriter.WriteFunctionCall(json, tool.ItemId, "in_progress", tool.CallId, tool.Name, "");
            });
        }

        if (function.ValueKind == JsonValueKind.Object && ResponsesRequestTranslator.StringOf(function, "arguments") is { Length: > 0 } piece)
        {
            tool.Arguments.Append(piece);
            Emit(output, "response.function_call_arguments.delta", json =>
            {
                json.WriteString("item_id"u8, tool.ItemId);
                json.WriteNumber("output_index"u8, tool.OutputIndex);
                json.WriteString("delta"u8, piece);
            });
        }
    }

    private void CloseMessage(IBufferWriter<byte> output)
    {
        if (_messageId is null)
        {
            return;
        }

        var text = _text!.ToString();
        Emit(output, "response.output_text.done", json =>
        {
            WriteTextRef(json);
            json.WriteString("text"u8, text);
            json.WriteStartArray("logprobs"u8);
            json.WriteEndArray();
        });
        Emit(output, "response.content_part.done", json =>
        {
            WriteTextRef(json);
            json.WritePropertyName("part"u8);
            ResponseObjectWriter.WriteTextPart(json, text);
        });
        var id = _messageId;
        var item = ResponseObjectWriter.Serialize(json => ResponseObjectWriter.WriteMessage(json, id, "completed", text));
        Emit(output, "response.output_item.done", json =>
        {
            json.WriteNumber("output_index"u8, _messageIndex);
            json.WritePropertyName("item"u8);
            json.WriteRawValue(item, skipInputValidation: true);
        });
        _items.Add(item);
        _messageId = null;
    }

    private void CloseTools(IBufferWriter<byte> output)
    {
        foreach (var tool in _tools.Values.OrderBy(t => t.OutputIndex))
        {
            if (tool.Done)
            {
                continue;
            }

            tool.Done = true;
            var arguments = tool.Arguments.Length == 0 ? "{}" : tool.Arguments.ToString();
            Emit(output, "response.function_call_arguments.done", json =>
            {
                json.WriteString("item_id"u8, tool.ItemId);
                json.WriteNumber("output_index"u8, tool.OutputIndex);
                json.WriteString("name"u8, tool.Name);
                json.WriteString("arguments"u8, arguments);
            });
            var item = ResponseObjectWriter.Serialize(json => ResponseObjectWriter.WriteFunctionCall(json, tool.ItemId, "completed", tool.CallId, tool.Name, arguments));
            Emit(output, "response.output_item.done", json =>
            {
                json.WriteNumber("output_index"u8, tool.OutputIndex);
                json.WritePropertyName("item"u8);
                json.WriteRawValue(item, skipInputValidation: true);
            });
            _items.Add(item);
        }
    }

    private void Fail(IBufferWriter<byte> output, JsonElement error)
    {
        _failed = true;
        var message = error.ValueKind == JsonValueKind.Object ? ResponsesRequestTranslator.StringOf(error, "message") : null;
        var code = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c) && c.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? c.ToString()
            : null;
        var type = error.ValueKind == JsonValueKind.Object ? ResponsesRequestTranslator.StringOf(error, "type") : null;
        // OpenAI's stream error event: the SDKs raise it as an APIError.
        Emit(output, "error", json =>
        {
            json.WriteString("code"u8, code ?? type ?? "server_error");
            json.WriteString("message"u8, message ?? "The upstream stream failed.");
            json.WriteNull("param"u8);
        });
    }

    private void WriteTextRef(Utf8JsonWriter json)
    {
        json.WriteString("item_id"u8, _messageId);
        json.WriteNumber("output_index"u8, _messageIndex);
        json.WriteNumber("content_index"u8, 0);
    }

    private void Emit(IBufferWriter<byte> output, string type, Action<Utf8JsonWriter> fields)
    {
        _scratch.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_scratch, ResponseObjectWriter.Options))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, type);
            json.WriteNumber("sequence_number"u8, _sequence++);
            fields(json);
            json.WriteEndObject();
        }

        RawJson.Write(output, "event: "u8);
        RawJson.Write(output, Encoding.UTF8.GetBytes(type));
        RawJson.Write(output, "\ndata: "u8);
        RawJson.Write(output, _scratch.WrittenSpan);
        RawJson.Write(output, "\n\n"u8);
    }

    private sealed class ToolState(string itemId, string callId, string name, int outputIndex)
    {
        public string ItemId { get; } = itemId;

        public string CallId { get; } = callId;

        public string Name { get; } = name;

        public int OutputIndex { get; } = outputIndex;

        public StringBuilder Arguments { get; } = new();

        public bool Done { get; set; }
    }
}
