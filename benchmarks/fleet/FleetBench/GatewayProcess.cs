using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FleetBench;

/// <summary>One real gateway process (dotnet Proxy.Host.dll) on a free loopback port, stopped (by its own handle) on dispose.</summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private GatewayProcess(Process process, StreamWriter log, int port)
    {
        _process = process;
        _log = log;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static async Task<GatewayProcess> StartAsync(string dll, string configPath, string logPath, HttpClient http)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--config", configPath, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Warm up faster (perf-notes: the tiered JIT needs ~30 s of load otherwise); simulated GPU time dominates anyway.
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, log, port);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the gateway exited with {process.ExitCode}; see {logPath}");
            }

            try
            {
                using var response = await http.GetAsync(gateway.Url + "/health/liveliness");
                if (response.IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException($"the gateway did not start in 60 s; see {logPath}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The process was stopped while it wrote.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
