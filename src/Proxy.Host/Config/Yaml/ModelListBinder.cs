using System.Collections.Frozen;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>model_list</c> into deployments.</summary>
internal static class ModelListBinder
{
    public const string OpenAiDefaultApiBase = "https://api.openai.com/v1";

    public const string AnthropicDefaultApiBase = "https://api.anthropic.com";

    // litellm.AZURE_DEFAULT_API_VERSION
    public const string AzureDefaultApiVersion = "2025-02-01-preview";

    private static readonly FrozenSet<string> SupportedProviders =
        FrozenSet.Create(StringComparer.Ordinal, "hosted_vllm", "openai", "anthropic", "azure", "azure_ai");

    private static readonly FrozenDictionary<string, string> NonRoutingAdvice = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["priority"] = "ignored: LiteLLM does not route on 'priority'; use 'order' (lower is tried first)",
        ["fallback"] = "ignored: LiteLLM has no per-deployment 'fallback' flag; use router_settings.fallbacks or default_fallbacks",
        ["metadata"] = "ignored: LiteLLM does not route on litellm_params.metadata; use 'region_name' (with enable_pre_call_checks) or 'tags' (with enable_tag_filtering)",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IReadOnlyList<DeploymentConfig> Bind(YamlSection root)
    {
        var reader = root.Reader;
        var entries = root.SectionList("model_list");
        var deployments = new List<DeploymentConfig>(entries.Count);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var index = IndexOf(entry.Path);
            var modelName = entry.RequiredString("model_name");
            var rawNode = entry.Node("litellm_params");
            var rawParams = rawNode as YamlMappingNode;
            if (rawNode is null)
            {
                reader.Error(entry.Line, entry.Child("litellm_params"), "is required");
            }

            var litellmParams = BindParams(entry.Section("litellm_params"));
            var modelInfo = BindModelInfo(entry.Section("model_info"));
            entry.ReportUnknownKeys();

            var id = modelInfo.Id ?? DeploymentId.Compute(modelName, rawParams);
            if (ids.TryGetValue(id, out var other))
            {
                // LiteLLM keys deployments by id, so the second one would replace the first
                reader.Warning(entry.Line, entry.Path, $"has the same deployment id as {other}; give one a distinct model_info.id");
            }
            else
            {
                ids[id] = entry.Path;
            }

            deployments.Add(new DeploymentConfig
            {
                Index = index,
                ModelName = modelName,
                Id = id,
                LitellmParams = litellmParams,
                ModelInfo = modelInfo,
                Line = entry.Line,
            });
        }

