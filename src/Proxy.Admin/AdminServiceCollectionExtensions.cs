using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Proxy.Admin.Api;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Models;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;

namespace Proxy.Admin;

/// <summary>Virtual keys, budgets, rate limits and spend: the host adds them with one call and maps their endpoints with another.</summary>
public static class AdminServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayAdmin(this IServiceCollection services, AdminOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SqlKeyStore>(_ => options.UsesPostgres
            ? new PostgresKeyStore(options.DatabaseUrl!, options.DatabaseTimeout)
            : new SqliteKeyStore(options.SqlitePath, options.DatabaseTimeout));
        services.AddSingleton<IKeyStore>(sp => sp.GetRequiredService<SqlKeyStore>());
        services.AddSingleton<ITenantStore>(sp => sp.GetRequiredService<SqlKeyStore>());
        services.AddSingleton<IResponseStore>(sp => sp.GetRequiredService<SqlKeyStore>());
        services.AddHostedService<Responses.ResponseStoreRetention>();
        services.AddSingleton<Tenants.TenantDirectory>();
        services.AddSingleton<Tenants.TenantChecks>();
        services.AddSingleton<Tenants.TenantSpend>();
        services.AddSingleton<Tenants.BudgetAlerter>();
        services.AddSingleton<ISoftBudgetAlerts>(sp => sp.GetRequiredService<Tenants.BudgetAlerter>());
        services.AddHostedService(sp => sp.GetRequiredService<Tenants.BudgetAlerter>());
        services.AddSingleton<KeyCache>();
        if (options.SharedLimits is { } shared)
        {
            services.AddSingleton(shared);
            services.AddSingleton<RedisKeyLimitCounters>();
            services.AddSingleton<IKeyLimitCounters>(sp => sp.GetRequiredService<RedisKeyLimitCounters>());
            services.AddSingleton<IReadinessContributor>(sp => sp.GetRequiredService<RedisKeyLimitCounters>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisKeyLimitCounters>());
        }
        else
        {
            services.AddSingleton<IKeyLimitCounters, InMemoryKeyLimitCounters>();
        }

        services.AddSingleton<SpendQueue>();
        services.AddSingleton<ISpendBufferStatus>(provider => provider.GetRequiredService<SpendQueue>());
        services.AddSingleton<IVirtualKeyAuthenticator, VirtualKeyAuthenticator>();
        services.AddSingleton<IGatewayRequestStage, KeyLimitsStage>();
        services.AddSingleton<IRequestCompletionObserver, PricingObserver>();
        if (!options.DisableSpendLogs)
        {
            services.AddSingleton<IRequestCompletionObserver, SpendLogObserver>();
        }
        services.AddSingleton<StoreStatus>();
        services.AddSingleton<IReadinessContributor>(sp => sp.GetRequiredService<StoreStatus>());
        services.AddHostedService(sp => sp.GetRequiredService<StoreStatus>());
        services.AddSingleton<IReadinessContributor, SpendBufferStatus>();
        services.AddHostedService<SpendLogRetention>();
        services.AddSingleton<SpendWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<SpendWriter>());
        services.AddHostedService<KeyRefresher>();
        services.AddSingleton<Tenants.TenantRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<Tenants.TenantRefresher>());
        services.AddSingleton<KeyApi>();
        services.AddSingleton<SpendApi>();
        services.AddSingleton<TenantApiSupport>();
        services.AddSingleton<TeamApi>();
        services.AddSingleton<UserApi>();
        services.AddSingleton<CustomerApi>();
        services.AddSingleton<BudgetApi>();
        services.AddSingleton<OrganizationApi>();
        services.AddSingleton<TenantSpendApi>();
        services.TryAddSingleton<StoredModelCatalog>();
        services.AddSingleton<StoredModelSecrets>();
        services.AddSingleton<ModelApi>();
        services.AddHostedService<StoredModelSync>();
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/key/generate", (HttpContext c, KeyApi api) => api.GenerateAsync(c));
        endpoints.MapPost("/key/update", (HttpContext c, KeyApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/key/delete", (HttpContext c, KeyApi api) => api.DeleteAsync(c));
        endpoints.MapGet("/key/info", (HttpContext c, KeyApi api) => api.InfoAsync(c));
        endpoints.MapGet("/key/list", (HttpContext c, KeyApi api) => api.ListAsync(c));
        endpoints.MapPost("/key/regenerate", (HttpContext c, KeyApi api) => api.RegenerateAsync(c));
        endpoints.MapPost("/key/{key}/regenerate", (HttpContext c, KeyApi api) => api.RegenerateAsync(c));
        endpoints.MapPost("/key/block", (HttpContext c, KeyApi api) => api.BlockAsync(c));
        endpoints.MapPost("/key/unblock", (HttpContext c, KeyApi api) => api.UnblockAsync(c));
        endpoints.MapGet("/spend/logs", (HttpContext c, SpendApi api) => api.LogsAsync(c));
        endpoints.MapGet("/global/spend", (HttpContext c, SpendApi api) => api.GlobalAsync(c));
        MapTenants(endpoints);
        endpoints.MapPost("/model/new", (HttpContext c, ModelApi api) => api.NewAsync(c));
        endpoints.MapPost("/model/update", (HttpContext c, ModelApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/model/delete", (HttpContext c, ModelApi api) => api.DeleteAsync(c));
        return endpoints;
    }

    private static void MapTenants(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/team/new", (HttpContext c, TeamApi api) => api.NewAsync(c));
        endpoints.MapPost("/team/update", (HttpContext c, TeamApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/team/delete", (HttpContext c, TeamApi api) => api.DeleteAsync(c));
        endpoints.MapGet("/team/info", (HttpContext c, TeamApi api) => api.InfoAsync(c));
        endpoints.MapGet("/team/list", (HttpContext c, TeamApi api) => api.ListAsync(c));
        endpoints.MapGet("/team/available", (HttpContext c, TeamApi api) => api.AvailableAsync(c));
        endpoints.MapPost("/team/block", (HttpContext c, TeamApi api) => api.BlockAsync(c));
        endpoints.MapPost("/team/unblock", (HttpContext c, TeamApi api) => api.UnblockAsync(c));
        endpoints.MapPost("/team/member_add", (HttpContext c, TeamApi api) => api.MemberAddAsync(c));
        endpoints.MapPost("/team/member_update", (HttpContext c, TeamApi api) => api.MemberUpdateAsync(c));
        endpoints.MapPost("/team/member_delete", (HttpContext c, TeamApi api) => api.MemberDeleteAsync(c));
        endpoints.MapGet("/team/daily/activity", (HttpContext c, TenantSpendApi api) => api.TeamActivityAsync(c));

        endpoints.MapPost("/user/new", (HttpContext c, UserApi api) => api.NewAsync(c));
        endpoints.MapPost("/user/update", (HttpContext c, UserApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/user/delete", (HttpContext c, UserApi api) => api.DeleteAsync(c));
        endpoints.MapGet("/user/info", (HttpContext c, UserApi api) => api.InfoAsync(c));
        endpoints.MapGet("/user/list", (HttpContext c, UserApi api) => api.ListAsync(c));
        endpoints.MapGet("/user/daily/activity", (HttpContext c, TenantSpendApi api) => api.UserActivityAsync(c));

        // LiteLLM's /end_user/* are the same calls under their older name.
        foreach (var prefix in new[] { "/customer", "/end_user" })
        {
            endpoints.MapPost(prefix + "/new", (HttpContext c, CustomerApi api) => api.NewAsync(c));
            endpoints.MapPost(prefix + "/update", (HttpContext c, CustomerApi api) => api.UpdateAsync(c));
            endpoints.MapPost(prefix + "/delete", (HttpContext c, CustomerApi api) => api.DeleteAsync(c));
            endpoints.MapGet(prefix + "/info", (HttpContext c, CustomerApi api) => api.InfoAsync(c));
            endpoints.MapGet(prefix + "/list", (HttpContext c, CustomerApi api) => api.ListAsync(c));
            endpoints.MapPost(prefix + "/block", (HttpContext c, CustomerApi api) => api.BlockAsync(c));
            endpoints.MapPost(prefix + "/unblock", (HttpContext c, CustomerApi api) => api.UnblockAsync(c));
            endpoints.MapGet(prefix + "/daily/activity", (HttpContext c, TenantSpendApi api) => api.CustomerActivityAsync(c));
        }

        endpoints.MapPost("/budget/new", (HttpContext c, BudgetApi api) => api.NewAsync(c));
        endpoints.MapPost("/budget/update", (HttpContext c, BudgetApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/budget/delete", (HttpContext c, BudgetApi api) => api.DeleteAsync(c));
        endpoints.MapMethods("/budget/info", ["GET", "POST"], (HttpContext c, BudgetApi api) => api.InfoAsync(c));
        endpoints.MapGet("/budget/list", (HttpContext c, BudgetApi api) => api.ListAsync(c));

        endpoints.MapPost("/organization/new", (HttpContext c, OrganizationApi api) => api.NewAsync(c));
        endpoints.MapMethods("/organization/update", ["POST", "PATCH"], (HttpContext c, OrganizationApi api) => api.UpdateAsync(c));
        endpoints.MapMethods("/organization/delete", ["POST", "DELETE"], (HttpContext c, OrganizationApi api) => api.DeleteAsync(c));
        endpoints.MapGet("/organization/info", (HttpContext c, OrganizationApi api) => api.InfoAsync(c));
        endpoints.MapGet("/organization/list", (HttpContext c, OrganizationApi api) => api.ListAsync(c));
        endpoints.MapPost("/organization/member_add", (HttpContext c, OrganizationApi api) => api.MemberAddAsync(c));
        endpoints.MapMethods("/organization/member_delete", ["POST", "DELETE"], (HttpContext c, OrganizationApi api) => api.MemberDeleteAsync(c));

        endpoints.MapGet("/spend/teams", (HttpContext c, TenantSpendApi api) => api.TeamsAsync(c));
        endpoints.MapGet("/spend/users", (HttpContext c, TenantSpendApi api) => api.UsersAsync(c));
        endpoints.MapGet("/global/spend/teams", (HttpContext c, TenantSpendApi api) => api.GlobalTeamsAsync(c));
        endpoints.MapMethods("/global/spend/end_users", ["GET", "POST"], (HttpContext c, TenantSpendApi api) => api.GlobalEndUsersAsync(c));
        endpoints.MapGet("/global/spend/models", (HttpContext c, TenantSpendApi api) => api.GlobalModelsAsync(c));
    }
}
