using System.Collections.Frozen;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// Lists the normalised path of every key in the file (<c>model_list[*].litellm_params.rpm</c>), for the support
/// report. It descends only into sections whose keys are schema names, not user data (groups, aliases, env names).
/// </summary>
internal static class PresentKeyCollector
{
    private static readonly FrozenSet<string> Sections = FrozenSet.Create(
        StringComparer.Ordinal,
        "model_list", "model_list[*]", "model_list[*].litellm_params", "model_list[*].model_info",
        "router_settings", "router_settings.allowed_fails_policy", "router_settings.retry_policy",
        "router_settings.routing_strategy_args", "litellm_settings", "litellm_settings.cache_params",
        "general_settings", "guardrails", "guardrails[*]", "guardrails[*].litellm_params");

    public static IReadOnlyList<string> Collect(YamlMappingNode root)
    {
        var keys = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Walk(root, string.Empty, keys, seen);
        return keys;
    }

    private static void Walk(YamlNode node, string pattern, List<string> keys, HashSet<string> seen)
    {
        if (node is YamlSequenceNode sequence)
        {
            var itemPattern = pattern + "[*]";
            if (!Sections.Contains(itemPattern))
            {
                return;
            }

            foreach (var item in sequence.Children)
            {
                Walk(item, itemPattern, keys, seen);
            }

            return;
        }

        if (node is not YamlMappingNode map)
        {
            return;
        }

        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                continue;
            }

            var path = pattern.Length == 0 ? key : pattern + "." + key;
            if (seen.Add(path))
            {
                keys.Add(path);
            }

            if (Sections.Contains(path))
            {
                Walk(value, path, keys, seen);
            }
        }
    }
}
