using BenchmarkDotNet.Attributes;
using Proxy.Abstractions;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Streaming;

namespace Proxy.Benchmarks;

/// <summary>The cache's per-request work: the key (canonical pass + SHA-256) on every cached request, the SSE replay on streamed hits.</summary>
[MemoryDiagnoser]
public class CacheKeyBenchmarks
{
    private static readonly byte[] StoredCompletion =
        """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"qwen3","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog and runs away. The quick brown fox jumps over the lazy dog."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":24,"total_tokens":274}}"""u8.ToArray();

    private byte[] _body = [];

    [Params(RequestBodyKind.Small, RequestBodyKind.SdkOrder12K, RequestBodyKind.Prompt100K, RequestBodyKind.ToolCall)]
    public RequestBodyKind Body { get; set; }

    [GlobalSetup]
    public void Setup() => _body = RequestBodies.Create(Body);

    [Benchmark(Baseline = true)]
    public string? Key()
    {
        var control = default(CacheControl);
        return CacheKeyBuilder.Build(_body, OpenAiEndpoint.ChatCompletions, "qwen3", null, ref control);
    }

    [Benchmark]
    public int ReplayAsStream()
    {
        using var output = new ArrayPoolBufferWriter();
        CachedResponseWriter.TryRenderStream(StoredCompletion, includeUsage: true, output);
        return output.WrittenCount;
    }
}
