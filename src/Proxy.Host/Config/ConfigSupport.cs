using System.Collections.Frozen;
using System.Text;

namespace Proxy.Host.Config;

/// <summary>
/// What the gateway does with each LiteLLM config key. This table is the one place to flip a key to
/// <see cref="SupportLevel.Honoured"/> when a feature lands; the loader also uses it to tell known LiteLLM keys
/// (silently accepted) from typos (warned about).
/// </summary>
internal static class ConfigSupport
{
    private const SupportLevel H = SupportLevel.Honoured;
    private const SupportLevel P = SupportLevel.ParsedNotActedOn;
    private const SupportLevel I = SupportLevel.Ignored;

    /// <summary>Top-level sections LiteLLM knows and we do not implement.</summary>
    public static readonly FrozenSet<string> UnsupportedSections = FrozenSet.Create(
        StringComparer.Ordinal,
        "callback_settings", "credential_list", "mcp_servers", "mcp_aliases", "assistant_settings", "search_tools",
        "files_settings", "finetune_settings", "vector_store_registry");

    /// <summary>Keys inside litellm_params that look like routing features but are not LiteLLM's.</summary>
    public static readonly FrozenSet<string> NonRoutingParams = FrozenSet.Create(StringComparer.Ordinal, "priority", "fallback", "metadata");

    private static readonly FrozenDictionary<string, SupportLevel> Table = BuildTable();

    public static SupportLevel Of(string normalisedPath)
    {
        if (Table.TryGetValue(normalisedPath, out var level))
        {
            return level;
        }

        var top = normalisedPath.Split('.', 2)[0];
        if (UnsupportedSections.Contains(top))
        {
            return I;
        }

        // free-form maps: LiteLLM keeps arbitrary model_info keys and passes guardrail params to the guardrail
        if (normalisedPath.StartsWith("model_list[*].model_info.", StringComparison.Ordinal)
            || normalisedPath.StartsWith("guardrails[*].litellm_params.", StringComparison.Ordinal)
            || normalisedPath.StartsWith("guardrails[*].guardrail_info.", StringComparison.Ordinal)
            || normalisedPath.StartsWith("environment_variables.", StringComparison.Ordinal)
            || normalisedPath.StartsWith("general_settings.pass_through_endpoints[*].headers.", StringComparison.Ordinal))
        {
            return Table.TryGetValue(Parent(normalisedPath), out var parent) ? parent : P;
        }

        return SupportLevel.Unknown;
    }