        return deployments;
    }

    private static LitellmParams BindParams(YamlSection p)
    {
        var reader = p.Reader;
        var model = p.Exists ? p.RequiredString("model") : string.Empty;
        var customProvider = p.String("custom_llm_provider");
        var (provider, upstream) = SplitModel(model, customProvider);
        var supported = model.Length == 0 || provider.Length == 0 || SupportedProviders.Contains(provider);
        if (!supported)
        {
            reader.Error(p.LineOf("model"), p.Child("model"),
                $"provider '{provider}' is not supported yet; use hosted_vllm/, openai/, anthropic/, azure/, azure_ai/ or a bare OpenAI-compatible model name with api_base");
        }

        var apiBase = p.String("api_base");
        var apiKey = p.Secret("api_key");
        var apiVersion = p.String("api_version");
        var mockResponse = p.String("mock_response");
        // LiteLLM's provider defaults: api_base and api_key from the provider's environment variables.
        switch (provider)
        {
            case "openai":
                // LiteLLM's openai provider defaults both, whatever api_base says
                apiBase ??= OpenAiDefaultApiBase;
                apiKey ??= EnvSecret(reader, "OPENAI_API_KEY");
                break;
            case "anthropic":
                apiBase ??= reader.GetEnv("ANTHROPIC_API_BASE") ?? reader.GetEnv("ANTHROPIC_BASE_URL") ?? AnthropicDefaultApiBase;
                apiKey ??= EnvSecret(reader, "ANTHROPIC_API_KEY");
                break;
            case "azure":
                apiBase ??= reader.GetEnv("AZURE_API_BASE");
                apiKey ??= EnvSecret(reader, "AZURE_API_KEY") ?? EnvSecret(reader, "AZURE_OPENAI_API_KEY");
                apiVersion ??= reader.GetEnv("AZURE_API_VERSION") ?? AzureDefaultApiVersion;
                break;
            case "azure_ai":
                apiBase ??= reader.GetEnv("AZURE_AI_API_BASE");
                apiKey ??= EnvSecret(reader, "AZURE_AI_API_KEY");
                break;
        }

        if (supported && model.Length > 0 && apiBase is null && mockResponse is null)
        {
            var what = provider.Length == 0 ? "a bare model name" : provider + "/";
            var example = provider switch
            {
                "azure" => "https://my-resource.openai.azure.com, or set AZURE_API_BASE",
                "azure_ai" => "https://my-endpoint.services.ai.azure.com/models, or set AZURE_AI_API_BASE",
                _ => "the URL of the OpenAI-compatible server, e.g. http://vllm:8000/v1",
            };
            reader.Error(p.LineOf("api_base"), p.Child("api_base"), $"api_base is required for {what} ({example})");
        }

        var disableTranslation = p.Bool("disable_anthropic_translation")
            ?? (provider == "hosted_vllm" && IsTrue(reader.GetEnv("DISABLE_HOSTED_VLLM_ANTHROPIC_TRANSLATION")));
        if (disableTranslation && provider is not ("hosted_vllm" or "openai" or ""))
        {
            reader.Warning(p.LineOf("disable_anthropic_translation"), p.Child("disable_anthropic_translation"),
                $"ignored for {provider}/: only vLLM (OpenAI-compatible) deployments serve /v1/messages behind this switch");
            disableTranslation = false;
        }

        foreach (var (key, advice) in NonRoutingAdvice)
        {
            if (p.Has(key))
            {
                p.Accept(key);
                reader.Warning(p.LineOf(key), p.Child(key), advice);
            }
        }

        var result = new LitellmParams
        {
            Model = model,
            Provider = provider,
            UpstreamModel = upstream,
            ApiBase = apiBase,
            ApiKey = apiKey,
            ApiVersion = apiVersion,
            Timeout = p.Double("timeout", min: 0),
            StreamTimeout = p.Double("stream_timeout", min: 0),
            Rpm = p.Int("rpm", min: 0),
            Tpm = p.Int("tpm", min: 0),
            Weight = p.Double("weight", min: 0),
            Order = p.Int("order"),
            InputCostPerToken = p.Double("input_cost_per_token", min: 0),
            OutputCostPerToken = p.Double("output_cost_per_token", min: 0),
            MockResponse = mockResponse,
            MaxParallelRequests = p.Int("max_parallel_requests", min: 1),
            MaxRetries = p.Int("max_retries", min: 0),
            CooldownTime = p.Double("cooldown_time", min: 0),
            RegionName = p.String("region_name"),
            DropParams = p.Bool("drop_params"),
            Tags = p.StringList("tags", allowScalar: true) ?? [],
            DisableAnthropicTranslation = disableTranslation,
        };
        p.ReportUnknownKeys();
        return result;
    }

    private static Abstractions.Secret? EnvSecret(ConfigReader reader, string name) =>
        reader.GetEnv(name) is { Length: > 0 } value ? new Abstractions.Secret(value) : null;

    private static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    private static ModelInfoConfig BindModelInfo(YamlSection info) => new()
    {
        Id = info.String("id"),
        Mode = info.String("mode"),
        MaxTokens = info.Int("max_tokens", min: 1),
        MaxInputTokens = info.Int("max_input_tokens", min: 1),
        MaxOutputTokens = info.Int("max_output_tokens", min: 1),
        InputCostPerToken = info.Double("input_cost_per_token", min: 0),
        OutputCostPerToken = info.Double("output_cost_per_token", min: 0),
        BaseModel = info.String("base_model"),
        Extra = info.RemainingAsText(),
    };

    /// <summary><c>hosted_vllm/qwen3</c> → (hosted_vllm, qwen3); <c>gpt-4o</c> → ("", gpt-4o).</summary>
    private static (string Provider, string Upstream) SplitModel(string model, string? customProvider)
    {
        if (!string.IsNullOrEmpty(customProvider))
        {
            var prefix = customProvider + "/";
            return (customProvider, model.StartsWith(prefix, StringComparison.Ordinal) ? model[prefix.Length..] : model);
        }

        var slash = model.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, model) : (model[..slash], model[(slash + 1)..]);
    }

    private static int IndexOf(string path)
    {
        var open = path.LastIndexOf('[');
        return int.Parse(path.AsSpan(open + 1, path.Length - open - 2), System.Globalization.CultureInfo.InvariantCulture);
    }
}
