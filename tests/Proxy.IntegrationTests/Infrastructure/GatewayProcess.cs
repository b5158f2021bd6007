using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// The gateway as its own process (as operators run it), for tests that measure what only a process of its own shows:
/// its resident memory, or what it writes to standard output. Stopped with SIGTERM on dispose.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly string? _directory;

    private GatewayProcess(Process process, StringBuilder output, string? directory, int port)
    {
        _process = process;
        _output = output;
        _directory = directory;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public HttpClient Http { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Resident set size now (VmRSS of /proc/&lt;pid&gt;/status), bytes.</summary>
    public long RssBytes => Status("VmRSS:");

    /// <summary>
    /// Private writable memory (VmData): what the process has committed, touched or not. A rented buffer that no byte
    /// has reached yet shows here before it shows in <see cref="RssBytes"/>.
    /// </summary>
    public long CommittedBytes => Status("VmData:");

    private long Status(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kb = line[field.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no " + field + " line");
    }

    /// <summary>
    /// The native binary to run instead of the JIT build (set by scripts/publish-aot.sh's smoke run, or by hand):
    /// PROXY_TEST_GATEWAY_BINARY=artifacts/aot/Proxy.Host dotnet test --filter Category=AotSmoke.
    /// </summary>
    public static string? Binary => System.Environment.GetEnvironmentVariable("PROXY_TEST_GATEWAY_BINARY") is { Length: > 0 } path ? path : null;

    public static async Task<GatewayProcess> StartAsync(string yaml, IDictionary<string, string>? environment = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-proc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var configPath = Path.Combine(directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        var variables = new Dictionary<string, string?>();
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return await StartAsync(configPath, directory, ownsDirectory: true, [], variables, inheritEnvironment: true);
    }

    /// <param name="inheritEnvironment">
    /// False: the process sees only <paramref name="environment"/> (plus PATH, HOME and TMPDIR), as an in-process gateway
    /// sees only the variables its test hands it.
    /// </param>
    internal static async Task<GatewayProcess> StartAsync(string configPath, string directory, bool ownsDirectory, IReadOnlyList<string> extraArgs,
        IReadOnlyDictionary<string, string?> environment, bool inheritEnvironment)
    {
        var port = FreePort();
        string[] gatewayArgs = ["--config", configPath, "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", .. extraArgs];
        var start = Binary is { } binary
            ? new ProcessStartInfo(binary, gatewayArgs)
            : new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Proxy.Host.dll"), .. gatewayArgs]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        if (!inheritEnvironment)
        {
            start.Environment.Clear();
            foreach (var kept in (string[])["PATH", "HOME", "TMPDIR", "DOTNET_ROOT"])
            {
                if (System.Environment.GetEnvironmentVariable(kept) is { } value)
                {
                    start.Environment[kept] = value;
                }
            }
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gatewayProcess = new GatewayProcess(process, output, ownsDirectory ? directory : null, port);
        var started = await Eventually.TrueAsync(async () =>
        {
            try
            {
                using var ready = await gatewayProcess.Http.GetAsync("/health/liveliness");
                return ready.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                // A process that exited will not start: stop waiting.
                return process.HasExited;
            }
        }, TimeSpan.FromSeconds(60));
        if (!started || process.HasExited)
        {
            var text = gatewayProcess.Output;
            await gatewayProcess.DisposeAsync();
            throw new InvalidOperationException("the gateway did not start: " + text);
        }

        return gatewayProcess;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
            using var exitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(exitTimeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        if (_directory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
