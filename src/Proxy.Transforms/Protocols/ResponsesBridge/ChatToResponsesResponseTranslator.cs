using System.Buffers;
using System.Text.Json;
using Proxy.Transforms.Protocols.Anthropic;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// Inbound response unit of the Responses bridge: a chat.completion into a Responses API <c>response</c>. The text
/// becomes a message item with one output_text part, each tool call a function_call item; finish_reason length (or
/// content_filter) makes the response incomplete; usage becomes input/output/total tokens with cached prompt tokens.
/// The chat body is held until it is complete (one JSON document). <see cref="Seal"/> builds the answer before it is
/// written, so that the gateway can store it before the client can ask for it.
/// </summary>
public sealed class ChatToResponsesResponseTranslator(BridgedResponse response) : IResponseBodyTranslator, IDisposable
{
    private readonly ArrayPoolBufferWriter _body = new();
    private byte[]? _answer;

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output) => _body.Write(piece);

    /// <summary>Translates what was received; the answer is kept for <see cref="Complete"/> (and the response's <c>Final</c> set).</summary>
    public void Seal()
    {
        if (_answer is not null)
        {
            return;
        }

        var chat = _body.WrittenSpan;
        _answer = Translate(chat, response) ?? chat.ToArray();
    }

    public void Complete(IBufferWriter<byte> output)
    {
        Seal();
        output.Write(_answer);
    }

    public void Dispose() => _body.Dispose();

    /// <summary>The response object for <paramref name="chat"/>; null for a body that is not a chat completion (passed on as it is).</summary>
    internal static byte[]? Translate(ReadOnlySpan<byte> chat, BridgedResponse response)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(chat.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var choice = choices.GetArrayLength() > 0 ? choices[0] : default;
            var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) ? m : default;
            var text = message.ValueKind == JsonValueKind.Object ? ResponsesRequestTranslator.StringOf(message, "content") : null;
            var items = new List<byte[]>();
            if (!string.IsNullOrEmpty(text))
            {
                items.Add(ResponseObjectWriter.Serialize(json => ResponseObjectWriter.WriteMessage(json, BridgedResponse.NewItemId("msg_"), "completed", text)));
            }

            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.TryGetProperty("function", out var f) ? f : default;
                    if (function.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    var callId = ResponsesRequestTranslator.StringOf(call, "id") ?? BridgedResponse.NewItemId("call_");
                    var name = ResponsesRequestTranslator.StringOf(function, "name") ?? "";
                    var arguments = ResponsesRequestTranslator.StringOf(function, "arguments") ?? "{}";
                    items.Add(ResponseObjectWriter.Serialize(json =>
                        ResponseObjectWriter.WriteFunctionCall(json, BridgedResponse.NewItemId("fc_"), "completed", callId, name, arguments)));
                }
            }

            if (items.Count == 0)
            {
                // OpenAI answers with a message even when it is empty.
                items.Add(ResponseObjectWriter.Serialize(json => ResponseObjectWriter.WriteMessage(json, BridgedResponse.NewItemId("msg_"), "completed", "")));
            }

            var finish = choice.ValueKind == JsonValueKind.Object ? ResponsesRequestTranslator.StringOf(choice, "finish_reason") : null;
            var incomplete = ResponseObjectWriter.IncompleteReason(finish);
            ChatUsage? usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
                ? ChatUsage.Read(System.Text.Encoding.UTF8.GetBytes(u.GetRawText()))
                : null;
            var answer = ResponseObjectWriter.Serialize(json =>
                ResponseObjectWriter.WriteResponse(json, response, incomplete is null ? "completed" : "incomplete", items, usage, incomplete));
            response.Final = answer;
            response.OutputItems = items;
            return answer;
        }
    }
}
