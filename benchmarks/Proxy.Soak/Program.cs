using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Proxy.Soak;

/// <summary>
/// The soak's load: an open loop at a fixed rate of mixed chat traffic against a gateway on loopback, bounded by
/// --duration (and a hard stop 120 s after it). Request i is, by i mod 20: 0-5 a stream (usage asked for), 6-12 a
/// non-streamed request whose prompt is one of 20 (cache hits after the first of each), 13-19 a non-streamed request
/// with a prompt of its own (a cache miss); its key is keys[i mod keys]. Every answer is checked: 200, and a stream
/// must end with data: [DONE] and carry no error event. Prints one JSON summary line (SOAKJSON {...}).
/// </summary>
internal static class Program
{
    private const int MaxInFlight = 2000;

    private static long s_sent;
    private static long s_ok;
    private static long s_streamsOk;
    private static long s_exceptions;
    private static long s_skipped;
    private static long s_badStreams;
    private static int s_inFlight;
    private static readonly Dictionary<int, long> s_codes = [];
    private static readonly Lock s_gate = new();
    private static string? s_firstError;

    public static async Task<int> Main(string[] args)
    {
        string url = "", model = "fake-model";
        string[] keys = [];
        double rate = 300, duration = 3600;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": url = Next(); break;
                case "--keys": keys = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--model": model = Next(); break;
                case "--rate": rate = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--duration": duration = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine("usage: Proxy.Soak --url URL --keys K1,K2 [--rate R] [--duration S] [--model M]"); return 2;
            }
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IPAddress.TryParse(uri.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            Console.Error.WriteLine("--url must be an http URL on a loopback address");
            return 2;
        }

        if (keys.Length == 0 || rate is <= 0 or > 5000 || duration is <= 0 or > 24 * 3600)
        {
            Console.Error.WriteLine("--keys is required; --rate in (0, 5000]; --duration in (0, 86400]");
            return 2;
        }

        using var hardStop = new CancellationTokenSource(TimeSpan.FromSeconds(duration + 120));
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = MaxInFlight, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false, UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var origin = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / rate;
        var total = (long)(duration * rate);
        var pending = new List<Task>();
        for (long next = 0; next < total && !hardStop.IsCancellationRequested;)
        {
            var now = Stopwatch.GetTimestamp();
            while (next < total && origin + (long)(next * ticksPerRequest) <= now)
            {
                if (Volatile.Read(ref s_inFlight) >= MaxInFlight)
                {
                    Interlocked.Increment(ref s_skipped);
                }
                else
                {
                    Interlocked.Increment(ref s_inFlight);
                    pending.Add(SendAsync(client, url, model, keys, next, hardStop.Token));
                }

                next++;
            }

            if (pending.Count > 4096)
            {
                pending.RemoveAll(task => task.IsCompleted);
            }

            await Task.Delay(1, hardStop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(hardStop.Token);
        }
        catch (OperationCanceledException)
        {
            // The hard stop: what is still in flight is reported as not answered.
        }

        var elapsed = Stopwatch.GetElapsedTime(origin).TotalSeconds;
        Dictionary<string, long> codes;
        lock (s_gate)
        {
            codes = s_codes.ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value);
        }

        var summary = new Dictionary<string, object?>
        {
            ["sent"] = s_sent, ["ok"] = s_ok, ["streams_ok"] = s_streamsOk, ["bad_streams"] = s_badStreams, ["exceptions"] = s_exceptions,
            ["skipped"] = s_skipped, ["in_flight_at_end"] = Volatile.Read(ref s_inFlight), ["codes"] = codes, ["first_error"] = s_firstError,
            ["elapsed_s"] = Math.Round(elapsed, 1), ["rate"] = rate,
        };
        Console.WriteLine("SOAKJSON " + JsonSerializer.Serialize(summary));
        return 0;
    }

    private static async Task SendAsync(HttpClient client, string url, string model, string[] keys, long i, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var slot = (int)(i % 20);
        var stream = slot < 6;
        // Hits: one of 20 prompts repeated; misses and streams: a prompt of their own.
        var prompt = slot is >= 6 and <= 12 ? $"Soak question number {i % 20}: what is the capital of France?" : $"Soak request {i}: tell me something new.";
        var body = new StringBuilder(256)
            .Append("{\"messages\":[{\"role\":\"user\",\"content\":\"").Append(prompt).Append("\"}],\"model\":\"").Append(model)
            .Append("\",\"max_tokens\":20").Append(stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}" : "}").ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[i % keys.Length]);
        Interlocked.Increment(ref s_sent);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var code = (int)response.StatusCode;
            lock (s_gate)
            {
                s_codes[code] = s_codes.GetValueOrDefault(code) + 1;
            }

            if (code != 200)
            {
                Interlocked.CompareExchange(ref s_firstError, $"{code}: {text[..Math.Min(300, text.Length)]}", null);
                return;
            }

            if (stream && (!text.Contains("data: [DONE]", StringComparison.Ordinal) || text.Contains("\"error\"", StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref s_badStreams);
                Interlocked.CompareExchange(ref s_firstError, "stream: " + text[Math.Max(0, text.Length - 300)..], null);
                return;
            }

            Interlocked.Increment(ref s_ok);
            if (stream)
            {
                Interlocked.Increment(ref s_streamsOk);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            Interlocked.Increment(ref s_exceptions);
            Interlocked.CompareExchange(ref s_firstError, ex.GetType().Name + ": " + ex.Message, null);
        }
        finally
        {
            Interlocked.Decrement(ref s_inFlight);
        }
    }
}
