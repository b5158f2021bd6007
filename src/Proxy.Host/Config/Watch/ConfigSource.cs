using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Config.Watch;

/// <summary>Where the config comes from (a file, or nothing) and how it becomes a snapshot, for start-up and reloads alike.</summary>
internal sealed class ConfigSource(string? path, Func<string, string?> getEnv, Action<string, string?> setEnv, StoredModelCatalog? storedModels = null)
{
    public string? Path { get; } = path is null ? null : System.IO.Path.GetFullPath(path);

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

        if (storedModels is { Models.Count: > 0 } catalog)
        {
            // A stored model that no longer loads (e.g. its os.environ/ variable is gone) keeps the last good snapshot.
            var stored = StoredModelMerger.Parse(catalog.Models, getEnv, setEnv);
            if (!stored.Succeeded)
            {
                var storedErrors = stored.Diagnostics.Where(d => d.Severity == ConfigSeverity.Error).Select(d => d.ToString()).ToList();
                return new ConfigOutcome(null, result, storedErrors, warnings);
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
        var stored = StoredModelMerger.Parse(models, getEnv, setEnv);
        if (!stored.Succeeded)
        {
            return [.. stored.Diagnostics.Where(d => d.Severity == ConfigSeverity.Error).Select(d => d.ToString())];
        }

        return SnapshotBuilder.Validate(stored.Config!);
    }
}

internal sealed record ConfigOutcome(GatewaySnapshot? Snapshot, ConfigLoadResult Result, IReadOnlyList<string> Errors, int WarningCount)
{
    public IReadOnlyList<ConfigDiagnostic> Diagnostics => Result.Diagnostics;
}
