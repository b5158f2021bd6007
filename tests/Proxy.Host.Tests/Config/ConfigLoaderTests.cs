using Proxy.Host.Config;

namespace Proxy.Host.Tests.Config;

public sealed class ConfigLoaderTests
{
    private static ConfigLoadResult Parse(string yaml, FakeEnvironment? env = null)
    {
        env ??= new FakeEnvironment();
        return ConfigLoader.Parse(yaml, "config.yaml", env.Get, env.Set);
    }

    private static GatewayConfig ParseOk(string yaml, FakeEnvironment? env = null)
    {
        var result = Parse(yaml, env);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    private static List<ConfigDiagnostic> Of(ConfigLoadResult result, ConfigSeverity severity) =>
        result.Diagnostics.Where(d => d.Severity == severity).ToList();

    [Theory]
    [InlineData("7d", 7 * 24 * 3600)]
    [InlineData("24h", 24 * 3600)]
    [InlineData("60m", 3600)]
    [InlineData("3600s", 3600)]
    public void Spend_log_retention_takes_litellms_durations(string text, int seconds)
    {
        var config = ParseOk($"general_settings:\n  maximum_spend_logs_retention_period: {text}\n  maximum_spend_logs_retention_interval: 1h\n");

        Assert.Equal(TimeSpan.FromSeconds(seconds), config.GeneralSettings.MaximumSpendLogsRetentionPeriod);
        Assert.Equal(TimeSpan.FromHours(1), config.GeneralSettings.MaximumSpendLogsRetentionInterval);
    }

    [Fact]
    public void Spend_log_retention_that_is_not_a_duration_is_an_error_with_its_path()
    {
        var result = Parse("general_settings:\n  maximum_spend_logs_retention_period: a week\n");

        Assert.False(result.Succeeded);
        var error = Assert.Single(Of(result, ConfigSeverity.Error));
        Assert.Contains("general_settings.maximum_spend_logs_retention_period", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_config_binds_every_value()
    {
        var result = Parse(ConfigText.Bench);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Empty(Of(result, ConfigSeverity.Warning));
        var config = result.Config!;
        var deployment = Assert.Single(config.ModelList);
        Assert.Equal("fake-model", deployment.ModelName);
        Assert.Equal(0, deployment.Index);
        Assert.Equal(6, deployment.Line);
        Assert.Equal("openai/fake-model", deployment.LitellmParams.Model);
        Assert.Equal("openai", deployment.LitellmParams.Provider);
        Assert.Equal("fake-model", deployment.LitellmParams.UpstreamModel);
        Assert.Equal("http://127.0.0.1:18000/v1", deployment.LitellmParams.ApiBase);
        Assert.Equal("sk-fake-upstream", deployment.LitellmParams.ApiKey?.Value);
        Assert.Equal(60, deployment.LitellmParams.Timeout);
        Assert.Equal(60, deployment.LitellmParams.StreamTimeout);
        Assert.Equal(4096, deployment.ModelInfo.MaxInputTokens);
        // sha256 computed with LiteLLM's _generate_model_id over PyYAML's load of the same file
        Assert.Equal("5a1bf8f7b10b1d433bd2436c64602e17ba7729ce4bfc95d67d5875294672d507", deployment.Id);

        Assert.Equal(0, config.LitellmSettings.NumRetries);
        Assert.Equal(60, config.LitellmSettings.RequestTimeout);
        Assert.True(config.LitellmSettings.DropParams);
        Assert.False(config.LitellmSettings.SetVerbose);
        Assert.False(config.LitellmSettings.JsonLogs);
        Assert.Equal("simple-shuffle", config.RouterSettings.RoutingStrategy);
        Assert.Equal("sk-bench", config.GeneralSettings.MasterKey?.Value);
        Assert.True(config.GeneralSettings.DisableSpendLogs);
        Assert.Equal(300, config.GeneralSettings.HealthCheckInterval);
        Assert.Equal("config.yaml", config.SourcePath);
    }

    [Fact]
    public void Router_lb_config_binds_all_values_and_warns_about_non_litellm_keys()
    {
        var env = new FakeEnvironment(("VLLM_KEY", "sk-vllm"));
        var result = Parse(ConfigText.RouterLb, env);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var config = result.Config!;
        Assert.Equal(4, config.ModelList.Count);
        var (a, b, qwen, llama) = (config.ModelList[0], config.ModelList[1], config.ModelList[2], config.ModelList[3]);

        Assert.Equal("deepseek-r1", a.ModelName);
        Assert.Equal("hosted_vllm", a.LitellmParams.Provider);
        Assert.Equal("deepseek-r1", a.LitellmParams.UpstreamModel);
        Assert.Equal("sk-vllm", a.LitellmParams.ApiKey?.Value);
        Assert.Equal(0.0000028, a.LitellmParams.InputCostPerToken);
        Assert.Equal(0.0000028, a.LitellmParams.OutputCostPerToken);
        Assert.Equal(3000, a.LitellmParams.Rpm);
        Assert.Equal(2000, b.LitellmParams.Rpm);
        Assert.Equal(1200000, a.LitellmParams.Tpm);
        Assert.Equal(1200000, b.LitellmParams.Tpm);
        Assert.Equal(0.5, a.LitellmParams.Weight);
        Assert.Equal(0.3, b.LitellmParams.Weight);
        Assert.Equal("http://vllm-b:8000/v1", b.LitellmParams.ApiBase);

        Assert.Equal(0.000012, qwen.LitellmParams.InputCostPerToken);
        Assert.Equal(0.2, qwen.LitellmParams.Weight);
        Assert.Equal(["a", "b"], qwen.LitellmParams.Tags);
        Assert.Equal(0.0000008, llama.LitellmParams.OutputCostPerToken);
        Assert.Equal("openai", llama.LitellmParams.Provider);

        // ids match LiteLLM's _generate_model_id (raw values, before os.environ resolution)
        Assert.Equal("20ff814173415ac3c323d1f5eb07302f9a8f647d71d3a07990675cbc297056b8", a.Id);
        Assert.Equal("e331fad38f0b06e8da0755fb8e3d6aebe4ab9672b099cc8c11ee3c209e38ffbc", b.Id);
        Assert.Equal("e2e3357f77de5410713dad2f67fc4594efe70a023719faaa3cdbbe2a8aa8a4aa", qwen.Id);
        Assert.Equal("21eec42d60efa31d6ad0c3bffcc6634fb915dd2c5281d15b9e9ed5da28632088", llama.Id);

        var router = config.RouterSettings;
        Assert.Equal("cost-based-routing", router.RoutingStrategy);
        Assert.Equal(3, router.NumRetries);
        Assert.Equal(6, router.AllowedFails);
        Assert.Equal(120, router.CooldownTime);
        Assert.Equal(5, router.RetryPolicy?.RateLimitErrorRetries);
        Assert.Equal(4, router.RetryPolicy?.TimeoutErrorRetries);
        Assert.Equal(3, router.RetryPolicy?.InternalServerErrorRetries);
        Assert.Null(router.RetryPolicy?.BadRequestErrorRetries);
        Assert.Null(router.AllowedFailsPolicy);
        Assert.Equal(["deepseek-r1", "qwen3"], router.Fallbacks.Keys);
        Assert.Equal(["qwen3", "llama3"], router.Fallbacks["deepseek-r1"]);
        Assert.Equal(["llama3"], router.Fallbacks["qwen3"]);
        Assert.Equal(["llama3"], router.DefaultFallbacks);
        Assert.True(router.EnablePreCallChecks);
        Assert.Equal(30, router.HealthCheckInterval);
        Assert.Equal(90, router.Timeout);
        Assert.Equal(["qwen3"], config.LitellmSettings.ContextWindowFallbacks["deepseek-r1"]);
        Assert.Equal(6000, config.LitellmSettings.RequestTimeout);

        var warnings = Of(result, ConfigSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.Contains(warnings, w => w.StartsWith("config.yaml:12: model_list[0].litellm_params.priority: ignored", StringComparison.Ordinal)
            && w.Contains("'order'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("model_list[1].litellm_params.priority: ignored", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("model_list[0].litellm_params.metadata: ignored", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("model_list[1].litellm_params.metadata: ignored", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("model_list[2].litellm_params.fallback: ignored", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("model_list[3].litellm_params.fallback: ignored", StringComparison.Ordinal));
        Assert.Equal(6, warnings.Count);
    }

    [Fact]
    public void Os_environ_is_resolved_anywhere_and_a_missing_variable_is_a_warning_without_value()
    {
        var env = new FakeEnvironment(("UPSTREAM", "http://up:8000/v1"), ("GROUP", "qwen3"), ("RPM", "42"));
        var result = Parse("""
            model_list:
              - model_name: qwen3
                litellm_params:
                  model: hosted_vllm/qwen3
                  api_base: os.environ/UPSTREAM
                  api_key: os.environ/MISSING_KEY
                  rpm: os.environ/RPM
                  tags: [os.environ/GROUP]
            router_settings:
              default_fallbacks: [os.environ/GROUP]
            """, env);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var p = result.Config!.ModelList[0].LitellmParams;
        Assert.Equal("http://up:8000/v1", p.ApiBase);
        Assert.Null(p.ApiKey);
        Assert.Equal(42, p.Rpm);
        Assert.Equal(["qwen3"], p.Tags);
        Assert.Equal(["qwen3"], result.Config.RouterSettings.DefaultFallbacks);
        var warning = Assert.Single(Of(result, ConfigSeverity.Warning));
        Assert.Equal("model_list[0].litellm_params.api_key", warning.Path);
        Assert.Equal(6, warning.Line);
        Assert.Contains("MISSING_KEY", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_are_applied_before_os_environ_is_resolved()
    {
        var env = new FakeEnvironment();
        var result = Parse("""
            model_list:
              - model_name: m
                litellm_params:
                  model: hosted_vllm/m
                  api_base: http://vllm:8000/v1
                  api_key: os.environ/MY_VLLM_KEY
            environment_variables:
              MY_VLLM_KEY: sk-from-env-section
              PORT: 4000
            """, env);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal("sk-from-env-section", result.Config!.ModelList[0].LitellmParams.ApiKey?.Value);
        Assert.Equal("sk-from-env-section", env.Get("MY_VLLM_KEY"));
        Assert.Equal("4000", env.Get("PORT"));
        Assert.Equal(["MY_VLLM_KEY", "PORT"], env.SetCalls);
        Assert.Equal("4000", result.Config.EnvironmentVariables["PORT"]);
    }

    [Fact]
    public void Type_error_names_file_line_and_path_and_quotes_the_value()
    {
        var result = Parse("""
            model_list:
              - model_name: m
                litellm_params:
                  model: hosted_vllm/m
                  api_base: http://vllm:8000/v1
                  rpm: ten
            """);

        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        var error = Assert.Single(Of(result, ConfigSeverity.Error));
        Assert.Equal("config.yaml:6: model_list[0].litellm_params.rpm: expected an integer, got \"ten\"", error.ToString());
    }

    [Theory]
    [InlineData("rpm: 3.5", "expected an integer, got \"3.5\"")]
    [InlineData("weight: heavy", "expected a number, got \"heavy\"")]
    [InlineData("drop_params: maybe", "expected a boolean, got \"maybe\"")]
    [InlineData("timeout: [1, 2]", "expected a number, got a list")]
    [InlineData("tags: {a: b}", "expected a list, got a map")]
    [InlineData("rpm: -1", "must be at least 0, got -1")]
    public void Scalar_types_are_checked(string line, string message)
    {
        var result = Parse($"""
            model_list:
              - model_name: m
                litellm_params:
                  model: hosted_vllm/m
                  api_base: http://vllm:8000/v1
                  {line}
            """);

        var error = Assert.Single(Of(result, ConfigSeverity.Error));
        Assert.Equal(message, error.Message);
        Assert.Equal(6, error.Line);
    }

    [Fact]
    public void Numbers_and_booleans_accept_litellm_spellings()
    {
        var config = ParseOk("""
            model_list:
              - model_name: m
                litellm_params:
                  model: m
                  api_base: http://vllm:8000/v1
                  input_cost_per_token: 1e-6
                  output_cost_per_token: 0.0000028
                  drop_params: True
                  tpm: 3000
            litellm_settings:
              drop_params: yes
              json_logs: False
              cache: no
            """);

        var p = config.ModelList[0].LitellmParams;
        Assert.Equal(1e-6, p.InputCostPerToken);
        Assert.Equal(0.0000028, p.OutputCostPerToken);
        Assert.True(p.DropParams);
        Assert.Equal(3000, p.Tpm);
        Assert.Equal(string.Empty, p.Provider);
        Assert.Equal("m", p.UpstreamModel);
        Assert.True(config.LitellmSettings.DropParams);
        Assert.False(config.LitellmSettings.JsonLogs);
        Assert.False(config.LitellmSettings.Cache);
    }

    [Fact]
    public void Several_errors_are_reported_together()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
                  rpm: ten
              - litellm_params:
                  model: openai/b
              - model_name: c
                litellm_params:
                  api_base: http://x/v1
            router_settings:
              routing_strategy: fastest
              num_retries: many
            general_settings:
              health_check_interval: soon
            """);

        Assert.Null(result.Config);
        var errors = Of(result, ConfigSeverity.Error).Select(e => $"{e.Line}: {e.Path}").ToList();
        Assert.Equal(
            [
                "3: model_list[0].litellm_params.api_base",
                "5: model_list[0].litellm_params.rpm",
                "6: model_list[1].model_name",
                "9: model_list[2].litellm_params.model",
                "12: router_settings.routing_strategy",
                "13: router_settings.num_retries",
                "15: general_settings.health_check_interval",
            ],
            errors.Order(StringComparer.Ordinal).OrderBy(e => int.Parse(e.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture)));
        var strategy = Of(result, ConfigSeverity.Error).Single(e => e.Path == "router_settings.routing_strategy");
        Assert.Contains("latency-based-routing", strategy.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_provider_is_an_error_naming_the_entry()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params:
                  model: openai/a
              - model_name: b
                litellm_params:
                  model: hosted_vllm/b
                  api_base: http://b/v1
              - model_name: claude
                litellm_params:
                  model: bedrock/anthropic.claude-3-5-sonnet
                  api_key: sk-ant
            """);

        var error = Assert.Single(Of(result, ConfigSeverity.Error));
        Assert.Equal(
            "config.yaml:11: model_list[2].litellm_params.model: provider 'bedrock' is not supported yet; use hosted_vllm/, openai/, anthropic/, azure/, azure_ai/ or a bare OpenAI-compatible model name with api_base",
            error.ToString());
    }

    [Fact]
    public void Anthropic_azure_and_azure_ai_take_litellms_defaults_from_the_environment()
    {
        var env = new FakeEnvironment(
            ("ANTHROPIC_API_KEY", "sk-ant-env"),
            ("AZURE_API_BASE", "https://res.openai.azure.com"),
            ("AZURE_API_KEY", "azure-env"),
            ("AZURE_AI_API_BASE", "https://x.services.ai.azure.com/models"),
            ("AZURE_AI_API_KEY", "ai-env"));
        var config = ParseOk("""
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
              - model_name: gpt
                litellm_params:
                  model: azure/gpt4o
              - model_name: phi
                litellm_params:
                  model: azure_ai/phi-4
            """, env);

        var p = config.ModelList.Select(d => d.LitellmParams).ToList();
        Assert.Equal("https://api.anthropic.com", p[0].ApiBase);
        Assert.Equal("sk-ant-env", p[0].ApiKey!.Value.Value);
        Assert.Equal("https://res.openai.azure.com", p[1].ApiBase);
        Assert.Equal("azure-env", p[1].ApiKey!.Value.Value);
        Assert.Equal("2025-02-01-preview", p[1].ApiVersion);
        Assert.Equal("https://x.services.ai.azure.com/models", p[2].ApiBase);
        Assert.Equal("ai-env", p[2].ApiKey!.Value.Value);
    }

    [Fact]
    public void Openai_without_api_base_defaults_to_openai_and_its_env_key()
    {
        var env = new FakeEnvironment(("OPENAI_API_KEY", "sk-openai"));
        var config = ParseOk("""
            model_list:
              - model_name: gpt
                litellm_params:
                  model: openai/gpt-4o
            """, env);

        var p = config.ModelList[0].LitellmParams;
        Assert.Equal("https://api.openai.com/v1", p.ApiBase);
        Assert.Equal("sk-openai", p.ApiKey?.Value);
        Assert.Equal("gpt-4o", p.UpstreamModel);
    }

    [Fact]
    public void Hosted_vllm_without_api_base_is_an_error_unless_mocked()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
              - model_name: b
                litellm_params:
                  model: b
                  mock_response: hello
            """);

        var error = Assert.Single(Of(result, ConfigSeverity.Error));
        Assert.Equal("model_list[0].litellm_params.api_base", error.Path);
        Assert.Contains("api_base is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_keys_warn_with_their_path_and_known_litellm_keys_do_not()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
                  api_base: http://a/v1
                  temprature: 0.2
                  organization: org-1
                model_info:
                  description: kept
            router_settings:
              routing_strategy: simple-shuffle
              retries: 3
              tag_filtering_match_any: true
            general_settings:
              alerting_threshold: 300
            mcp_servers:
              x: {url: http://mcp}
            mystery_section: 1
            """);

        Assert.True(result.Succeeded);
        var warnings = Of(result, ConfigSeverity.Warning).Select(w => w.ToString()).ToList();
        Assert.Equal(
            [
                "config.yaml:6: model_list[0].litellm_params.temprature: unknown key; ignored",
                "config.yaml:12: router_settings.retries: unknown key; ignored",
                "config.yaml:16: mcp_servers: not supported; ignored",
                "config.yaml:18: mystery_section: unknown key; ignored",
            ],
            warnings);
        Assert.Equal("kept", result.Config!.ModelList[0].ModelInfo.Extra["description"]);
    }

    [Fact]
    public void Yaml_syntax_error_is_one_error_with_its_line()
    {
        var result = Parse("""
            model_list:
              - model_name: a
                litellm_params:
                  model: "unterminated
            router_settings: {}
            """);

        Assert.Null(result.Config);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(ConfigSeverity.Error, error.Severity);
        Assert.Equal(ConfigLoader.FilePath, error.Path);
        Assert.InRange(error.Line, 4, 6);
        Assert.StartsWith("invalid YAML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n# and another\n")]
    public void Empty_file_is_a_valid_config_without_models(string yaml)
    {
        var result = Parse(yaml);

        Assert.True(result.Succeeded);
        Assert.Empty(result.Config!.ModelList);
        Assert.Equal(ConfigSeverity.Warning, Assert.Single(result.Diagnostics).Severity);
    }

    [Fact]
    public void Secrets_never_appear_in_diagnostics_or_record_text()
    {
        const string Master = "sk-TOPSECRET-master-9f8e7d";
        const string Upstream = "UPSTREAM-SECRET-1234";
        const string Db = "postgres://user:DBSECRET@db/litellm";
        const string Redis = "REDIS-SECRET-pw";
        var env = new FakeEnvironment(("ENV_KEY", Upstream));
        var result = Parse($"""
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
                  api_base: http://a/v1
                  api_key: os.environ/ENV_KEY
                  rpm: os.environ/ENV_KEY
              - model_name: b
                litellm_params:
                  model: anthropic/b
                  api_key: {Upstream}
            router_settings:
              redis_password: {Redis}
            litellm_settings:
              cache_params:
                type: redis
                password: {Redis}
            general_settings:
              master_key: {Master}
              database_url: {Db}
            environment_variables:
              SOME_TOKEN: {Upstream}
            guardrails:
              - guardrail_name: g
                litellm_params:
                  guardrail: presidio
                  mode: pre_call
                  api_key: {Upstream}
            """, env);

        Assert.NotEmpty(Of(result, ConfigSeverity.Error));
        var text = string.Join("\n", result.Diagnostics) + ConfigSupport.Report(result);
        foreach (var secret in (string[])[Master, Upstream, "DBSECRET", Redis])
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        // the same file without the errors: the records print *** for every secret
        var ok = ParseOk($"""
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
                  api_base: http://a/v1
                  api_key: {Upstream}
            router_settings:
              redis_password: {Redis}
            litellm_settings:
              cache_params:
                type: redis
                password: {Redis}
            general_settings:
              master_key: {Master}
              database_url: {Db}
            environment_variables:
              SOME_TOKEN: {Upstream}
            guardrails:
              - guardrail_name: g
                litellm_params:
                  guardrail: presidio
                  mode: pre_call
                  api_key: {Upstream}
            """);
        var printed = ok.ToString() + ok.ModelList[0] + ok.ModelList[0].LitellmParams + ok.RouterSettings + ok.LitellmSettings
            + ok.LitellmSettings.CacheParams + ok.GeneralSettings + ok.Guardrails[0];
        Assert.Equal(Master, ok.GeneralSettings.MasterKey?.Value);
        Assert.Contains("***", printed, StringComparison.Ordinal);
        foreach (var secret in (string[])[Master, Upstream, "DBSECRET", Redis])
        {
            Assert.DoesNotContain(secret, printed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Deployment_id_is_stable_and_depends_on_params()
    {
        const string Template = """
            model_list:
              - model_name: a
                litellm_params:
                  model: hosted_vllm/a
                  api_base: http://a/v1
                  api_key: os.environ/KEY
                  rpm: RPM
            """;
        var first = ParseOk(Template.Replace("RPM", "100", StringComparison.Ordinal), new FakeEnvironment(("KEY", "one")));
        var again = ParseOk(Template.Replace("RPM", "100", StringComparison.Ordinal), new FakeEnvironment(("KEY", "two")));
        var other = ParseOk(Template.Replace("RPM", "200", StringComparison.Ordinal), new FakeEnvironment(("KEY", "one")));
        var explicitId = ParseOk("""
            model_list:
              - model_name: a
                litellm_params: {model: hosted_vllm/a, api_base: "http://a/v1"}
                model_info: {id: my-deployment}
            """);

        Assert.Matches("^[0-9a-f]{64}$", first.ModelList[0].Id);
        Assert.Equal(first.ModelList[0].Id, again.ModelList[0].Id);
        Assert.NotEqual(first.ModelList[0].Id, other.ModelList[0].Id);
        Assert.Equal("my-deployment", explicitId.ModelList[0].Id);
        Assert.Equal("my-deployment", explicitId.ModelList[0].ModelInfo.Id);
    }

    [Fact]
    public void Guardrail_mode_accepts_a_string_or_a_list()
    {
        var env = new FakeEnvironment(("LAKERA_KEY", "sk-lakera"));
        var config = ParseOk("""
            guardrails:
              - guardrail_name: pii
                litellm_params:
                  guardrail: presidio
                  mode: pre_call
                  default_on: true
                  presidio_language: en
              - guardrail_name: lakera
                litellm_params:
                  guardrail: lakera_v2
                  mode: [pre_call, post_call]
                  api_key: os.environ/LAKERA_KEY
                  api_base: https://api.lakera.ai
            """, env);

        Assert.Equal(2, config.Guardrails.Count);
        var pii = config.Guardrails[0];
        Assert.Equal("pii", pii.GuardrailName);
        Assert.Equal("presidio", pii.Guardrail);
        Assert.Equal(["pre_call"], pii.Mode);
        Assert.True(pii.DefaultOn);
        Assert.Equal("en", pii.Extra["presidio_language"]);
        Assert.Equal(2, pii.Line);
        var lakera = config.Guardrails[1];
        Assert.Equal(["pre_call", "post_call"], lakera.Mode);
        Assert.Equal("sk-lakera", lakera.ApiKey?.Value);
        Assert.Equal("https://api.lakera.ai", lakera.ApiBase);
        Assert.False(lakera.DefaultOn);
    }

    [Fact]
    public void Model_group_alias_accepts_a_string_or_a_map()
    {
        var config = ParseOk("""
            model_list:
              - model_name: qwen3
                litellm_params: {model: hosted_vllm/qwen3, api_base: "http://q/v1"}
            router_settings:
              model_group_alias:
                gpt-4o: qwen3
                secret-model: {model: qwen3, hidden: true}
            """);

        var aliases = config.RouterSettings.ModelGroupAlias;
        Assert.Equal(["gpt-4o", "secret-model"], aliases.Keys);
        Assert.Equal(new ModelGroupAlias { Model = "qwen3" }, aliases["gpt-4o"]);
        Assert.Equal(new ModelGroupAlias { Model = "qwen3", Hidden = true }, aliases["secret-model"]);
    }

    [Fact]
    public void Fallbacks_accept_one_map_with_several_keys()
    {
        var config = ParseOk("""
            model_list:
              - model_name: a
                litellm_params: {model: hosted_vllm/a, api_base: "http://a/v1"}
              - model_name: b
                litellm_params: {model: hosted_vllm/b, api_base: "http://b/v1"}
            router_settings:
              fallbacks: {b: [a], a: [b]}
            """);

        Assert.Equal(["b", "a"], config.RouterSettings.Fallbacks.Keys);
        Assert.Equal(["a"], config.RouterSettings.Fallbacks["b"]);
    }

    [Fact]
    public void Routing_strategy_underscore_spelling_is_normalised_with_an_info()
    {
        var result = Parse("""
            router_settings:
              routing_strategy: least_busy
            """);

        Assert.True(result.Succeeded);
        Assert.Equal("least-busy", result.Config!.RouterSettings.RoutingStrategy);
        var info = Assert.Single(Of(result, ConfigSeverity.Info));
        Assert.Equal("router_settings.routing_strategy", info.Path);
    }

    [Fact]
    public void Cache_params_type_and_mode_are_validated()
    {
        var result = Parse("""
            litellm_settings:
              cache: true
              cache_params:
                type: memcached
                mode: sometimes
                ttl: 600
            """);

        var errors = Of(result, ConfigSeverity.Error);
        Assert.Equal(["litellm_settings.cache_params.type", "litellm_settings.cache_params.mode"], errors.Select(e => e.Path));
        Assert.Contains("redis-semantic", errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_model_name_or_model_is_an_error()
    {
        var result = Parse("""
            model_list:
              - litellm_params:
                  model: hosted_vllm/a
                  api_base: http://a/v1
              - model_name: b
              - model_name: c
                litellm_params:
                  api_base: http://c/v1
            """);

        Assert.Equal(
            ["model_list[0].model_name", "model_list[1].litellm_params", "model_list[2].litellm_params.model"],
            Of(result, ConfigSeverity.Error).Select(e => e.Path));
    }

    [Fact]
    public void Present_keys_are_normalised_paths()
    {
        var result = Parse(ConfigText.RouterLb, new FakeEnvironment(("VLLM_KEY", "k")));

        Assert.Contains("model_list[*].litellm_params.rpm", result.PresentKeys);
        Assert.Contains("model_list[*].litellm_params.metadata", result.PresentKeys);
        Assert.Contains("router_settings.fallbacks", result.PresentKeys);
        Assert.Contains("router_settings.retry_policy.RateLimitErrorRetries", result.PresentKeys);
        Assert.DoesNotContain(result.PresentKeys, k => k.Contains("deepseek-r1", StringComparison.Ordinal));
        Assert.Equal(result.PresentKeys.Count, result.PresentKeys.Distinct().Count());
    }

    [Fact]
    public void Load_reports_an_unreadable_file_as_an_error()
    {
        var env = new FakeEnvironment();
        var path = Path.Combine(Path.GetTempPath(), "proxy-config-tests", Guid.NewGuid().ToString("N"), "config.yaml");

        var result = ConfigLoader.Load(path, env.Get, env.Set);

        Assert.Null(result.Config);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(path, error.File);
        Assert.StartsWith("cannot read the file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_reads_the_file()
    {
        var env = new FakeEnvironment();
        var path = Path.Combine(Path.GetTempPath(), $"proxy-config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, ConfigText.Bench);
        try
        {
            var result = ConfigLoader.Load(path, env.Get, env.Set);

            Assert.True(result.Succeeded);
            Assert.Equal(path, result.Config!.SourcePath);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
