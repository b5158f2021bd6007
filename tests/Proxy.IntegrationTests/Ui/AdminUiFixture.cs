using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Ui;

/// <summary>One fake vLLM, one gateway and one Chromium for the whole browser test class (each test has its own page).</summary>
public sealed class AdminUiFixture : IAsyncLifetime
{
    public FakeUpstreamServer Upstream { get; private set; } = null!;

    public GatewayInstance Gateway { get; private set; } = null!;

    public ChromiumBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Chromium starts while the gateway does.
        var browser = ChromiumBrowser.StartAsync();
        Upstream = await FakeUpstreamServer.StartAsync();
        Gateway = await UiGateway.StartAsync(Upstream);
        Browser = await browser;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
