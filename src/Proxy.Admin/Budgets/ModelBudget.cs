using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>One entry of model_max_budget: USD per window (time_period), or for all time when there is none.</summary>
internal readonly record struct ModelBudget(double Limit, TimeSpan? Window)
{
    /// <summary>
    /// LiteLLM's model_max_budget: <c>{"gpt-4o": {"budget_limit": 0.5, "time_period": "1d"}}</c>, or the older
    /// <c>{"gpt-4o": 0.5}</c>. Null when empty; a message in <paramref name="error"/> when the JSON is not one of those.
    /// </summary>
    public static FrozenDictionary<string, ModelBudget>? Parse(string? json, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return Parse(document.RootElement, out error);
    }

    public static FrozenDictionary<string, ModelBudget>? Parse(JsonElement root, out string? error)
    {
        error = null;
        if (root.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "model_max_budget must be an object: {\"model\": {\"budget_limit\": 0.5, \"time_period\": \"1d\"}}";
            return null;
        }

        var result = new Dictionary<string, ModelBudget>(StringComparer.Ordinal);
        foreach (var model in root.EnumerateObject())
        {
            if (TryNumber(model.Value, out var plain))
            {
                result[model.Name] = new ModelBudget(plain, null);
                continue;
            }

            if (model.Value.ValueKind != JsonValueKind.Object
                || !model.Value.TryGetProperty("budget_limit", out var limitElement) || !TryNumber(limitElement, out var limit))
            {
                error = $"model_max_budget.{model.Name} must be {{\"budget_limit\": <USD >= 0>, \"time_period\": \"1d\"}}";
                return null;
            }

            TimeSpan? window = null;
            if (model.Value.TryGetProperty("time_period", out var period) && period.ValueKind != JsonValueKind.Null)
            {
                if (period.ValueKind != JsonValueKind.String || !BudgetDuration.TryParse(period.GetString(), out var parsed))
                {
                    error = $"model_max_budget.{model.Name}.time_period must look like \"30s\", \"30m\", \"30h\", \"30d\" or \"1mo\"";
                    return null;
                }

                window = parsed;
            }

            result[model.Name] = new ModelBudget(limit, window);
        }

        return result.Count == 0 ? null : result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>model_rpm_limit / model_tpm_limit: <c>{"model": 10}</c>; null when absent or empty.</summary>
    public static FrozenDictionary<string, long>? ParseLimits(JsonElement root, string name, out string? error)
    {
        error = null;
        if (root.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"{name} must be an object of model → whole number >= 0";
            return null;
        }

        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var model in root.EnumerateObject())
        {
            if (!TryNumber(model.Value, out var value) || value != Math.Floor(value) || value > long.MaxValue)
            {
                error = $"{name}.{model.Name} must be a whole number >= 0";
                return null;
            }

            result[model.Name] = (long)value;
        }

        return result.Count == 0 ? null : result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The limits stored in a metadata object (LiteLLM keeps a key's model_rpm_limit there).</summary>
    public static FrozenDictionary<string, long>? LimitsFromMetadata(string? metadata, string name)
    {
        if (string.IsNullOrWhiteSpace(metadata))
        {
            return null;
        }

        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var limits)
            ? ParseLimits(limits, name, out _)
            : null;
    }

    // LiteLLM's own examples send budget_limit as a string ("0.0000001").
    private static bool TryNumber(JsonElement element, out double value)
    {
        value = 0;
        var ok = element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out value),
            JsonValueKind.String => double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
        return ok && value >= 0 && double.IsFinite(value);
    }
}
