using System.Collections.Frozen;
using Proxy.Admin.Budgets;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>A key's settings as the hot path reads them: immutable, replaced whole when the key is updated.</summary>
internal sealed record KeySettings
{
    public required string Token { get; init; }

    public string? KeyAlias { get; init; }

    public double? MaxBudget { get; init; }

    public TimeSpan? BudgetDuration { get; init; }

    public long? ExpiresMs { get; init; }

    /// <summary>Allowed model groups; empty (or containing all-proxy-models) means all.</summary>
    public required string[] Models { get; init; }

    public bool AllModels { get; init; }

    public long? TpmLimit { get; init; }

    public long? RpmLimit { get; init; }

    public long? MaxParallelRequests { get; init; }

    public bool Blocked { get; init; }

    /// <summary>Guardrails turned on for this key's requests (metadata.guardrails); null when none.</summary>
    public string[]? Guardrails { get; init; }

    public string? TeamId { get; init; }

    public string? UserId { get; init; }

    public string? OrganizationId { get; init; }

    /// <summary>A budget tier (LiteLLM_BudgetTable) whose values apply where the key sets none.</summary>
    public string? BudgetId { get; init; }

    public double? SoftBudget { get; init; }

    public FrozenDictionary<string, ModelBudget>? ModelMaxBudget { get; init; }

    /// <summary>Per-model limits, kept in the key's metadata as LiteLLM keeps them.</summary>
    public FrozenDictionary<string, long>? ModelRpmLimit { get; init; }

    public FrozenDictionary<string, long>? ModelTpmLimit { get; init; }

    /// <summary>Who a request with this key is; one instance per version of the settings, so admitting allocates nothing.</summary>
    public CallerIdentity Caller => field ??= new CallerIdentity { KeyHash = Token, KeyAlias = KeyAlias, Guardrails = Guardrails };

    /// <summary>The row as stored (for the API); its spend is stale, the entry's live spend is the truth.</summary>
    public required KeyRow Row { get; init; }

    public static KeySettings From(KeyRow row)
    {
        var models = KeyJson.ReadStringArray(row.Models);
        var all = models.Length == 0 || Array.IndexOf(models, "all-proxy-models") >= 0;
        return new KeySettings
        {
            Token = row.Token,
            KeyAlias = row.KeyAlias,
            MaxBudget = row.MaxBudget,
            BudgetDuration = Keys.BudgetDuration.TryParse(row.BudgetDuration, out var d) ? d : null,
            ExpiresMs = row.Expires,
            Models = models,
            AllModels = all,
            TpmLimit = row.TpmLimit,
            RpmLimit = row.RpmLimit,
            MaxParallelRequests = row.MaxParallelRequests,
            Blocked = row.Blocked != 0,
            Guardrails = KeyJson.ReadGuardrails(row.Metadata) is { Length: > 0 } guardrails ? guardrails : null,
            TeamId = string.IsNullOrEmpty(row.TeamId) ? null : row.TeamId,
            UserId = string.IsNullOrEmpty(row.UserId) ? null : row.UserId,
            OrganizationId = string.IsNullOrEmpty(row.OrganizationId) ? null : row.OrganizationId,
            BudgetId = string.IsNullOrEmpty(row.BudgetId) ? null : row.BudgetId,
            SoftBudget = row.SoftBudget,
            ModelMaxBudget = ModelBudget.Parse(row.ModelMaxBudget, out _),
            ModelRpmLimit = ModelBudget.LimitsFromMetadata(row.Metadata, "model_rpm_limit"),
            ModelTpmLimit = ModelBudget.LimitsFromMetadata(row.Metadata, "model_tpm_limit"),
            Row = row,
        };
    }

    public bool AllowsModel(string? requested, string? group)
    {
        if (AllModels)
        {
            return true;
        }

        foreach (var model in Models)
        {
            if (string.Equals(model, requested, StringComparison.Ordinal) || string.Equals(model, group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
