using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Proxy.LoadTest;

/// <summary>The three load shapes. Every loop is bounded by the schedule and by a hard-stop token.</summary>
internal sealed class LoadRunner
{
    private const int MaxInFlight = 2000;
    private readonly LoadOptions _options;
    private readonly CancellationToken _hardStop;
    private readonly byte[] _body;
    private long _requests;
    private long _allRequests;
    private long _errors;
    private long _lastCompletion;
    private int _reportedFailures;
    private int _inFlight;

    public LoadRunner(LoadOptions options, CancellationToken hardStop)
    {
        _options = options;
        _hardStop = hardStop;
        _body = BuildBody(options);
    }

    public static byte[] BuildBody(LoadOptions options)
    {
        // messages before model, as the OpenAI SDKs serialise it: a router has to skip the prompt to find the model.
        var prompt = new StringBuilder(options.PromptChars);
        const string Filler = "The quick brown fox jumps over the lazy dog. ";
        while (prompt.Length < options.PromptChars)
        {
            prompt.Append(Filler, 0, Math.Min(Filler.Length, options.PromptChars - prompt.Length));
        }

        // The Responses API takes the same conversation as `input`; store false keeps the upstream's memory flat.
        var responses = options.Protocol == "responses";
        var json = new StringBuilder();
        json.Append(responses ? "{\"input\":" : "{\"messages\":").Append("[{\"role\":\"user\",\"content\":\"").Append(prompt).Append("\"}],\"model\":\"")
            .Append(options.Model.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))
            .Append(responses ? "\",\"store\":false,\"max_output_tokens\":" : "\",\"max_tokens\":").Append(options.MaxTokens);
        if (options.Mode == "stream")
        {
            json.Append(",\"stream\":true,\"fake_chunk_delay_ms\":").Append(options.ChunkDelayMs);
        }

        json.Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    public async Task<LoadResult> RunAsync()
    {
        var maxConnections = _options.Mode == "rate" ? MaxInFlight : _options.Connections;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        if (_options.Key is { } key)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var result = _options.Mode switch
        {
            "max" => await RunMaxAsync(client),
            "rate" => await RunRateAsync(client),
            _ => await RunStreamAsync(client),
        };
        return result;
    }

    private async Task<LoadResult> RunMaxAsync(HttpClient client)
    {
        var latency = new LatencyHistogram();
        var (measureFrom, end) = Window();
        var workers = new Task[_options.Connections];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(() => MaxWorkerAsync(client, latency, measureFrom, end));
        }

