using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>LiteLLM's /budget/*: reusable budget tiers (customers, team members, organisations and keys point at them by budget_id).</summary>
internal sealed class BudgetApi(ITenantStore store, TenantDirectory directory, TenantApiSupport api)
{
    public Task NewAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.String("budget_id", 256);
        if (id is not null && directory.TryBudget(id, out _))
        {
            await api.BadRequestAsync(context, $"Budget id = {id} already exists. Use /budget/update to change it.", "budget_id");
            return;
        }

        var row = Read(body, null, api.NowMs);
        if (id is not null)
        {
            row.BudgetId = id;
        }

        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        await store.UpsertBudgetAsync(row, context.RequestAborted);
        directory.Put(row);
        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteBudget(json, row));
    });

    public Task UpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.Id("budget_id");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (!directory.TryBudget(id!, out var existing))
        {
            await NotFoundAsync(context, id!);
            return;
        }

        var row = Read(body, existing.Clone(), api.NowMs);
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        await store.UpsertBudgetAsync(row, context.RequestAborted);
        directory.Put(row);
        await TenantApiSupport.JsonAsync(context, json => TenantJson.WriteBudget(json, row));
    });

    /// <summary>POST {"budgets": [ids]} as LiteLLM, or GET ?budget_id=.</summary>
    public Task InfoAsync(HttpContext context) => HttpMethods.IsGet(context.Request.Method)
        ? api.RunAsync(context, () => InfoAsync(context, TenantApiSupport.Query(context, "budget_id") is { } id ? [id] : null))
        : api.WithBodyAsync(context, async body =>
        {
            var ids = body.Strings("budgets");
            if (!await api.RejectedAsync(context, body))
            {
                await InfoAsync(context, ids);
            }
        });

    private async Task InfoAsync(HttpContext context, string[]? ids)
    {
        if (ids is not { Length: > 0 })
        {
            await api.BadRequestAsync(context, "Pass 'budgets': a list of budget ids.", "budgets");
            return;
        }

        foreach (var id in ids)
        {
            if (!directory.TryBudget(id, out _))
            {
                await NotFoundAsync(context, id);
                return;
            }
        }

        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var id in ids)
            {
                directory.TryBudget(id, out var budget);
                TenantJson.WriteBudget(json, budget);
            }

            json.WriteEndArray();
        });
    }

    public Task ListAsync(HttpContext context) => api.RunAsync(context, () => TenantApiSupport.JsonAsync(context, json =>
    {
        json.WriteStartArray();
        foreach (var budget in directory.Budgets.OrderBy(b => b.CreatedAt).ThenBy(b => b.BudgetId, StringComparer.Ordinal))
        {
            TenantJson.WriteBudget(json, budget);
        }

        json.WriteEndArray();
    }));

    public Task DeleteAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.Id("id") is { } given ? given : null;
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (!directory.TryBudget(id!, out _))
        {
            await NotFoundAsync(context, id!);
            return;
        }

        await store.DeleteBudgetAsync(id!, context.RequestAborted);
        directory.RemoveBudget(id!);
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("budget_id", id);
            json.WriteBoolean("deleted", true);
            json.WriteEndObject();
        });
    });

    /// <summary>A budget row from the body's fields (over <paramref name="existing"/> for an update; a new id otherwise).</summary>
    public static BudgetRow Read(TenantBody body, BudgetRow? existing, long nowMs)
    {
        var row = existing ?? new BudgetRow { BudgetId = TenantApiSupport.NewId(), CreatedAt = nowMs, CreatedBy = "default_user_id" };
        if (body.Has("max_budget"))
        {
            row.MaxBudget = body.Money("max_budget");
        }

        if (body.Has("soft_budget"))
        {
            row.SoftBudget = body.Money("soft_budget");
        }

        if (body.Has("tpm_limit"))
        {
            row.TpmLimit = body.Whole("tpm_limit");
        }

        if (body.Has("rpm_limit"))
        {
            row.RpmLimit = body.Whole("rpm_limit");
        }

        if (body.Has("max_parallel_requests"))
        {
            row.MaxParallelRequests = body.Whole("max_parallel_requests");
        }

        if (body.Has("model_max_budget"))
        {
            row.ModelMaxBudget = body.ModelMaxBudget() ?? "{}";
        }

        if (body.Has("budget_duration"))
        {
            row.BudgetDuration = body.Duration("budget_duration");
            row.BudgetResetAt = row.BudgetDuration is not null && BudgetDuration.TryParse(row.BudgetDuration, out var window)
                ? nowMs + (long)window.TotalMilliseconds
                : null;
        }

        if (row.MaxBudget is { } max && row.SoftBudget is { } soft && soft > max)
        {
            body.Fail("soft_budget", "soft_budget must not be above max_budget");
        }

        row.UpdatedAt = nowMs;
        row.UpdatedBy = "default_user_id";
        return row;
    }

    private Task NotFoundAsync(HttpContext context, string id) =>
        api.NotFoundAsync(context, $"Budget not found, passed budget_id={id}. /budget/list shows the budgets there are.");
}
