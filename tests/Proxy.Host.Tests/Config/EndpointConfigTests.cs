using Proxy.Host.Config;

namespace Proxy.Host.Tests.Config;

/// <summary>The config keys of the fleet endpoints: pass_through_endpoints, tag routing, prices per query and second, model_info.mode.</summary>
public sealed class EndpointConfigTests
{
    private static ConfigLoadResult Parse(string yaml, FakeEnvironment? env = null)
    {
        env ??= new FakeEnvironment();
        return ConfigLoader.Parse(yaml, "config.yaml", env.Get, env.Set);
    }

    [Fact]
    public void Pass_through_endpoints_bind_LiteLLMs_keys_and_resolve_environment_variables_inside_header_values()
    {
        var result = Parse("""
            general_settings:
              pass_through_endpoints:
                - path: "/v1/rerank-cohere/"
                  target: "https://api.cohere.com/v1/rerank"
                  headers:
                    Authorization: "bearer os.environ/COHERE_API_KEY"
                    content-type: application/json
                  forward_headers: true
                  include_subpath: true
                  methods: [post, GET]
                  auth: true
            """, new FakeEnvironment(("COHERE_API_KEY", "co-secret")));

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == ConfigSeverity.Warning && d.Path.StartsWith("general_settings", StringComparison.Ordinal));
        var endpoint = Assert.Single(result.Config!.GeneralSettings.PassThroughEndpoints);
        Assert.Equal("/v1/rerank-cohere", endpoint.Path);
        Assert.Equal("https://api.cohere.com/v1/rerank", endpoint.Target);
        Assert.Equal("bearer co-secret", endpoint.Headers.Single(h => h.Key == "Authorization").Value.Value);
        Assert.True(endpoint.ForwardHeaders);
        Assert.True(endpoint.IncludeSubpath);
        Assert.True(endpoint.Auth);
        Assert.Equal(["POST", "GET"], endpoint.Methods!);
    }

    [Theory]
    [InlineData("path: /x\n      target: custom_callbacks.anthropic_adapter", "target")]
    [InlineData("path: x\n      target: http://a", "path")]
    [InlineData("path: /\n      target: http://a", "path")]
    [InlineData("path: /a/../b\n      target: http://a", "path")]
    [InlineData("path: /x\n      target: http://a\n      methods: [FETCH]", "methods")]
    [InlineData("target: http://a", "path")]
    public void A_pass_through_endpoint_that_cannot_work_is_a_config_error_naming_its_key(string entry, string key)
    {
        var result = Parse($"""
            general_settings:
              pass_through_endpoints:
                - {entry}
            """);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Severity == ConfigSeverity.Error && d.Path == $"general_settings.pass_through_endpoints[0].{key}");
    }

    [Fact]
    public void Tag_routing_prices_and_modes_are_read_and_honoured()
    {
        var result = Parse("""
            model_list:
              - model_name: rr
                litellm_params:
                  model: hosted_vllm/bge
                  api_base: http://vllm:8000/v1
                  tags: ["paid", "default"]
                  input_cost_per_query: 0.002
                model_info:
                  mode: rerank
                  input_cost_per_second: 0.0001
            router_settings:
              enable_tag_filtering: true
              tag_filtering_match_any: false
            litellm_settings:
              check_provider_endpoint: true
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var config = result.Config!;
        var entry = Assert.Single(config.ModelList);
        Assert.Equal(["paid", "default"], entry.LitellmParams.Tags);
        Assert.Equal(0.002, entry.LitellmParams.InputCostPerQuery);
        Assert.Equal(0.0001, entry.ModelInfo.InputCostPerSecond);
        Assert.Equal("rerank", entry.ModelInfo.Mode);
        Assert.True(config.RouterSettings.EnableTagFiltering);
        Assert.False(config.RouterSettings.TagFilteringMatchAny);
        Assert.True(config.LitellmSettings.CheckProviderEndpoint);
        foreach (var key in new[] { "router_settings.enable_tag_filtering", "router_settings.tag_filtering_match_any", "litellm_settings.check_provider_endpoint",
                     "model_list[*].litellm_params.tags", "model_list[*].model_info.mode", "model_list[*].litellm_params.input_cost_per_query" })
        {
            Assert.Equal(SupportLevel.Honoured, ConfigSupport.Of(key));
        }
    }

    [Fact]
    public void An_unknown_mode_is_a_warning_listing_LiteLLMs_modes()
    {
        var result = Parse("""
            model_list:
              - model_name: m
                litellm_params: { model: hosted_vllm/m, api_base: "http://vllm:8000/v1" }
                model_info: { mode: reranking }
            """);

        Assert.True(result.Succeeded);
        var warning = Assert.Single(result.Diagnostics, d => d.Severity == ConfigSeverity.Warning);
        Assert.Contains("audio_transcription", warning.Message, StringComparison.Ordinal);
    }
}
