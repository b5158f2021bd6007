using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// general_settings.pass_through_endpoints: fixed routes to fixed targets outside the model pipeline, with LiteLLM's
/// path, target, headers (os.environ/ inside a value), forward_headers, include_subpath, methods and auth.
/// </summary>
public sealed class PassThroughEndpointTests : IAsyncLifetime
{
    private FakeUpstreamServer _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: qwen
                litellm_params: { model: hosted_vllm/Qwen/Qwen3-8B, api_base: "{{_upstream.BaseUrl}}" }
            general_settings:
              master_key: {{Configs.MasterKey}}
              pass_through_endpoints:
                - path: /cohere/v1/rerank
                  target: {{_upstream.RootUrl}}/v1/rerank
                  headers:
                    Authorization: "Bearer os.environ/COHERE_KEY"
                    x-static: fixed
                  auth: true
                - path: /open
                  target: {{_upstream.RootUrl}}
                  include_subpath: true
                  forward_headers: true
                  methods: [POST]
            """, new Dictionary<string, string?> { ["COHERE_KEY"] = "co-upstream-secret" });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private const string RerankBody = """{"model":"rerank-english-v3.0","query":"capital","documents":["Paris is the capital"],"metadata":{"kept":1}}""";

    [Fact]
    public async Task An_auth_endpoint_refuses_a_request_without_a_key_and_reaches_no_target()
    {
        using var response = await _gateway.Http.PostAsync("/cohere/v1/rerank", new StringContent(RerankBody, Encoding.UTF8, "application/json"));

        await ErrorAssert.IsOpenAiErrorAsync(response, 401);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task An_auth_endpoint_forwards_a_keyed_request_with_the_configured_headers_and_never_the_clients_key()
    {
        using var request = _gateway.Post("/cohere/v1/rerank", RerankBody, Configs.MasterKey);

        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Contains("relevance_score", text, StringComparison.Ordinal);
        var upstream = _upstream.Requests.Single();
        Assert.Equal("/v1/rerank", upstream.Path);
        // Nothing is routed or spliced: the body goes as it came (its model is the target's business).
        Assert.Equal(RerankBody, upstream.Body);
        Assert.Equal("Bearer co-upstream-secret", upstream.Headers["Authorization"]);
        Assert.Equal("fixed", upstream.Headers["x-static"]);
        Assert.DoesNotContain(Configs.MasterKey, string.Join("\n", upstream.Headers.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_open_endpoint_forwards_its_sub_paths_the_query_and_the_clients_headers_but_not_its_credentials()
    {
        using var request = _gateway.Post("/open/v1/rerank?debug=1", RerankBody, Configs.MasterKey);
        request.Headers.Add("x-trace", "abc");
        request.Headers.Add("Cookie", "token=ui-session");
        request.Headers.Add("x-litellm-api-key", Configs.MasterKey);

        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var upstream = _upstream.Requests.Single();
        Assert.Equal("/v1/rerank", upstream.Path);
        Assert.Equal("abc", upstream.Headers["x-trace"]);
        Assert.False(upstream.Headers.ContainsKey("Authorization"));
        Assert.False(upstream.Headers.ContainsKey("Cookie"));
        Assert.False(upstream.Headers.ContainsKey("x-litellm-api-key"));
        Assert.Equal("127.0.0.1:" + _upstream.Port, upstream.Headers["Host"]);
    }

    [Fact]
    public async Task An_open_endpoint_needs_no_key_and_serves_only_its_methods()
    {
        using var anonymous = await _gateway.Http.PostAsync("/open/v1/rerank", new StringContent(RerankBody, Encoding.UTF8, "application/json"));
        using var getRequest = new HttpRequestMessage(HttpMethod.Get, "/open/v1/models");
        getRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var get = await _gateway.Http.SendAsync(getRequest);

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        await ErrorAssert.IsOpenAiErrorAsync(get, 405);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task The_targets_own_errors_come_back_as_it_sent_them_and_a_dead_target_is_a_502()
    {
        using var notFound = await _gateway.Http.PostAsync("/open/no-such-path", new StringContent("{}", Encoding.UTF8, "application/json"));
        await _upstream.StopAsync();
        using var dead = await _gateway.Http.PostAsync("/open/v1/rerank", new StringContent(RerankBody, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Contains("Not Found", await notFound.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await ErrorAssert.IsOpenAiErrorAsync(dead, 502);
    }
}
