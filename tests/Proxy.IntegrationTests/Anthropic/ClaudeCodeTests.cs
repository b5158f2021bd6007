using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Anthropic;

/// <summary>
/// Claude Code itself (<c>claude -p</c>, installed by scripts/claude-code.sh) completing a prompt through the gateway and a
/// fake vLLM, with a virtual key as its token. Claude Code's own traffic switches are off, and every proxy variable points
/// at a local listener that counts connections, so anything it tried to send beyond 127.0.0.1 would fail the test.
/// </summary>
public sealed class ClaudeCodeTests : IAsyncLifetime
{
    private const string Answer = "PONG from the fake vLLM fleet";

    private FakeUpstreamServer _vllm = null!;
    private GatewayInstance _gateway = null!;
    private string _home = null!;

    public async Task InitializeAsync()
    {
        // Claude Code asks for 32k output tokens with a ~12k-token prompt; a coding model's context holds that.
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
        _home = Path.Combine(Path.GetTempPath(), "claude-home-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_home, "work"));
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
    public async Task Claude_code_completes_a_prompt_through_a_vllm_deployment_with_a_virtual_key()
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

        var (exitCode, stdout, stderr) = await RunClaudeAsync(key, proxy, "Reply with one word: PONG");

        Assert.True(exitCode == 0, $"claude exited with {exitCode}\nstdout: {stdout}\nstderr: {stderr}");
        Assert.Contains(Answer, stdout, StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref trapped));
        Assert.False(accepting.IsCompleted);

        // It came as Claude Code's Messages request (streamed, with its tools) and reached vLLM as chat.
        var sent = Assert.Single(_vllm.Requests, r => r.Path == "/v1/chat/completions");
        using var body = JsonDocument.Parse(sent.Body);
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal("Qwen/Qwen3-Coder-30B-A3B-Instruct", body.RootElement.GetProperty("model").GetString());
        Assert.True(body.RootElement.GetProperty("tools").GetArrayLength() > 0);
        Assert.Equal("system", body.RootElement.GetProperty("messages")[0].GetProperty("role").GetString());

        JsonElement logs = default;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            logs = await AdminAsync(HttpMethod.Get, "/spend/logs");
            return logs.GetArrayLength() > 0;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal("anthropic_messages", logs[0].GetProperty("call_type").GetString());
        Assert.True(logs[0].GetProperty("completion_tokens").GetInt64() > 0);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunClaudeAsync(string key, string proxy, string prompt)
    {
        var start = new ProcessStartInfo(TestServices.ClaudeCode, ["-p", prompt])
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
            ["ANTHROPIC_BASE_URL"] = _gateway.RootUrl,
            ["ANTHROPIC_AUTH_TOKEN"] = key,
            ["ANTHROPIC_MODEL"] = "qwen3-coder",
            ["ANTHROPIC_SMALL_FAST_MODEL"] = "qwen3-coder",
            ["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = "qwen3-coder",
            // Claude Code's own switches for everything that is not the model call.
            ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
            ["DISABLE_TELEMETRY"] = "1",
            ["DISABLE_ERROR_REPORTING"] = "1",
            ["DISABLE_AUTOUPDATER"] = "1",
            ["DISABLE_BUG_COMMAND"] = "1",
            // Anything that still tried to leave would go through this proxy, which only counts connections.
            ["HTTPS_PROXY"] = proxy,
            ["HTTP_PROXY"] = proxy,
            ["ALL_PROXY"] = proxy,
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
        // Generous: the first start of the 370 MB binary on a loaded machine takes seconds.
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
