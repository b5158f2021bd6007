namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>guardrails</c>: <c>- guardrail_name: x</c> with <c>litellm_params: {guardrail, mode, ...}</c>.</summary>
internal static class GuardrailsBinder
{
    public static IReadOnlyList<GuardrailConfig> Bind(YamlSection root)
    {
        var entries = root.SectionList("guardrails");
        var result = new List<GuardrailConfig>(entries.Count);
        foreach (var entry in entries)
        {
            var name = entry.RequiredString("guardrail_name");
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

            result.Add(new GuardrailConfig
            {
                GuardrailName = name,
                Guardrail = guardrail,
                Mode = mode ?? [],
                DefaultOn = p.Bool("default_on") ?? false,
                ApiBase = p.String("api_base"),
                ApiKey = p.Secret("api_key"),
                Model = p.String("model"),
                Extra = p.RemainingAsText(),
                Line = entry.Line,
            });
        }

        return result;
    }
}
