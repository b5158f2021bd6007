using Microsoft.AspNetCore.Http;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>
/// LiteLLM's /organization/* (Enterprise there, free here): organisations hold teams (team.organization_id) and a budget
/// (budget_id, or max_budget / rpm_limit / ... given inline, which make a tier of their own, as LiteLLM does).
/// </summary>
internal sealed class OrganizationApi(ITenantStore store, TenantDirectory directory, TenantApiSupport api)
{
    public Task NewAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.String("organization_id", 256) ?? TenantApiSupport.NewId();
        var alias = body.String("organization_alias");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (alias is null)
        {
            await api.BadRequestAsync(context, "Pass 'organization_alias': the organisation's name.", "organization_alias");
            return;
        }

        if (directory.TryOrganization(id, out _))
        {
            await api.BadRequestAsync(context, $"Organization id = {id} already exists.", "organization_id");
            return;
        }

        var row = new OrganizationRow { OrganizationId = id, CreatedAt = api.NowMs, CreatedBy = "default_user_id" };
        if (await ApplyAsync(context, body, row))
        {
            await store.UpsertOrganizationAsync(row, context.RequestAborted);
            await WriteAsync(context, row, directory.Put(row));
        }
    });

    public Task UpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } entry)
        {
            return;
        }

        var row = directory.RowOf<OrganizationRow>(entry).Clone();
        if (await ApplyAsync(context, body, row))
        {
            await store.UpsertOrganizationAsync(row, context.RequestAborted);
            await WriteAsync(context, row, directory.Put(row));
        }
    });

    public Task DeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var ids = body.Strings("organization_ids");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (ids is not { Length: > 0 })
        {
            await api.BadRequestAsync(context, "Pass 'organization_ids': the organisations to delete.", "organization_ids");
            return;
        }

        foreach (var id in ids)
        {
            if (!directory.TryOrganization(id, out _))
            {
                await NotFoundAsync(context, id);
                return;
            }
        }

        foreach (var id in ids)
        {
            await store.DeleteOrganizationAsync(id, context.RequestAborted);
            directory.RemoveOrganization(id);
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("deleted_organizations");
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    /// <summary>GET ?organization_id= (LiteLLM also takes POST {"organizations": [ids]}).</summary>
    public Task InfoAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        if (TenantApiSupport.Query(context, "organization_id") is not { } id)
        {
            await api.BadRequestAsync(context, "Pass ?organization_id=...", "organization_id");
            return;
        }

        if (!directory.TryOrganization(id, out var entry))
        {
            await NotFoundAsync(context, id);
            return;
        }

        await WriteAsync(context, directory.RowOf<OrganizationRow>(entry), entry);
    });

    public Task ListAsync(HttpContext context) => api.RunAsync(context, () => TenantApiSupport.JsonAsync(context, json =>
    {
        json.WriteStartArray();
        foreach (var entry in directory.Organizations.OrderBy(o => directory.RowOf<OrganizationRow>(o).CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal))
        {
            Write(json, directory.RowOf<OrganizationRow>(entry), entry);
        }

        json.WriteEndArray();
    }));

    public Task MemberAddAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } entry)
        {
            return;
        }

        var members = new List<OrganizationMemberRow>();
        if (body.TryGet("member", out var value))
        {
            foreach (var item in value.ValueKind == System.Text.Json.JsonValueKind.Array ? value.EnumerateArray().ToList() : [value])
            {
                var userId = item.ValueKind == System.Text.Json.JsonValueKind.Object && item.TryGetProperty("user_id", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.String
                    ? u.GetString() : null;
                var role = item.ValueKind == System.Text.Json.JsonValueKind.Object && item.TryGetProperty("role", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String
                    ? r.GetString() : "internal_user";
                if (userId is null)
                {
                    await api.BadRequestAsync(context, "Each member needs a user_id: {\"member\": [{\"role\": \"internal_user\", \"user_id\": \"...\"}]}.", "member");
                    return;
                }

                members.Add(new OrganizationMemberRow { UserId = userId, OrganizationId = entry.Id, UserRole = role, CreatedAt = api.NowMs, UpdatedAt = api.NowMs });
            }
        }

        if (members.Count == 0)
        {
            await api.BadRequestAsync(context, "Pass 'member': a list of {\"role\", \"user_id\"}.", "member");
            return;
        }

        foreach (var member in members)
        {
            await store.UpsertOrganizationMemberAsync(member, context.RequestAborted);
            if (directory.TryUser(member.UserId, out var user))
            {
                var row = directory.RowOf<UserRow>(user).Clone();
                row.OrganizationId = entry.Id;
                row.UpdatedAt = api.NowMs;
                await store.UpsertUserAsync(row, context.RequestAborted);
                directory.Put(row);
            }
        }

        await WriteAsync(context, directory.RowOf<OrganizationRow>(entry), entry);
    });

    public Task MemberDeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        if (await FindAsync(context, body) is not { } entry)
        {
            return;
        }

        var userId = body.Id("user_id");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (await store.DeleteOrganizationMemberAsync(entry.Id, userId!, context.RequestAborted) == 0)
        {
            await api.NotFoundAsync(context, $"User={userId} is not a member of Organization={entry.Id}.");
            return;
        }

        await WriteAsync(context, directory.RowOf<OrganizationRow>(entry), entry);
    });

    private async Task<TenantEntry?> FindAsync(HttpContext context, TenantBody body)
    {
        var id = body.Id("organization_id");
        if (await api.RejectedAsync(context, body))
        {
            return null;
        }

        if (!directory.TryOrganization(id!, out var entry))
        {
            await NotFoundAsync(context, id!);
            return null;
        }

        return entry;
    }

    private async Task<bool> ApplyAsync(HttpContext context, TenantBody body, OrganizationRow row)
    {
        if (body.Has("organization_alias"))
        {
            row.OrganizationAlias = body.String("organization_alias");
        }

        if (body.Has("models"))
        {
            row.Models = TenantJson.Array(body.Strings("models") ?? []);
        }

        if (body.Has("metadata"))
        {
            row.Metadata = body.Object("metadata") ?? "{}";
        }

        if (body.Has("budget_id"))
        {
            row.BudgetId = body.String("budget_id", 256);
        }

        var inline = body.Has("max_budget") || body.Has("soft_budget") || body.Has("tpm_limit") || body.Has("rpm_limit") || body.Has("max_parallel_requests")
            || body.Has("budget_duration") || body.Has("model_max_budget");
        var budget = BudgetApi.Read(body, row.BudgetId is { } current && directory.TryBudget(current, out var b) && !body.Has("budget_id") ? b.Clone() : null, api.NowMs);
        if (await api.RejectedAsync(context, body))
        {
            return false;
        }

        if (row.BudgetId is { } tier && !inline && !directory.TryBudget(tier, out _))
        {
            await api.BadRequestAsync(context, $"Budget not found, passed budget_id={tier}. Create it with /budget/new.", "budget_id");
            return false;
        }

        if (inline)
        {
            await store.UpsertBudgetAsync(budget, context.RequestAborted);
            directory.Put(budget);
            row.BudgetId = budget.BudgetId;
        }

        row.UpdatedAt = api.NowMs;
        row.UpdatedBy = "default_user_id";
        return true;
    }

    private void Write(System.Text.Json.Utf8JsonWriter json, OrganizationRow row, TenantEntry? entry)
    {
        var teams = directory.Teams.Select(t => directory.RowOf<TeamRow>(t)).Where(t => t.OrganizationId == row.OrganizationId).ToList();
        TenantJson.WriteOrganization(json, row, entry, row.BudgetId is { } id && directory.TryBudget(id, out var budget) ? budget : null, teams, []);
    }

    private Task WriteAsync(HttpContext context, OrganizationRow row, TenantEntry? entry) => TenantApiSupport.JsonAsync(context, json => Write(json, row, entry));

    private Task NotFoundAsync(HttpContext context, string id) =>
        api.NotFoundAsync(context, $"Organization not found, passed organization_id={id}. /organization/list shows the organisations there are.");
}
