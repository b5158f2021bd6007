using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Tenants;

/// <summary>
/// When a request admitted by <see cref="TenantChecks"/> is over: its rate windows are released, its cost is added at
/// once to its team, member, user, customer, organisation and the proxy total (written by the spend writer's next
/// batch) and to the key's per-model spend; a soft_budget crossed raises one alert.
/// </summary>
internal sealed class TenantSpend(IKeyLimitCounters counters, SpendQueue queue, BudgetAlerter alerts)
{
    public void Finish(HttpContext context, TenantTicket ticket, double cost, long tokens, DateTimeOffset now)
    {
        for (var i = 0; i < ticket.StartedCount; i++)
        {
            counters.Finish(ticket.Started(i), now, tokens);
        }

        if (cost > 0)
        {
            Add(ticket.Team, ticket, cost);
            Add(ticket.Member, ticket, cost);
            Add(ticket.User, ticket, cost);
            Add(ticket.Customer, ticket, cost);
            Add(ticket.Organization, ticket, cost);
            Add(ticket.Proxy, ticket, cost);
            if (ticket.KeyModel is { } use && context.Features.Get<KeyTicket>()?.Key.Settings.ModelMaxBudget is { } budgets
                && budgets.TryGetValue(use.Model, out var budget))
            {
                use.Add(cost, budget.Window, now.ToUnixTimeMilliseconds());
            }
        }

        if (ticket.Team is { } team && context.Features.Get<RequestTenant>() is { } tenant && team.Limits.MaxBudget is { } max)
        {
            tenant.TeamMaxBudget = max;
            tenant.TeamSpend = team.Spend.Value;
        }
    }

    private void Add(TenantEntry? holder, TenantTicket ticket, double cost)
    {
        if (holder is null)
        {
            return;
        }

        if (holder.Spend.Add(cost))
        {
            queue.MarkDirty(holder);
        }

        if (holder.CrossedSoftBudget(holder.Spend.Value))
        {
            alerts.Raise(Alert(holder, ticket));
        }
    }

    /// <summary>A key's soft_budget crossed by its own spend.</summary>
    public void KeySpent(Keys.KeyEntry key)
    {
        if (key.CrossedSoftBudget(key.Spend))
        {
            var settings = key.Settings;
            alerts.Raise(new BudgetAlert("key", key.Token, settings.KeyAlias, key.Spend, settings.SoftBudget ?? 0, settings.MaxBudget, key.BudgetResetAtMs)
            {
                Token = key.Token,
                TeamId = settings.TeamId,
                UserId = settings.UserId,
            });
        }
    }

    private static BudgetAlert Alert(TenantEntry holder, TenantTicket ticket)
    {
        var limits = holder.Limits;
        var group = holder.Kind switch
        {
            TenantKind.Team => "team",
            TenantKind.Member => "team_member",
            TenantKind.User => ReferenceEquals(holder, ticket.Proxy) ? "proxy" : "user",
            TenantKind.Customer => "customer",
            _ => "organization",
        };
        return new BudgetAlert(group, holder.Id, limits.Alias, holder.Spend.Value, limits.SoftBudget ?? 0, limits.MaxBudget, holder.Spend.BudgetResetAtMs)
        {
            TeamId = holder.Kind == TenantKind.Member ? holder.TeamId : ticket.TeamId,
            UserId = holder.Kind is TenantKind.Member or TenantKind.User ? holder.Id : ticket.UserId,
            CustomerId = ticket.CustomerId,
        };
    }
}
