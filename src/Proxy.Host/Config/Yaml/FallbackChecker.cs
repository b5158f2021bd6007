namespace Proxy.Host.Config.Yaml;

/// <summary>Cross-section check: fallbacks and aliases should name model groups that exist.</summary>
internal static class FallbackChecker
{
    public static void Check(ConfigReader reader, YamlSection root, GatewayConfig config)
    {
        if (config.ModelList.Count == 0)
        {
            return;
        }

        var groups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var deployment in config.ModelList)
        {
            groups.Add(deployment.ModelName);
        }

        var router = config.RouterSettings;
        var litellm = config.LitellmSettings;
        CheckMap(reader, root, groups, "router_settings", "fallbacks", router.Fallbacks);
        CheckMap(reader, root, groups, "router_settings", "context_window_fallbacks", router.ContextWindowFallbacks);
        CheckMap(reader, root, groups, "router_settings", "content_policy_fallbacks", router.ContentPolicyFallbacks);
        CheckList(reader, root, groups, "router_settings", "default_fallbacks", router.DefaultFallbacks);
        CheckMap(reader, root, groups, "litellm_settings", "fallbacks", litellm.Fallbacks);
        CheckMap(reader, root, groups, "litellm_settings", "context_window_fallbacks", litellm.ContextWindowFallbacks);
        CheckMap(reader, root, groups, "litellm_settings", "content_policy_fallbacks", litellm.ContentPolicyFallbacks);
        CheckList(reader, root, groups, "litellm_settings", "default_fallbacks", litellm.DefaultFallbacks);
        foreach (var (alias, target) in router.ModelGroupAlias)
        {
            if (!groups.Contains(target.Model))
            {
                reader.Warning(root.LineOf("router_settings"), $"router_settings.model_group_alias.{alias}", $"names model group '{target.Model}', which no model_list entry defines");
            }
        }
    }

    private static void CheckMap(ConfigReader reader, YamlSection root, HashSet<string> groups, string section, string key, IReadOnlyDictionary<string, IReadOnlyList<string>> map)
    {
        foreach (var (group, targets) in map)
        {
            if (group != "*" && !groups.Contains(group))
            {
                reader.Warning(root.LineOf(section), $"{section}.{key}", $"model group '{group}' is not defined in model_list");
            }

            CheckList(reader, root, groups, section, $"{key}.{group}", targets);
        }
    }

    private static void CheckList(ConfigReader reader, YamlSection root, HashSet<string> groups, string section, string key, IReadOnlyList<string> targets)
    {
        foreach (var target in targets)
        {
            if (!groups.Contains(target))
            {
                reader.Warning(root.LineOf(section), $"{section}.{key}", $"fallback model group '{target}' is not defined in model_list");
            }
        }
    }
}
