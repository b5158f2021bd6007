using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Fleet;

/// <summary>
/// What the prefix-cache-aware strategy has learned about one deployment: its <see cref="PrefixIndex"/>, the size of its
/// cache, prompt bytes per token, and whether its answers still show the hits the index predicts.
/// </summary>
internal sealed class DeploymentCacheState
{
    /// <summary>Index capacity before vLLM's cache_config_info is known: ≈ 512k tokens, a mid-size model on one 80 GB GPU.</summary>
    public const int DefaultCapacityBlocks = 32_768;

    /// <summary>Predictions from this many blocks up count for restart detection; shorter ones are noise.</summary>
    public const int RestartEvidenceBlocks = 4;

    /// <summary>Consecutive answers with no cached tokens where the index predicted a hit: the engine lost its cache.</summary>
    public const int ZeroHitsBeforeDrop = 3;

    /// <summary>The time constant of <see cref="SmoothLoad"/>.</summary>
    public const double LoadSmoothingSeconds = 1.0;

    private const double MinCapacityScale = 1.0 / 16;
    private readonly Lock _gate = new();
    private double _bytesPerToken = 4.0;
    private double _capacityScale = 1.0;
    private int _baseCapacity = DefaultCapacityBlocks;
    private int _zeroHits;
    private int _restartsSeen;
    private double _smoothedLoad;
    private long _smoothedAt;

    public DeploymentCacheState(string deploymentId)
    {
        IdHash = Rendezvous.HashId(deploymentId);
        Index = new PrefixIndex(DefaultCapacityBlocks);
    }

    public ulong IdHash { get; }

    public PrefixIndex Index { get; }

    /// <summary>Prompt bytes per token, learned from usage.prompt_tokens (the JSON around the text included).</summary>
    public double BytesPerToken => Volatile.Read(ref _bytesPerToken);

    /// <summary>How many times the index was dropped because the engine's hits stopped (a restart).</summary>
    public int Drops { get; private set; }

    /// <summary>
    /// The deployment's load averaged over about the last <see cref="LoadSmoothingSeconds"/> (an exponential average of
    /// the loads seen at each pick: arrivals sample it fairly), updated with <paramref name="load"/> now. This is the load
    /// an operator's dashboard shows and the bounded-load rule holds to; a burst shorter than that does not move a
    /// conversation off its cache. Lock-free: a race between two picks loses one sample.
    /// </summary>
    public double SmoothLoad(int load, long now, long frequency)
    {
        var last = Volatile.Read(ref _smoothedAt);
        var smoothed = Volatile.Read(ref _smoothedLoad);
        if (last == 0)
        {
            smoothed = load;
        }
        else if (now > last)
        {
            var alpha = 1 - Math.Exp(-(now - last) / (LoadSmoothingSeconds * frequency));
            smoothed += alpha * (load - smoothed);
        }
        else
        {
            return smoothed;
        }

        Volatile.Write(ref _smoothedLoad, smoothed);
        Volatile.Write(ref _smoothedAt, Math.Max(now, 1));
        return smoothed;
    }

    /// <summary>Drops the index when the engine's restart count (from its scraped process start time) has moved on.</summary>
    public void NoteRestarts(int restarts)
    {
        if (Volatile.Read(ref _restartsSeen) == restarts || Interlocked.Exchange(ref _restartsSeen, restarts) == restarts)
        {
            return;
        }

        lock (_gate)
        {
            Drops++;
            Index.Clear();
        }
    }

    /// <summary>Prompt tokens that <paramref name="blocks"/> leading blocks of a prompt of <paramref name="promptBytes"/> cover.</summary>
    public int TokensFor(int blocks, int promptBytes) =>
        (int)(Math.Min((long)blocks * PromptBlocks.BlockBytes, promptBytes) / BytesPerToken);

    public void LearnScale(int promptBytes, int promptTokens)
    {
        if (promptTokens <= 0 || promptBytes <= 0)
        {
            return;
        }

        lock (_gate)
        {
            // A slow average: one odd request (a long tool schema, an image) must not swing every prediction.
            var sample = Math.Clamp((double)promptBytes / promptTokens, 1, 16);
            _bytesPerToken += 0.1 * (sample - _bytesPerToken);
        }
    }

    /// <summary>Sizes the index from the engine's cache (vllm:cache_config_info: num_gpu_blocks × block_size tokens) when scraped.</summary>
    public void SyncCapacity(EngineLoad engine)
    {
        lock (_gate)
        {
            if (engine.GpuBlocks > 0 && engine.BlockSize > 0)
            {
                var bytes = (double)engine.GpuBlocks * engine.BlockSize * _bytesPerToken;
                _baseCapacity = (int)Math.Clamp(bytes / PromptBlocks.BlockBytes, 64, 1 << 24);
            }

            ApplyCapacity();
        }
    }

    /// <summary>
    /// Compares the prediction with the answer's cached tokens. Over-predicted: the engine evicts sooner than the index
    /// does, so the index's capacity shrinks (and grows back slowly while predictions hold). No hits at all, several
    /// times in a row, where hits were predicted: the engine restarted or reset its cache, and the index is dropped.
    /// </summary>
    public CacheFeedback Learn(int predictedTokens, int cachedTokens, int predictedBlocks)
    {
        lock (_gate)
        {
            if (cachedTokens == 0 && predictedBlocks >= RestartEvidenceBlocks)
            {
                if (++_zeroHits >= ZeroHitsBeforeDrop)
                {
                    _zeroHits = 0;
                    Drops++;
                    Index.Clear();
                    return CacheFeedback.Dropped;
                }
            }
            else if (cachedTokens > 0)
            {
                _zeroHits = 0;
            }

            // Two blocks of slack for the partial last block and the template around the text, plus an eighth.
            var tolerance = TokensFor(2, int.MaxValue) + (predictedTokens / 8);
            if (cachedTokens + tolerance < predictedTokens)
            {
                _capacityScale = Math.Max(MinCapacityScale, _capacityScale * 0.9);
                ApplyCapacity();
                return CacheFeedback.OverPredicted;
            }

            if (_capacityScale < 1 && predictedBlocks > 0)
            {
                _capacityScale = Math.Min(1, _capacityScale * 1.02);
                ApplyCapacity();
            }

            return CacheFeedback.Held;
        }
    }

    private void ApplyCapacity()
    {
        var capacity = Math.Max(64, (int)(_baseCapacity * _capacityScale));
        if (Math.Abs(capacity - Index.Capacity) * 100L > capacity)
        {
            Index.SetCapacity(capacity);
        }
    }
}
