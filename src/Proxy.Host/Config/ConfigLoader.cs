using Proxy.Host.Config.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config;

/// <summary>
/// Loads and validates a LiteLLM <c>config.yaml</c>. Never throws for a bad file: every problem becomes a
/// <see cref="ConfigDiagnostic"/>, and <see cref="ConfigLoadResult.Config"/> is null when any of them is an error.
/// </summary>
internal static class ConfigLoader
{
    /// <summary>Path used for diagnostics about the file as a whole.</summary>
    public const string FilePath = "(file)";

    public static ConfigLoadResult Load(string path, Func<string, string?> getEnv, Action<string, string?> setEnv)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            var diagnostic = new ConfigDiagnostic(ConfigSeverity.Error, path, 0, FilePath, $"cannot read the file: {ex.Message}");
            return new ConfigLoadResult(null, [diagnostic], []);
        }

        return Parse(text, path, getEnv, setEnv);
    }

    /// <param name="envPolicy">For models stored through the admin API: where <c>os.environ/</c> may appear; null for the config file.</param>
    public static ConfigLoadResult Parse(
        string yamlText, string sourcePath, Func<string, string?> getEnv, Action<string, string?> setEnv, StoredModelEnvPolicy? envPolicy = null)
    {
        var reader = new ConfigReader(sourcePath, getEnv) { EnvPolicy = envPolicy };
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yamlText));
        }
        catch (YamlException ex)
        {
            reader.Error((int)Math.Min(ex.Start.Line, int.MaxValue), FilePath, $"invalid YAML: {ex.Message}");
            return new ConfigLoadResult(null, reader.Diagnostics.ToArray(), []);
        }

        if (stream.Documents.Count > 1)
        {
            reader.Warning(YamlText.Line(stream.Documents[1].RootNode), FilePath, "only the first YAML document is read");
        }

        var rootNode = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        if (rootNode is null or YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            // LiteLLM starts with an empty config too; it just serves nothing
            reader.Warning(1, FilePath, "the file is empty; no models are configured");
            var empty = new GatewayConfig { SourcePath = sourcePath };
            return new ConfigLoadResult(empty, reader.Diagnostics.ToArray(), []);
        }

        if (rootNode is not YamlMappingNode map)
        {
            reader.Error(YamlText.Line(rootNode), FilePath, $"expected a map of sections (model_list, router_settings, ...), got {YamlText.Describe(rootNode, secret: true, envName: null)}");
            return new ConfigLoadResult(null, reader.Diagnostics.ToArray(), []);
        }

        var root = new YamlSection(reader, map, string.Empty, string.Empty, 1);
        var config = Bind(root, sourcePath, setEnv);
        return new ConfigLoadResult(reader.HasErrors ? null : config, reader.Diagnostics.ToArray(), PresentKeyCollector.Collect(map));
    }

    private static GatewayConfig Bind(YamlSection root, string sourcePath, Action<string, string?> setEnv)
    {
        var reader = root.Reader;

        // environment_variables first: os.environ/ anywhere else may name a variable defined there
        var environment = EnvironmentBinder.Bind(root, setEnv);
        var models = ModelListBinder.Bind(root);
        var config = new GatewayConfig
        {
            SourcePath = sourcePath,
            EnvironmentVariables = environment,
            ModelList = models,
            RouterSettings = RouterSettingsBinder.Bind(root),
            LitellmSettings = LitellmSettingsBinder.Bind(root),
            GeneralSettings = GeneralSettingsBinder.Bind(root),
            Guardrails = GuardrailsBinder.Bind(root),
        };

        foreach (var key in root.Keys)
        {
            if (ConfigSupport.UnsupportedSections.Contains(key))
            {
                root.Accept(key);
                reader.Warning(root.LineOf(key), key, "not supported; ignored");
            }
        }

        root.ReportUnknownKeys();
        if (models.Count == 0)
        {
            reader.Warning(root.LineOf("model_list"), "model_list", "no models are configured; every request will be rejected");
        }

        FallbackChecker.Check(reader, root, config);
        return config;
    }
}
