using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Proxy.Transforms.Caching;

/// <summary>
/// Turns a complete streamed answer (vLLM/OpenAI SSE chunks) into the non-streamed answer it stands for
/// (<c>chat.completion</c> or <c>text_completion</c>): the form the cache stores, so that a later request gets it
/// streamed or not. Runs once per stored miss, after the stream has been sent.
/// </summary>
internal static class StreamAssembler
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The assembled answer, or null when the stream is incomplete (no <c>[DONE]</c>), carried an error, or is not understood.</summary>
    public static byte[]? Assemble(ReadOnlySpan<byte> sse)
    {
        var state = new State();
        var done = false;
        try
        {
            while (!sse.IsEmpty)
            {
                var newline = sse.IndexOf((byte)'\n');
                var line = newline < 0 ? sse : sse[..newline];
                sse = newline < 0 ? default : sse[(newline + 1)..];
                line = line.TrimEnd((byte)'\r');
                if (!line.StartsWith("data:"u8))
                {
                    continue;
                }

                var data = line[5..].TrimStart((byte)' ');
                if (data.SequenceEqual("[DONE]"u8))
                {
                    done = true;
                    continue;
                }

                if (!state.ReadEvent(data))
                {
                    return null;
                }
            }

            return done && state.Choices.Count > 0 ? state.Write() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private sealed class State
    {
        public string? Id;
        public long Created;
        public string? Model;
        public string? SystemFingerprint;
        public bool Text;
        public byte[]? Usage;
        public readonly List<Choice> Choices = [];

        // False for an error event: such a stream is never stored.
        public bool ReadEvent(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    return false;
                }

                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    Id ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("object"u8))
                {
                    reader.Read();
                    Text |= reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("text_completion"u8);
                }
                else if (reader.ValueTextEquals("created"u8))
                {
                    reader.Read();
                    if (Created == 0 && reader.TokenType == JsonTokenType.Number)
                    {
                        reader.TryGetInt64(out Created);
                    }
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    Model ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("system_fingerprint"u8))
                {
                    reader.Read();
                    SystemFingerprint ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        Usage = json[start..(int)reader.BytesConsumed].ToArray();
                    }
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                        {
                            ReadChoice(ref reader);
                        }
                    }
                }
                else
                {
                    reader.Read();
                }

                reader.Skip();
            }

            return true;
        }

        public byte[] Write()
        {
            var output = new ArrayBufferWriter<byte>(1024);
            using var json = new Utf8JsonWriter(output, WriterOptions);
            json.WriteStartObject();
            json.WriteString("id"u8, Id ?? "");
            json.WriteString("object"u8, Text ? "text_completion"u8 : "chat.completion"u8);
            json.WriteNumber("created"u8, Created);
            json.WriteString("model"u8, Model ?? "");
            if (SystemFingerprint is not null)
            {
                json.WriteString("system_fingerprint"u8, SystemFingerprint);
            }

            json.WriteStartArray("choices"u8);
            Choices.Sort(static (a, b) => a.Index.CompareTo(b.Index));
            foreach (var choice in Choices)
            {
                choice.Write(json, Text);
            }

            json.WriteEndArray();
            if (Usage is not null)
            {
                json.WritePropertyName("usage"u8);
                json.WriteRawValue(Usage, skipInputValidation: true);
            }

            json.WriteEndObject();
            json.Flush();
            return output.WrittenSpan.ToArray();
        }

        private void ReadChoice(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            Choice? choice = null;
            var index = 0;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    reader.TryGetInt32(out index);
                    choice = null;
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    ReadDelta(ref reader, choice ??= For(index));
                }
                else if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    (choice ??= For(index)).Content.Append(ref reader);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        (choice ??= For(index)).FinishReason = reader.GetString();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        private static void ReadDelta(ref Utf8JsonReader reader, Choice choice)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return;
            }

            var depth = reader.CurrentDepth;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("role"u8))
                {
                    reader.Read();
                    choice.Role ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    choice.Content.Append(ref reader);
                }
                else if (reader.ValueTextEquals("reasoning_content"u8))
                {
                    reader.Read();
                    choice.Reasoning.Append(ref reader);
                }
                else if (reader.ValueTextEquals("tool_calls"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                        {
                            ReadToolCall(ref reader, choice);
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        private static void ReadToolCall(ref Utf8JsonReader reader, Choice choice)
        {
            var depth = reader.CurrentDepth;
            ToolCall? call = null;
            var index = choice.ToolCalls.Count == 0 ? 0 : choice.ToolCalls[^1].Index;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    reader.TryGetInt32(out index);
                    call = null;
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    (call ??= choice.ToolCallFor(index)).Id ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    (call ??= choice.ToolCallFor(index)).Type ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    reader.Read();
                    call ??= choice.ToolCallFor(index);
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    var functionDepth = reader.CurrentDepth;
                    while (reader.Read() && reader.CurrentDepth > functionDepth)
                    {
                        if (reader.TokenType != JsonTokenType.PropertyName)
                        {
                            continue;
                        }

                        var isName = reader.ValueTextEquals("name"u8);
                        var isArguments = reader.ValueTextEquals("arguments"u8);
                        reader.Read();
                        if (isName)
                        {
                            call.Name.Append(ref reader);
                        }
                        else if (isArguments)
                        {
                            call.Arguments.Append(ref reader);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        private Choice For(int index)
        {
            foreach (var choice in Choices)
            {
                if (choice.Index == index)
                {
                    return choice;
                }
            }

            var added = new Choice { Index = index };
            Choices.Add(added);
            return added;
        }
    }

    private sealed class Choice
    {
        public int Index;
        public string? Role;
        public string? FinishReason;
        public readonly TextBuilder Content = new();
        public readonly TextBuilder Reasoning = new();
        public readonly List<ToolCall> ToolCalls = [];

        public ToolCall ToolCallFor(int index)
        {
            foreach (var call in ToolCalls)
            {
                if (call.Index == index)
                {
                    return call;
                }
            }

            var added = new ToolCall { Index = index };
            ToolCalls.Add(added);
            return added;
        }

        public void Write(Utf8JsonWriter json, bool text)
        {
            json.WriteStartObject();
            json.WriteNumber("index"u8, Index);
            if (text)
            {
                json.WriteString("text"u8, Content.Span);
            }
            else
            {
                json.WriteStartObject("message"u8);
                json.WriteString("role"u8, Role ?? "assistant");
                if (Content.Seen || ToolCalls.Count == 0)
                {
                    json.WriteString("content"u8, Content.Span);
                }
                else
                {
                    json.WriteNull("content"u8);
                }

                if (Reasoning.Seen)
                {
                    json.WriteString("reasoning_content"u8, Reasoning.Span);
                }

                if (ToolCalls.Count > 0)
                {
                    json.WriteStartArray("tool_calls"u8);
                    ToolCalls.Sort(static (a, b) => a.Index.CompareTo(b.Index));
                    foreach (var call in ToolCalls)
                    {
                        json.WriteStartObject();
                        json.WriteString("id"u8, call.Id ?? "");
                        json.WriteString("type"u8, call.Type ?? "function");
                        json.WriteStartObject("function"u8);
                        json.WriteString("name"u8, call.Name.Span);
                        json.WriteString("arguments"u8, call.Arguments.Span);
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteNull("logprobs"u8);
            if (FinishReason is null)
            {
                json.WriteNull("finish_reason"u8);
            }
            else
            {
                json.WriteString("finish_reason"u8, FinishReason);
            }

            json.WriteEndObject();
        }
    }

    private sealed class ToolCall
    {
        public int Index;
        public string? Id;
        public string? Type;
        public readonly TextBuilder Name = new();
        public readonly TextBuilder Arguments = new();
    }

    // Unescaped UTF-8 text of string deltas, concatenated.
    private sealed class TextBuilder
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(256);

        public bool Seen { get; private set; }

        public ReadOnlySpan<byte> Span => _bytes.WrittenSpan;

        public void Append(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
                return;
            }

            Seen = true;
            var span = _bytes.GetSpan(reader.ValueSpan.Length);
            _bytes.Advance(reader.CopyString(span));
        }
    }
}
