using System.Text.Json;

namespace Proxy.Admin.Api;

/// <summary>
/// The fields of a /key/generate or /key/update body that were present (absent fields are left alone by an update).
/// Read from a JsonDocument: admin calls are rare, and no reflection is involved.
/// </summary>
internal sealed class KeyRequest
{
    public string? Key { get; private set; }

    public Optional<string?> KeyAlias { get; private set; }

    public Optional<string?> Duration { get; private set; }

    public Optional<IReadOnlyList<string>> Models { get; private set; }

    public Optional<double?> MaxBudget { get; private set; }

    public Optional<string?> BudgetDuration { get; private set; }

    public Optional<long?> TpmLimit { get; private set; }

    public Optional<long?> RpmLimit { get; private set; }

    public Optional<long?> MaxParallelRequests { get; private set; }

    /// <summary>Guardrails to run for the key's requests; kept in its metadata as LiteLLM keeps them.</summary>
    public Optional<IReadOnlyList<string>> Guardrails { get; private set; }

    /// <summary>Raw JSON text of the metadata object.</summary>
    public Optional<string> Metadata { get; private set; }

    public Optional<string?> UserId { get; private set; }

    public Optional<string?> TeamId { get; private set; }

    public Optional<bool> Blocked { get; private set; }

    public Optional<string?> OrganizationId { get; private set; }

    public Optional<string?> BudgetId { get; private set; }

    public Optional<double?> SoftBudget { get; private set; }

    /// <summary>Raw JSON text of model_max_budget (validated).</summary>
    public Optional<string> ModelMaxBudget { get; private set; }

    /// <summary>Raw JSON text of model_rpm_limit / model_tpm_limit (validated); kept in metadata as LiteLLM keeps them.</summary>
    public Optional<string?> ModelRpmLimit { get; private set; }

    public Optional<string?> ModelTpmLimit { get; private set; }

    public Optional<double> Spend { get; private set; }

    public IReadOnlyList<string> Keys { get; private set; } = [];

    public IReadOnlyList<string> KeyAliases { get; private set; } = [];

    /// <summary>Parses the body; returns an error message naming the field when a value has the wrong type.</summary>
    public static string? TryParse(JsonElement root, out KeyRequest request)
    {
        var parsed = new KeyRequest();
        request = parsed;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "Request body must be a JSON object.";
        }

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var error = property.Name switch
            {
                "key" => ReadString(value, "key", v => parsed.Key = v),
                "key_alias" => ReadString(value, "key_alias", v => parsed.KeyAlias = new(v)),
                "duration" => ReadString(value, "duration", v => parsed.Duration = new(v)),
                "budget_duration" => ReadString(value, "budget_duration", v => parsed.BudgetDuration = new(v)),
                "user_id" => ReadString(value, "user_id", v => parsed.UserId = new(v)),
                "team_id" => ReadString(value, "team_id", v => parsed.TeamId = new(v)),
                "organization_id" => ReadString(value, "organization_id", v => parsed.OrganizationId = new(v)),
                "budget_id" => ReadString(value, "budget_id", v => parsed.BudgetId = new(v)),
                "soft_budget" => ReadNumber(value, "soft_budget", v => parsed.SoftBudget = new(v)),
                "model_max_budget" => Budgets.ModelBudget.Parse(value, out var budgetError) is var _ && budgetError is not null
                    ? budgetError
                    : Set(() => parsed.ModelMaxBudget = new(value.ValueKind == JsonValueKind.Null ? "{}" : value.GetRawText())),
                "model_rpm_limit" => Budgets.ModelBudget.ParseLimits(value, "model_rpm_limit", out var rpmError) is var _ && rpmError is not null
                    ? rpmError
                    : Set(() => parsed.ModelRpmLimit = new(value.ValueKind == JsonValueKind.Null ? null : value.GetRawText())),
                "model_tpm_limit" => Budgets.ModelBudget.ParseLimits(value, "model_tpm_limit", out var tpmError) is var _ && tpmError is not null
                    ? tpmError
                    : Set(() => parsed.ModelTpmLimit = new(value.ValueKind == JsonValueKind.Null ? null : value.GetRawText())),
                "models" => ReadStrings(value, "models", v => parsed.Models = new(v)),
                "keys" => ReadStrings(value, "keys", v => parsed.Keys = v),
                "guardrails" => ReadStrings(value, "guardrails", v => parsed.Guardrails = new(v)),
                "key_aliases" => ReadStrings(value, "key_aliases", v => parsed.KeyAliases = v),
                "max_budget" => ReadNumber(value, "max_budget", v => parsed.MaxBudget = new(v)),
                "spend" => ReadNumber(value, "spend", v => parsed.Spend = new(v ?? 0)),
                "tpm_limit" => ReadInteger(value, "tpm_limit", v => parsed.TpmLimit = new(v)),
                "rpm_limit" => ReadInteger(value, "rpm_limit", v => parsed.RpmLimit = new(v)),
                "max_parallel_requests" => ReadInteger(value, "max_parallel_requests", v => parsed.MaxParallelRequests = new(v)),
                "metadata" => value.ValueKind switch
                {
                    JsonValueKind.Object => Set(() => parsed.Metadata = new(value.GetRawText())),
                    JsonValueKind.Null => Set(() => parsed.Metadata = new("{}")),
                    _ => "metadata must be a JSON object",
                },
                "blocked" => value.ValueKind switch
                {
                    JsonValueKind.True or JsonValueKind.False => Set(() => parsed.Blocked = new(value.GetBoolean())),
                    JsonValueKind.Null => Set(() => parsed.Blocked = new(false)),
                    _ => "blocked must be true or false",
                },
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static string? Set(Action set)
    {
        set();
        return null;
    }

    private static string? ReadString(JsonElement value, string name, Action<string?> set)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                set(value.GetString());
                return null;
            case JsonValueKind.Null:
                set(null);
                return null;
            default:
                return $"{name} must be a string";
        }
    }

    private static string? ReadStrings(JsonElement value, string name, Action<IReadOnlyList<string>> set)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            set([]);
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return $"{name} must be a list of strings";
        }

        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return $"{name} must be a list of strings";
            }

            list.Add(item.GetString()!);
        }

        set(list);
        return null;
    }

    private static string? ReadNumber(JsonElement value, string name, Action<double?> set)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            set(null);
            return null;
        }

        if (!AdminJson.TryReadNumber(value, out var number))
        {
            return $"{name} must be a number";
        }

        if (number < 0)
        {
            return $"{name} must be a number >= 0";
        }

        set(number);
        return null;
    }

    private static string? ReadInteger(JsonElement value, string name, Action<long?> set)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetInt64(out var n) && n >= 0:
                set(n);
                return null;
            case JsonValueKind.Null:
                set(null);
                return null;
            default:
                return $"{name} must be a whole number >= 0";
        }
    }
}
