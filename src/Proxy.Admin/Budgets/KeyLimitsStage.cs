using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;

namespace Proxy.Admin.Budgets;

/// <summary>
/// Order 100, before guardrails and the cache: the virtual key may use the model group, has budget left (after a
/// budget_duration reset when one is due) and is within its rpm/tpm/parallel limits. Everything is answered from
/// memory; nothing here waits on the database.
/// </summary>
internal sealed class KeyLimitsStage(KeyCache cache, IKeyLimitCounters counters, SpendQueue spend, IOpenAiErrorWriter errors, TimeProvider time,
    Tenants.TenantChecks tenants)
    : IGatewayRequestStage
{
    public int Order => 100;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        // Spend needs the usage of streams too: ask the upstream for it (the copier hides it unless the client asked).
        request.RequireStreamUsage();
        if (!request.Stream)
        {
            request.AddResponseTap(new CostHeaderTap(context, request));
        }

        GatewayError? error;
        if (request.Caller.KeyHash is not { } hash)
        {
            // The master key (or an open gateway): customers and the proxy-wide budget still apply, as in LiteLLM.
            error = AdmitTenants(context, request, null, body.Span);
        }
        else if (!cache.TryGet(hash, out var key))
        {
            // Deleted between authentication and now.
            error = GatewayError.InvalidApiKey("sk-...");
        }
        else
        {
            error = Admit(context, request, key, body.Span);
        }

        return error is { } e ? WriteAsync(context, e) : ValueTask.FromResult(false);
    }

    private GatewayError? AdmitTenants(HttpContext context, GatewayRequestContext request, KeyEntry? key, ReadOnlySpan<byte> body)
    {
        var now = time.GetUtcNow();
        if (tenants.Admit(context, request, key, body, now) is { } refused)
        {
            return refused;
        }

        if (context.Features.Get<Tenants.TenantTicket>() is { } ticket && tenants.StartLimits(ticket, now) is { } limited)
        {
            // Nothing of it is counted: the spend tracker must not finish what was taken back.
            context.Features.Set<Tenants.TenantTicket>(null);
            return limited;
        }

        return null;
    }

    private GatewayError? Admit(HttpContext context, GatewayRequestContext request, KeyEntry key, ReadOnlySpan<byte> body)
    {
        var settings = key.Settings;
        // No model named (a /v1/moderations answered by a guardrail without "model"): nothing to check access on.
        if (request.RequestedModel is not null && !settings.AllowsModel(request.RequestedModel, request.ModelGroup))
        {
            return KeyErrors.ModelNotAllowed(request.RequestedModel ?? request.ModelGroup ?? "", settings.Models);
        }

        var now = time.GetUtcNow();
        if (key.ResetBudgetIfDue(now.ToUnixTimeMilliseconds()))
        {
            spend.MarkDirty(key);
        }

        var spent = key.Spend;
        if (settings.MaxBudget is { } max && spent >= max)
        {
            new KeyTicket(key, spent, default).WriteHeaders(context.Response.Headers);
            return KeyErrors.BudgetExceeded(spent, max);
        }

        // Team, member, user, customer, organisation and proxy budgets (LiteLLM's common checks), then the limits.
        if (tenants.Admit(context, request, key, body, now) is { } refused)
        {
            new KeyTicket(key, spent, default).WriteHeaders(context.Response.Headers);
            return refused;
        }

        var outcome = counters.TryStart(key, now);
        var ticket = new KeyTicket(key, spent, outcome);
        if (outcome.Refused != LimitKind.None)
        {
            ticket.WriteHeaders(context.Response.Headers);
            return KeyErrors.RateLimited(key.Token, outcome, now);
        }

        if (context.Features.Get<Tenants.TenantTicket>() is { } tenantTicket && tenants.StartLimits(tenantTicket, now) is { } limited)
        {
            counters.Cancel(key, now);
            context.Features.Set<Tenants.TenantTicket>(null);
            ticket.WriteHeaders(context.Response.Headers);
            return limited;
        }

        ticket.WriteHeadersOnStart(context.Response);
        context.Features.Set(ticket);
        return null;
    }

    private async ValueTask<bool> WriteAsync(HttpContext context, GatewayError error)
    {
        await errors.WriteAsync(context, error);
        return true;
    }
}
