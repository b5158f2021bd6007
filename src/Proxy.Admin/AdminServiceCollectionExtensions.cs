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
        services.AddSingleton<IRequestCompletionObserver, SpendTracker>();
        services.AddSingleton<StoreStatus>();
        services.AddSingleton<IReadinessContributor>(sp => sp.GetRequiredService<StoreStatus>());
        services.AddHostedService(sp => sp.GetRequiredService<StoreStatus>());
        services.AddSingleton<IReadinessContributor, SpendBufferStatus>();
        services.AddSingleton<SpendWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<SpendWriter>());
        services.AddHostedService<KeyRefresher>();
        services.AddSingleton<Tenants.TenantRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<Tenants.TenantRefresher>());
        services.AddSingleton<KeyApi>();
        services.AddSingleton<SpendApi>();
        services.TryAddSingleton<StoredModelCatalog>();
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
        endpoints.MapPost("/model/new", (HttpContext c, ModelApi api) => api.NewAsync(c));
        endpoints.MapPost("/model/update", (HttpContext c, ModelApi api) => api.UpdateAsync(c));
        endpoints.MapPost("/model/delete", (HttpContext c, ModelApi api) => api.DeleteAsync(c));
        return endpoints;
    }
}
