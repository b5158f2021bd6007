using System.Text;
using System.Text.Json;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// What guardrails need from a request body: every text the client sent that reaches the model (chat turns of every
/// role, prompts, embedding and moderation inputs, tool and function descriptions and schemas, <c>suffix</c>,
/// <c>response_format</c>, tool-call arguments of client-sent assistant turns), whether it also sent prompt content that
/// no text guard can judge (token ids, <c>prompt_embeds</c>, parts without text), and the guardrails it names
/// (<c>guardrails</c> at the top or in <c>metadata</c>). Read with one <see cref="Utf8JsonReader"/> pass with the routing
/// scanner's limits, only when guardrails are configured.
/// </summary>
public sealed class GuardInput
{
    public List<GuardMessage> Messages { get; } = [];

    /// <summary><c>prompt</c> and <c>input</c> strings.</summary>
    public List<string> Texts { get; } = [];

    /// <summary>Other prompt-bound text: tool and function definitions, <c>suffix</c>, <c>response_format</c>, tool-call arguments.</summary>
    public List<string> Extras { get; } = [];

    /// <summary>Guardrail names the request asked for; null when it named none.</summary>
    public List<string>? Requested { get; private set; }

    /// <summary>The top-level <c>model</c> when it is a string.</summary>
    public string? Model { get; private set; }

    /// <summary>Token-id prompts or inputs, <c>prompt_embeds</c>, or content with no text: a text guard cannot judge these.</summary>
    public bool HasUnjudgeable { get; private set; }

    /// <summary>A message's content was only parts without text (images, audio, files).</summary>
    public bool HasNonTextContent { get; private set; }

    public bool IsEmpty => Messages.Count == 0 && Texts.Count == 0 && Extras.Count == 0;

    /// <summary>
    /// The client's side as the guard judges it on input: one user turn holding every text it sent, so no turn (a
    /// system prompt, a client-written assistant turn, a tool result, an earlier user turn) escapes a guard that judges
    /// only the last user message. Empty when there is no text.
    /// </summary>
    public IReadOnlyList<GuardMessage> Conversation() => IsEmpty ? [] : [new GuardMessage(false, InputText())];

    /// <summary>Every text of the request, in order, separated by blank lines.</summary>
    public string InputText()
    {
        var text = new StringBuilder();
        foreach (var message in Messages)
        {
            Append(text, message.Text);
        }

        foreach (var item in Texts)
        {
            Append(text, item);
        }

        foreach (var extra in Extras)
        {
            Append(text, extra);
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string item)
    {
        if (item.Length == 0)
        {
            return;
        }

        if (text.Length > 0)
        {
            text.Append("\n\n");
        }

        text.Append(item);
    }

    /// <summary>Reads the body with the routing scanner's limits (so anything routing accepted is read whole).</summary>
    /// <exception cref="JsonException">The body is not valid JSON within those limits.</exception>
    /// <exception cref="InvalidOperationException">A string is not valid Unicode (a lone surrogate escape).</exception>
    public static GuardInput Parse(ReadOnlySpan<byte> body)
    {
        var input = new GuardInput();
        var reader = new Utf8JsonReader(body, RequestScanner.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return input;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                input.ReadMessages(ref reader);
            }
            else if (reader.ValueTextEquals("prompt"u8) || reader.ValueTextEquals("input"u8) || reader.ValueTextEquals("instructions"u8))
            {
                reader.Read();
                input.ReadTexts(ref reader, body);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                input.Model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("guardrails"u8))
            {
                reader.Read();
                input.ReadRequested(ref reader);
            }
            else if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                input.ReadMetadata(ref reader);
            }
            else if (reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("functions"u8) || reader.ValueTextEquals("response_format"u8)
                || reader.ValueTextEquals("suffix"u8))
            {
                // Descriptions and schemas are prompt text the model reads: judged as the client's text, as JSON.
                reader.Read();
                input.AddRaw(ref reader, body);
            }
            else if (reader.ValueTextEquals("prompt_embeds"u8))
            {
                reader.Read();
                input.HasUnjudgeable |= reader.TokenType != JsonTokenType.Null;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return input;
    }

    private void AddRaw(ref Utf8JsonReader reader, ReadOnlySpan<byte> body)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            Extras.Add(reader.GetString()!);
            return;
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        // Unescaped, so that an escape cannot hide a word from the guard.
        Extras.Add(Unescaped(body[start..(int)reader.BytesConsumed]));
    }

