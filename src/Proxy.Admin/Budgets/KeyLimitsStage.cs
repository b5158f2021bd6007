using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;

namespace Proxy.Admin.Budgets;

/// <summary>
/// Order 100, before guardrails and the cache: the virtual key may use the model group, has budget left (after a
/// budget_duration reset when one is due) and is within its rpm/tpm/parallel limits. Everything is answered from
/// memory; nothing here waits on the database.
/// </summary>
internal sealed class KeyLimitsStage(KeyCache cache, IKeyLimitCounters counters, SpendQueue spend, IOpenAiErrorWriter errors, TimeProvider time)
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

        if (request.Caller.KeyHash is not { } hash)
        {
            return ValueTask.FromResult(false);
        }

        GatewayError? error;
        if (!cache.TryGet(hash, out var key))
        {
            // Deleted between authentication and now.
            error = GatewayError.InvalidApiKey("sk-...");
        }
        else
        {
            error = Admit(context, request, key);
        }

        return error is { } e ? WriteAsync(context, e) : ValueTask.FromResult(false);
    }

    private GatewayError? Admit(HttpContext context, GatewayRequestContext request, KeyEntry key)
    {
        var settings = key.Settings;
        if (!settings.AllowsModel(request.RequestedModel, request.ModelGroup))
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

        var outcome = counters.TryStart(key, now);
        var ticket = new KeyTicket(key, spent, outcome);
        if (outcome.Refused != LimitKind.None)
        {
            ticket.WriteHeaders(context.Response.Headers);
            return KeyErrors.RateLimited(key.Token, outcome, now);
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
