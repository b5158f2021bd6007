using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Calls a guardrail's backend: an OpenAI-compatible <c>/moderations</c>, or Llama Guard 3 as a model. Every outcome is a
/// value (<see cref="GuardCallResult"/>): a backend that is down, slow (beyond the guardrail's own timeout) or answers
/// something unreadable is a failure with a reason, never an exception.
/// </summary>
public sealed class GuardBackendClient(IHttpClientFactory httpClients)
{
    /// <summary>The named HttpClient (no timeout of its own: each guardrail's timeout applies per call).</summary>
    public const string HttpClientName = "gateway-guardrails";

    private const int MaxAnswerBytes = 1024 * 1024;

    /// <summary>Calls in flight to one guardrail's backend; more wait (within the guardrail's timeout) for a slot.</summary>
    public const int MaxConcurrentCalls = 64;

    // One gate per guardrail of the config in force (a reload makes new definitions, and their gates with them).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<GuardrailDefinition, SemaphoreSlim> _gates = new();

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    /// <summary>Judges one text: the user's input (<paramref name="assessAgent"/> false) or the model's last answer.</summary>
    public async Task<GuardCallResult> CheckAsync(
        GuardrailDefinition guardrail, IReadOnlyList<GuardMessage> conversation, bool assessAgent, CancellationToken cancellationToken)
    {
        if (guardrail.Kind == GuardrailKind.OpenAiModeration)
        {
            var text = assessAgent ? LastAgentText(conversation) : UserText(conversation);
            var batch = await ModerateAsync(guardrail, [text], cancellationToken);
            return batch.Results is { Count: > 0 } results ? new GuardCallResult(results[0], null) : GuardCallResult.Fail(batch.Failure ?? "no result");
        }

        return await LlamaGuardAsync(guardrail, conversation, assessAgent, cancellationToken);
    }

