using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>The official OpenAI .NET SDK pointed at the gateway, with its own retries off so tests see every status.</summary>
public static class Sdk
{
    public static OpenAIClient Client(GatewayInstance gateway, string key = Configs.MasterKey) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = gateway.V1,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
}
