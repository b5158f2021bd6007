using System.Net;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// LiteLLM's tag routing through the gateway: request tags from the body, metadata.tags, the x-litellm-tags header and
/// the virtual key; only matching deployments serve, else the "default" ones, else LiteLLM's 401.
/// </summary>
public sealed class TagRoutingTests : IAsyncLifetime
{
    private FakeUpstreamServer _free = null!;
    private FakeUpstreamServer _paid = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _free = await FakeUpstreamServer.StartAsync();
        _paid = await FakeUpstreamServer.StartAsync();
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: qwen
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_free.BaseUrl}}", tags: ["free"] }
                model_info: { id: free }
              - model_name: qwen
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_paid.BaseUrl}}", tags: ["paid", "eu"] }
                model_info: { id: paid }
              - model_name: tiers
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_free.BaseUrl}}", tags: ["default"] }
                model_info: { id: tiers-default }
              - model_name: tiers
                litellm_params: { model: hosted_vllm/qwen, api_base: "{{_paid.BaseUrl}}", tags: ["paid"] }
                model_info: { id: tiers-paid }
            router_settings:
              enable_tag_filtering: true
              num_retries: 0
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _free.DisposeAsync();
        await _paid.DisposeAsync();
    }

    private async Task<HttpResponseMessage> ChatAsync(string model, string extra = "", string? tagsHeader = null, string key = Configs.MasterKey)
    {
        var request = _gateway.Post("/v1/chat/completions", $$"""{"model":"{{model}}","max_tokens":2,"messages":[{"role":"user","content":"hi"}]{{extra}}}""", key);
        if (tagsHeader is not null)
        {
            request.Headers.Add("x-litellm-tags", tagsHeader);
        }

        return await _gateway.Http.SendAsync(request);
    }

    private static async Task<string> ServedByAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return response.Headers.GetValues("x-litellm-model-id").Single();
    }

    [Fact]
    public async Task Tags_from_the_body_metadata_and_header_pick_the_matching_deployments_only()
    {
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("paid", await ServedByAsync(await ChatAsync("qwen", ""","tags":["paid"]""")));
            Assert.Equal("free", await ServedByAsync(await ChatAsync("qwen", ""","metadata":{"tags":["free"]}""")));
            Assert.Equal("paid", await ServedByAsync(await ChatAsync("qwen", tagsHeader: "eu, other")));
        }

        // The tags are LiteLLM's routing data, never the model server's.
        Assert.All(_paid.Requests.Concat(_free.Requests), r => Assert.DoesNotContain("\"tags\"", r.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tag_no_deployment_has_is_LiteLLMs_401_and_reaches_no_upstream()
    {
        using var response = await ChatAsync("qwen", ""","tags":["gold"]""");

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 401);
        Assert.StartsWith("Not allowed to access model due to tags configuration. Passed model=qwen and tags=['gold']", message, StringComparison.Ordinal);
        Assert.Empty(_free.Requests);
        Assert.Empty(_paid.Requests);
    }

    [Fact]
    public async Task The_default_deployments_serve_untagged_requests_and_tags_nothing_matches()
    {
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("tiers-default", await ServedByAsync(await ChatAsync("tiers")));
            Assert.Equal("tiers-default", await ServedByAsync(await ChatAsync("tiers", ""","tags":["gold"]""")));
            Assert.Equal("tiers-paid", await ServedByAsync(await ChatAsync("tiers", ""","tags":["paid"]""")));
        }
    }

    [Fact]
    public async Task A_virtual_keys_metadata_tags_route_its_requests()
    {
        using var generate = _gateway.Post("/key/generate", """{"metadata":{"tags":["paid"]}}""", Configs.MasterKey);
        using var generated = await _gateway.Http.SendAsync(generate);
        using var body = JsonDocument.Parse(await generated.Content.ReadAsStringAsync());
        var key = body.RootElement.GetProperty("key").GetString()!;

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("paid", await ServedByAsync(await ChatAsync("qwen", key: key)));
        }
    }
}
