using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;

namespace Proxy.Admin.Spend;

/// <summary>
/// First after every proxied request (<see cref="ObserverOrder.Pricing"/>): prices the answer, adds the cost to the
/// key's spend at once (in memory; written in batches), frees its rate-limit slot and records what the key has left,
/// so that the observers after it report a complete outcome. Never waits and never throws.
/// </summary>
internal sealed class PricingObserver(SpendQueue queue, IKeyLimitCounters counters, TimeProvider time, Tenants.TenantSpend tenants) : IRequestCompletionObserver
{
    public int Order => ObserverOrder.Pricing;

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (request.ModelGroup is null)
        {
            // Not a model call (admin API, health, a request refused before routing).
            return;
        }

        var outcome = request.Outcome;
        var cost = outcome.ResponseCost ??= CostCalculator.Compute(outcome);
        var tokens = (long)(outcome.PromptTokens ?? 0) + (outcome.CompletionTokens ?? 0);
        var now = time.GetUtcNow();
        // Team, member, user, customer, organisation and proxy spend; the team's budget for the metrics.
        if (context.Features.Get<Tenants.TenantTicket>() is { } tenant)
        {
            tenants.Finish(context, tenant, cost ?? 0, tokens, now);
        }

        if (context.Features.Get<KeyTicket>() is not { } ticket)
        {
            return;
        }

        counters.Finish(ticket.Key, now, tokens);
        if (cost is > 0 and var c)
        {
            if (ticket.Key.AddSpend(c))
            {
                queue.MarkDirty(ticket.Key);
            }

            tenants.KeySpent(ticket.Key);
        }

        var settings = ticket.Key.Settings;
        outcome.Key = new KeyUsageSnapshot(
            ticket.Key.Spend,
            settings.MaxBudget,
            settings.RpmLimit is null ? null : ticket.Limits.RemainingRequests,
            settings.TpmLimit is null ? null : ticket.Limits.RemainingTokens);
    }
}