        await Task.WhenAll(workers);
        return Result(measureFrom, latency);
    }

    private async Task MaxWorkerAsync(HttpClient client, LatencyHistogram latency, long measureFrom, long end)
    {
        var buffer = new byte[16 * 1024];
        while (!_hardStop.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= end)
            {
                break;
            }

            var ok = await SendAsync(client, buffer, start, null);
            Complete(start >= measureFrom, ok, start, latency);
        }
    }

    private async Task<LoadResult> RunRateAsync(HttpClient client)
    {
        var fromSchedule = new LatencyHistogram();
        var fromSend = new LatencyHistogram();
        var (measureFrom, end) = Window();
        var origin = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / _options.Rate;
        var total = (long)Math.Floor((end - origin) / ticksPerRequest);
        long skipped = 0;
        long next = 0;
        while (next < total && !_hardStop.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            while (next < total)
            {
                var due = origin + (long)(next * ticksPerRequest);
                if (due > now)
                {
                    break;
                }

                var recorded = due >= measureFrom;
                if (Volatile.Read(ref _inFlight) >= MaxInFlight)
                {
                    if (recorded)
                    {
                        skipped++;
                    }
                }
                else
                {
                    Interlocked.Increment(ref _inFlight);
                    _ = RateRequestAsync(client, due, recorded, fromSchedule, fromSend);
                }

                next++;
            }

            if (next < total)
            {
                var waitMs = (origin + (long)(next * ticksPerRequest) - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1.0, waitMs)), CancellationToken.None);
            }
        }

        while (Volatile.Read(ref _inFlight) > 0 && !_hardStop.IsCancellationRequested)
        {
            await Task.Delay(5, CancellationToken.None);
        }

        Interlocked.Add(ref _requests, skipped);
        Interlocked.Add(ref _errors, skipped);
        var result = Result(measureFrom, fromSchedule);
        result.Extra["skipped"] = skipped;
        result.Extra["send_p50_ms"] = fromSend.PercentileMs(50);
        result.Extra["send_p90_ms"] = fromSend.PercentileMs(90);
        result.Extra["send_p99_ms"] = fromSend.PercentileMs(99);
        result.Extra["send_max_ms"] = fromSend.MaxMs;
        result.Extra["target_rate"] = _options.Rate;
        return result;
    }

    private async Task RateRequestAsync(
        HttpClient client, long due, bool recorded, LatencyHistogram fromSchedule, LatencyHistogram fromSend)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            // Leave the scheduler loop at once; the send time is taken when the request really starts.
            await Task.Yield();
            var sent = Stopwatch.GetTimestamp();
            var ok = await SendAsync(client, buffer, sent, null);
            var finished = Complete(recorded, ok, due, fromSchedule);
            if (recorded && ok)
            {
                fromSend.RecordTicks(finished - sent);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<LoadResult> RunStreamAsync(HttpClient client)
    {
        var total = new LatencyHistogram();
        var ttfb = new LatencyHistogram();
        var reads = new Histogram(100_000);
        var (measureFrom, end) = Window();
        var workers = new Task[_options.Connections];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(() => StreamWorkerAsync(client, total, ttfb, reads, measureFrom, end));
        }

        await Task.WhenAll(workers);
        var result = Result(measureFrom, total);
        result.Extra["ttfb_p50_ms"] = ttfb.PercentileMs(50);
        result.Extra["ttfb_p90_ms"] = ttfb.PercentileMs(90);
        result.Extra["ttfb_p99_ms"] = ttfb.PercentileMs(99);
        result.Extra["total_p50_ms"] = total.PercentileMs(50);
        result.Extra["total_p99_ms"] = total.PercentileMs(99);
        result.Extra["reads_p50"] = reads.Percentile(50);
        result.Extra["reads_min"] = reads.Percentile(0);
        result.Extra["reads_max"] = reads.Max;
        return result;
    }

    private async Task StreamWorkerAsync(
        HttpClient client, LatencyHistogram total, LatencyHistogram ttfb, Histogram reads, long measureFrom, long end)
    {
        var buffer = new byte[16 * 1024];
        var probe = new StreamProbe();
        while (!_hardStop.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= end)
            {
                break;
            }

            probe.Reset();
            var ok = await SendAsync(client, buffer, start, probe);
            var recorded = start >= measureFrom;
            Complete(recorded, ok, start, total);
            if (recorded && ok && probe.FirstByte > 0)
            {
                ttfb.RecordTicks(probe.FirstByte - start);
                reads.Record(probe.Reads);
            }
        }
    }

    /// <summary>One POST over the shared body; reads the response to the end. False on non-200 or failure.</summary>
    private async Task<bool> SendAsync(HttpClient client, byte[] buffer, long start, StreamProbe? probe)
    {
        try
        {
            using var content = new ByteArrayContent(_body);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url)
            {
                Content = content,
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _hardStop);
            await using var stream = await response.Content.ReadAsStreamAsync(_hardStop);
            while (await stream.ReadAsync(buffer, _hardStop) > 0)
            {
                probe?.OnRead();
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                ReportFailure($"HTTP {(int)response.StatusCode}");
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or OperationCanceledException)
        {
            if (!_hardStop.IsCancellationRequested)
            {
                ReportFailure(e.GetType().Name + ": " + e.Message);
                if (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(1))
                {
                    // Refused connections fail instantly: do not spin a core on them.
                    await Task.Delay(1, CancellationToken.None);
                }
            }

            return false;
        }
    }

    private long Complete(bool recorded, bool ok, long from, LatencyHistogram latency)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _allRequests);
        if (!recorded)
        {
            return now;
        }

        Interlocked.Increment(ref _requests);
        if (ok)
        {
            latency.RecordTicks(now - from);
        }
        else
        {
            Interlocked.Increment(ref _errors);
        }

        var last = Interlocked.Read(ref _lastCompletion);
        while (now > last)
        {
            var previous = Interlocked.CompareExchange(ref _lastCompletion, now, last);
            if (previous == last)
            {
                break;
            }

            last = previous;
        }

        return now;
    }

    private void ReportFailure(string message)
    {
        if (Interlocked.Increment(ref _reportedFailures) <= 5)
        {
            Console.Error.WriteLine($"request failed: {message}");
        }
    }

    private (long MeasureFrom, long End) Window()
    {
        var now = Stopwatch.GetTimestamp();
        var measureFrom = now + (long)(_options.Warmup * Stopwatch.Frequency);
        return (measureFrom, measureFrom + (long)(_options.Duration * Stopwatch.Frequency));
    }

    private LoadResult Result(long measureFrom, LatencyHistogram latency)
    {
        var last = Interlocked.Read(ref _lastCompletion);
        var seconds = last > measureFrom ? (last - measureFrom) / (double)Stopwatch.Frequency : _options.Duration;
        var requests = Interlocked.Read(ref _requests);
        return new LoadResult
        {
            Mode = _options.Mode,
            Url = _options.Url.ToString(),
            Requests = requests,
            AllRequests = Interlocked.Read(ref _allRequests),
            Errors = Interlocked.Read(ref _errors),
            Seconds = seconds,
            Rps = requests / seconds,
            P50Ms = latency.PercentileMs(50),
            P90Ms = latency.PercentileMs(90),
            P99Ms = latency.PercentileMs(99),
            MaxMs = latency.MaxMs,
            Connections = _options.Mode == "rate" ? 0 : _options.Connections,
            PromptChars = _options.PromptChars,
        };
    }

    /// <summary>Per-worker stream observations, reused across requests.</summary>
    private sealed class StreamProbe
    {
        public long FirstByte { get; private set; }

        public int Reads { get; private set; }

        public void Reset()
        {
            FirstByte = 0;
            Reads = 0;
        }

        public void OnRead()
        {
            if (Reads == 0)
            {
                FirstByte = Stopwatch.GetTimestamp();
            }

            Reads++;
        }
    }
}
