using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;

namespace Proxy.Admin.Tenants;

/// <summary>
/// LiteLLM's per-request checks beyond the key's own, from memory, in LiteLLM's order: team blocked; team model
/// access; team budget; the member's budget in the team (max_budget_in_team); the user's personal budget (keys outside
/// a team only); the key's budget tier and per-model budget (model_max_budget); the customer (blocked, budget,
/// enforce_user_param); the organisation's budget; the proxy-wide budget. Budgets are skipped for models that cost
/// nothing, as LiteLLM does. Then the rate limits of the key's model, team, member, user and customer, each counted only
/// if all pass.
/// </summary>
internal sealed class TenantChecks(TenantDirectory directory, IKeyLimitCounters counters, SpendQueue spend, AdminOptions options, IModelGroupPrices? prices = null)
{
    /// <summary>Null when the request may go on; the ticket is then set on the context (when there is anything to track).</summary>
    public GatewayError? Admit(HttpContext context, GatewayRequestContext request, KeyEntry? key, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var settings = key?.Settings;
        var nowMs = now.ToUnixTimeMilliseconds();
        var requested = request.RequestedModel ?? request.ModelGroup;
        var free = prices is not null && request.ModelGroup is { } group && prices.IsFree(group);
        TenantTicket? ticket = null;

        if (settings?.TeamId is { } teamId && directory.TryTeam(teamId, out var team))
        {
            var limits = team.Limits;
            if (limits.Blocked)
            {
                return TenantErrors.TeamBlocked(teamId);
            }

            if (!limits.AllowsModel(request.RequestedModel, request.ModelGroup))
            {
                return TenantErrors.TeamModel(teamId, requested ?? "", limits.Models);
            }

            ticket = new TenantTicket { Team = team };
            if (Reset(team, nowMs) && !free && limits.MaxBudget is { } max && team.Spend.Value is var spent && spent >= max)
            {
                return TenantErrors.TeamBudget(teamId, spent, max);
            }

            if (settings.UserId is { } memberId && directory.TryMember(teamId, memberId, out var member))
            {
                ticket.Member = member;
                if (Reset(member, nowMs) && !free && member.Limits.MaxBudget is { } memberMax && member.Spend.Value is var memberSpent && memberSpent >= memberMax)
                {
                    return TenantErrors.MemberBudget(memberId, teamId, memberSpent, memberMax);
                }
            }
        }

        if (settings?.UserId is { } userId && directory.TryUser(userId, out var user))
        {
            ticket ??= new TenantTicket();
            ticket.User = user;
            if (ticket.Team is null)
            {
                // LiteLLM: "If a key belongs to a team, the team budget is applied, not the user's personal budget."
                if (!user.Limits.AllowsModel(request.RequestedModel, request.ModelGroup))
                {
                    return TenantErrors.UserModel(userId, requested ?? "", user.Limits.Models);
                }

                if (Reset(user, nowMs) && !free && user.Limits.MaxBudget is { } userMax && user.Spend.Value is var userSpent && userSpent >= userMax)
                {
                    return TenantErrors.UserBudget(userId, userSpent, userMax);
                }
            }
            else
            {
                Reset(user, nowMs);
            }
        }

        if (key is not null && settings is not null)
        {
            if (!free && settings.MaxBudget is null && settings.BudgetId is { } tierId && directory.TryBudget(tierId, out var tier)
                && tier.MaxBudget is { } tierMax && key.Spend is var keySpent && keySpent >= tierMax)
            {
                return TenantErrors.KeyTierBudget(keySpent, tierMax);
            }

            if ((settings.ModelMaxBudget is not null || settings.ModelRpmLimit is not null || settings.ModelTpmLimit is not null) && requested is not null)
            {
                var use = key.ModelUse(requested);
                ticket ??= new TenantTicket();
                ticket.KeyModel = use;
                if (!free && settings.ModelMaxBudget is { } budgets && budgets.TryGetValue(requested, out var budget)
                    && use.Spend(budget.Window, nowMs) is var modelSpent && modelSpent >= budget.Limit)
                {
                    return TenantErrors.KeyModelBudget(key.Token, settings.KeyAlias, requested, modelSpent, budget.Limit);
                }
            }
        }

        if (directory.TracksCustomers)
        {
            var customerId = CustomerId.Resolve(context.Request.Headers, body, out _);
            if (customerId is null)
            {
                if (options.EnforceUserParam)
                {
                    return TenantErrors.UserParamRequired();
                }
            }
            else
            {
                ticket ??= new TenantTicket();
                ticket.CustomerId = customerId;
                if (directory.GetOrAddCustomer(customerId) is { } customer)
                {
                    ticket.Customer = customer;
                    if (customer.Limits.Blocked)
                    {
                        return TenantErrors.CustomerBlocked(customerId);
                    }

                    if (Reset(customer, nowMs) && !free && customer.Limits.MaxBudget is { } customerMax && customer.Spend.Value is var customerSpent
                        && customerSpent >= customerMax)
                    {
                        return TenantErrors.CustomerBudget(customerId, customerSpent, customerMax);
                    }
                }
            }
        }

        var organizationId = ticket?.Team?.Limits.OrganizationId ?? settings?.OrganizationId;
        if (organizationId is not null && directory.TryOrganization(organizationId, out var organization))
        {
            ticket ??= new TenantTicket();
            ticket.Organization = organization;
            if (Reset(organization, nowMs) && !free && organization.Limits.MaxBudget is { } orgMax && organization.Spend.Value is var orgSpent && orgSpent >= orgMax)
            {
                return TenantErrors.OrganizationBudget(organizationId, orgSpent, orgMax);
            }
        }

        if (directory.Proxy is { } proxy)
        {
            ticket ??= new TenantTicket();
            ticket.Proxy = proxy;
            if (Reset(proxy, nowMs) && !free && proxy.Limits.MaxBudget is { } proxyMax && proxy.Spend.Value is var proxySpent && proxySpent >= proxyMax)
            {
                return TenantErrors.ProxyBudget(proxySpent, proxyMax);
            }
        }

        if (ticket is null)
        {
            return null;
        }

        ticket.UserId = settings?.UserId;
        ticket.OrganizationId = organizationId;
        context.Features.Set(ticket);
        context.Features.Set(new RequestTenant
        {
            TeamId = ticket.Team?.Id,
            TeamAlias = ticket.Team?.Limits.Alias,
            UserId = ticket.UserId,
            EndUserId = ticket.CustomerId,
            OrganizationId = organizationId,
        });
        return null;
    }

