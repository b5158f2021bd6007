using Proxy.Host.Config;
using Proxy.Host.Routing;

namespace Proxy.Host.Tests.Config;

public sealed class FleetRoutingConfigTests
{
    private const string Models = """
        model_list:
          - model_name: qwen
            litellm_params:
              model: hosted_vllm/qwen
              api_base: http://127.0.0.1:8000/v1
        """;

    private static ConfigLoadResult Parse(string routerSettings)
    {
        var env = new FakeEnvironment();
        return ConfigLoader.Parse(Models + "\nrouter_settings:\n" + routerSettings, "c.yaml", env.Get, env.Set);
    }

    [Fact]
    public void Prefix_cache_aware_is_accepted_and_reported_as_a_gateway_extension()
    {
        var result = Parse("  routing_strategy: prefix-cache-aware\n  vllm_metrics_interval: 0.25\n");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal("prefix-cache-aware", result.Config!.RouterSettings.RoutingStrategy);
        var report = ConfigSupport.Report(result);
        Assert.Contains("'prefix-cache-aware' is a gateway extension", report, StringComparison.Ordinal);
        var extensions = report.IndexOf("Gateway extensions", StringComparison.Ordinal);
        Assert.True(extensions > 0, report);
        Assert.Contains("  router_settings.vllm_metrics_interval", report[extensions..], StringComparison.Ordinal);
    }

    [Fact]
    public void Affinity_settings_resolve_into_router_options()
    {
        var result = Parse("""
              optional_pre_call_checks: [session_affinity, deployment_affinity, prompt_caching]
              deployment_affinity_ttl_seconds: 120
              model_group_affinity_config:
                qwen: [session_affinity]
              vllm_metrics_interval: 0.5
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var options = RouterOptionsBuilder.Build(result.Config!);
        Assert.True(options.Affinity.SessionAffinity);
        Assert.True(options.Affinity.DeploymentAffinity);
        Assert.Equal(TimeSpan.FromSeconds(120), options.Affinity.Ttl);
        Assert.Equal(["session_affinity"], options.Affinity.PerGroup["qwen"]);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.VllmMetricsInterval);
        // prompt_caching is LiteLLM's but not acted on here: said so, not warned about.
        Assert.Contains(result.Diagnostics, d => d.Severity == ConfigSeverity.Info && d.ToString().Contains("prompt_caching", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == ConfigSeverity.Warning);
    }

    [Fact]
    public void Defaults_are_LiteLLMs()
    {
        var result = Parse("  routing_strategy: least-busy\n");

        var options = RouterOptionsBuilder.Build(result.Config!);
        Assert.False(options.Affinity.SessionAffinity);
        Assert.Equal(TimeSpan.FromSeconds(3600), options.Affinity.Ttl);
        Assert.Null(options.VllmMetricsInterval);
    }

    [Fact]
    public void Bad_values_are_errors_with_the_path()
    {
        var result = Parse("  vllm_metrics_interval: often\n  deployment_affinity_ttl_seconds: 0\n");

        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("router_settings.vllm_metrics_interval", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("router_settings.deployment_affinity_ttl_seconds", StringComparison.Ordinal));
    }
}
