using System.Collections.Frozen;
using System.Collections.ObjectModel;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>router_settings</c>.</summary>
internal static class RouterSettingsBinder
{
    /// <summary>LiteLLM's <c>valid_strategy_strings</c>.</summary>
    public static readonly FrozenSet<string> Strategies = FrozenSet.Create(
        StringComparer.Ordinal,
        "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2", "latency-based-routing",
        "cost-based-routing", "provider-budget-routing", PrefixCacheAware);

    /// <summary>Ours, not LiteLLM's: --check-config says so, since a LiteLLM proxy would refuse the config.</summary>
    public const string PrefixCacheAware = "prefix-cache-aware";

    /// <summary>The optional_pre_call_checks this gateway acts on.</summary>
    public static readonly FrozenSet<string> AffinityChecks = FrozenSet.Create(StringComparer.Ordinal, "session_affinity", "deployment_affinity");

    public static RouterSettings Bind(YamlSection root)
    {
        var r = root.Section("router_settings");
        var defaults = new RouterSettings();
        var settings = new RouterSettings
        {
            RoutingStrategy = Strategy(r) ?? defaults.RoutingStrategy,
            NumRetries = r.Int("num_retries", min: 0),
            RetryAfter = r.Double("retry_after", min: 0) ?? defaults.RetryAfter,
            Timeout = r.Double("timeout", min: 0),
            StreamTimeout = r.Double("stream_timeout", min: 0),
            AllowedFails = r.Int("allowed_fails", min: 0),
            CooldownTime = r.Double("cooldown_time", min: 0),
            DisableCooldowns = r.Bool("disable_cooldowns") ?? false,
            AllowedFailsPolicy = BindAllowedFailsPolicy(r.OptionalSection("allowed_fails_policy")),
            RetryPolicy = BindRetryPolicy(r.OptionalSection("retry_policy")),
            Fallbacks = r.GroupMap("fallbacks") ?? defaults.Fallbacks,
            DefaultFallbacks = r.StringList("default_fallbacks", allowScalar: true) ?? [],
            ContextWindowFallbacks = r.GroupMap("context_window_fallbacks") ?? defaults.ContextWindowFallbacks,
            ContentPolicyFallbacks = r.GroupMap("content_policy_fallbacks") ?? defaults.ContentPolicyFallbacks,
            MaxFallbacks = r.Int("max_fallbacks", min: 0),
            EnablePreCallChecks = r.Bool("enable_pre_call_checks") ?? false,
            OptionalPreCallChecks = PreCallChecks(r),
            DeploymentAffinityTtlSeconds = r.Int("deployment_affinity_ttl_seconds", min: 1),
            ModelGroupAffinityConfig = r.GroupMap("model_group_affinity_config") ?? defaults.ModelGroupAffinityConfig,
            VllmMetricsInterval = VllmMetricsInterval(r),
            RedisHost = r.String("redis_host"),
            RedisPort = r.Int("redis_port", min: 1),
            RedisPassword = r.Secret("redis_password"),
            RedisUrl = r.Secret("redis_url"),
            RedisDb = r.Int("redis_db", min: 0),
            RoutingStrategyArgs = BindStrategyArgs(r.Section("routing_strategy_args")),
            ModelGroupAlias = BindAliases(r.Section("model_group_alias")),
            HealthCheckInterval = r.Double("health_check_interval", min: 0),
            EnableTagFiltering = r.Bool("enable_tag_filtering") ?? false,
            TagFilteringMatchAny = r.Bool("tag_filtering_match_any") ?? defaults.TagFilteringMatchAny,
        };
        r.ReportUnknownKeys();
        return settings;
    }

    private static IReadOnlyList<string> PreCallChecks(YamlSection r)
    {
        var checks = r.StringList("optional_pre_call_checks") ?? [];
        var ignored = checks.Where(c => !AffinityChecks.Contains(c)).ToList();
        if (ignored.Count > 0)
        {
            r.Reader.Info(r.LineOf("optional_pre_call_checks"), r.Child("optional_pre_call_checks"),
                $"acted on: {string.Join(", ", AffinityChecks.Order(StringComparer.Ordinal))}; parsed, not acted on yet: {string.Join(", ", ignored)}");
        }

        return checks;
    }

    private static double? VllmMetricsInterval(YamlSection r)
    {
        var seconds = r.Double("vllm_metrics_interval", min: 0);
        if (seconds is > 0)
        {
            r.Reader.Info(r.LineOf("vllm_metrics_interval"), r.Child("vllm_metrics_interval"),
                "gateway extension (not a LiteLLM setting): hosted_vllm deployments' /metrics are scraped for least-busy and prefix-cache-aware");
        }

        return seconds is > 0 ? seconds : null;
    }

