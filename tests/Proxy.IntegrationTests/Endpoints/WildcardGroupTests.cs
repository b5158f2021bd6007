using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// LiteLLM's wildcard routing (model_name <c>hosted_vllm/*</c> and <c>*</c>) and check_provider_endpoint's model
/// discovery for /v1/models.
/// </summary>
public sealed class WildcardGroupTests : IAsyncLifetime
{
    private FakeUpstreamServer _qwen = null!;
    private FakeUpstreamServer _llama = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _qwen = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { ServedModel = "Qwen/Qwen3-8B" });
        _llama = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { ServedModel = "meta-llama/Llama-3.1-8B" });
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: "hosted_vllm/*"
                litellm_params: { model: "hosted_vllm/*", api_base: "{{_qwen.BaseUrl}}" }
              - model_name: "*"
                litellm_params: { model: "hosted_vllm/*", api_base: "{{_llama.BaseUrl}}" }
              - model_name: exact
                litellm_params: { model: hosted_vllm/exact-model, api_base: "{{_llama.BaseUrl}}" }
            litellm_settings:
              check_provider_endpoint: true
            router_settings:
              num_retries: 0
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _qwen.DisposeAsync();
        await _llama.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, string UpstreamModel)> ChatAsync(FakeUpstreamServer expectedUpstream, string model)
    {
        using var request = _gateway.Post("/v1/chat/completions", $$"""{"model":"{{model}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey);
        var response = await _gateway.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        // The background model discovery GETs /v1/models meanwhile; the chat call is the last POST.
        using var sent = JsonDocument.Parse(expectedUpstream.Requests.Last(r => r.Method == "POST").Body);
        return (response, sent.RootElement.GetProperty("model").GetString()!);
    }

    [Fact]
    public async Task The_part_the_star_matched_fills_the_deployments_model()
    {
        var (provider, providerModel) = await ChatAsync(_qwen, "hosted_vllm/Qwen/Qwen3-8B");
        var (any, anyModel) = await ChatAsync(_llama, "mistralai/Mistral-7B");

        Assert.Equal("Qwen/Qwen3-8B", providerModel);
        Assert.Equal("hosted_vllm/*", provider.Headers.GetValues("x-litellm-model-group").Single());
        Assert.Equal("mistralai/Mistral-7B", anyModel);
        Assert.Equal("*", any.Headers.GetValues("x-litellm-model-group").Single());
    }

    [Fact]
    public async Task A_group_named_exactly_wins_over_the_patterns()
    {
        var (_, model) = await ChatAsync(_llama, "exact");

        Assert.Equal("exact-model", model);
        Assert.DoesNotContain(_qwen.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Models_lists_what_the_wildcard_upstreams_serve_and_the_patterns_only_on_request()
    {
        string[] ids = [];
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            ids = await ListAsync("/v1/models");
            return ids.Contains("hosted_vllm/Qwen/Qwen3-8B");
        }, TimeSpan.FromSeconds(10)), string.Join(", ", ids));

        Assert.Contains("meta-llama/Llama-3.1-8B", ids);
        Assert.Contains("exact", ids);
        Assert.DoesNotContain("*", ids);
        Assert.DoesNotContain("hosted_vllm/*", ids);
        Assert.Contains("hosted_vllm/*", await ListAsync("/v1/models?return_wildcard_routes=true"));

        using var one = new HttpRequestMessage(HttpMethod.Get, "/v1/models/hosted_vllm/Qwen/Qwen3-8B");
        one.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var found = await _gateway.Http.SendAsync(one);
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
    }

    private async Task<string[]> ListAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. body.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }
}
