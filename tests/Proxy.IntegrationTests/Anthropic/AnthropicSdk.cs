using Anthropic;
using Anthropic.Core;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Anthropic;

/// <summary>The official Anthropic .NET SDK pointed at the gateway, with its own retries off so tests see every status.</summary>
public static class AnthropicSdk
{
    /// <param name="headers">Extra request headers, e.g. the fake upstream's x-fake-* switches.</param>
    public static AnthropicClient Client(GatewayInstance gateway, string key = Configs.MasterKey, IReadOnlyDictionary<string, string>? headers = null) =>
        new(new ClientOptions
        {
            BaseUrl = gateway.RootUrl,
            ApiKey = key,
            MaxRetries = 0,
            Timeout = TimeSpan.FromSeconds(30),
            ExtraHeaders = headers,
        });
}
