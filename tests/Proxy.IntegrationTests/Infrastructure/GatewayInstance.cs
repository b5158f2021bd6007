using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Proxy.Host.Hosting;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// A real gateway on Kestrel at 127.0.0.1:0, serving a config file written to a temp folder. In process by default; with
/// PROXY_TEST_GATEWAY_BINARY set (<see cref="GatewayProcess.Binary"/>), the same test runs against that binary (the
/// Native AOT build) as a process of its own, seeing only the environment the test hands it.
/// </summary>
public sealed class GatewayInstance : IAsyncDisposable
{
    private readonly WebApplication? _app;

    private readonly GatewayProcess? _process;

    private readonly bool _keepDirectory;

    private GatewayInstance(WebApplication? app, GatewayProcess? process, string configPath, string directory, ConcurrentDictionary<string, string?> environment,
        bool keepDirectory)
    {
        _keepDirectory = keepDirectory;
        _app = app;
        _process = process;
        ConfigPath = configPath;
        Directory = directory;
        Environment = environment;
        RootUrl = app is null
            ? "http://127.0.0.1:" + process!.Port
            : app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        Http = new HttpClient { BaseAddress = new Uri(RootUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>True when the gateway is the binary named by PROXY_TEST_GATEWAY_BINARY, not this test process.</summary>
    public static bool IsProcess => GatewayProcess.Binary is not null;

    public string RootUrl { get; }

    public Uri V1 => new(RootUrl + "/v1");

    public string ConfigPath { get; }

    public string Directory { get; }

    public ConcurrentDictionary<string, string?> Environment { get; }

    public HttpClient Http { get; }

    internal IServiceProvider Services => _app?.Services
        ?? throw new InvalidOperationException("The gateway runs as its own process (PROXY_TEST_GATEWAY_BINARY); this test needs it in process.");

    /// <summary>What the binary wrote to stdout and stderr (empty in process).</summary>
    public string ProcessOutput => _process?.Output ?? "";

    /// <param name="directory">A folder to reuse (kept on dispose), so that a restarted gateway finds its embedded database.</param>
    public static async Task<GatewayInstance> StartAsync(
        string yaml, IDictionary<string, string?>? environment = null, string? directory = null, IReadOnlyList<string>? extraArgs = null)
    {
        var keep = directory is not null;
        directory ??= Path.Combine(Path.GetTempPath(), "gw-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var configPath = Path.Combine(directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        var env = new ConcurrentDictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        if (IsProcess)
        {
            var process = await GatewayProcess.StartAsync(configPath, directory, ownsDirectory: false, extraArgs ?? [], env, inheritEnvironment: false);
            return new GatewayInstance(null, process, configPath, directory, env, keep);
        }

        var commandLine = CommandLine.Parse(["--config", configPath, "--host", "127.0.0.1", "--port", "0", .. extraArgs ?? []], _ => null);
        var app = GatewayHost.Build(commandLine, name => env.TryGetValue(name, out var v) ? v : null, (name, value) => env[name] = value);
        // A start-up that hangs must fail the test, not the whole run.
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new GatewayInstance(app, null, configPath, directory, env, keep);
    }

    public HttpRequestMessage Post(string path, string json, string? key = null)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return message;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_keepDirectory)
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
