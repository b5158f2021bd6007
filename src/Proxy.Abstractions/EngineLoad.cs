namespace Proxy.Abstractions;

/// <summary>
/// What the last scrape of a vLLM deployment's <c>/metrics</c> said (router_settings.vllm_metrics_interval): its queue,
/// its KV cache use and its cache geometry. Written by the background scraper only, read by the routing policies without
/// a lock (a torn read skews one pick). One instance per deployment, kept across reloads with its <see cref="DeploymentStats"/>.
/// </summary>
public sealed class EngineLoad
{
    private int _running;
    private int _waiting;
    private int _inFlightAtScrape;
    private long _freshUntil;
    private double _kvCacheUsage;
    private int _blockSize;
    private int _gpuBlocks;
    private double _startTime;
    private int _restarts;
    private long _scrapes;
    private long _failures;
    private double _localShare = 1;

    /// <summary>vllm:num_requests_running at the last scrape (summed over the engine's series).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>vllm:num_requests_waiting at the last scrape.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The gateway's own requests in flight to the deployment when the scrape was taken (already in the gauges).</summary>
    public int InFlightAtScrape => Volatile.Read(ref _inFlightAtScrape);

    /// <summary>TimeProvider timestamp after which the scrape is too old to use; 0 = never scraped.</summary>
    public long FreshUntil => Volatile.Read(ref _freshUntil);

    /// <summary>vllm:kv_cache_usage_perc (0..1).</summary>
    public double KvCacheUsage => Volatile.Read(ref _kvCacheUsage);

    /// <summary>block_size label of vllm:cache_config_info (tokens per KV block); 0 when unknown.</summary>
    public int BlockSize => Volatile.Read(ref _blockSize);

    /// <summary>num_gpu_blocks label of vllm:cache_config_info; 0 when unknown.</summary>
    public int GpuBlocks => Volatile.Read(ref _gpuBlocks);

    /// <summary>Times the engine's process_start_time_seconds changed between scrapes: restarts, each of which empties its cache.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>
    /// The share of the engine's requests (running + waiting) that came through this gateway, smoothed over the last ten
    /// or so scrapes: about 1 when this is the only router in front of it, 1/N with N replicas. 1 until scraped.
    /// </summary>
    public double LocalShare => Volatile.Read(ref _localShare);

    public long Scrapes => Volatile.Read(ref _scrapes);

    public long Failures => Volatile.Read(ref _failures);

    public void Update(int running, int waiting, double kvCacheUsage, int blockSize, int gpuBlocks, int inFlightAtScrape, long freshUntil, double startTime = 0)
    {
        if (startTime > 0)
        {
            var previous = Volatile.Read(ref _startTime);
            if (previous > 0 && startTime != previous)
            {
                Interlocked.Increment(ref _restarts);
            }

            Volatile.Write(ref _startTime, startTime);
        }

        Volatile.Write(ref _running, running);
        Volatile.Write(ref _waiting, waiting);
        Volatile.Write(ref _kvCacheUsage, kvCacheUsage);
        if (blockSize > 0 && gpuBlocks > 0)
        {
            Volatile.Write(ref _blockSize, blockSize);
            Volatile.Write(ref _gpuBlocks, gpuBlocks);
        }

        Volatile.Write(ref _inFlightAtScrape, inFlightAtScrape);
        if (running + waiting > 0)
        {
            // Only the scraper writes, so a plain read-modify-write is safe. An idle engine says nothing about the share.
            var share = Math.Clamp((double)inFlightAtScrape / (running + waiting), 0, 1);
            Volatile.Write(ref _localShare, _localShare + (0.1 * (share - _localShare)));
        }

        Volatile.Write(ref _freshUntil, freshUntil);
        Interlocked.Increment(ref _scrapes);
    }

    /// <summary>A failed scrape: the gauges stop counting (routing falls back to the gateway's own counts) until the next success.</summary>
    public void Failed()
    {
        Volatile.Write(ref _freshUntil, 0);
        Interlocked.Increment(ref _failures);
    }
}
