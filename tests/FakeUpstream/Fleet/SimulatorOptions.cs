namespace FakeUpstream.Fleet;

/// <summary>
/// The fake vLLM engine behind a <see cref="FakeUpstreamServer"/> in fleet-simulator mode (<c>--prefix-cache-blocks N</c>):
/// a prefix cache, a scheduler and simulated GPU time. Defaults give a small GPU: 2,048 blocks of 16 tokens (32k tokens).
/// </summary>
public sealed class SimulatorOptions
{
    /// <summary>KV cache size in blocks (vLLM's num_gpu_blocks).</summary>
    public int CacheBlocks { get; set; } = 2048;

    /// <summary>Tokens per KV block (vLLM's block_size).</summary>
    public int BlockTokens { get; set; } = 16;

    /// <summary>Requests running at once (vLLM's max_num_seqs); the rest wait in a FIFO queue.</summary>
    public int MaxNumSeqs { get; set; } = 8;

    /// <summary>Prefill time per uncached prompt token; prefills run one at a time, as they share the GPU's compute.</summary>
    public double PrefillMicrosPerToken { get; set; } = 15;

    /// <summary>Decode time per output token with one request running.</summary>
    public double DecodeMillisPerToken { get; set; } = 2;

    /// <summary>Extra decode time per output token for each request running (the batch gets slower as it grows).</summary>
    public double DecodeMillisPerRunning { get; set; } = 0.25;

    /// <summary>Output tokens per streamed SSE chunk (saves CPU; simulated time is the same).</summary>
    public int TokensPerChunk { get; set; } = 8;

    /// <summary>Multiplies every simulated duration (2 = a GPU half as fast).</summary>
    public double Slowdown { get; set; } = 1;
}
