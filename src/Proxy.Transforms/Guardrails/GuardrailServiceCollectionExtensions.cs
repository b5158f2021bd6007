using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

public static class GuardrailServiceCollectionExtensions
{
    /// <summary>
    /// Guardrails (pre_call / during_call / post_call with OpenAI-moderation and Llama Guard backends) and the native
    /// <c>/v1/moderations</c>; <paramref name="source"/> says which guardrails the current config has.
    /// </summary>
    public static IServiceCollection AddGuardrails(this IServiceCollection services, Func<IServiceProvider, IGuardrailSettingsSource> source)
    {
        services.TryAddSingleton<IGuardrailSettingsSource>(source);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GuardrailStats>();
        services.TryAddSingleton<GuardBackendClient>();
        services.TryAddSingleton<GuardrailChecker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGatewayRequestStage, GuardrailStage>());
        // Each guardrail's own timeout applies per call; the client's must not cut it shorter.
        services.AddHttpClient(GuardBackendClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        return services;
    }

    /// <summary>Put in the proxy pipeline before model routing: answers <c>/v1/moderations</c> from the guardrails.</summary>
    public static IApplicationBuilder UseGuardrailModerations(this IApplicationBuilder app) =>
        app.UseMiddleware<ModerationsEndpointMiddleware>();
}
