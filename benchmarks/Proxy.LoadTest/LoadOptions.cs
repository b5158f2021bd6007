using System.Globalization;
using System.Net;

namespace Proxy.LoadTest;

/// <summary>Command line of the load generator, with hard caps so that every run stops by itself.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        usage: Proxy.LoadTest <max|rate|stream> --url URL [options]
          --url URL             chat endpoint on loopback (a base ending in /v1 gets /chat/completions appended)
          --key KEY             sends Authorization: Bearer KEY
          --model M             model field (default fake-model)
          --connections N       concurrent connections / streams (default 32, max 512)
          --duration S          measured seconds (default 10, max 600)
          --warmup S            unrecorded seconds of the same load before measuring (default 0, max 600)
          --rate R              requests per second in rate mode (default 200, max 100000)
          --prompt-chars C      user message length (default 1000, max 1000000)
          --max-tokens T        max_tokens (default 16)
          --chunk-delay-ms D    stream mode: fake_chunk_delay_ms (default 10)
          --protocol P          chat (default), messages (the same request as Anthropic's /v1/messages) or
                                responses (the same request as OpenAI's /v1/responses, store false)
        prints a human line and one line: LOADJSON {...}
        """;

    public string Mode { get; private set; } = "";

    public Uri Url { get; private set; } = new("http://127.0.0.1:18000/v1/chat/completions");

    public string? Key { get; private set; }

    public string Model { get; private set; } = "fake-model";

    public int Connections { get; private set; } = 32;

    public double Duration { get; private set; } = 10;

    public double Warmup { get; private set; }

    public double Rate { get; private set; } = 200;

    public int PromptChars { get; private set; } = 1000;

    public int MaxTokens { get; private set; } = 16;

    public int ChunkDelayMs { get; private set; } = 10;

    /// <summary>"chat", "messages" (Anthropic's Messages API, translated by the gateway) or "responses" (OpenAI's Responses API).</summary>
    public string Protocol { get; private set; } = "chat";

    public static LoadOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("max" or "rate" or "stream"))
        {
            throw new FormatException("first argument must be the mode: max, rate or stream");
        }

        var options = new LoadOptions { Mode = args[0] };
        string? url = null;
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value");
            int NextInt(int min, int max) => Check(name, int.Parse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture), min, max);
            double NextDouble(double min, double max) => Check(name, double.Parse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture), min, max);
            switch (name)
            {
                case "--url": url = Next(); break;
                case "--key": options.Key = Next(); break;
                case "--model": options.Model = Next(); break;
                case "--connections": options.Connections = NextInt(1, 512); break;
                case "--duration": options.Duration = NextDouble(0.1, 600); break;
                case "--warmup": options.Warmup = NextDouble(0, 600); break;
                case "--rate": options.Rate = NextDouble(0.1, 100_000); break;
                case "--prompt-chars": options.PromptChars = NextInt(0, 1_000_000); break;
                case "--max-tokens": options.MaxTokens = NextInt(1, 100_000); break;
                case "--chunk-delay-ms": options.ChunkDelayMs = NextInt(0, 10_000); break;
                case "--protocol": options.Protocol = Next() switch { "messages" => "messages", "responses" => "responses", _ => "chat" }; break;
                default: throw new FormatException($"unknown option {name}");
            }
        }

        if (url is null)
        {
            throw new FormatException("--url is required");
        }

        var operation = options.Protocol switch { "messages" => "/messages", "responses" => "/responses", _ => "/chat/completions" };
        // A URL naming another protocol's operation gets this protocol's instead (one gateway URL serves all three).
        foreach (var other in (string[])["/chat/completions", "/messages", "/responses"])
        {
            if (other != operation && url.EndsWith(other, StringComparison.Ordinal))
            {
                url = url[..^other.Length];
            }
        }

        if (!url.EndsWith(operation, StringComparison.Ordinal))
        {
            url = url.TrimEnd('/') + operation;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new FormatException($"--url {url} is not an absolute http URL");
        }

        if (!uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && !IPAddress.IsLoopback(address)))
        {
            throw new FormatException($"--url {url}: only loopback targets are allowed");
        }

        options.Url = uri;
        return options;
    }

    private static T Check<T>(string name, T value, T min, T max)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new FormatException($"{name} must be between {min} and {max}");
        }

        return value;
    }
}