    /// <summary>
    /// Counts the request against the rate limits of the key's model, team, member, user and customer; if one refuses,
    /// the ones already counted are taken back and the refusal is answered.
    /// </summary>
    public GatewayError? StartLimits(TenantTicket ticket, DateTimeOffset now)
    {
        if ((TryStart(ticket, ticket.KeyModel, now) ?? TryStart(ticket, ticket.Team, now) ?? TryStart(ticket, ticket.Member, now)
            ?? TryStart(ticket, ticket.User, now) ?? TryStart(ticket, ticket.Customer, now)) is { } refused)
        {
            Cancel(ticket, now);
            return refused;
        }

        return null;
    }

    /// <summary>Takes the counted windows back (a later check refused the request).</summary>
    public void Cancel(TenantTicket ticket, DateTimeOffset now)
    {
        for (var i = 0; i < ticket.StartedCount; i++)
        {
            counters.Cancel(ticket.Started(i), now);
        }
    }

    private GatewayError? TryStart(TenantTicket ticket, IRateLimited? limited, DateTimeOffset now)
    {
        if (limited is null || (limited.RpmLimit is null && limited.TpmLimit is null && limited.MaxParallelRequests is null))
        {
            return null;
        }

        var outcome = counters.TryStart(limited, now);
        if (outcome.Refused != LimitKind.None)
        {
            var id = limited is TenantEntry entry ? entry.Name : limited.LimitId;
            return KeyErrors.RateLimited(limited.LimitDescriptor, id, outcome, now);
        }

        ticket.AddStarted(limited);
        return null;
    }

    // A budget window that ended starts again from 0 (and the reset is written with the next batch). Always true, so
    // it can lead a condition.
    private bool Reset(TenantEntry entry, long nowMs)
    {
        if (entry.Spend.ResetIfDue(entry.Limits.BudgetDuration, nowMs))
        {
            spend.MarkDirty(entry);
        }

        return true;
    }
}
