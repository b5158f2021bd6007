using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>
/// LiteLLM's /customer/* (and /end_user/*): end users of the caller's product, identified per request by
/// x-litellm-customer-id, x-litellm-end-user-id or the body's user. A customer's limits come from its budget tier
/// (budget_id) or from max_budget / rpm_limit / ... given here, which make a tier of their own, as LiteLLM does.
/// </summary>
internal sealed class CustomerApi(ITenantStore store, TenantDirectory directory, TenantApiSupport api)
{
    public Task NewAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.Id("user_id");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (directory.TryCustomer(id!, out _))
        {
            await api.BadRequestAsync(context, $"Customer already exists, passed user_id={id}. Please pass a new user_id (or change this one with /customer/update).", "user_id");
            return;
        }

        var row = new EndUserRow { UserId = id! };
        if (!await ApplyAsync(context, body, row))
        {
            return;
        }

        await store.UpsertCustomerAsync(row, context.RequestAborted);
        var entry = directory.Put(row);
        await WriteAsync(context, row, entry);
    });

    public Task UpdateAsync(HttpContext context) => api.WithBodyAsync(context, async body =>
    {
        var id = body.Id("user_id");
        if (await api.RejectedAsync(context, body))
        {
            return;
        }

        if (!directory.TryCustomer(id!, out var entry))
        {
            await NotFoundAsync(context, id!);
            return;
        }

        var row = directory.RowOf<EndUserRow>(entry).Clone();
        if (!await ApplyAsync(context, body, row))
        {
            return;
        }

        await store.UpsertCustomerAsync(row, context.RequestAborted);
        await WriteAsync(context, row, directory.Put(row));
    });

    public Task InfoAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        var id = TenantApiSupport.Query(context, "end_user_id") ?? TenantApiSupport.Query(context, "user_id");
        if (id is null)
        {
            await api.BadRequestAsync(context, "Pass ?end_user_id=...", "end_user_id");
            return;
        }

        if (!directory.TryCustomer(id, out var entry))
        {
            await NotFoundAsync(context, id);
            return;
        }

        await WriteAsync(context, directory.RowOf<EndUserRow>(entry), entry);
    });

    public Task ListAsync(HttpContext context) => api.RunAsync(context, () => TenantApiSupport.JsonAsync(context, json =>
    {
        json.WriteStartArray();
        foreach (var entry in directory.Customers.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            var row = directory.RowOf<EndUserRow>(entry);
            TenantJson.WriteCustomer(json, row, entry, Budget(row));
        }

        json.WriteEndArray();
    }));

    /// <summary>LiteLLM answers {"deleted_customers": count, "message": "... ids: ['a', 'b']"}.</summary>
    public Task DeleteAsync(HttpContext context) => ForEachAsync(context, async (id, _) =>
    {
        await store.DeleteCustomerAsync(id, context.RequestAborted);
        directory.RemoveCustomer(id);
    }, (json, ids) =>
    {
        json.WriteNumber("deleted_customers", ids.Length);
        json.WriteString("message", "Successfully deleted customers with ids: [" + string.Join(", ", ids.Select(id => "'" + id + "'")) + "]");
    });

    public Task BlockAsync(HttpContext context) => SetBlockedAsync(context, true);

    public Task UnblockAsync(HttpContext context) => SetBlockedAsync(context, false);

    /// <summary>Block answers LiteLLM's {"blocked_users": [the customers' rows]}; unblock the same rows as "unblocked_users".</summary>
    private Task SetBlockedAsync(HttpContext context, bool blocked) => ForEachAsync(context, async (id, entry) =>
    {
        var row = entry is null ? new EndUserRow { UserId = id } : directory.RowOf<EndUserRow>(entry).Clone();
        row.Blocked = blocked ? 1 : 0;
        await store.UpsertCustomerAsync(row, context.RequestAborted);
        directory.Put(row);
    }, (json, ids) =>
    {
        json.WriteStartArray(blocked ? "blocked_users" : "unblocked_users");
        foreach (var id in ids)
        {
            if (directory.TryCustomer(id, out var entry))
            {
                var row = directory.RowOf<EndUserRow>(entry);
                TenantJson.WriteCustomer(json, row, entry, Budget(row));
            }
        }

        json.WriteEndArray();
    }, createMissing: blocked);

    /// <summary>LiteLLM's {"user_ids": [...]} calls; unknown customers are a 404 unless the call may create them (block does).</summary>
    private Task ForEachAsync(HttpContext context, Func<string, TenantEntry?, Task> action, Action<Utf8JsonWriter, string[]> answer, bool createMissing = false) =>
        api.WithBodyAsync(context, async body =>
        {
            var ids = body.Strings("user_ids");
            if (await api.RejectedAsync(context, body))
            {
                return;
            }

            if (ids is not { Length: > 0 })
            {
                await api.BadRequestAsync(context, "Pass 'user_ids': a list of customer ids.", "user_ids");
                return;
            }

            foreach (var id in ids)
            {
                if (!createMissing && !directory.TryCustomer(id, out _))
                {
                    await NotFoundAsync(context, id);
                    return;
                }
            }

            foreach (var id in ids)
            {
                await action(id, directory.TryCustomer(id, out var entry) ? entry : null);
            }

            await TenantApiSupport.JsonAsync(context, json =>
            {
                json.WriteStartObject();
                answer(json, ids);
                json.WriteEndObject();
            });
        });

    private async Task<bool> ApplyAsync(HttpContext context, TenantBody body, EndUserRow row)
    {
        if (body.Has("alias"))
        {
            row.Alias = body.String("alias");
        }

        if (body.Has("blocked"))
        {
            row.Blocked = body.Flag("blocked") == true ? 1 : 0;
        }

        if (body.Has("allowed_model_region"))
        {
            row.AllowedModelRegion = body.String("allowed_model_region", 32);
        }

        if (body.Has("default_model"))
        {
            row.DefaultModel = body.String("default_model", 256);
        }

        if (body.Has("budget_id"))
        {
            row.BudgetId = body.String("budget_id", 256);
        }

        // Limits given inline make the customer a tier of its own (LiteLLM creates a budget row for them).
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

        return true;
    }

    private BudgetRow? Budget(EndUserRow row) => row.BudgetId is { } id && directory.TryBudget(id, out var budget) ? budget : null;

    private Task WriteAsync(HttpContext context, EndUserRow row, TenantEntry? entry) =>
        TenantApiSupport.JsonAsync(context, json => TenantJson.WriteCustomer(json, row, entry, Budget(row)));

    private Task NotFoundAsync(HttpContext context, string id) =>
        api.NotFoundAsync(context, $"Customer not found, passed end_user_id={id}. /customer/list shows the customers there are.");
}
