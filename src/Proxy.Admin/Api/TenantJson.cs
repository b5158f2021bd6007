using System.Text.Json;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>Teams, members, users, customers, budgets and organisations in LiteLLM's response shapes, with live spend.</summary>
internal static class TenantJson
{
    public static void WriteTeam(Utf8JsonWriter json, TeamRow row, TenantEntry? live)
    {
        json.WriteStartObject();
        WriteTeamMembers(json, row, live);
        json.WriteEndObject();
    }

    public static void WriteTeamMembers(Utf8JsonWriter json, TeamRow row, TenantEntry? live)
    {
        json.WriteString("team_id", row.TeamId);
        AdminJson.WriteNullable(json, "team_alias", row.TeamAlias);
        AdminJson.WriteNullable(json, "organization_id", row.OrganizationId);
        // LiteLLM's legacy columns, kept as stored (its /team/new answers [] for them): members_with_roles is the list.
        Raw(json, "admins", row.Admins, "[]");
        Raw(json, "members", row.Members, "[]");
        Raw(json, "members_with_roles", row.MembersWithRoles, "[]");
        Raw(json, "metadata", row.Metadata, "{}");
        AdminJson.WriteNullable(json, "tpm_limit", row.TpmLimit);
        AdminJson.WriteNullable(json, "rpm_limit", row.RpmLimit);
        AdminJson.WriteNullable(json, "max_budget", row.MaxBudget);
        AdminJson.WriteNullable(json, "soft_budget", row.SoftBudget);
        AdminJson.WriteNullable(json, "budget_duration", row.BudgetDuration);
        AdminJson.WriteTime(json, "budget_reset_at", live?.Spend.BudgetResetAtMs ?? row.BudgetResetAt);
        Raw(json, "models", row.Models, "[]");
        json.WriteBoolean("blocked", row.Blocked != 0);
        json.WriteNumber("spend", live?.Spend.Value ?? row.Spend);
        AdminJson.WriteNullable(json, "max_parallel_requests", row.MaxParallelRequests);
        Raw(json, "model_max_budget", row.ModelMaxBudget, "{}");
        json.WriteNull("model_id");
        json.WriteNull("litellm_model_table");
        AdminJson.WriteTime(json, "created_at", row.CreatedAt);
        AdminJson.WriteTime(json, "updated_at", row.UpdatedAt);
    }

    public static void WriteMembership(Utf8JsonWriter json, MembershipRow row, TenantEntry? live, BudgetRow? budget)
    {
        json.WriteStartObject();
        json.WriteString("user_id", row.UserId);
        json.WriteString("team_id", row.TeamId);
        json.WriteNumber("spend", live?.Spend.Value ?? row.Spend);
        AdminJson.WriteNullable(json, "budget_id", row.BudgetId);
        if (budget is null)
        {
            json.WriteNull("litellm_budget_table");
        }
        else
        {
            json.WritePropertyName("litellm_budget_table");
            WriteBudget(json, budget);
        }

        json.WriteEndObject();
    }

    public static void WriteUser(Utf8JsonWriter json, UserRow row, TenantEntry? live)
    {
        json.WriteStartObject();
        WriteUserMembers(json, row, live);
        json.WriteEndObject();
    }

    public static void WriteUserMembers(Utf8JsonWriter json, UserRow row, TenantEntry? live)
    {
        json.WriteString("user_id", row.UserId);
        AdminJson.WriteNullable(json, "user_alias", row.UserAlias);
        AdminJson.WriteNullable(json, "user_email", row.UserEmail);
        AdminJson.WriteNullable(json, "user_role", row.UserRole);
        Raw(json, "teams", row.Teams, "[]");
        AdminJson.WriteNullable(json, "organization_id", row.OrganizationId);
        AdminJson.WriteNullable(json, "max_budget", row.MaxBudget);
        json.WriteNumber("spend", live?.Spend.Value ?? row.Spend);
        Raw(json, "models", row.Models, "[]");
        AdminJson.WriteNullable(json, "max_parallel_requests", row.MaxParallelRequests);
        AdminJson.WriteNullable(json, "tpm_limit", row.TpmLimit);
        AdminJson.WriteNullable(json, "rpm_limit", row.RpmLimit);
        AdminJson.WriteNullable(json, "budget_duration", row.BudgetDuration);
        AdminJson.WriteTime(json, "budget_reset_at", live?.Spend.BudgetResetAtMs ?? row.BudgetResetAt);
        Raw(json, "metadata", row.Metadata, "{}");
        Raw(json, "model_max_budget", row.ModelMaxBudget, "{}");
        AdminJson.WriteTime(json, "created_at", row.CreatedAt);
        AdminJson.WriteTime(json, "updated_at", row.UpdatedAt);
    }

