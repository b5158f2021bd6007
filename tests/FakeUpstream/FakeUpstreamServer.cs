using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using FakeUpstream.Fleet;

namespace FakeUpstream;

/// <summary>
/// A fake vLLM OpenAI-compatible server on 127.0.0.1, scriptable for fault injection.
/// </summary>
public sealed class FakeUpstreamServer : IAsyncDisposable
{
    private const int MaxRecorded = 200;

    private readonly Lock _recordGate = new();
    private readonly Queue<RecordedRequest> _recorded = new();
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly FakeHandler _handler;
    private WebApplication? _app;
    private CancellationTokenSource _stopping = new();
    private int _requestCount;
    private int _port;
    private bool _disposed;

    private FakeUpstreamServer(FakeUpstreamOptions options, int port)
    {
        Options = options;
        _port = port;
        _handler = new FakeHandler(this);
        Engine = options.Simulator is { } simulator ? new SimulatedEngine(options, simulator) : null;
    }

    /// <summary>The simulated vLLM engine in fleet-simulator mode (<see cref="FakeUpstreamOptions.Simulator"/>); its cache empties on restart.</summary>
    public SimulatedEngine? Engine { get; }

    /// <summary>Raised after each SSE chunk is written and flushed, with the 0-based chunk index.</summary>
    public event Action<int>? ChunkSent;

    /// <summary>The options every request reads; change them at any time.</summary>
    public FakeUpstreamOptions Options { get; }

    /// <summary>The bound port.</summary>
    public int Port => _port;

    /// <summary>http://127.0.0.1:{Port}/v1</summary>
    public string BaseUrl => $"http://127.0.0.1:{_port}/v1";

    /// <summary>http://127.0.0.1:{Port}</summary>
    public string RootUrl => $"http://127.0.0.1:{_port}";

    /// <summary>POSTs received on /v1/*.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Responses API answers this server stores (each server remembers only its own, as vLLM does).</summary>
    public int StoredResponses => _handler.Responses.StoredCount;

    /// <summary>The last 200 requests (any method), oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_recordGate)
            {
                return [.. _recorded];
            }
        }
    }

    internal CancellationToken StoppingToken => _stopping.Token;

    /// <summary>Starts a server on 127.0.0.1; port 0 picks a free port.</summary>
    public static async Task<FakeUpstreamServer> StartAsync(FakeUpstreamOptions? options = null, int port = 0, CancellationToken cancellationToken = default)
    {
        var server = new FakeUpstreamServer(options ?? new FakeUpstreamOptions(), port);
        await server.StartCoreAsync(cancellationToken);
        return server;
    }

    /// <summary>POSTs received on that exact path, e.g. "/v1/chat/completions".</summary>
    public int CountFor(string path) => _counts.TryGetValue(path, out var count) ? count : 0;

    /// <summary>Clears counters and recorded requests.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _requestCount, 0);
        _counts.Clear();
        lock (_recordGate)
        {
            _recorded.Clear();
        }
    }

    /// <summary>Stops listening; the port is released. Requests in flight are aborted.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StopCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port (stopping first if still running).</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await StopCoreAsync();
            // A restarted vLLM has lost its prefix cache.
            Engine?.Reset();
            await StartCoreAsync(CancellationToken.None);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync();
            _stopping.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    internal void Record(RecordedRequest request)
    {
        lock (_recordGate)
        {
            _recorded.Enqueue(request);
            while (_recorded.Count > MaxRecorded)
            {
                _recorded.Dequeue();
            }
        }
    }

    internal void CountPost(string path)
    {
        if (path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _requestCount);
        }

        _counts.AddOrUpdate(path, 1, static (_, count) => count + 1);
    }

    internal void OnChunkSent(int index) => ChunkSent?.Invoke(index);

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var port = _port;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // vLLM (uvicorn) has no body limit of its own; large audio uploads must get through.
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, port);
        });

        var app = builder.Build();
        app.Run(_handler.HandleAsync);
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _port = new Uri(address).Port;
        _app = app;
    }

    private async Task StopCoreAsync()
    {
        if (_app is null)
        {
            return;
        }

        var app = _app;
        _app = null;
        await _stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        if (!_disposed)
        {
            _stopping.Dispose();
            _stopping = new CancellationTokenSource();
        }
    }

    /// <summary>No Ctrl-C handling and no console messages: the owner decides when the server stops.</summary>
    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
