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
          --help                this text
        """;

    public static async Task<int> Main(string[] args)
    {
        var options = new FakeUpstreamOptions();
        var port = 8000;
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
        await using var server = await FakeUpstreamServer.StartAsync(options, port);
        Console.WriteLine($"listening on {server.RootUrl}");
        await stop.Task;
        return 0;
    }
}
