using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using FakeUpstream.Fleet;

namespace FleetBench;

/// <summary>What one request saw, from the client's side.</summary>
internal sealed record Outcome(bool Measured, bool Ok, double TtftMs, double E2EMs, int Prompt, int Cached, int Completion, string Deployment);

/// <summary>
/// Drives one workload against the gateway replicas (or, for the oracle, straight at the engines): Poisson arrivals at
/// the workload's rate from a fixed seed, streamed requests, time to first content token measured at the client, and the
/// engines' true load sampled every 50 ms.
/// </summary>
internal sealed class Runner(HttpClient http, IReadOnlyList<FakeUpstreamServer> engines)
{
    public const string Key = "sk-fleet-bench";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(120);

    public async Task<RunResult> RunAsync(Workload workload, IReadOnlyList<string>? gateways, ulong seed, bool sendSessionIds)
    {
        var random = new SeededRandom(seed);
        var pick = new SeededRandom(seed ^ 0xA5A5A5A5UL);
        var outcomes = new ConcurrentBag<Outcome>();
        var total = workload.WarmUp + workload.Measured;
        var inFlight = new List<Task>(total);
        var loads = new double[engines.Count];
        var samples = 0;
        using var stopSampling = new CancellationTokenSource();
        var measuringFrom = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sampler = SampleAsync(loads, () => samples++, measuringFrom.Task, stopSampling.Token);
        var clock = Stopwatch.StartNew();
        var next = 0.0;
        var generate = new Lock();
        for (var i = 0; i < total; i++)
        {
            next += random.NextArrival(workload.Rate);
            var wait = TimeSpan.FromSeconds(next) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            if (i == workload.WarmUp)
            {
                measuringFrom.TrySetResult(Stopwatch.GetTimestamp());
            }

            FleetRequest request;
            lock (generate)
            {
                request = workload.Next(random);
            }

            var measured = i >= workload.WarmUp;
            var target = gateways is null ? null : gateways[pick.Next(gateways.Count)];
            inFlight.Add(SendAsync(workload, request, target, measured, sendSessionIds, outcomes, generate));
        }

        var lastSent = clock.Elapsed;
        await Task.WhenAll(inFlight);
        var elapsed = clock.Elapsed;
        await stopSampling.CancelAsync();
        await sampler;
        var measuredOutcomes = outcomes.Where(o => o.Measured).ToList();
        var warmUpSeconds = TimeSpan.FromSeconds(next) * ((double)workload.WarmUp / total);
        return new RunResult(measuredOutcomes, samples == 0 ? loads : [.. loads.Select(l => l / samples)], (elapsed - warmUpSeconds).TotalSeconds, lastSent.TotalSeconds);
    }

    /// <summary>Short requests through one gateway until its hot paths are compiled; not measured.</summary>
    public async Task WarmUpAsync(string gateway, int requests)
    {
        var workload = new UniquePrompts(1000, 0, requests);
        var random = new SeededRandom(1);
        var sink = new ConcurrentBag<Outcome>();
        var generate = new Lock();
        for (var i = 0; i < requests; i += 4)
        {
            var batch = new List<Task>();
            for (var j = 0; j < 4; j++)
            {
                var request = new FleetRequest([("user", $"warm-up {i + j}")], $"warm-{i + j}", 2, null);
                batch.Add(SendAsync(workload, request, gateway, measured: false, sendSessionIds: true, sink, generate));
            }

            await Task.WhenAll(batch);
        }
    }

    private async Task SendAsync(Workload workload, FleetRequest request, string? gateway, bool measured, bool sendSessionIds, ConcurrentBag<Outcome> outcomes, Lock generate)
    {
        var started = Stopwatch.GetTimestamp();
        var deployment = "";
        var baseUrl = gateway is null ? null : gateway + "/v1";
        if (gateway is null)
        {
            var engine = Oracle.Pick(engines, PromptRenderer.Chat(request.Messages));
            baseUrl = engines[engine].BaseUrl;
            deployment = "e" + engine;
        }

        var answer = new StringBuilder();
        int prompt = 0, cached = 0, completion = 0;
        var ttft = double.NaN;
        var ok = false;
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/chat/completions") { Content = Body(request) };
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            if (sendSessionIds)
            {
                message.Headers.Add("x-litellm-session-id", request.SessionId);
            }

            using var timeout = new CancellationTokenSource(RequestTimeout);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.Headers.TryGetValues("x-litellm-model-id", out var ids))
            {
                deployment = ids.First();
            }

            if (response.IsSuccessStatusCode)
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (!line.StartsWith("data: {", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    using var json = JsonDocument.Parse(line.AsMemory(6));
                    var root = json.RootElement;
                    if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    {
                        prompt = usage.GetProperty("prompt_tokens").GetInt32();
                        completion = usage.GetProperty("completion_tokens").GetInt32();
                        cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
                            ? details.GetProperty("cached_tokens").GetInt32()
                            : 0;
                    }

                    if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                        && choices[0].GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 } piece)
                    {
                        if (double.IsNaN(ttft))
                        {
                            ttft = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        }

                        answer.Append(piece);
                    }
                }

                ok = prompt > 0 && !double.IsNaN(ttft);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or JsonException)
        {
            ok = false;
        }

        lock (generate)
        {
            workload.Completed(request, answer.ToString());
        }

        outcomes.Add(new Outcome(measured, ok, ttft, Stopwatch.GetElapsedTime(started).TotalMilliseconds, prompt, cached, completion, deployment));
    }

    private async Task SampleAsync(double[] loads, Action counted, Task<long> measuring, CancellationToken stop)
    {
        try
        {
            await measuring.WaitAsync(stop);
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < engines.Count; i++)
                {
                    loads[i] += engines[i].Engine!.Load;
                }

                counted();
                await Task.Delay(50, stop);
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }

    private static StringContent Body(FleetRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", "fleet");
            json.WriteStartArray("messages");
            foreach (var (role, content) in request.Messages)
            {
                json.WriteStartObject();
                json.WriteString("role", role);
                json.WriteString("content", content);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("max_tokens", request.MaxTokens);
            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return new StringContent(Encoding.UTF8.GetString(buffer.ToArray()), Encoding.UTF8, "application/json");
    }
}

/// <summary>The results of one run.</summary>
internal sealed record RunResult(List<Outcome> Outcomes, double[] MeanLoads, double MeasuredSeconds, double SendingSeconds)
{
    /// <summary>The gateways' routing decisions by kind ("" for strategies that make none).</summary>
    public string Decisions { get; init; } = "";
}
