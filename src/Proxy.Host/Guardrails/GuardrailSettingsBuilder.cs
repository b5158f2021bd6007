using System.Collections.Frozen;
using Proxy.Host.Routing;
using Proxy.Transforms.Guardrails;

namespace Proxy.Host.Guardrails;

/// <summary>Turns a snapshot's <c>guardrails</c> (and LiteLLM's legacy Llama Guard callback) into the settings guardrails run on.</summary>
internal static class GuardrailSettingsBuilder
{
    public const string LegacyCallback = "llamaguard_moderations";

    private const string OpenAiApiBase = "https://api.openai.com/v1";

    public static GuardrailSettings Build(GatewaySnapshot snapshot, Func<string, string?> getEnv, List<string> problems)
    {
        var config = snapshot.Config;
        var all = new List<GuardrailDefinition>(config.Guardrails.Count + 1);
        foreach (var entry in config.Guardrails)
        {
            if (GuardrailTypes.KindOf(entry.Guardrail) is not { } kind)
            {
                continue;
            }

            var modes = GuardrailModes.None;
            foreach (var mode in entry.Mode)
            {
                modes |= GuardrailTypes.ModeOf(mode) ?? GuardrailModes.None;
            }

            var apiKey = entry.ApiKey;
            if (kind == GuardrailKind.OpenAiModeration && apiKey is null && entry.ApiBase is null && getEnv("OPENAI_API_KEY") is { Length: > 0 } key)
            {
                // As LiteLLM, the OpenAI key from the environment when the guardrail names none; unlike LiteLLM, only
                // for OpenAI itself, so that the key never goes to a wrapper or another third party.
                apiKey = new Abstractions.Secret(key);
            }

            all.Add(new GuardrailDefinition
            {
                Name = entry.GuardrailName,
                Kind = kind,
                Modes = modes,
                DefaultOn = entry.DefaultOn,
                ApiBase = entry.ApiBase ?? OpenAiApiBase,
                ApiKey = apiKey,
                Model = entry.Model ?? (kind == GuardrailKind.OpenAiModeration ? "omni-moderation-latest" : null),
                Timeout = TimeSpan.FromSeconds(entry.Timeout ?? GuardrailDefinition.DefaultTimeoutSeconds),
                FailOpen = entry.FailOpen,
                LlamaGuardChat = entry.LlamaGuardChat,
                // LiteLLM samples every 5 events by default; here sampling is opt-in, each sample being a guard call.
                StreamingSamplingRate = entry.StreamingEndOfStreamOnly ? 0 : entry.StreamingSamplingRate ?? 0,
            });
        }

        if (Legacy(snapshot, problems) is { } legacy)
        {
            all.Add(legacy);
        }

        return new GuardrailSettings
        {
            All = all,
            ModelGroups = snapshot.Groups.Keys.ToFrozenSet(StringComparer.Ordinal),
            MaxRequestBodyBytes = snapshot.MaxRequestBodyBytes,
        };
    }

    // litellm_settings.callbacks: ["llamaguard_moderations"] with llamaguard_model_name naming a model group: LiteLLM calls
    // that group beside every request (its moderation hook runs during the call) and refuses with its legacy message.
    private static GuardrailDefinition? Legacy(GatewaySnapshot snapshot, List<string> problems)
    {
        var litellm = snapshot.Config.LitellmSettings;
        if (!litellm.Callbacks.Contains(LegacyCallback, StringComparer.Ordinal))
        {
            return null;
        }

        var groupName = litellm.LlamaguardModelName;
        if (groupName is null || !snapshot.Groups.TryGetValue(groupName, out var group) || group.Deployments.Count == 0)
        {
            problems.Add($"litellm_settings.callbacks has {LegacyCallback} but llamaguard_model_name ('{groupName}') names no model group; the Llama Guard check is off");
            return null;
        }

        var deployment = group.Deployments[0].Deployment;
        if (deployment.ApiBase is null)
        {
            problems.Add($"litellm_settings.llamaguard_model_name: model group '{groupName}' has no api_base to call; the Llama Guard check is off");
            return null;
        }

        return new GuardrailDefinition
        {
            Name = LegacyCallback,
            Kind = GuardrailKind.LlamaGuard,
            Modes = GuardrailModes.DuringCall,
            DefaultOn = true,
            ApiBase = deployment.ApiBase,
            ApiKey = deployment.ApiKey,
            Model = deployment.UpstreamModel,
            Legacy = true,
        };
    }
}
