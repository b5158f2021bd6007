using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

/// <summary>
/// The gateway as its own process, as operators run it: json_logs gives one JSON object per line, each request one
/// access line, call ids flow from client to upstream, and no secret ever reaches the log.
/// </summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private FakeUpstreamServer _upstream = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _directory = Path.Combine(Path.GetTempPath(), "gw-logs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Json_logs_are_one_object_per_line_with_an_access_line_per_request_and_no_secrets()
    {
        var configPath = Path.Combine(_directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, $"""
            model_list:
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/chat-model
                  api_base: {_upstream.BaseUrl}
                  api_key: {Configs.UpstreamKey}
            litellm_settings:
              json_logs: true
            general_settings:
              master_key: {Configs.MasterKey}
            """);
        var text = await RunGatewayAsync(configPath, async (http, output) =>
        {
            using var chat = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"chat","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            chat.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            chat.Headers.Add("x-request-id", "req-from-client-123");
            using var answered = await http.SendAsync(chat);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.Equal("req-from-client-123", answered.Headers.GetValues("x-litellm-call-id").Single());
            Assert.Equal("req-from-client-123", _upstream.Requests.Last().Headers["x-litellm-call-id"]);

            using var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-virtual-looking-secret-9876");
            using var refused = await http.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var refusedCallId = refused.Headers.GetValues("x-litellm-call-id").Single();

            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Snapshot(output).Contains(refusedCallId, StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
        });

        Assert.DoesNotContain(Configs.MasterKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Configs.UpstreamKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-virtual-looking-secret", text, StringComparison.Ordinal);

        var access = new List<JsonElement>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var json = JsonDocument.Parse(line); // throws (fails the test) on any line that is not one JSON object
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            Assert.True(json.RootElement.TryGetProperty("Timestamp", out _), line);
            if (json.RootElement.GetProperty("Category").GetString() == "Proxy.Access")
            {
                access.Add(json.RootElement.Clone());
            }
        }

        var served = Assert.Single(access, a => a.GetProperty("State").GetProperty("CallId").GetString() == "req-from-client-123");
        var state = served.GetProperty("State");
        Assert.Equal("200", state.GetProperty("Status").ToString());
        Assert.Equal("chat", state.GetProperty("ModelGroup").GetString());
        Assert.Equal("master", state.GetProperty("KeyAlias").GetString());
        Assert.NotEqual("0", state.GetProperty("CompletionTokens").ToString());
        Assert.Single(access, a => a.GetProperty("State").GetProperty("Status").ToString() == "401");
        // Readiness probes are not access-logged at the default level.
        Assert.DoesNotContain(access, a => a.GetProperty("State").GetProperty("Path").GetString() == "/health/readiness");
    }

    [Fact]
    public async Task A_failed_upstream_attempt_is_one_warning_line_without_a_stack_trace()
    {
        var closedPort = FreePort();
        var configPath = Path.Combine(_directory, "config.yaml");
        await File.WriteAllTextAsync(configPath, $"""
            model_list:
              - model_name: chat
                litellm_params:
                  model: hosted_vllm/chat-model
                  api_base: http://127.0.0.1:{closedPort}/v1
            router_settings:
              num_retries: 0
            general_settings:
              master_key: {Configs.MasterKey}
            """);
        var callId = "";
        var text = await RunGatewayAsync(configPath, async (http, output) =>
        {
            using var chat = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"chat","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            chat.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            using var refused = await http.SendAsync(chat);
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            callId = refused.Headers.GetValues("x-litellm-call-id").Single();
            // The access line comes after the attempt's line; once it is there, everything about the call is.
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Snapshot(output).Contains($"{callId} POST", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
        });

        var warnings = text.Split('\n').Where(line => line.Contains(" warn: ", StringComparison.Ordinal)).ToArray();
        var attempt = Assert.Single(warnings);
        Assert.Contains(callId, attempt, StringComparison.Ordinal);
        Assert.Contains("Connection", attempt, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", text, StringComparison.Ordinal);
    }

    /// <summary>Runs the gateway as its own process on <paramref name="configPath"/>, calls <paramref name="act"/>, stops it, and returns all it printed.</summary>
    private static async Task<string> RunGatewayAsync(string configPath, Func<HttpClient, StringBuilder, Task> act)
    {
        var port = FreePort();
        var output = new StringBuilder();
        var gateway = Path.Combine(AppContext.BaseDirectory, "Proxy.Host.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [gateway, "--config", configPath, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            Assert.True(await Eventually.TrueAsync(async () =>
            {
                try
                {
                    using var ready = await http.GetAsync("/health/readiness");
                    return ready.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30)), "the gateway did not start: " + output);
            await act(http, output);
        }
        finally
        {
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
            using var exitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(exitTimeout.Token);
        }

        return Snapshot(output);
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
