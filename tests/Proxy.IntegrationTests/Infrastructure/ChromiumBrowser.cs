using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// A real headless Chromium (PROXY_TEST_CHROMIUM) driven over the DevTools protocol. One per test class; each test
/// opens its own page in its own browser context, so cookies never leak between tests. Disposing kills the process.
/// </summary>
public sealed class ChromiumBrowser : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly string _userDataDir;

    private ChromiumBrowser(Process process, string userDataDir, CdpConnection connection)
    {
        _process = process;
        _userDataDir = userDataDir;
        Connection = connection;
    }

    public CdpConnection Connection { get; }

    public static async Task<ChromiumBrowser> StartAsync()
    {
        var userDataDir = Path.Combine(Path.GetTempPath(), "gw-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(userDataDir);
        var start = new ProcessStartInfo(TestServices.Chromium)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--mute-audio",
            "--remote-debugging-port=0", "--user-data-dir=" + userDataDir, "about:blank"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start");
        // Drain its output so that a chatty browser never blocks on a full pipe.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var endpoint = await ReadDevToolsEndpointAsync(process, userDataDir);
            var connection = await CdpConnection.ConnectAsync(endpoint);
            return new ChromiumBrowser(process, userDataDir, connection);
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page in a fresh browser context (its own cookie jar).</summary>
    public async Task<BrowserPage> NewPageAsync()
    {
        var context = await Connection.SendAsync("Target.createBrowserContext", new JsonObject { ["disposeOnDetach"] = true });
        var contextId = context.GetProperty("browserContextId").GetString()!;
        var target = await Connection.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank", ["browserContextId"] = contextId });
        var targetId = target.GetProperty("targetId").GetString()!;
        var session = await Connection.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = targetId, ["flatten"] = true });
        return new BrowserPage(Connection, session.GetProperty("sessionId").GetString()!, contextId, targetId);
    }

    // Chromium writes the port it picked (and the browser's WebSocket path) into this file once it listens.
    private static async Task<Uri> ReadDevToolsEndpointAsync(Process process, string userDataDir)
    {
        var file = Path.Combine(userDataDir, "DevToolsActivePort");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Chromium exited with {process.ExitCode} before it opened the DevTools port");
            }

            if (File.Exists(file))
            {
                var lines = (await File.ReadAllTextAsync(file)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (lines.Length >= 2)
                {
                    return new Uri($"ws://127.0.0.1:{lines[0]}{lines[1]}");
                }
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Chromium did not write {file} within {StartTimeout.TotalSeconds} s");
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.SendAsync("Browser.close").WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (Exception ex) when (ex is CdpException or TimeoutException or JsonException)
        {
            // Killed below.
        }

        await Connection.DisposeAsync();
        if (!_process.WaitForExit(3000))
        {
            Kill(_process);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_userDataDir, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold a file for a moment; a temp folder left behind is harmless.
        }
    }
}
