using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Host.Security;

namespace Proxy.Host.Config.Watch;

/// <summary>Where the config comes from (a file, or nothing) and how it becomes a snapshot, for start-up and reloads alike.</summary>
internal sealed class ConfigSource(string? path, Func<string, string?> getEnv, Action<string, string?> setEnv, StoredModelCatalog? storedModels = null)
{
    // The config file's general_settings as last loaded: what stored models are checked against between reloads.
    private volatile GeneralSettings _fileSettings = new();

    public string? Path { get; } = path is null ? null : System.IO.Path.GetFullPath(path);

    /// <summary>The process environment as the config sees it (including its environment_variables).</summary>
    public string? GetEnv(string name) => getEnv(name);

    public ConfigOutcome Load(int version, DateTimeOffset now, GatewaySnapshot? previous)
    {
        var result = Path is null
            ? ConfigLoader.Parse("", "(no config file)", getEnv, setEnv)
            : ConfigLoader.Load(Path, getEnv, setEnv);
        var warnings = result.Diagnostics.Count(d => d.Severity == ConfigSeverity.Warning);
        if (!result.Succeeded)
        {
            var errors = result.Diagnostics.Where(d => d.Severity == ConfigSeverity.Error).Select(d => d.ToString()).ToList();
            return new ConfigOutcome(null, result, errors, warnings);
        }

        var fileSettings = result.Config!.GeneralSettings;
        _fileSettings = fileSettings;
        if (storedModels is { Models.Count: > 0 } catalog)
        {
            // A stored model that no longer loads (e.g. its os.environ/ variable is gone) keeps the last good snapshot.
            var stored = StoredModelMerger.Parse(catalog.Models, getEnv, setEnv, fileSettings.StoredModelEnvAllowlist);
            if (!stored.Succeeded)
            {
                var storedErrors = stored.Diagnostics.Where(d => d.Severity == ConfigSeverity.Error).Select(d => d.ToString()).ToList();
                return new ConfigOutcome(null, result, storedErrors, warnings);
            }

            if (StoredModelRules.Check(stored.Config!.ModelList, fileSettings) is { Count: > 0 } refused)
            {
                return new ConfigOutcome(null, result, refused, warnings);
            }

            result = result with { Config = StoredModelMerger.Merge(result.Config!, stored.Config!) };
        }

        // LITELLM_MASTER_KEY wins over general_settings.master_key, as in LiteLLM; read after environment_variables applied.
        var envKey = getEnv("LITELLM_MASTER_KEY");
        Secret? masterKey = string.IsNullOrEmpty(envKey) ? null : new Secret(envKey);
        var translation = SnapshotBuilder.Validate(result.Config!);
        if (translation.Count > 0)
        {
            return new ConfigOutcome(null, result, translation, warnings);
        }

        return new ConfigOutcome(SnapshotBuilder.Build(result.Config!, version, now, masterKey, previous), result, [], warnings);
    }

    /// <summary>Every reason the given stored models would not load beside the config file's (empty when they would).</summary>
    public IReadOnlyList<string> ValidateStored(IReadOnlyList<StoredModel> models)
    {
        var settings = _fileSettings;
        var stored = StoredModelMerger.Parse(models, getEnv, setEnv, settings.StoredModelEnvAllowlist);
        if (!stored.Succeeded)
        {
            return [.. stored.Diagnostics.Where(d => d.Severity == ConfigSeverity.Error).Select(d => d.ToString())];
        }

        var errors = SnapshotBuilder.Validate(stored.Config!);
        return errors.Count > 0 ? errors : StoredModelRules.Check(stored.Config!.ModelList, settings);
    }
}

internal sealed record ConfigOutcome(GatewaySnapshot? Snapshot, ConfigLoadResult Result, IReadOnlyList<string> Errors, int WarningCount)
{
    public IReadOnlyList<ConfigDiagnostic> Diagnostics => Result.Diagnostics;
}