    /// <summary>Human-readable report for <c>--check-config</c>: diagnostics (errors first), then keys by level.</summary>
    public static string Report(ConfigLoadResult result)
    {
        var text = new StringBuilder();
        var errors = result.Diagnostics.Count(d => d.Severity == ConfigSeverity.Error);
        var warnings = result.Diagnostics.Count(d => d.Severity == ConfigSeverity.Warning);
        text.Append(result.Succeeded ? "Config OK" : "Config INVALID")
            .Append($" ({errors} error(s), {warnings} warning(s))").AppendLine();
        foreach (var severity in (ReadOnlySpan<ConfigSeverity>)[ConfigSeverity.Error, ConfigSeverity.Warning, ConfigSeverity.Info])
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                if (diagnostic.Severity == severity)
                {
                    text.Append("  ").Append(severity.ToString().ToUpperInvariant()).Append(' ').Append(diagnostic).AppendLine();
                }
            }
        }

        foreach (var (level, title) in (ReadOnlySpan<(SupportLevel, string)>)
                 [
                     (SupportLevel.Honoured, "Honoured"),
                     (SupportLevel.Extension, "Gateway extensions (not LiteLLM keys; honoured here, refused or ignored by LiteLLM)"),
                     (SupportLevel.ParsedNotActedOn, "Parsed, not acted on yet"),
                     (SupportLevel.Ignored, "Ignored (LiteLLM feature not supported, or not a LiteLLM feature)"),
                     (SupportLevel.Unknown, "Unknown to LiteLLM and to us"),
                 ])
        {
            var keys = result.PresentKeys.Where(k => Of(k) == level).ToList();
            if (keys.Count == 0)
            {
                continue;
            }

            text.AppendLine().Append(title).Append(':').AppendLine();
            foreach (var key in keys)
            {
                text.Append("  ").Append(key).AppendLine();
            }
        }

        return text.ToString();
    }

    private static string Parent(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? path : path[..dot];
    }

    private static FrozenDictionary<string, SupportLevel> BuildTable()
    {
        var table = new Dictionary<string, SupportLevel>(StringComparer.Ordinal);

        void Add(string prefix, SupportLevel level, params ReadOnlySpan<string> keys)
        {
            foreach (var key in keys)
            {
                table[prefix.Length == 0 ? key : prefix + "." + key] = level;
            }
        }

        Add(string.Empty, H, "model_list", "environment_variables");
        Add(string.Empty, P, "router_settings", "litellm_settings", "general_settings");
        Add(string.Empty, H, "guardrails");
        foreach (var section in UnsupportedSections)
        {
            table[section] = I;
        }

        const string Deployment = "model_list[*]";
        Add(Deployment, H, "model_name", "litellm_params");
        Add(Deployment, P, "model_info");
        const string Params = Deployment + ".litellm_params";
        Add(Params, H, "model", "api_base", "api_key", "timeout", "stream_timeout", "mock_response", "rpm", "tpm", "weight",
            "order", "input_cost_per_token", "output_cost_per_token", "cooldown_time", "max_parallel_requests", "api_version",
            "disable_anthropic_translation", "tags", "input_cost_per_query", "input_cost_per_second");
        Add(Params, P, "max_retries", "region_name", "drop_params",
            "custom_llm_provider", "organization", "output_cost_per_second",
            "cache_read_input_token_cost", "cache_creation_input_token_cost", "extra_headers", "use_in_pass_through");
        foreach (var key in NonRoutingParams)
        {
            table[Params + "." + key] = I;
        }

        const string Info = Deployment + ".model_info";
        Add(Info, H, "id", "max_input_tokens", "input_cost_per_token", "output_cost_per_token", "mode", "input_cost_per_query",
            "input_cost_per_second");
        Add(Info, P, "max_tokens", "max_output_tokens", "base_model");

        const string Router = "router_settings";
        Add(Router, H, "timeout", "stream_timeout", "routing_strategy", "num_retries", "retry_after", "allowed_fails",
            "cooldown_time", "disable_cooldowns", "allowed_fails_policy", "retry_policy", "fallbacks", "default_fallbacks",
            "context_window_fallbacks", "content_policy_fallbacks", "max_fallbacks", "enable_pre_call_checks",
            "routing_strategy_args", "model_group_alias", "health_check_interval", "enable_tag_filtering", "tag_filtering_match_any",
            "optional_pre_call_checks", "deployment_affinity_ttl_seconds", "model_group_affinity_config");
        Add(Router, SupportLevel.Extension, "vllm_metrics_interval");
        Add(Router, P, "redis_host", "redis_port", "redis_password", "redis_url", "redis_db",
            "provider_budget_config", "cache_responses", "set_verbose", "debug_level");
        Add(Router + ".allowed_fails_policy", H, "BadRequestErrorAllowedFails", "AuthenticationErrorAllowedFails",
            "TimeoutErrorAllowedFails", "RateLimitErrorAllowedFails", "ContentPolicyViolationErrorAllowedFails",
            "InternalServerErrorAllowedFails");
        Add(Router + ".retry_policy", H, "BadRequestErrorRetries", "AuthenticationErrorRetries", "TimeoutErrorRetries",
            "RateLimitErrorRetries", "ContentPolicyViolationErrorRetries", "InternalServerErrorRetries", "NotFoundErrorRetries");
        Add(Router + ".routing_strategy_args", H, "ttl", "lowest_latency_buffer");
        Add(Router + ".routing_strategy_args", P, "max_latency_list_size");

        const string Litellm = "litellm_settings";
        Add(Litellm, H, "request_timeout", "num_retries", "fallbacks", "default_fallbacks", "context_window_fallbacks",
            "content_policy_fallbacks", "allowed_fails", "cooldown_time");
        Add(Litellm, H, "json_logs", "cache", "cache_params", "check_provider_endpoint", "require_auth_for_metrics_endpoint");
        Add(Litellm, H, "max_budget", "budget_duration", "max_end_user_budget", "max_end_user_budget_id", "disable_end_user_cost_tracking",
            "max_internal_user_budget", "internal_user_budget_duration", "prometheus_end_user_label");
        Add(Litellm, P, "drop_params", "set_verbose", "success_callback", "failure_callback", "callbacks", "service_callbacks",
            "turn_off_message_logging", "redact_user_api_key_info",
            "modify_params", "telemetry", "force_ipv4");
        Add(Litellm + ".cache_params", H, "type", "host", "port", "password", "redis_url", "namespace", "scope", "ttl",
            "supported_call_types", "mode", "default_in_memory_ttl", "default_in_redis_ttl", "db", "socket_timeout",
            "max_memory_kb", "max_item_kb", "similarity_threshold", "redis_semantic_cache_embedding_model",
            "redis_semantic_cache_index_name", "qdrant_semantic_cache_embedding_model", "qdrant_collection_name",
            "qdrant_quantization_config", "qdrant_semantic_cache_vector_size", "qdrant_api_base", "qdrant_api_key",
            "semantic_cache_embedding_timeout", "semantic_cache_embedding_max_input_tokens", "semantic_cache_scope");
        Add(Litellm + ".cache_params", P, "max_connections", "redis_startup_nodes",
            "service_name", "sentinel_nodes", "ssl", "valkey_semantic_cache_embedding_model", "valkey_semantic_cache_index_name", "s3_bucket_name",
            "s3_region_name", "s3_endpoint_url", "s3_path", "disk_cache_dir", "gcs_bucket_name", "gcs_path_service_account");

        const string General = "general_settings";
        Add(General, H, "master_key", "max_request_size_mb", "disable_mock_testing_flags", "litellm_key_header_name",
            "enforce_fallback_model_access", "allow_client_mock_response", "forward_client_headers_to_llm_api");
        Add(Litellm, H, "model_group_settings");
        Add(Litellm + ".model_group_settings", H, "forward_client_headers_to_llm_api");
        Add(General, H, "stored_model_env_allowlist", "stored_model_allow_private_api_base");
        Add(General, H, "background_health_checks", "health_check_interval", "pass_through_endpoints");
        Add(General + ".pass_through_endpoints[*]", H, "path", "target", "headers", "forward_headers", "include_subpath", "methods", "auth");
        Add(General, H, "database_url", "store_model_in_db", "disable_spend_logs", "proxy_batch_write_at", "user_api_key_cache_ttl",
            "maximum_spend_logs_retention_period", "maximum_spend_logs_retention_interval", "responses_store_ttl");
        Add(General, H, "enforce_user_param", "alerting_webhook_url");
        Add(General, P, "max_parallel_requests", "global_max_parallel_requests", "allowed_routes", "public_routes", "ui_access_mode", "database_connection_pool_limit",
            "database_connection_timeout", "alerting", "alerting_threshold", "alert_types", "health_check_details",
            "disable_spend_updates", "store_prompts_in_spend_logs",
            "admin_only_routes", "allowed_ips", "proxy_budget_rescheduler_min_time", "proxy_budget_rescheduler_max_time",
            "disable_master_key_return", "default_team_disabled", "max_response_size_mb", "disable_retry_on_max_parallel_request_limit_error");

        const string Guardrail = "guardrails[*]";
        Add(Guardrail, H, "guardrail_name", "litellm_params");
        Add(Guardrail, P, "guardrail_info");
        Add(Guardrail + ".litellm_params", H, "guardrail", "mode", "default_on", "api_base", "api_key", "model", "timeout",
            "unreachable_fallback", "llama_guard_api", "streaming_sampling_rate", "streaming_end_of_stream_only");
        Add(Litellm, H, "llamaguard_model_name");
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
