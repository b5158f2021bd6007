using System.Net.Http.Headers;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>model_info.mode: health checks call the kind of endpoint the deployment serves, and /model/info reports it.</summary>
public sealed class ModeHealthTests : IAsyncLifetime
{
    private FakeUpstreamServer _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: reranker
                litellm_params: { model: hosted_vllm/bge-reranker, api_base: "{{_upstream.BaseUrl}}" }
                model_info: { id: rerank, mode: rerank }
              - model_name: whisper
                litellm_params: { model: hosted_vllm/whisper, api_base: "{{_upstream.BaseUrl}}" }
                model_info: { id: whisper, mode: audio_transcription }
              - model_name: embedder
                litellm_params: { model: hosted_vllm/e5, api_base: "{{_upstream.BaseUrl}}" }
                model_info: { id: embed, mode: embedding }
              - model_name: chat
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_upstream.BaseUrl}}" }
                model_info: { id: chat, mode: chat }
              - model_name: plain
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_upstream.BaseUrl}}" }
                model_info: { id: plain }
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<JsonDocument> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Each_deployment_is_probed_with_a_call_of_its_mode()
    {
        using var health = await GetAsync("/health");

        Assert.Equal(5, health.RootElement.GetProperty("healthy_count").GetInt32());
        var probes = _upstream.Requests.Select(r => $"{r.Method} {r.Path}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["GET /health", "POST /v1/audio/transcriptions", "POST /v1/chat/completions", "POST /v1/embeddings", "POST /v1/rerank"], probes);
        var rerank = _upstream.Requests.Single(r => r.Path == "/v1/rerank");
        using var body = JsonDocument.Parse(rerank.Body);
        Assert.Equal("bge-reranker", body.RootElement.GetProperty("model").GetString());
        using var form = JsonDocument.Parse(_upstream.Requests.Single(r => r.Path == "/v1/audio/transcriptions").Body);
        Assert.Equal("whisper", form.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task A_server_that_is_up_but_fails_its_modes_call_is_unhealthy()
    {
        _upstream.Options.FailStatus = 500;

        using var health = await GetAsync("/health");

        // GET /health still answers (only POSTs fail), so only the deployment without a mode looks healthy.
        var healthy = health.RootElement.GetProperty("healthy_endpoints").EnumerateArray().Select(e => e.GetProperty("model_id").GetString()!).ToArray();
        Assert.Equal(["plain"], healthy);
        Assert.Equal(4, health.RootElement.GetProperty("unhealthy_count").GetInt32());
    }

    [Fact]
    public async Task Model_info_reports_each_deployments_mode()
    {
        using var info = await GetAsync("/model/info");

        var modes = info.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(d => d.GetProperty("model_info").GetProperty("id").GetString()!, d => d.GetProperty("model_info").GetProperty("mode").GetString());
        Assert.Equal("rerank", modes["rerank"]);
        Assert.Equal("audio_transcription", modes["whisper"]);
        Assert.Equal("embedding", modes["embed"]);
        Assert.Equal("chat", modes["plain"]);
    }
}