    private static string? Strategy(YamlSection r)
    {
        var value = r.String("routing_strategy");
        if (value == PrefixCacheAware)
        {
            r.Reader.Info(r.LineOf("routing_strategy"), r.Child("routing_strategy"),
                $"'{PrefixCacheAware}' is a gateway extension, not a LiteLLM strategy (LiteLLM would refuse this config): prefix-cache-aware fleet routing for vLLM");
            return value;
        }

        if (value is null || Strategies.Contains(value))
        {
            return value;
        }

        // LiteLLM rejects underscores; accepting them is a harmless extension, but say what the real name is
        var dashed = value.Replace('_', '-');
        if (Strategies.Contains(dashed))
        {
            r.Reader.Info(r.LineOf("routing_strategy"), r.Child("routing_strategy"), $"'{value}' read as '{dashed}' (LiteLLM itself only accepts the dash spelling)");
            return dashed;
        }

        r.Reader.Error(r.LineOf("routing_strategy"), r.Child("routing_strategy"),
            $"unknown routing strategy \"{value}\"; valid values: {string.Join(", ", Strategies.Order(StringComparer.Ordinal))}");
        return null;
    }

    private static AllowedFailsPolicy? BindAllowedFailsPolicy(YamlSection? s)
    {
        if (s is null)
        {
            return null;
        }

        var policy = new AllowedFailsPolicy
        {
            BadRequestErrorAllowedFails = s.Int("BadRequestErrorAllowedFails", min: 0),
            AuthenticationErrorAllowedFails = s.Int("AuthenticationErrorAllowedFails", min: 0),
            TimeoutErrorAllowedFails = s.Int("TimeoutErrorAllowedFails", min: 0),
            RateLimitErrorAllowedFails = s.Int("RateLimitErrorAllowedFails", min: 0),
            ContentPolicyViolationErrorAllowedFails = s.Int("ContentPolicyViolationErrorAllowedFails", min: 0),
            InternalServerErrorAllowedFails = s.Int("InternalServerErrorAllowedFails", min: 0),
        };
        s.ReportUnknownKeys();
        return policy;
    }

    private static RetryPolicy? BindRetryPolicy(YamlSection? s)
    {
        if (s is null)
        {
            return null;
        }

        var policy = new RetryPolicy
        {
            BadRequestErrorRetries = s.Int("BadRequestErrorRetries", min: 0),
            AuthenticationErrorRetries = s.Int("AuthenticationErrorRetries", min: 0),
            TimeoutErrorRetries = s.Int("TimeoutErrorRetries", min: 0),
            RateLimitErrorRetries = s.Int("RateLimitErrorRetries", min: 0),
            ContentPolicyViolationErrorRetries = s.Int("ContentPolicyViolationErrorRetries", min: 0),
            InternalServerErrorRetries = s.Int("InternalServerErrorRetries", min: 0),
            NotFoundErrorRetries = s.Int("NotFoundErrorRetries", min: 0),
        };
        s.ReportUnknownKeys();
        return policy;
    }

    private static RoutingStrategyArgs BindStrategyArgs(YamlSection s)
    {
        var args = new RoutingStrategyArgs
        {
            Ttl = s.Double("ttl", min: 0),
            LowestLatencyBuffer = s.Double("lowest_latency_buffer", min: 0),
            MaxLatencyListSize = s.Int("max_latency_list_size", min: 1),
        };
        s.ReportUnknownKeys();
        return args;
    }

    /// <summary><c>alias: group</c> or <c>alias: {model: group, hidden: true}</c>.</summary>
    private static IReadOnlyDictionary<string, ModelGroupAlias> BindAliases(YamlSection s)
    {
        var result = new OrderedDictionary<string, ModelGroupAlias>(StringComparer.Ordinal);
        foreach (var alias in s.Keys.ToList())
        {
            var node = s.Node(alias);
            if (node is YamlMappingNode)
            {
                var map = s.Section(alias);
                result[alias] = new ModelGroupAlias
                {
                    Model = map.RequiredString("model"),
                    Hidden = map.Bool("hidden") ?? false,
                };
                map.ReportUnknownKeys();
            }
            else if (node is not null)
            {
                var model = s.String(alias);
                if (model is not null)
                {
                    result[alias] = new ModelGroupAlias { Model = model };
                }
            }
        }

        return new ReadOnlyDictionary<string, ModelGroupAlias>(result);
    }
}
