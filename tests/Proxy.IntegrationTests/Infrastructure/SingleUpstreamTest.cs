using FakeUpstream;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>A fake vLLM and a gateway serving <see cref="Configs.SingleUpstream"/> in front of it, fresh for each test.</summary>
public abstract class SingleUpstreamTest : IAsyncLifetime
{
    protected FakeUpstreamServer Upstream { get; private set; } = null!;

    protected GatewayInstance Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstreamServer.StartAsync();
        Gateway = await GatewayInstance.StartAsync(Configs.SingleUpstream(Upstream.BaseUrl));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
