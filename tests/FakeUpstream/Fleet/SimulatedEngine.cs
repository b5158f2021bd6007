using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FakeUpstream.Fleet;

/// <summary>
/// A simulated vLLM engine: prefix cache (<see cref="BlockCache"/>), scheduler and GPU time, behind the fake server's
/// chat/completions and completions endpoints and its <c>/metrics</c>.
/// </summary>
/// <remarks>
/// A request waits for one of <see cref="SimulatorOptions.MaxNumSeqs"/> running slots (FIFO), then for the GPU's prefill
/// lane (one prefill at a time), where its prompt is matched against the cache: only uncached tokens cost prefill time.
/// Its blocks stay pinned while it runs. Decoding costs a time per token that grows with the running count. When it
/// finishes, the prompt and the generated answer are cached (vLLM caches both), and <c>usage</c> reports
/// <c>prompt_tokens_details.cached_tokens</c>. All timing is simulated with delays, so the host's CPU barely matters.
/// A restart of the server (or <see cref="Reset"/>) empties the cache, as a vLLM restart does.
/// </remarks>
public sealed class SimulatedEngine
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly string[] Words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs", "far", "away", "from", "home"];

    private readonly FakeUpstreamOptions _options;
    private State _state;

    public SimulatedEngine(FakeUpstreamOptions options, SimulatorOptions simulator)
    {
        _options = options;
        Simulator = simulator;
        _state = new State(simulator);
    }

    public SimulatorOptions Simulator { get; }

    private int BlockChars => Simulator.BlockTokens * CharsPerToken;

    private int CharsPerToken => Math.Max(1, (int)Math.Round(_options.CharsPerToken));

    /// <summary>Requests running plus waiting: the engine's true load.</summary>
    public int Load
    {
        get
        {
            var state = _state;
            lock (state.Gate)
            {
                return state.Running + state.Waiting.Count;
            }
        }
    }

    /// <summary>Prompt tokens the cache would serve for this rendered prompt right now (what an oracle router reads).</summary>
    public int CachedTokensFor(string renderedPrompt)
    {
        var chain = Chain(renderedPrompt);
        var state = _state;
        lock (state.Gate)
        {
            return CachedTokens(state.Cache.Match(chain), PromptTokens(renderedPrompt));
        }
    }

    /// <summary>Totals since the last reset: prompt tokens asked for, and served from the cache.</summary>
    public (long QueriedTokens, long HitTokens, long Requests) Totals
    {
        get
        {
            var state = _state;
            lock (state.Gate)
            {
                return (state.QueriedTokens, state.HitTokens, state.Requests);
            }
        }
    }

    /// <summary>Forgets the cache and the counters (a restart); requests in flight finish against the old state.</summary>
    public void Reset() => _state = new State(Simulator);

    internal async Task HandleAsync(HttpContext context, bool chat, JsonElement request, int? fakeTokens, CancellationToken cancellationToken)
    {
        var state = _state;
        var prompt = chat ? PromptRenderer.Chat(request) : PromptRenderer.Completion(request);
        var promptTokens = PromptTokens(prompt);
        var maxTokens = ReadInt(request, "max_tokens") ?? ReadInt(request, "max_completion_tokens");
        var outputTokens = Math.Max(1, Math.Min(fakeTokens ?? maxTokens ?? _options.DefaultCompletionTokens, maxTokens ?? int.MaxValue));
        if (promptTokens + (maxTokens ?? 0) > _options.MaxModelLen)
        {
            await WriteErrorAsync(context, $"This model's maximum context length is {_options.MaxModelLen} tokens. However, you requested {promptTokens + (maxTokens ?? 0)} tokens. Please reduce the length of the messages or completion.", cancellationToken);
            return;
        }

        var chain = Chain(prompt);
        var stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = request.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        var model = request.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : _options.ServedModel;
        var answer = Answer(prompt, outputTokens);
        var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var created = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

        await AdmitAsync(state, cancellationToken);
        ulong[]? full = null;
        var acquired = false;
        try
        {
            int cachedTokens;
            await state.PrefillLane.WaitAsync(cancellationToken);
            try
            {
                int matched;
                lock (state.Gate)
                {
                    matched = state.Cache.Match(chain);
                    state.Cache.Acquire(chain);
                    acquired = true;
                    cachedTokens = CachedTokens(matched, promptTokens);
                    state.QueriedTokens += promptTokens;
                    state.HitTokens += cachedTokens;
                    state.Requests++;
                }

                await SimulateAsync(TimeSpan.FromMicroseconds((promptTokens - cachedTokens) * Simulator.PrefillMicrosPerToken), cancellationToken);
            }
            finally
            {
                state.PrefillLane.Release();
            }

            if (stream)
            {
                await StreamAsync(context, state, chat, id, created, model, answer, promptTokens, cachedTokens, includeUsage, cancellationToken);
            }
            else
            {
                await DecodeAsync(state, answer.Count, cancellationToken);
                await WriteJsonAsync(context, Completion(chat, id, created, model, string.Concat(answer), promptTokens, answer.Count, cachedTokens), cancellationToken);
            }

            full = Chain(prompt + PromptRenderer.AssistantTag + string.Concat(answer));
        }
        finally
        {
            lock (state.Gate)
            {
                if (acquired)
                {
                    // The answer's blocks are cached too (vLLM keeps every full block it computed); then all are released.
                    if (full is not null)
                    {
                        state.Cache.Acquire(full);
                        state.Cache.Release(full);
                    }

                    state.Cache.Release(chain);
                }

                state.Running--;
                if (state.Waiting.Count > 0)
                {
                    state.Running++;
                    state.Waiting.Dequeue().TrySetResult();
                }
            }
        }
    }

    internal async Task WriteMetricsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var state = _state;
        int running, waiting, used;
        long queried, hits;
        lock (state.Gate)
        {
            running = state.Running;
            waiting = state.Waiting.Count;
            used = state.Cache.Count;
            queried = state.QueriedTokens;
            hits = state.HitTokens;
        }

        var labels = $"engine=\"0\",model_name=\"{_options.ServedModel}\"";
        var text = new StringBuilder()
            .Append("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n")
            .Append(CultureInfo.InvariantCulture, $"process_start_time_seconds {state.StartedAt:F3}\n")
            .Append("# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\n")
            .Append(CultureInfo.InvariantCulture, $"vllm:num_requests_running{{{labels}}} {running}.0\n")
            .Append("# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n# TYPE vllm:num_requests_waiting gauge\n")
            .Append(CultureInfo.InvariantCulture, $"vllm:num_requests_waiting{{{labels}}} {waiting}.0\n")
            .Append("# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n# TYPE vllm:kv_cache_usage_perc gauge\n")
            .Append(CultureInfo.InvariantCulture, $"vllm:kv_cache_usage_perc{{{labels}}} {(double)used / state.Cache.Capacity}\n")
            .Append("# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.\n# TYPE vllm:prefix_cache_queries_total counter\n")
            .Append(CultureInfo.InvariantCulture, $"vllm:prefix_cache_queries_total{{{labels}}} {queried}.0\n")
            .Append("# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.\n# TYPE vllm:prefix_cache_hits_total counter\n")
            .Append(CultureInfo.InvariantCulture, $"vllm:prefix_cache_hits_total{{{labels}}} {hits}.0\n")
            .Append("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n")
            .Append(CultureInfo.InvariantCulture,
                $"vllm:cache_config_info{{block_size=\"{Simulator.BlockTokens}\",cache_dtype=\"auto\",enable_prefix_caching=\"True\",engine=\"0\",num_gpu_blocks=\"{state.Cache.Capacity}\"}} 1.0\n");
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await context.Response.WriteAsync(text.ToString(), cancellationToken);
    }

    /// <summary>The chained hashes of the prompt's full blocks, as vLLM hashes them (a partial last block is never cached).</summary>
    public ulong[] Chain(string text)
    {
        var blockChars = BlockChars;
        var chain = new ulong[text.Length / blockChars];
        var parent = 0UL;
        for (var i = 0; i < chain.Length; i++)
        {
            var block = MemoryMarshal.AsBytes(text.AsSpan(i * blockChars, blockChars));
            parent = chain[i] = XxHash3.HashToUInt64(block, (long)parent);
        }

        return chain;
    }

    public int PromptTokens(string text) => Math.Max(1, (text.Length + CharsPerToken - 1) / CharsPerToken);

    /// <summary>Full cached blocks, in tokens, and never the whole prompt: vLLM computes at least the last token.</summary>
    private int CachedTokens(int matchedBlocks, int promptTokens)
    {
        var tokens = matchedBlocks * Simulator.BlockTokens;
        var limit = (promptTokens - 1) / Simulator.BlockTokens * Simulator.BlockTokens;
        return Math.Max(0, Math.Min(tokens, limit));
    }

    private static async Task AdmitAsync(State state, CancellationToken cancellationToken)
    {
        TaskCompletionSource ticket;
        lock (state.Gate)
        {
            if (state.Running < state.MaxRunning)
            {
                state.Running++;
                return;
            }

            ticket = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            state.Waiting.Enqueue(ticket);
        }

        try
        {
            await ticket.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (state.Gate)
            {
                // Admitted at the same moment it gave up: hand the slot on. Otherwise leave the queue (rebuilt without it).
                if (ticket.Task.IsCompletedSuccessfully)
                {
                    state.Running--;
                }
                else
                {
                    var rest = state.Waiting.Where(t => t != ticket).ToList();
                    state.Waiting.Clear();
                    foreach (var t in rest)
                    {
                        state.Waiting.Enqueue(t);
                    }
                }

                ticket.TrySetCanceled(cancellationToken);
                if (state.Running < state.MaxRunning && state.Waiting.Count > 0)
                {
                    state.Running++;
                    state.Waiting.Dequeue().TrySetResult();
                }
            }

            throw;
        }
    }

    private async Task StreamAsync(
        HttpContext context, State state, bool chat, string id, long created, string model, List<string> answer, int promptTokens, int cachedTokens,
        bool includeUsage, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellationToken);
        if (chat)
        {
            await WriteEventAsync(response, Chunk(chat, id, created, model, string.Empty, null, role: true), cancellationToken);
        }

        var perChunk = Math.Max(1, Simulator.TokensPerChunk);
        for (var i = 0; i < answer.Count;)
        {
            // The first token comes out of the prefill and is sent at once (time to first token); the rest are decoded.
            var take = i == 0 ? 1 : Math.Min(perChunk, answer.Count - i);
            await DecodeAsync(state, i == 0 ? 0 : take, cancellationToken);
            var finish = i + take >= answer.Count ? "length" : null;
            await WriteEventAsync(response, Chunk(chat, id, created, model, string.Concat(answer.GetRange(i, take)), finish, role: false), cancellationToken);
            i += take;
        }

        if (includeUsage)
        {
            await WriteEventAsync(response, Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
                w.WriteNumber("created", created);
                w.WriteString("model", model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, promptTokens, answer.Count, cachedTokens);
                w.WriteEndObject();
            }), cancellationToken);
        }

        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private Task DecodeAsync(State state, int tokens, CancellationToken cancellationToken)
    {
        if (tokens <= 0)
        {
            return Task.CompletedTask;
        }

        int running;
        lock (state.Gate)
        {
            running = state.Running;
        }

        var perToken = Simulator.DecodeMillisPerToken + (Simulator.DecodeMillisPerRunning * running);
        return SimulateAsync(TimeSpan.FromMilliseconds(tokens * perToken), cancellationToken);
    }

    private Task SimulateAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var scaled = duration * Simulator.Slowdown;
        return scaled > TimeSpan.Zero ? Task.Delay(scaled, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>Deterministic words from the prompt, so that a client resending the answer hits the cached answer blocks.</summary>
    private static List<string> Answer(string prompt, int tokens)
    {
        var seed = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(prompt.AsSpan()));
        var words = new List<string>(tokens);
        for (var i = 0; i < tokens; i++)
        {
            seed = (seed * 6364136223846793005UL) + 1442695040888963407UL;
            var word = Words[(int)((seed >> 33) % (ulong)Words.Length)];
            words.Add(i == 0 ? word : " " + word);
        }

        return words;
    }

    private static int? ReadInt(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0 ? n : null;

    private static byte[] Completion(bool chat, string id, long created, string model, string text, int promptTokens, int completionTokens, int cachedTokens) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", chat ? "chat.completion" : "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
        }

        w.WriteString("finish_reason", "length");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, promptTokens, completionTokens, cachedTokens);
        w.WriteEndObject();
    });

    private static byte[] Chunk(bool chat, string id, long created, string model, string text, string? finish, bool role) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (chat)
        {
            w.WriteStartObject("delta");
            if (role)
            {
                w.WriteString("role", "assistant");
            }

            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
        }

        if (finish is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finish);
        }

        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteUsage(Utf8JsonWriter w, int promptTokens, int completionTokens, int cachedTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", promptTokens);
        w.WriteNumber("total_tokens", promptTokens + completionTokens);
        w.WriteNumber("completion_tokens", completionTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", cachedTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] json, CancellationToken cancellationToken)
    {
        var frame = new byte[json.Length + 8];
        "data: "u8.CopyTo(frame);
        json.CopyTo(frame, 6);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        await response.Body.WriteAsync(frame, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static async Task WriteJsonAsync(HttpContext context, byte[] body, CancellationToken cancellationToken, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, cancellationToken);
    }

    private static Task WriteErrorAsync(HttpContext context, string message, CancellationToken cancellationToken) =>
        WriteJsonAsync(context, Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", "BadRequestError");
            w.WriteNull("param");
            w.WriteNumber("code", 400);
            w.WriteEndObject();
            w.WriteEndObject();
        }), cancellationToken, status: 400);

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Everything a restart forgets.</summary>
    private sealed class State(SimulatorOptions options)
    {
        public Lock Gate { get; } = new();

        /// <summary>Unix seconds: what a restarted engine's process_start_time_seconds shows.</summary>
        public double StartedAt { get; } = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

        public BlockCache Cache { get; } = new(options.CacheBlocks);

        public int MaxRunning { get; } = Math.Max(1, options.MaxNumSeqs);

        public Queue<TaskCompletionSource> Waiting { get; } = new();

        public SemaphoreSlim PrefillLane { get; } = new(1, 1);

        public int Running { get; set; }

        public long QueriedTokens { get; set; }

        public long HitTokens { get; set; }

        public long Requests { get; set; }
    }
}
