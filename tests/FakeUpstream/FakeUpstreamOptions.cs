using FakeUpstream.Fleet;

namespace FakeUpstream;

/// <summary>
/// Behaviour of a <see cref="FakeUpstreamServer"/>. Mutable at run time: every request reads the current values.
/// Per-request overrides come from <c>x-fake-*</c> headers and <c>fake_*</c> body fields (body wins over header, header over these options).
/// </summary>
public sealed class FakeUpstreamOptions
{
    /// <summary>What /v1/models lists; responses echo the request's model.</summary>
    public string ServedModel { get; set; } = "fake-model";

    /// <summary>Headers added to every response (e.g. Set-Cookie or Server, to test what the gateway lets through).</summary>
    public Dictionary<string, string> ResponseHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Context check: prompt tokens + max_tokens above this gets vLLM's 400.</summary>
    public int MaxModelLen { get; set; } = 4096;

    /// <summary>Prompt tokens = ceil(prompt chars / CharsPerToken), at least 1.</summary>
    public double CharsPerToken { get; set; } = 4.0;

    /// <summary>Completion tokens when the request has no max_tokens / max_completion_tokens.</summary>
    public int DefaultCompletionTokens { get; set; } = 16;

    /// <summary>Delay before the response headers (time to first token).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Delay between streamed chunks.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>Every POST answers this status with vLLM's error body.</summary>
    public int? FailStatus { get; set; }

    /// <summary>
    /// Chat answers a request whose last message mentions "weather" and that has tools with a call of its first tool, as
    /// the fake Responses API does (for tests whose client cannot send x-fake-tool-call through the gateway).
    /// </summary>
    public bool ToolCallOnWeather { get; set; }

    /// <summary>Above zero: a Retry-After header on 429 and 503 answers.</summary>
    public int RetryAfterSeconds { get; set; }

    /// <summary>Fraction of POSTs answered 429, at random.</summary>
    public double Rate429 { get; set; }

    /// <summary>Fraction of POSTs answered 500, at random.</summary>
    public double Rate500 { get; set; }

    /// <summary>Fraction of POSTs answered 503, at random.</summary>
    public double Rate503 { get; set; }

    /// <summary>POSTs never answer (until the client gives up or the server stops).</summary>
    public bool Hang { get; set; }

    /// <summary>POSTs abort the connection before any response byte.</summary>
    public bool DropConnection { get; set; }

    /// <summary>Streams abort the connection after sending this many chunks.</summary>
    public int? DropAfterChunks { get; set; }

    /// <summary>False: nested {"error":{...}} bodies (vLLM 0.10 and later); true: the older flat {"object":"error",...}.</summary>
    public bool FlatErrors { get; set; }

    /// <summary>Content of every completion; null: deterministic words.</summary>
    public string? FixedContent { get; set; }

    /// <summary>A non-streamed chat answer sent as it is (several choices, tool calls, reasoning); null: generated.</summary>
    public string? RawChatResponse { get; set; }

    /// <summary>Length of every embedding vector.</summary>
    public int EmbeddingDimensions { get; set; } = 8;

    /// <summary>How embedding vectors are made; <see cref="FakeEmbeddingMode.BagOfWords"/> for semantic cache tests.</summary>
    public FakeEmbeddingMode EmbeddingMode { get; set; }

    /// <summary>Play Llama Guard 3 on chat/completions and serve POST /v1/moderations.</summary>
    public bool Guard { get; set; }

    /// <summary>Text matching this regex is judged unsafe in guard mode.</summary>
    public string GuardPattern { get; set; } = @"(?i)\bkill|\bbomb|炸弹";

    /// <summary>The Llama Guard category of unsafe text (S1 ... S14).</summary>
    public string GuardCategory { get; set; } = "S1";

    /// <summary>Fleet-simulator mode: chat/completions and completions are served by a simulated vLLM engine with a prefix cache.</summary>
    public SimulatorOptions? Simulator { get; set; }

    /// <summary>Play Anthropic itself on /v1/messages: x-api-key and anthropic-version are required (vLLM asks for neither).</summary>
    public bool AnthropicHeadersRequired { get; set; }

    /// <summary>Azure OpenAI: chat whose prompt matches <see cref="GuardPattern"/> gets Azure's content_filter 400.</summary>
    public bool AzureContentFilter { get; set; }

    /// <summary>Guard mode answers nonsense: Llama Guard says neither safe nor unsafe, /v1/moderations has no results.</summary>
    public bool GuardMalformed { get; set; }
}
