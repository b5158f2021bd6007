using Proxy.Host.Config;

namespace Proxy.Host.Tests.Config;

public sealed class ConfigEdgeCaseTests
{
    private static ConfigLoadResult Parse(string yaml, FakeEnvironment? env = null)
    {
        env ??= new FakeEnvironment();
        return ConfigLoader.Parse(yaml, "config.yaml", env.Get, env.Set);
    }

    [Fact]
    public void Duplicate_key_is_reported_without_throwing()
    {
        var result = Parse("""
            general_settings:
              master_key: sk-DUPLICATE-SECRET-1
              master_key: sk-DUPLICATE-SECRET-2
            """);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(3, diagnostic.Line);
        // YamlDotNet rejects duplicate keys where PyYAML keeps the last one; stricter than LiteLLM, but never silent
        Assert.Equal(ConfigSeverity.Error, diagnostic.Severity);
        Assert.Contains("Duplicate key", diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("DUPLICATE-SECRET", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Anchors_and_aliases_are_followed()
    {
        var result = Parse("""
            x-common: &common
              model: hosted_vllm/a
              api_base: http://a/v1
            model_list:
              - model_name: a
                litellm_params: *common
            """);

        Assert.Equal("http://a/v1", result.Config?.ModelList[0].LitellmParams.ApiBase);
    }

    [Fact]
    public void Root_that_is_not_a_map_is_an_error()
    {
        var result = Parse("- just\n- a list\n");

        Assert.Null(result.Config);
        Assert.Equal(ConfigLoader.FilePath, Assert.Single(result.Diagnostics).Path);
    }

    [Fact]
    public void Yaml_error_text_does_not_echo_a_quoted_secret()
    {
        var result = Parse("general_settings:\n  master_key: \"sk-QUOTED-SECRET\n  other: [\n");

        Assert.Null(result.Config);
        Assert.DoesNotContain("QUOTED-SECRET", string.Join("\n", result.Diagnostics), StringComparison.Ordinal);
    }
}