    /// <summary>Judges each input separately (the native <c>/v1/moderations</c>); one result per input, in order.</summary>
    public async Task<ModerationBatch> ModerateAsync(GuardrailDefinition guardrail, IReadOnlyList<string> inputs, CancellationToken cancellationToken)
    {
        if (guardrail.Kind == GuardrailKind.LlamaGuard)
        {
            var calls = new Task<GuardCallResult>[inputs.Count];
            for (var i = 0; i < inputs.Count; i++)
            {
                calls[i] = LlamaGuardAsync(guardrail, [new GuardMessage(false, inputs[i])], assessAgent: false, cancellationToken);
            }

            var results = new ModerationResult[inputs.Count];
            for (var i = 0; i < calls.Length; i++)
            {
                var call = await calls[i];
                if (call.Result is null)
                {
                    return new ModerationBatch(null, call.Failure);
                }

                results[i] = call.Result;
            }

            return new ModerationBatch(results, null);
        }

        var body = Json((guardrail, inputs), static (writer, state) =>
        {
            var (guardrail, inputs) = state;
            writer.WriteStartObject();
            if (guardrail.Model is not null)
            {
                writer.WriteString("model"u8, guardrail.Model);
            }

            if (inputs.Count == 1)
            {
                writer.WriteString("input"u8, inputs[0]);
            }
            else
            {
                writer.WriteStartArray("input"u8);
                foreach (var input in inputs)
                {
                    writer.WriteStringValue(input);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        });
        var (answer, failure) = await PostAsync(guardrail, guardrail.UriFor("moderations"), body, cancellationToken);
        if (answer is null)
        {
            return new ModerationBatch(null, failure);
        }

        try
        {
            var parsed = ParseModerations(answer);
            return parsed is { Count: > 0 } ? new ModerationBatch(parsed, null) : new ModerationBatch(null, "malformed answer: no results");
        }
        catch (JsonException)
        {
            return new ModerationBatch(null, "malformed answer: not a moderation response");
        }
    }

    private async Task<GuardCallResult> LlamaGuardAsync(
        GuardrailDefinition guardrail, IReadOnlyList<GuardMessage> conversation, bool assessAgent, CancellationToken cancellationToken)
    {
        byte[] body;
        Uri uri;
        if (guardrail.LlamaGuardChat)
        {
            // The server applies Llama Guard's own chat template, which wants strictly alternating user/assistant turns.
            var turns = LlamaGuardPrompt.Alternating(conversation);
            uri = guardrail.UriFor("chat/completions");
            body = Json((guardrail, turns), static (writer, state) =>
            {
                var (guardrail, turns) = state;
                writer.WriteStartObject();
                writer.WriteString("model"u8, guardrail.Model ?? "llama-guard");
                writer.WriteStartArray("messages"u8);
                foreach (var turn in turns)
                {
                    writer.WriteStartObject();
                    writer.WriteString("role"u8, turn.IsAgent ? "assistant"u8 : "user"u8);
                    writer.WriteString("content"u8, turn.Text);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteNumber("max_tokens"u8, 20);
                writer.WriteNumber("temperature"u8, 0);
                writer.WriteEndObject();
            });
        }
        else
        {
            var prompt = LlamaGuardPrompt.Build(conversation, assessAgent);
            uri = guardrail.UriFor("completions");
            body = Json((guardrail, prompt), static (writer, state) =>
            {
                var (guardrail, prompt) = state;
                writer.WriteStartObject();
                writer.WriteString("model"u8, guardrail.Model ?? "llama-guard");
                writer.WriteString("prompt"u8, prompt);
                writer.WriteNumber("max_tokens"u8, 20);
                writer.WriteNumber("temperature"u8, 0);
                writer.WriteEndObject();
            });
        }

        var (answer, failure) = await PostAsync(guardrail, uri, body, cancellationToken);
        if (answer is null)
        {
            return GuardCallResult.Fail(failure!);
        }

        string? text;
        try
        {
            text = CompletionText(answer);
        }
        catch (JsonException)
        {
            return GuardCallResult.Fail("malformed answer: not a completion");
        }

        var verdict = LlamaGuardPrompt.Parse(text);
        return verdict is null ? GuardCallResult.Fail("malformed answer: neither 'safe' nor 'unsafe'") : new GuardCallResult(verdict, null);
    }

    private async Task<(byte[]? Answer, string? Failure)> PostAsync(GuardrailDefinition guardrail, Uri uri, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(guardrail.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = JsonType;
        if (guardrail.ApiKey is { IsEmpty: false } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Value);
        }

        var gate = _gates.GetValue(guardrail, static _ => new SemaphoreSlim(MaxConcurrentCalls, MaxConcurrentCalls));
        try
        {
            await gate.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"{MaxConcurrentCalls} checks already in flight to this guard for {guardrail.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, "backend answered HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
            }

            if (response.Content.Headers.ContentLength > MaxAnswerBytes)
            {
                return (null, "malformed answer: too large");
            }

            return (await response.Content.ReadAsByteArrayAsync(timeout.Token), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, "no answer within " + guardrail.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s");
        }
        catch (HttpRequestException ex)
        {
            return (null, "backend unreachable: " + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString()));
        }
        finally
        {
            gate.Release();
        }
    }

    private static string UserText(IReadOnlyList<GuardMessage> conversation)
    {
        var text = new System.Text.StringBuilder();
        foreach (var message in conversation)
        {
            if (!message.IsAgent)
            {
                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(message.Text);
            }
        }

        return text.ToString();
    }

    private static string LastAgentText(IReadOnlyList<GuardMessage> conversation)
    {
        for (var i = conversation.Count - 1; i >= 0; i--)
        {
            if (conversation[i].IsAgent)
            {
                return conversation[i].Text;
            }
        }

        return string.Empty;
    }

    // Static writers with explicit state: no closure per call.
    private static byte[] Json<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>choices[0].text</c> (completions) or <c>choices[0].message.content</c> (chat).</summary>
    private static string? MessageText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        var text = new System.Text.StringBuilder();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isText = reader.ValueTextEquals("text"u8);
                reader.Read();
                if (isText && reader.TokenType == JsonTokenType.String)
                {
                    text.Append(reader.GetString());
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return text.ToString();
    }

    internal static string? CompletionText(ReadOnlySpan<byte> answer)
    {
        var reader = new Utf8JsonReader(answer);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                // An Anthropic message (a native Messages pass-through): the text of its text blocks.
                reader.Read();
                return MessageText(ref reader);
            }

            if (!reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return null;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isContent = reader.ValueTextEquals("content"u8);
                        reader.Read();
                        if (isContent)
                        {
                            return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        }

                        reader.Skip();
                    }

                    return null;
                }

                reader.Read();
                reader.Skip();
            }

            return null;
        }

        return null;
    }

    /// <summary>Reads <c>results[]</c> of an OpenAI moderation response, keeping each map's order.</summary>
    internal static List<ModerationResult>? ParseModerations(ReadOnlySpan<byte> answer)
    {
        var reader = new Utf8JsonReader(answer);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("results"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return null;
            }

            var results = new List<ModerationResult>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                bool? flagged = null;
                var categories = new List<KeyValuePair<string, bool>>();
                var scores = new List<KeyValuePair<string, double>>();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("flagged"u8))
                    {
                        reader.Read();
                        flagged = reader.TokenType switch
                        {
                            JsonTokenType.True => true,
                            JsonTokenType.False => false,
                            _ => null,
                        };
                    }
                    else if (reader.ValueTextEquals("categories"u8))
                    {
                        reader.Read();
                        ReadMap(ref reader, categories, static (ref Utf8JsonReader r) => r.TokenType == JsonTokenType.True);
                    }
                    else if (reader.ValueTextEquals("category_scores"u8))
                    {
                        reader.Read();
                        ReadMap(ref reader, scores, static (ref Utf8JsonReader r) => r.TokenType == JsonTokenType.Number ? r.GetDouble() : 0.0);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }

                if (flagged is null)
                {
                    return null;
                }

                results.Add(new ModerationResult { Flagged = flagged.Value, Categories = categories, CategoryScores = scores });
            }

            return results;
        }

        return null;
    }

    private delegate T ValueReader<out T>(ref Utf8JsonReader reader);

    private static void ReadMap<T>(ref Utf8JsonReader reader, List<KeyValuePair<string, T>> into, ValueReader<T> read)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            into.Add(new(name, read(ref reader)));
            reader.Skip();
        }
    }
}
