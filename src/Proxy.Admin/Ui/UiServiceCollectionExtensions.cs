using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Proxy.Admin.Ui;

/// <summary>The admin web UI at /ui: the host adds it with one call and maps its routes with another.</summary>
public static class UiServiceCollectionExtensions
{
    /// <param name="masterKey">Built by the host over its live config, so the UI follows a reloaded master key.</param>
    public static IServiceCollection AddGatewayUi(this IServiceCollection services, UiOptions options, Func<IServiceProvider, IMasterKeyAccess> masterKey)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(masterKey);
        services.AddSingleton<UiSessions>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<UiAssets>();
        services.AddSingleton<UiEndpoints>();
        if (options.Enabled)
        {
            services.AddSingleton<IAdminSessionAuthenticator, AdminSessionAuthenticator>();
        }

        return services;
    }

    /// <summary>Maps nothing with DISABLE_ADMIN_UI=True, so /ui and /login answer 404.</summary>
    public static IEndpointRouteBuilder MapGatewayUi(this IEndpointRouteBuilder endpoints)
    {
        var ui = endpoints.ServiceProvider.GetRequiredService<UiEndpoints>();
        if (!endpoints.ServiceProvider.GetRequiredService<UiOptions>().Enabled)
        {
            return endpoints;
        }

        // Routing treats "/ui" and "/ui/" alike; the pages use absolute paths, so either works.
        endpoints.MapGet("/ui", ui.AppAsync).AllowAnonymous();
        endpoints.MapGet("/ui/login", ui.LoginPageAsync).AllowAnonymous();
        endpoints.MapGet("/ui/session", ui.SessionAsync).AllowAnonymous();
        endpoints.MapGet("/ui/assets/{file}", ui.AssetAsync).AllowAnonymous();
        endpoints.MapGet("/login", ui.RedirectToLogin).AllowAnonymous();
        endpoints.MapPost("/login", ui.LoginAsync).AllowAnonymous();
        endpoints.MapPost("/logout", ui.LogoutAsync).AllowAnonymous();
        return endpoints;
    }
}
