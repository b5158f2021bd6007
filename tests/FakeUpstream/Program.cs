using System.Globalization;
using System.Runtime.InteropServices;

namespace FakeUpstream;

/// <summary>Runs a fake vLLM server until Ctrl-C or SIGTERM.</summary>
internal static class Program
{
    private const string Usage = """
        usage: FakeUpstream [options]
          --port N              listen on 127.0.0.1:N (default 8000; 0 = any free port)
          --model NAME          served model name (default fake-model)
          --tokens N            completion tokens when the request has no max_tokens (default 16)
          --max-model-len N     context length (default 4096)
          --latency-ms N        delay before the response headers
          --chunk-delay-ms N    delay between streamed chunks
          --rate-429 F          fraction of POSTs answered 429 (also --rate-500, --rate-503)
          --retry-after S       Retry-After seconds on 429/503
          --flat-errors         old flat {"object":"error"} error bodies
          --guard               play Llama Guard 3 and serve /v1/moderations
          --embedding MODE      hash (default) or bag-of-words (similarity follows shared words)
          --embedding-dims N    length of embedding vectors (default 8)
        fleet simulator (a fake vLLM engine with a prefix cache, scheduler and simulated GPU time):
          --prefix-cache-blocks N   turn it on with a KV cache of N blocks (vLLM's num_gpu_blocks)
          --block-tokens N          tokens per block (default 16)
          --max-num-seqs N          requests running at once, the rest queue FIFO (default 8)
          --prefill-us-per-token F  prefill time per uncached prompt token (default 15)
          --decode-ms-per-token F   decode time per output token (default 2)
          --decode-ms-per-running F extra decode time per token per running request (default 0.25)
          --slowdown F              multiply every simulated time (2 = half as fast)
          --instances N             N engines on ports port, port+1, ... (default 1)
          --help                this text
        """;

    private static FakeUpstreamOptions Copy(FakeUpstreamOptions options) => new()
    {
        ServedModel = options.ServedModel,
        MaxModelLen = options.MaxModelLen,
        DefaultCompletionTokens = options.DefaultCompletionTokens,
        Latency = options.Latency,
        ChunkDelay = options.ChunkDelay,
        Rate429 = options.Rate429,
        Rate500 = options.Rate500,
        Rate503 = options.Rate503,
        RetryAfterSeconds = options.RetryAfterSeconds,
        FlatErrors = options.FlatErrors,
        Guard = options.Guard,
        Simulator = options.Simulator is { } s
            ? new Fleet.SimulatorOptions
            {
                CacheBlocks = s.CacheBlocks,
                BlockTokens = s.BlockTokens,
                MaxNumSeqs = s.MaxNumSeqs,
                PrefillMicrosPerToken = s.PrefillMicrosPerToken,
                DecodeMillisPerToken = s.DecodeMillisPerToken,
                DecodeMillisPerRunning = s.DecodeMillisPerRunning,
                TokensPerChunk = s.TokensPerChunk,
                Slowdown = s.Slowdown,
            }
            : null,
    };

    public static async Task<int> Main(string[] args)
    {
        var options = new FakeUpstreamOptions();
        var port = 8000;
        var instances = 1;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var name = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value");
                int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
                double NextDouble() => double.Parse(Next(), CultureInfo.InvariantCulture);
                switch (name)
                {
                    case "--help" or "-h":
                        Console.WriteLine(Usage);
                        return 0;
                    case "--port": port = NextInt(); break;
                    case "--model": options.ServedModel = Next(); break;
                    case "--tokens": options.DefaultCompletionTokens = NextInt(); break;
                    case "--max-model-len": options.MaxModelLen = NextInt(); break;
                    case "--latency-ms": options.Latency = TimeSpan.FromMilliseconds(NextDouble()); break;
                    case "--chunk-delay-ms": options.ChunkDelay = TimeSpan.FromMilliseconds(NextDouble()); break;
                    case "--rate-429": options.Rate429 = NextDouble(); break;
                    case "--rate-500": options.Rate500 = NextDouble(); break;
                    case "--rate-503": options.Rate503 = NextDouble(); break;
                    case "--retry-after": options.RetryAfterSeconds = NextInt(); break;
                    case "--flat-errors": options.FlatErrors = true; break;
                    case "--guard": options.Guard = true; break;
                    case "--embedding": options.EmbeddingMode = Next() == "bag-of-words" ? FakeEmbeddingMode.BagOfWords : FakeEmbeddingMode.Hash; break;
                    case "--embedding-dims": options.EmbeddingDimensions = NextInt(); break;
                    case "--prefix-cache-blocks": Simulator().CacheBlocks = NextInt(); break;
                    case "--block-tokens": Simulator().BlockTokens = NextInt(); break;
                    case "--max-num-seqs": Simulator().MaxNumSeqs = NextInt(); break;
                    case "--prefill-us-per-token": Simulator().PrefillMicrosPerToken = NextDouble(); break;
                    case "--decode-ms-per-token": Simulator().DecodeMillisPerToken = NextDouble(); break;
                    case "--decode-ms-per-running": Simulator().DecodeMillisPerRunning = NextDouble(); break;
                    case "--slowdown": Simulator().Slowdown = NextDouble(); break;
                    case "--instances": instances = Math.Max(1, NextInt()); break;
                    default: throw new FormatException($"unknown option {name}");
                }
            }
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + Usage);
            return 2;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var servers = new List<FakeUpstreamServer>();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                // Each engine gets its own options (and cache); port 0 stays "any free port" for each.
                var server = await FakeUpstreamServer.StartAsync(i == 0 ? options : Copy(options), port == 0 ? 0 : port + i);
                servers.Add(server);
                Console.WriteLine($"listening on {server.RootUrl}");
            }

            await stop.Task;
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }

        return 0;

        Fleet.SimulatorOptions Simulator() => options.Simulator ??= new Fleet.SimulatorOptions();
    }
}
