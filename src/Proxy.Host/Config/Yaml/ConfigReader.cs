using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// State shared by every section of one load: the diagnostics collected so far and the environment used to resolve
/// <c>os.environ/NAME</c>. Errors never stop the walk, so one run reports every problem in the file.
/// </summary>
internal sealed class ConfigReader
{
    private const string EnvPrefix = "os.environ/";

    private readonly List<ConfigDiagnostic> _diagnostics = [];
    private readonly Func<string, string?> _getEnv;
    private readonly Dictionary<string, string> _overlay = new(StringComparer.Ordinal);

    public ConfigReader(string file, Func<string, string?> getEnv)
    {
        File = file;
        _getEnv = getEnv;
    }

    public string File { get; }

    /// <summary>Set for models stored through the admin API: limits where <c>os.environ/</c> resolves.</summary>
    public StoredModelEnvPolicy? EnvPolicy { get; init; }

    public IReadOnlyList<ConfigDiagnostic> Diagnostics => _diagnostics;

    public bool HasErrors { get; private set; }

    public void Error(int line, string path, string message) => Add(ConfigSeverity.Error, line, path, message);

    public void Warning(int line, string path, string message) => Add(ConfigSeverity.Warning, line, path, message);

    public void Info(int line, string path, string message) => Add(ConfigSeverity.Info, line, path, message);

    /// <summary>
    /// Records a variable set by <c>environment_variables</c> so that later lookups see it even when the injected
    /// getter reads a snapshot of the environment.
    /// </summary>
    public void Define(string name, string? value)
    {
        if (value is null)
        {
            _overlay.Remove(name);
            return;
        }

        _overlay[name] = value;
    }

    public string? GetEnv(string name) => _overlay.TryGetValue(name, out var value) ? value : _getEnv(name);

    /// <summary>The scalar's value with <c>os.environ/NAME</c> resolved; null for YAML null or an unset variable.</summary>
    public string? Resolve(YamlScalarNode node, string path, out string? envName)
    {
        envName = null;
        if (YamlText.IsNull(node))
        {
            return null;
        }

        var text = node.Value ?? string.Empty;
        if (!text.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            return text;
        }

        envName = text[EnvPrefix.Length..];
        if (EnvPolicy?.Refusal(path, envName) is { } refusal)
        {
            // Refused before it is read: the variable's value must not reach the caller, even in an error message.
            Error(YamlText.Line(node), path, refusal);
            return null;
        }

        var value = envName.Length == 0 ? null : GetEnv(envName);
        if (value is null)
        {
            // LiteLLM's get_secret returns None for a missing variable; we do the same but say so
            Warning(YamlText.Line(node), path, $"environment variable '{envName}' is not set; the value is treated as absent");
        }

        return value;
    }

    private void Add(ConfigSeverity severity, int line, string path, string message)
    {
        if (severity == ConfigSeverity.Error)
        {
            HasErrors = true;
        }

        _diagnostics.Add(new ConfigDiagnostic(severity, File, line, path, message));
    }
}
