using Proxy.Host.Config;

namespace Proxy.Host.Tests.Config;

public sealed class ConfigSupportTests
{
    [Theory]
    [InlineData("model_list[*].model_name", "Honoured")]
    [InlineData("model_list[*].litellm_params.api_base", "Honoured")]
    [InlineData("general_settings.master_key", "Honoured")]
    [InlineData("litellm_settings.request_timeout", "Honoured")]
    [InlineData("environment_variables", "Honoured")]
    [InlineData("model_list[*].litellm_params.rpm", "Honoured")]
    [InlineData("model_list[*].litellm_params.max_parallel_requests", "Honoured")]
    [InlineData("router_settings.fallbacks", "Honoured")]
    [InlineData("router_settings.redis_host", "ParsedNotActedOn")]
    [InlineData("model_list[*].model_info.description", "ParsedNotActedOn")]
    [InlineData("model_list[*].litellm_params.priority", "Ignored")]
    [InlineData("mcp_servers", "Ignored")]
    [InlineData("router_settings.retries", "Unknown")]
    public void Of_classifies_paths(string path, string expected) => Assert.Equal(Enum.Parse<SupportLevel>(expected), ConfigSupport.Of(path));

    [Fact]
    public void Report_lists_errors_first_then_keys_by_level()
    {
        var env = new FakeEnvironment(("VLLM_KEY", "k"));
        var result = ConfigLoader.Parse(ConfigText.RouterLb + "\ngeneral_settings:\n  health_check_interval: soon\n", "c.yaml", env.Get, env.Set);

        var report = ConfigSupport.Report(result);

        Assert.StartsWith("Config INVALID (1 error(s), 6 warning(s))", report, StringComparison.Ordinal);
        var error = report.IndexOf("ERROR c.yaml:", StringComparison.Ordinal);
        var warning = report.IndexOf("WARNING c.yaml:", StringComparison.Ordinal);
        var honoured = report.IndexOf("Honoured:", StringComparison.Ordinal);
        var parsed = report.IndexOf("Parsed, not acted on yet:", StringComparison.Ordinal);
        var ignored = report.IndexOf("Ignored", StringComparison.Ordinal);
        Assert.True(error > 0 && error < warning && warning < honoured && honoured < parsed && parsed < ignored, report);
        Assert.Contains("  model_list[*].litellm_params.priority", report[ignored..], StringComparison.Ordinal);
        Assert.Contains("  router_settings.routing_strategy", report[honoured..parsed], StringComparison.Ordinal);
    }
}
