using Proxy.Host.Guardrails;
using Proxy.Transforms.Guardrails;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>guardrails</c>: <c>- guardrail_name: x</c> with <c>litellm_params: {guardrail, mode, ...}</c>.</summary>
internal static class GuardrailsBinder
{
    public static IReadOnlyList<GuardrailConfig> Bind(YamlSection root)
    {
        var entries = root.SectionList("guardrails");
        var result = new List<GuardrailConfig>(entries.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var name = entry.RequiredString("guardrail_name");
            if (name.Length > 0 && !names.Add(name))
            {
                entry.Reader.Error(entry.LineOf("guardrail_name"), entry.Child("guardrail_name"), $"'{name}' is defined twice; guardrail names must be unique");
            }

            if (entry.Node("litellm_params") is null)
            {
                entry.Reader.Error(entry.Line, entry.Child("litellm_params"), "is required");
            }

            var p = entry.Section("litellm_params");
            entry.Accept("guardrail_info");
            entry.ReportUnknownKeys();

            var guardrail = p.Exists ? p.RequiredString("guardrail") : string.Empty;
            var mode = p.StringList("mode", allowScalar: true);
            if (p.Exists && (mode is null || mode.Count == 0))
            {
                entry.Reader.Error(p.LineOf("mode"), p.Child("mode"), "is required (pre_call, post_call, during_call, or a list of them)");
            }

            var config = new GuardrailConfig
            {
                GuardrailName = name,
                Guardrail = guardrail,
                Mode = mode ?? [],
                DefaultOn = p.Bool("default_on") ?? false,
                ApiBase = p.String("api_base"),
                ApiKey = p.Secret("api_key"),
                Model = p.String("model"),
                Timeout = p.Double("timeout", min: 0.001),
                FailOpen = FailOpen(p),
                LlamaGuardChat = LlamaGuardChat(p),
                StreamingSamplingRate = p.Int("streaming_sampling_rate", min: 1),
                StreamingEndOfStreamOnly = p.Bool("streaming_end_of_stream_only") ?? false,
                Extra = p.RemainingAsText(),
                Line = entry.Line,
            };
            if (p.Exists)
            {
                Check(p, config);
            }

            result.Add(config);
        }

        return result;
    }

    private static bool FailOpen(YamlSection p)
    {
        var value = p.String("unreachable_fallback");
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "fail_closed":
                return false;
            case "fail_open":
                return true;
            default:
                p.Reader.Error(p.LineOf("unreachable_fallback"), p.Child("unreachable_fallback"), $"expected fail_closed or fail_open, got '{value}'");
                return false;
        }
    }

    private static bool LlamaGuardChat(YamlSection p)
    {
        var value = p.String("llama_guard_api");
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "completions":
                return false;
            case "chat":
                return true;
            default:
                p.Reader.Error(p.LineOf("llama_guard_api"), p.Child("llama_guard_api"), $"expected completions or chat, got '{value}'");
                return false;
        }
    }

    private static void Check(YamlSection p, GuardrailConfig config)
    {
        var kind = GuardrailTypes.KindOf(config.Guardrail);
        if (kind is null && config.Guardrail.Length > 0)
        {
            p.Reader.Warning(p.LineOf("guardrail"), p.Child("guardrail"),
                $"'{config.Guardrail}' is not supported by this gateway (openai_moderation and llama_guard are); this guardrail is ignored");
        }

        foreach (var mode in config.Mode)
        {
            if (GuardrailTypes.ModeOf(mode) is null)
            {
                p.Reader.Warning(p.LineOf("mode"), p.Child("mode"), $"unknown mode '{mode}' (pre_call, during_call, post_call, logging_only); ignored");
            }
        }

        if (config.ApiBase is { } apiBase
            && (!Uri.TryCreate(apiBase, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            p.Reader.Error(p.LineOf("api_base"), p.Child("api_base"), $"'{apiBase}' is not an absolute http(s) URL");
        }

        if (kind == GuardrailKind.LlamaGuard && string.IsNullOrEmpty(config.ApiBase))
        {
            p.Reader.Error(p.LineOf("api_base"), p.Child("api_base"), "is required for llama_guard (the vLLM server that serves Llama Guard 3)");
        }
    }
}