    private static string Unescaped(ReadOnlySpan<byte> json)
    {
        var text = new StringBuilder(json.Length);
        var reader = new Utf8JsonReader(json, RequestScanner.ReaderOptions);
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
            {
                if (text.Length > 0)
                {
                    text.Append(' ');
                }

                text.Append(reader.GetString());
            }
        }

        return text.ToString();
    }

    private void ReadMessages(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var isAgent = false;
            string? text = null;
            List<string>? calls = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("role"u8))
                {
                    reader.Read();
                    isAgent = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("assistant"u8);
                }
                else if (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("refusal"u8))
                {
                    reader.Read();
                    // A duplicate member: Python keeps the last, the guard judges both.
                    text = Join(text, ReadContent(ref reader));
                }
                else if (reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8))
                {
                    reader.Read();
                    ReadToolCalls(ref reader, calls ??= []);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (calls is not null)
            {
                foreach (var call in calls)
                {
                    text = Join(text, call);
                }
            }

            if (!string.IsNullOrEmpty(text))
            {
                Messages.Add(new GuardMessage(isAgent, text));
            }
        }
    }

    private static string? Join(string? text, string? more) =>
        string.IsNullOrEmpty(more) ? text : string.IsNullOrEmpty(text) ? more : text + "\n" + more;

    // tool_calls: [{"function": {"name", "arguments"}}]; the legacy function_call is the function object itself.
    private static void ReadToolCalls(ref Utf8JsonReader reader, List<string> into)
    {
        var depth = reader.CurrentDepth;
        if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            var wanted = reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("name"u8);
            reader.Read();
            if (wanted && reader.TokenType == JsonTokenType.String)
            {
                into.Add(reader.GetString()!);
            }
            else if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                reader.Skip();
            }
        }
    }

    // Content is a string or a list of parts; text parts are judged, parts without text are noted.
    private string? ReadContent(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            HasUnjudgeable |= reader.TokenType != JsonTokenType.Null;
            reader.Skip();
            return null;
        }

        StringBuilder? text = null;
        var parts = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            parts++;
            if (reader.TokenType == JsonTokenType.String)
            {
                text = AppendLine(text, reader.GetString());
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                HasUnjudgeable = true;
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isText = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("refusal"u8);
                reader.Read();
                if (isText && reader.TokenType == JsonTokenType.String)
                {
                    text = AppendLine(text, reader.GetString());
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        if (parts > 0 && text is null)
        {
            HasNonTextContent = true;
        }

        return text?.ToString();
    }

    private static StringBuilder AppendLine(StringBuilder? text, string? line)
    {
        text ??= new StringBuilder();
        if (text.Length > 0)
        {
            text.Append('\n');
        }

        return text.Append(line);
    }

    private void ReadTexts(ref Utf8JsonReader reader, ReadOnlySpan<byte> body)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            Texts.Add(reader.GetString()!);
            return;
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            HasUnjudgeable = true;
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                Texts.Add(reader.GetString()!);
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                // A Responses API input item (a message with content parts, a function call or its output): every text in it
                // is the client's and is judged, as the item's text.
                AddRaw(ref reader, body);
            }
            else
            {
                // Token ids ([1, 2, 3] or [[1, 2, 3]]) and multimodal inputs carry no text a guard can read.
                HasUnjudgeable = true;
                reader.Skip();
            }
        }
    }

    // LiteLLM takes a list of names, or a map of name → per-request settings.
    private void ReadRequested(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    (Requested ??= []).Add(reader.GetString()!);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                (Requested ??= []).Add(reader.GetString()!);
                reader.Read();
                reader.Skip();
            }
        }
        else
        {
            reader.Skip();
        }
    }

    private void ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isGuardrails = reader.ValueTextEquals("guardrails"u8);
            reader.Read();
            if (isGuardrails)
            {
                ReadRequested(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }
}
