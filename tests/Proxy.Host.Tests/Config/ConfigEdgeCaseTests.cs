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

    [Fact]
    public void Master_key_and_database_url_fall_back_to_litellm_env_vars()
    {
        var env = new FakeEnvironment(("LITELLM_MASTER_KEY", "sk-from-env"), ("DATABASE_URL", "postgres://db/x"));
        var fromEnv = Parse("general_settings: {}\n", env);
        var fromFile = Parse("general_settings:\n  master_key: sk-from-file\n", env);

        Assert.Equal("sk-from-env", fromEnv.Config?.GeneralSettings.MasterKey?.Value);
        Assert.Equal("postgres://db/x", fromEnv.Config?.GeneralSettings.DatabaseUrl?.Value);
        Assert.Equal("sk-from-file", fromFile.Config?.GeneralSettings.MasterKey?.Value);
    }

    [Fact]
    public void Master_key_without_sk_prefix_is_a_warning()
    {
        var result = Parse("general_settings:\n  master_key: plain-key\nmodel_list: []\n");

        Assert.True(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Path == "general_settings.master_key" && d.Severity == ConfigSeverity.Warning);
        Assert.Contains(result.Diagnostics, d => d.Path == "model_list" && d.Message.StartsWith("no models", StringComparison.Ordinal));
    }

    [Fact]
    public void Fallback_to_an_undefined_group_is_a_warning()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params: {model: hosted_vllm/a, api_base: "http://a/v1"}
            router_settings:
              fallbacks: [{a: [missing-group]}]
            """);

        Assert.True(result.Succeeded);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal("router_settings.fallbacks.a", warning.Path);
        Assert.Contains("missing-group", warning.Message, StringComparison.Ordinal);
    }
}
