using System.Globalization;
using System.Text.Json;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Api;

/// <summary>
/// LiteLLM's daily-activity answer (<c>SpendAnalyticsPaginatedResponse</c> of /user/daily/activity and
/// /team/daily/activity) from spend-log aggregates: per UTC day the totals, and a breakdown by model group, model,
/// API key and entity (the team or user the report is about), each with LiteLLM's metric names.
/// </summary>
internal sealed class DailyActivity
{
    private readonly IReadOnlyList<SpendAggregate> _byModelGroup;
    private readonly IReadOnlyList<SpendAggregate> _byModel;
    private readonly IReadOnlyList<SpendAggregate> _byKey;

    /// <param name="byModelGroup">Rows per (day, entity, model_group): every spend-log row is in exactly one, so they give the totals.</param>
    /// <param name="byModel">Rows per (day, entity, model).</param>
    /// <param name="byKey">Rows per (day, entity, api_key), with the key's alias and team.</param>
    public DailyActivity(IReadOnlyList<SpendAggregate> byModelGroup, IReadOnlyList<SpendAggregate> byModel, IReadOnlyList<SpendAggregate> byKey)
    {
        _byModelGroup = byModelGroup;
        _byModel = byModel;
        _byKey = byKey;
    }

    /// <summary>The rows of the entities a report covers (null: every entity, including rows without one).</summary>
    public DailyActivity Only(Func<string?, bool> entity) => new(
        [.. _byModelGroup.Where(r => entity(r.Grouping))], [.. _byModel.Where(r => entity(r.Grouping))], [.. _byKey.Where(r => entity(r.Grouping))]);

    /// <param name="entityMetadata">Writes an entity's metadata members (a team's alias, a user's email).</param>
    public void Write(Utf8JsonWriter json, Action<Utf8JsonWriter, string> entityMetadata)
    {
        json.WriteStartObject();
        json.WriteStartArray("results");
        foreach (var day in _byModelGroup.Select(r => r.Day).Distinct().Order())
        {
            var rows = _byModelGroup.Where(r => r.Day == day).ToList();
            var keyRows = _byKey.Where(r => r.Day == day).ToList();
            json.WriteStartObject();
            json.WriteString("date", DateTimeOffset.FromUnixTimeMilliseconds(day).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WritePropertyName("metrics");
            Metrics(json, rows);
            json.WriteStartObject("breakdown");
            Breakdown(json, "model_groups", rows);
            Breakdown(json, "models", [.. _byModel.Where(r => r.Day == day)]);
            json.WriteStartObject("api_keys");
            WriteKeys(json, keyRows);
            json.WriteEndObject();
            json.WriteStartObject("entities");
            foreach (var entity in rows.GroupBy(r => r.Grouping ?? ""))
            {
                json.WriteStartObject(entity.Key);
                json.WritePropertyName("metrics");
                Metrics(json, [.. entity]);
                json.WriteStartObject("metadata");
                entityMetadata(json, entity.Key);
                json.WriteEndObject();
                json.WriteStartObject("api_key_breakdown");
                WriteKeys(json, [.. keyRows.Where(r => (r.Grouping ?? "") == entity.Key)]);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteStartObject("providers");
            json.WriteEndObject();
            json.WriteStartObject("mcp_servers");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteTotals(json);
        json.WriteEndObject();
    }

    private void WriteTotals(Utf8JsonWriter json)
    {
        var all = _byModelGroup;
        var prompt = all.Sum(r => r.PromptTokens);
        var completion = all.Sum(r => r.CompletionTokens);
        var requests = all.Sum(r => r.Requests);
        var successful = all.Sum(r => r.Successful);
        json.WriteStartObject("metadata");
        json.WriteNumber("total_spend", all.Sum(r => r.Spend));
        json.WriteNumber("total_prompt_tokens", prompt);
        json.WriteNumber("total_completion_tokens", completion);
        json.WriteNumber("total_tokens", prompt + completion);
        json.WriteNumber("total_api_requests", requests);
        json.WriteNumber("total_successful_requests", successful);
        json.WriteNumber("total_failed_requests", requests - successful);
        json.WriteNumber("total_cache_read_input_tokens", 0);
        json.WriteNumber("total_cache_creation_input_tokens", 0);
        json.WriteNumber("page", 1);
        json.WriteNumber("total_pages", 1);
        json.WriteBoolean("has_more", false);
        json.WriteEndObject();
    }

    private static void Breakdown(Utf8JsonWriter json, string name, List<SpendAggregate> rows)
    {
        json.WriteStartObject(name);
        foreach (var group in rows.GroupBy(r => r.Breakdown ?? ""))
        {
            json.WriteStartObject(group.Key);
            json.WritePropertyName("metrics");
            Metrics(json, [.. group]);
            json.WriteStartObject("metadata");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    // The master key's requests carry no key hash: they are listed under "" (the UI calls it the master key).
    private static void WriteKeys(Utf8JsonWriter json, List<SpendAggregate> rows)
    {
        foreach (var key in rows.GroupBy(r => r.Breakdown ?? ""))
        {
            json.WriteStartObject(key.Key);
            json.WritePropertyName("metrics");
            Metrics(json, [.. key]);
            json.WriteStartObject("metadata");
            AdminJson.WriteNullable(json, "key_alias", key.Select(r => r.KeyAlias).LastOrDefault(a => a is not null));
            AdminJson.WriteNullable(json, "team_id", key.Select(r => r.KeyTeamId).LastOrDefault(t => t is not null));
            json.WriteEndObject();
            json.WriteEndObject();
        }
    }

    private static void Metrics(Utf8JsonWriter json, List<SpendAggregate> rows)
    {
        var prompt = rows.Sum(r => r.PromptTokens);
        var completion = rows.Sum(r => r.CompletionTokens);
        var requests = rows.Sum(r => r.Requests);
        var successful = rows.Sum(r => r.Successful);
        json.WriteStartObject();
        json.WriteNumber("spend", rows.Sum(r => r.Spend));
        json.WriteNumber("prompt_tokens", prompt);
        json.WriteNumber("completion_tokens", completion);
        json.WriteNumber("cache_read_input_tokens", 0);
        json.WriteNumber("cache_creation_input_tokens", 0);
        json.WriteNumber("total_tokens", prompt + completion);
        json.WriteNumber("successful_requests", successful);
        json.WriteNumber("failed_requests", requests - successful);
        json.WriteNumber("api_requests", requests);
        json.WriteEndObject();
    }
}
