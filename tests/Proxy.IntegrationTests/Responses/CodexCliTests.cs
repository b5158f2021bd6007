using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Responses;

/// <summary>
/// The Codex CLI itself (<c>codex exec</c>, installed by scripts/codex.sh) completing a prompt through the gateway's
/// Responses API and a fake vLLM, with a virtual key, configured as its docs say for a custom provider
/// (<c>model_providers</c> with <c>wire_api = "responses"</c>). Every proxy variable points at a local listener that
/// counts connections, so anything it tried to send beyond 127.0.0.1 would fail the test.
/// </summary>
public sealed class CodexCliTests : IAsyncLifetime
{
    private const string Answer = "PONG from the fake vLLM fleet";

    private FakeUpstreamServer _vllm = null!;
    private GatewayInstance _gateway = null!;
    private string _home = null!;

    public async Task InitializeAsync()
    {
        _vllm = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { FixedContent = Answer, MaxModelLen = 262_144 });
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: qwen3-coder
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct
                  api_base: {{_vllm.BaseUrl}}
            general_settings:
              master_key: {{Configs.MasterKey}}
              proxy_batch_write_at: 0.1
            """);
        _home = Path.Combine(Path.GetTempPath(), "codex-home-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_home, "work"));
        await File.WriteAllTextAsync(Path.Combine(_home, "config.toml"), $$"""
            model = "qwen3-coder"
            model_provider = "gateway"
            check_for_update_on_startup = false

            [model_providers.gateway]
            name = "LLM gateway"
            base_url = "{{_gateway.RootUrl}}/v1"
            env_key = "GATEWAY_API_KEY"
            wire_api = "responses"

            [analytics]
            enabled = false

            # With an API-key provider the plugin catalogs (github.com, chatgpt.com) are nothing to sync.
            [features]
            plugins = false
            remote_plugin = false
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _vllm.DisposeAsync();
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    [Fact]
    public async Task Codex_exec_completes_a_prompt_through_the_responses_api_with_a_virtual_key()
    {
        var key = await GenerateKeyAsync();
        using var trap = new TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        var proxy = $"http://127.0.0.1:{((IPEndPoint)trap.LocalEndpoint).Port}";
        var trapped = 0;
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                using var connection = await trap.AcceptTcpClientAsync();
                Interlocked.Increment(ref trapped);
            }
        });

        var (exitCode, stdout, stderr) = await RunCodexAsync(key, proxy, "Reply with one word: PONG");

        Assert.True(exitCode == 0, $"codex exited with {exitCode}\nstdout: {stdout}\nstderr: {stderr}");
        Assert.Contains(Answer, stdout, StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref trapped));
        Assert.False(accepting.IsCompleted);

        // It came as Codex's streamed Responses request (with its tools) and reached vLLM's /v1/responses as it was sent.
        var sent = Assert.Single(_vllm.Requests, r => r.Path == "/v1/responses");
        using var body = JsonDocument.Parse(sent.Body);
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal("Qwen/Qwen3-Coder-30B-A3B-Instruct", body.RootElement.GetProperty("model").GetString());
        Assert.False(sent.Headers.ContainsKey("Authorization") && sent.Headers["Authorization"].Contains(key, StringComparison.Ordinal));

        JsonElement logs = default;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            logs = await AdminAsync(HttpMethod.Get, "/spend/logs");
            return logs.GetArrayLength() > 0;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal("aresponses", logs[0].GetProperty("call_type").GetString());
        Assert.True(logs[0].GetProperty("completion_tokens").GetInt64() > 0);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunCodexAsync(string key, string proxy, string prompt)
    {
        var start = new ProcessStartInfo(TestServices.Codex, ["exec", "--skip-git-repo-check", prompt])
        {
            WorkingDirectory = Path.Combine(_home, "work"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.Environment.Clear();
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = _home,
            ["CODEX_HOME"] = _home,
            ["GATEWAY_API_KEY"] = key,
            // Anything that still tried to leave would go through this proxy, which only counts connections.
            ["HTTPS_PROXY"] = proxy,
            ["HTTP_PROXY"] = proxy,
            ["ALL_PROXY"] = proxy,
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
        return await CliProcess.RunAsync(start, environment, TimeSpan.FromSeconds(180));
    }

    private async Task<string> GenerateKeyAsync()
    {
        var body = await AdminAsync(HttpMethod.Post, "/key/generate", """{"models":["qwen3-coder"]}""");
        return body.GetProperty("key").GetString()!;
    }

    private async Task<JsonElement> AdminAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
