using System.Globalization;
using System.Text.Json;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Api;

/// <summary>Writes keys and spend logs in LiteLLM's response shapes.</summary>
internal static class AdminJson
{
    /// <summary>
    /// How management bodies are parsed: a trailing comma is forgiven, because LiteLLM's own docs put them in
    /// examples people paste (<c>"budget_duration": "30s",}</c>).
    /// </summary>
    public static readonly JsonDocumentOptions BodyOptions = new() { AllowTrailingCommas = true };

    /// <summary>A number, or a string holding one (<c>"max_budget": "0"</c>): LiteLLM's pydantic models take both for float fields.</summary>
    public static bool TryReadNumber(JsonElement value, out double number)
    {
        number = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out number) && double.IsFinite(number),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number),
            _ => false,
        };
    }

    /// <summary>The members of a key object (LiteLLM's LiteLLM_VerificationToken row as the API returns it).</summary>
    public static void WriteKeyMembers(Utf8JsonWriter json, KeyRow row, double spend, long? budgetResetAt)
    {
        json.WriteString("token", row.Token);
        json.WriteString("key_name", row.KeyName);
        WriteNullable(json, "key_alias", row.KeyAlias);
        json.WriteNumber("spend", spend);
        WriteNullable(json, "max_budget", row.MaxBudget);
        WriteNullable(json, "budget_duration", row.BudgetDuration);
        WriteTime(json, "budget_reset_at", budgetResetAt);
        WriteTime(json, "expires", row.Expires);
        json.WriteStartArray("models");
        foreach (var model in KeyJson.ReadStringArray(row.Models))
        {
            json.WriteStringValue(model);
        }

        json.WriteEndArray();
        json.WriteStartObject("aliases");
        json.WriteEndObject();
        json.WriteStartObject("config");
        json.WriteEndObject();
        json.WriteStartObject("permissions");
        json.WriteEndObject();
        json.WriteStartArray("allowed_cache_controls");
        json.WriteEndArray();
        WriteNullable(json, "tpm_limit", row.TpmLimit);
        WriteNullable(json, "rpm_limit", row.RpmLimit);
        WriteNullable(json, "max_parallel_requests", row.MaxParallelRequests);
        json.WritePropertyName("metadata");
        json.WriteRawValue(string.IsNullOrWhiteSpace(row.Metadata) ? "{}" : row.Metadata, skipInputValidation: false);
        WriteNullable(json, "user_id", row.UserId);
        WriteNullable(json, "team_id", row.TeamId);
        WriteNullable(json, "organization_id", row.OrganizationId);
        WriteNullable(json, "budget_id", row.BudgetId);
        WriteNullable(json, "soft_budget", row.SoftBudget);
        json.WritePropertyName("model_max_budget");
        json.WriteRawValue(string.IsNullOrWhiteSpace(row.ModelMaxBudget) ? "{}" : row.ModelMaxBudget, skipInputValidation: false);
        json.WriteBoolean("blocked", row.Blocked != 0);
        WriteNullable(json, "created_by", row.CreatedBy);
        WriteTime(json, "created_at", row.CreatedAt);
        WriteTime(json, "updated_at", row.UpdatedAt);
    }

    public static void WriteSpendLog(Utf8JsonWriter json, SpendLogRow row)
    {
        json.WriteStartObject();
        json.WriteString("request_id", row.RequestId);
        json.WriteString("call_type", row.CallType);
        json.WriteString("api_key", row.ApiKey);
        json.WriteNumber("spend", row.Spend);
        json.WriteNumber("total_tokens", row.TotalTokens);
        json.WriteNumber("prompt_tokens", row.PromptTokens);
        json.WriteNumber("completion_tokens", row.CompletionTokens);
        WriteTime(json, "startTime", row.StartTime);
        WriteTime(json, "endTime", row.EndTime);
        WriteNullable(json, "model", row.Model);
        WriteNullable(json, "model_id", row.ModelId);
        WriteNullable(json, "model_group", row.ModelGroup);
        WriteNullable(json, "api_base", row.ApiBase);
        json.WriteString("user", row.UserId ?? "");
        json.WriteString("team_id", row.TeamId ?? "");
        json.WriteString("end_user", row.EndUser ?? "");
        WriteNullable(json, "organization_id", row.OrganizationId);
        WriteNullable(json, "call_id", row.CallId);
        json.WriteStartObject("metadata");
        WriteNullable(json, "user_api_key_alias", row.KeyAlias);
        json.WriteString("user_api_key", row.ApiKey);
        json.WriteString("status", row.Status);
        json.WriteNumber("latency_ms", row.LatencyMs);
        json.WriteEndObject();
        // LiteLLM stores cache_hit as the strings "True"/"False".
        json.WriteString("cache_hit", row.CacheHit != 0 ? "True" : "False");
        json.WriteString("cache_key", "");
        json.WriteStartArray("request_tags");
        json.WriteEndArray();
        json.WriteString("status", row.Status);
        json.WriteEndObject();
    }

    internal static void WriteTime(Utf8JsonWriter json, string name, long? ms)
    {
        if (ms is { } value)
        {
            json.WriteString(name, KeyErrors.Iso(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