    public static void WriteCustomer(Utf8JsonWriter json, EndUserRow row, TenantEntry? live, BudgetRow? budget)
    {
        json.WriteStartObject();
        json.WriteString("user_id", row.UserId);
        json.WriteBoolean("blocked", row.Blocked != 0);
        AdminJson.WriteNullable(json, "alias", row.Alias);
        json.WriteNumber("spend", live?.Spend.Value ?? row.Spend);
        AdminJson.WriteNullable(json, "allowed_model_region", row.AllowedModelRegion);
        AdminJson.WriteNullable(json, "default_model", row.DefaultModel);
        AdminJson.WriteNullable(json, "budget_id", row.BudgetId);
        if (budget is null)
        {
            json.WriteNull("litellm_budget_table");
        }
        else
        {
            json.WritePropertyName("litellm_budget_table");
            WriteBudget(json, budget);
        }

        json.WriteEndObject();
    }

    public static void WriteBudget(Utf8JsonWriter json, BudgetRow row)
    {
        json.WriteStartObject();
        json.WriteString("budget_id", row.BudgetId);
        AdminJson.WriteNullable(json, "max_budget", row.MaxBudget);
        AdminJson.WriteNullable(json, "soft_budget", row.SoftBudget);
        AdminJson.WriteNullable(json, "max_parallel_requests", row.MaxParallelRequests);
        AdminJson.WriteNullable(json, "tpm_limit", row.TpmLimit);
        AdminJson.WriteNullable(json, "rpm_limit", row.RpmLimit);
        Raw(json, "model_max_budget", row.ModelMaxBudget, "{}");
        AdminJson.WriteNullable(json, "budget_duration", row.BudgetDuration);
        AdminJson.WriteTime(json, "budget_reset_at", row.BudgetResetAt);
        AdminJson.WriteTime(json, "created_at", row.CreatedAt);
        AdminJson.WriteNullable(json, "created_by", row.CreatedBy);
        AdminJson.WriteTime(json, "updated_at", row.UpdatedAt);
        AdminJson.WriteNullable(json, "updated_by", row.UpdatedBy);
        json.WriteEndObject();
    }

    public static void WriteOrganization(Utf8JsonWriter json, OrganizationRow row, TenantEntry? live, BudgetRow? budget, IEnumerable<TeamRow> teams,
        IEnumerable<OrganizationMemberRow> members)
    {
        json.WriteStartObject();
        json.WriteString("organization_id", row.OrganizationId);
        AdminJson.WriteNullable(json, "organization_alias", row.OrganizationAlias);
        AdminJson.WriteNullable(json, "budget_id", row.BudgetId);
        Raw(json, "metadata", row.Metadata, "{}");
        Raw(json, "models", row.Models, "[]");
        json.WriteNumber("spend", live?.Spend.Value ?? row.Spend);
        AdminJson.WriteTime(json, "created_at", row.CreatedAt);
        AdminJson.WriteNullable(json, "created_by", row.CreatedBy);
        AdminJson.WriteTime(json, "updated_at", row.UpdatedAt);
        AdminJson.WriteNullable(json, "updated_by", row.UpdatedBy);
        if (budget is null)
        {
            json.WriteNull("litellm_budget_table");
        }
        else
        {
            json.WritePropertyName("litellm_budget_table");
            WriteBudget(json, budget);
        }

        json.WriteStartArray("teams");
        foreach (var team in teams)
        {
            WriteTeam(json, team, null);
        }

        json.WriteEndArray();
        json.WriteStartArray("members");
        foreach (var member in members)
        {
            json.WriteStartObject();
            json.WriteString("user_id", member.UserId);
            json.WriteString("organization_id", member.OrganizationId);
            AdminJson.WriteNullable(json, "user_role", member.UserRole);
            json.WriteNumber("spend", member.Spend);
            AdminJson.WriteNullable(json, "budget_id", member.BudgetId);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Raw(Utf8JsonWriter json, string name, string? value, string empty)
    {
        json.WritePropertyName(name);
        json.WriteRawValue(string.IsNullOrWhiteSpace(value) ? empty : value, skipInputValidation: false);
    }

    public static string Array(IEnumerable<string> values) => KeyJson.WriteStringArray([.. values]);
}
