using System.Collections.ObjectModel;
using System.Globalization;
using Proxy.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// One YAML mapping being bound: typed getters that resolve <c>os.environ/</c>, report type errors with the node's
/// line, and remember which keys were read so that <see cref="ReportUnknownKeys"/> can flag the rest.
/// </summary>
internal sealed class YamlSection
{
    private readonly ConfigReader _reader;
    private readonly OrderedDictionary<string, (YamlNode Key, YamlNode Value)> _children = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public YamlSection(ConfigReader reader, YamlMappingNode? node, string path, string pattern, int line)
    {
        _reader = reader;
        Path = path;
        Pattern = pattern;
        Line = line;
        Exists = node is not null;
        if (node is null)
        {
            return;
        }

        foreach (var (key, value) in node.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                reader.Error(YamlText.Line(key), path, "keys must be plain strings");
                continue;
            }

            // YamlDotNet already rejects duplicate keys while loading, so each name is unique here
            _children[name] = (key, value);
        }
    }

    public ConfigReader Reader => _reader;

    /// <summary>Concrete path for diagnostics, e.g. <c>model_list[3].litellm_params</c>.</summary>
    public string Path { get; }

    /// <summary>Normalised path, e.g. <c>model_list[*].litellm_params</c>.</summary>
    public string Pattern { get; }

    public int Line { get; }

    public bool Exists { get; }

    public IEnumerable<string> Keys => _children.Keys;

    public static bool IsSecretKey(string key) =>
        key is "api_key" or "master_key" or "password" or "redis_password" or "database_url" or "redis_url"
        || key.EndsWith("_api_key", StringComparison.Ordinal)
        || key.EndsWith("_password", StringComparison.Ordinal);

    public string Child(string key) => Path.Length == 0 ? key : Path + "." + key;

    public string ChildPattern(string key) => Pattern.Length == 0 ? key : Pattern + "." + key;

    public bool Has(string key) => _children.ContainsKey(key);

    /// <summary>Line of the key, or of the section when absent.</summary>
    public int LineOf(string key) => _children.TryGetValue(key, out var entry) ? YamlText.Line(entry.Key) : Line;

    /// <summary>The raw value node (marks the key as read); null when absent or YAML null.</summary>
    public YamlNode? Node(string key)
    {
        _read.Add(key);
        if (!_children.TryGetValue(key, out var entry))
        {
            return null;
        }

        return entry.Value is YamlScalarNode scalar && YamlText.IsNull(scalar) ? null : entry.Value;
    }

    /// <summary>Marks keys as understood without binding them (known LiteLLM keys we do not model yet).</summary>
    public void Accept(params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            _read.Add(key);
        }
    }

    public string? String(string key) => Scalar(key, "a string", out _);

    public string RequiredString(string key)
    {
        var value = Has(key) ? Scalar(key, "a string", out _) : null;
        _read.Add(key);
        if (string.IsNullOrWhiteSpace(value))
        {
            _reader.Error(LineOf(key), Child(key), "is required");
        }

        return value ?? string.Empty;
    }

    public Secret? Secret(string key)
    {
        var value = Scalar(key, "a string", out _);
        return value is null ? null : new Secret(value);
    }

    public int? Int(string key, int min = int.MinValue)
    {
        var text = Scalar(key, "an integer", out var envName);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            TypeError(key, "an integer", envName);
            return null;
        }

        if (value < min)
        {
            _reader.Error(LineOf(key), Child(key), $"must be at least {min}, got {value}");
            return null;
        }

        return value;
    }

    public double? Double(string key, double min = double.MinValue)
    {
        var text = Scalar(key, "a number", out var envName);
        if (text is null)
        {
            return null;
        }

        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            TypeError(key, "a number", envName);
            return null;
        }

        if (value < min)
        {
            _reader.Error(LineOf(key), Child(key), $"must be at least {min.ToString(CultureInfo.InvariantCulture)}, got {value.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        return value;
    }

    /// <summary>A LiteLLM duration ("30s", "60m", "24h", "7d", "2w", "1mo").</summary>
    public TimeSpan? Duration(string key)
    {
        var text = Scalar(key, "a duration such as \"7d\", \"24h\", \"60m\" or \"3600s\"", out _);
        if (text is null)
        {
            return null;
        }

        if (Proxy.Admin.Keys.BudgetDuration.TryParse(text, out var duration))
        {
            return duration;
        }

        _reader.Error(LineOf(key), Child(key), $"'{text}' is not a duration such as \"7d\", \"24h\", \"60m\" or \"3600s\"");
        return null;
    }

    public bool? Bool(string key)
    {
        var text = Scalar(key, "a boolean", out var envName);
        if (text is null)
        {
            return null;
        }

        var value = YamlText.ParseBool(text.Trim());
        if (value is null)
        {
            TypeError(key, "a boolean", envName);
        }

        return value;
    }

    /// <summary>A list of strings; with <paramref name="allowScalar"/> a lone string is a one-item list.</summary>
    public IReadOnlyList<string>? StringList(string key, bool allowScalar = false)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode scalar && allowScalar)
        {
            var single = _reader.Resolve(scalar, Child(key), out _);
            return single is null ? [] : [single];
        }

        return ToStringList(node, Child(key), allowScalar);
    }

    /// <summary>A nested mapping; a missing key gives an empty section so binders need no null checks.</summary>
    public YamlSection Section(string key)
    {
        var node = Node(key);
        if (node is YamlMappingNode map)
        {
            return new YamlSection(_reader, map, Child(key), ChildPattern(key), LineOf(key));
        }

        if (node is not null)
        {
            TypeError(key, "a map", null);
        }

        return new YamlSection(_reader, null, Child(key), ChildPattern(key), LineOf(key));
    }

    /// <summary>A mapping that may be absent (null) rather than empty.</summary>
    public YamlSection? OptionalSection(string key) => Node(key) is null ? null : Section(key);

    /// <summary>A list of mappings (e.g. <c>model_list</c>); non-map items are reported and skipped.</summary>
    public IReadOnlyList<YamlSection> SectionList(string key)
    {
        var node = Node(key);
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            TypeError(key, "a list", null);
            return [];
        }

        var result = new List<YamlSection>(sequence.Children.Count);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            var path = $"{Child(key)}[{i}]";
            if (item is YamlMappingNode map)
            {
                result.Add(new YamlSection(_reader, map, path, ChildPattern(key) + "[*]", YamlText.Line(item)));
            }
            else
            {
                _reader.Error(YamlText.Line(item), path, $"expected a map, got {YamlText.Describe(item, false, null)}");
            }
        }

        return result;
    }

    /// <summary>
    /// A fallbacks-shaped value: a list of single-key maps <c>- group: [a, b]</c> (LiteLLM's shape) or one map with
    /// several keys. File order is kept.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? GroupMap(string key)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        var result = new OrderedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (node is YamlMappingNode single)
        {
            AddGroups(result, single, Child(key));
        }
        else if (node is YamlSequenceNode sequence)
        {
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                var item = sequence.Children[i];
                var path = $"{Child(key)}[{i}]";
                if (item is YamlMappingNode map)
                {
                    AddGroups(result, map, path);
                }
                else
                {
                    _reader.Error(YamlText.Line(item), path, $"expected a map like '{{group: [fallback, ...]}}', got {YamlText.Describe(item, false, null)}");
                }
            }
        }
        else
        {
            TypeError(key, "a list of maps", null);
        }

        return new ReadOnlyDictionary<string, IReadOnlyList<string>>(result);
    }

    /// <summary>Keys not read by the binder; known LiteLLM keys pass silently, others get a warning.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var (key, entry) in _children)
        {
            if (_read.Contains(key))
            {
                continue;
            }

            if (ConfigSupport.Of(ChildPattern(key)) == SupportLevel.Unknown)
            {
                _reader.Warning(YamlText.Line(entry.Key), Child(key), "unknown key; ignored");
            }
        }
    }

    /// <summary>Keys not read by the binder, for sections that keep extra keys (model_info, guardrails).</summary>
    public IReadOnlyDictionary<string, string> RemainingAsText()
    {
        var result = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, entry) in _children)
        {
            if (_read.Contains(key))
            {
                continue;
            }

            _read.Add(key);
            var path = Child(key);
            if (entry.Value is YamlScalarNode scalar)
            {
                var value = _reader.Resolve(scalar, path, out _);
                if (value is not null)
                {
                    result[key] = value;
                }
            }
            else
            {
                result[key] = YamlText.Json(entry.Value, s => _reader.Resolve(s, path, out _));
            }
        }

        return new ReadOnlyDictionary<string, string>(result);
    }

    private void AddGroups(OrderedDictionary<string, IReadOnlyList<string>> result, YamlMappingNode map, string path)
    {
        foreach (var (groupNode, targets) in map.Children)
        {
            var group = (groupNode as YamlScalarNode)?.Value ?? string.Empty;
            var groupPath = path + "." + group;
            if (result.ContainsKey(group))
            {
                _reader.Warning(YamlText.Line(groupNode), groupPath, "listed twice; the last entry wins");
            }

            result[group] = targets is YamlScalarNode lone && !YamlText.IsNull(lone)
                ? ToStringList(lone, groupPath, allowScalar: true)
                : ToStringList(targets, groupPath, allowScalar: false);
        }
    }

    private List<string> ToStringList(YamlNode node, string path, bool allowScalar)
    {
        var result = new List<string>();
        if (node is YamlScalarNode scalar)
        {
            if (YamlText.IsNull(scalar))
            {
                return result;
            }

            if (allowScalar)
            {
                var single = _reader.Resolve(scalar, path, out _);
                if (single is not null)
                {
                    result.Add(single);
                }

                return result;
            }
        }

        if (node is not YamlSequenceNode sequence)
        {
            _reader.Error(YamlText.Line(node), path, $"expected a list, got {YamlText.Describe(node, false, null)}");
            return result;
        }

        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            var itemPath = $"{path}[{i}]";
            if (item is not YamlScalarNode itemScalar)
            {
                _reader.Error(YamlText.Line(item), itemPath, $"expected a string, got {YamlText.Describe(item, false, null)}");
                continue;
            }

            var value = _reader.Resolve(itemScalar, itemPath, out _);
            if (value is not null)
            {
                result.Add(value);
            }
        }

        return result;
    }

    private string? Scalar(string key, string expected, out string? envName)
    {
        envName = null;
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            TypeError(key, expected, null);
            return null;
        }

        return _reader.Resolve(scalar, Child(key), out envName);
    }

    private void TypeError(string key, string expected, string? envName)
    {
        var node = _children[key].Value;
        var got = YamlText.Describe(node, IsSecretKey(key), envName);
        _reader.Error(YamlText.Line(node), Child(key), $"expected {expected}, got {got}");
    }
}
