using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Abstractions;

namespace Proxy.Transforms.Usage;

public static class UsageServiceCollectionExtensions
{
    /// <summary>Rerank and audio answers are read for LiteLLM's billed units (search units, seconds of audio).</summary>
    public static IServiceCollection AddBilledUnits(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGatewayRequestStage, BilledUnitsStage>());
        return services;
    }
}
