using System.Text.RegularExpressions;

namespace Proxy.Host.Routing;

/// <summary>
/// LiteLLM's wildcard routing: a model group named with '*' (<c>*</c>, <c>hosted_vllm/*</c>) serves every requested
/// model its pattern matches, most specific pattern first (longest, then most wildcards), after exact group names.
/// What each '*' matched fills the stars of the deployment's litellm_params.model, so <c>hosted_vllm/Qwen/Qwen3-8B</c>
/// against <c>hosted_vllm/*</c> with <c>model: hosted_vllm/*</c> goes upstream as <c>Qwen/Qwen3-8B</c>.
/// </summary>
internal sealed class WildcardGroups
{
    public static readonly WildcardGroups Empty = new([]);

    private readonly (Regex Pattern, ModelGroup Group)[] _patterns;

    private WildcardGroups((Regex, ModelGroup)[] patterns) => _patterns = patterns;

    public bool Any => _patterns.Length > 0;

    /// <summary>The wildcard groups, most specific first.</summary>
    public IEnumerable<ModelGroup> Groups => _patterns.Select(p => p.Group);

    public static bool IsPattern(string modelName) => modelName.Contains('*', StringComparison.Ordinal);

    public static WildcardGroups Build(IEnumerable<ModelGroup> groups)
    {
        var list = new List<(Regex, ModelGroup)>();
        foreach (var group in groups)
        {
            if (IsPattern(group.Name))
            {
                list.Add((ToRegex(group.Name), group));
            }
        }

        if (list.Count == 0)
        {
            return Empty;
        }

        // LiteLLM's PatternUtils.calculate_pattern_specificity: longer patterns first, then more wildcards.
        list.Sort((a, b) =>
        {
            var byLength = b.Item2.Name.Length.CompareTo(a.Item2.Name.Length);
            return byLength != 0 ? byLength : Stars(b.Item2.Name).CompareTo(Stars(a.Item2.Name));
        });
        return new WildcardGroups([.. list]);
    }

    /// <summary>The group whose pattern matches <paramref name="model"/>, and what its stars matched (in order).</summary>
    public bool TryMatch(string model, out ModelGroup group, out string[] segments)
    {
        foreach (var (pattern, candidate) in _patterns)
        {
            var match = pattern.Match(model);
            if (!match.Success)
            {
                continue;
            }

            segments = new string[match.Groups.Count - 1];
            for (var i = 1; i < match.Groups.Count; i++)
            {
                segments[i - 1] = match.Groups[i].Value;
            }

            group = candidate;
            return true;
        }

        group = null!;
        segments = [];
        return false;
    }

    /// <summary>
    /// The upstream model for a wildcard deployment: each '*' of <paramref name="template"/> (litellm_params.model without
    /// its provider) takes the next matched segment. With more segments than stars LiteLLM sends the requested model as is.
    /// </summary>
    public static string Resolve(string template, string[] segments, string requested)
    {
        var stars = Stars(template);
        if (stars == 0)
        {
            return template;
        }

        if (segments.Length > stars)
        {
            return requested;
        }

        var result = template;
        foreach (var segment in segments)
        {
            var at = result.IndexOf('*', StringComparison.Ordinal);
            result = string.Concat(result.AsSpan(0, at), segment, result.AsSpan(at + 1));
        }

        return result;
    }

    /// <summary>The model name a discovered upstream model is listed under: the pattern with its one star filled.</summary>
    public static string? ListedName(string pattern, string upstreamModel) =>
        Stars(pattern) == 1 ? pattern.Replace("*", upstreamModel, StringComparison.Ordinal) : null;

    private static int Stars(string text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (c == '*')
            {
                count++;
            }
        }

        return count;
    }

    private static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", "(.*)", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromMilliseconds(100));
}
